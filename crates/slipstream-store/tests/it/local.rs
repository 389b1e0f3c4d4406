use slipstream_store::{LocalStore, open};

use crate::conformance;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    conformance::run_all(&store, 3 * 1024 * 1024).await;
    // No temporary files are left behind by atomic writes.
    let leftovers: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn urls_choose_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let store = open(&url).await.unwrap();
    assert_eq!(store.url(), url);
    for bad in [
        "relative/path",
        "file://relative",
        "ftp://x/y",
        "s3://",
        "file://host/x",
    ] {
        let err = open(bad).await.unwrap_err().to_string();
        assert!(
            err.contains(bad),
            "error for {bad:?} must name the URL: {err}"
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

/// Retention's marker says "expired" for what it deleted, and only for that: an artifact the
/// op writes again in that run afterwards reads (and counts as stored) as any other.
#[tokio::test]
async fn an_expiry_marker_covers_only_artifacts_written_before_it() {
    use bytes::Bytes;
    use slipstream_core::ArtifactKey;
    use slipstream_store::{ObjectStore, StoreError, artifacts};

    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let key = ArtifactKey::new("p1", "r1", "out").unwrap();
    let write = |data: &'static [u8]| {
        let manifest = conformance::manifest_for(&key);
        artifacts::write(&store, &key, Bytes::from_static(data), "bin", manifest)
    };
    let first = write(b"first").await.unwrap();
    let marker = |at: &str| {
        format!(
            r#"{{"format": 1, "flow": "f", "run_id": "r1", "expired_at": "{at}", "reason": "keep the last 2 runs"}}"#
        )
    };
    store
        .put(
            &key.expiry_path(),
            Bytes::from(marker("2999-01-01T00:00:00.000Z")),
        )
        .await
        .unwrap();
    store
        .delete(&key.payload_path(&first.payload))
        .await
        .unwrap();
    match artifacts::read(&store, &key).await {
        Err(StoreError::Expired { at, reason, .. }) => {
            assert_eq!(
                (at.as_str(), reason.as_str()),
                ("2999-01-01T00:00:00.000Z", "keep the last 2 runs")
            );
        }
        other => panic!("expected Expired, got {other:?}"),
    }
    assert!(
        artifacts::stored_manifest(&store, &key)
            .await
            .unwrap()
            .is_none()
    );

    // The op runs again in that run, after the marker (dated in the past this time).
    store
        .put(
            &key.expiry_path(),
            Bytes::from(marker("2000-01-01T00:00:00.000Z")),
        )
        .await
        .unwrap();
    write(b"again").await.unwrap();
    assert_eq!(
        artifacts::read(&store, &key).await.unwrap().1,
        Bytes::from_static(b"again")
    );
    assert!(
        artifacts::stored_manifest(&store, &key)
            .await
            .unwrap()
            .is_some()
    );
}
