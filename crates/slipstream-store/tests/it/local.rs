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
