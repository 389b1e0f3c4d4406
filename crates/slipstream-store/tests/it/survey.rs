//! `slipstream doctor`'s survey: every record counted by kind and format, broken ones named,
//! payloads and markers left alone.

use std::sync::Arc;

use bytes::Bytes;
use slipstream_store::survey::survey;
use slipstream_store::{LocalStore, ObjectStore};

#[tokio::test]
async fn records_are_counted_by_kind_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::new(dir.path()).unwrap());
    let files: [(&str, &[u8]); 8] = [
        (
            "flows/f/versions/v1/spec.json",
            br#"{"format": 1, "flow": "f"}"#,
        ),
        ("flows/f/runs/r1/run.json", br#"{"format": 3}"#),
        ("flows/f/runs/r2/run.json", br#"{"format": 99}"#),
        ("flows/f/runs/r1/ops/a.json", br#"{"status": "success"}"#), // before formats: 1
        ("flows/f/runs/r2/ops/a.json", b"{cut"),
        ("flows/f/active/r2", b""),
        ("ops/p/r1/outputs/out/manifest.json", br#"{"format": 1}"#),
        ("ops/p/r1/outputs/out/payload-0a1b.bin", b"\x00\x01not json"),
    ];
    for (path, data) in files {
        store.put(path, Bytes::from_static(data)).await.unwrap();
    }
    let found = survey(store).await.unwrap();
    let counts: Vec<_> = found
        .formats
        .iter()
        .map(|(&(k, f), &n)| (k, f, n))
        .collect();
    assert_eq!(
        counts,
        [
            ("manifest", 1, 1),
            ("op_state", 1, 1),
            ("run", 3, 1),
            ("run", 99, 1),
            ("spec", 1, 1)
        ]
    );
    assert_eq!(found.unreadable.len(), 1);
    assert_eq!(found.unreadable[0].0, "flows/f/runs/r2/ops/a.json");
    assert!(found.unreadable[0].1.starts_with("not JSON"), "{found:?}");
}
