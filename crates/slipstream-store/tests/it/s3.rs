use slipstream_store::{ObjectStore, S3Store, S3Tuning, StoreError};

use crate::conformance;
use crate::s3_server::S3Server;

const MIB: usize = 1024 * 1024;

async fn store(server: &S3Server, url: &str) -> S3Store {
    // SAFETY: this is the only test in this binary that reads or writes these variables, and
    // it sets them before any S3 client (and its threads) exists.
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL", &server.endpoint);
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::remove_var("AWS_PROFILE");
    }
    let tuning = S3Tuning {
        part_size: 5 * MIB,
        concurrency: 4,
        max_attempts: 3,
        ..S3Tuning::default()
    };
    S3Store::open(url, tuning).await.unwrap()
}

// Needs moto_server: ignored (and so reported, never passed) under a plain `cargo test`;
// `make test-rust` runs it with `--include-ignored` and the venv's moto_server on PATH.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an S3 server (moto_server): run `make test-rust`, or `cargo test -- --include-ignored` with moto_server on PATH"]
async fn s3_store_conforms() {
    let server = S3Server::start();
    let store = store(&server, "s3://conformance/some/prefix").await;
    store
        .client()
        .create_bucket()
        .bucket("conformance")
        .send()
        .await
        .unwrap();

    // 12 MiB + a bit: three multipart parts on upload, three ranged reads on download.
    conformance::run_all(&store, 12 * MIB + 3).await;

    // The prefix is a namespace: nothing was written outside it.
    let outside = store
        .client()
        .list_objects_v2()
        .bucket("conformance")
        .send()
        .await
        .unwrap();
    assert!(
        outside
            .contents()
            .iter()
            .all(|o| o.key().unwrap().starts_with("some/prefix/"))
    );

    // A missing bucket is reported with what to do about it.
    let missing = S3Store::open("s3://no-such-bucket/x", S3Tuning::default())
        .await
        .unwrap();
    match missing.put("a", bytes::Bytes::from_static(b"x")).await {
        Err(e @ StoreError::S3 { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("no-such-bucket") && text.contains("does not exist"),
                "{text}"
            );
        }
        other => panic!("expected an S3 error, got {other:?}"),
    }
}
