//! Behaviour every [`ObjectStore`] must have, and the artifact protocol on top of it.

use bytes::Bytes;
use futures::TryStreamExt;
use slipstream_core::{ArtifactKey, Manifest, TypeTag};
use slipstream_store::{ObjectStore, StoreError, artifacts};

/// Runs every check against `store`. `large` is a payload size that forces the backend's
/// large-object path (multipart upload and ranged reads on S3).
pub async fn run_all(store: &dyn ObjectStore, large: usize) {
    put_get_head_delete(store).await;
    missing_objects(store).await;
    overwrite_is_whole(store).await;
    list_is_recursive_and_sorted(store).await;
    refuses_escaping_paths(store).await;
    large_payload_round_trips(store, large).await;
    empty_payload_round_trips(store).await;
    artifact_protocol(store).await;
    corrupted_payload_is_detected(store).await;
    retry_replaces_the_payload(store).await;
    chunked_reads_match_whole_reads(store, large).await;
    chunked_artifact_reads_verify(store, large).await;
    streamed_puts_round_trip(store, large).await;
    a_failed_stream_leaves_the_previous_object(store, large).await;
    sizes_are_listed_and_many_objects_deleted(store).await;
    exactly_one_create_wins(store).await;
    crate::run_index::keeps_every_run(store).await;
}

/// Of many writers creating one path at once, exactly one is told it created it, and the
/// object is that writer's, whole; a create where an object is leaves it as it was.
async fn exactly_one_create_wins(store: &dyn ObjectStore) {
    assert!(
        store.exclusive_create().await.unwrap(),
        "local stores and moto honour create-if-absent"
    );
    for round in 0..3 {
        let path = format!("claims/run-{round}.json");
        let writers = (0..16u8).map(|i| {
            let path = path.clone();
            async move {
                let data = Bytes::from(vec![i; 1000 + usize::from(i)]);
                (i, store.create(&path, data).await.unwrap())
            }
        });
        let results = futures::future::join_all(writers).await;
        let won: Vec<u8> = results
            .iter()
            .filter(|(_, w)| *w)
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(won.len(), 1, "round {round}: {results:?}");
        let stored = store.get(&path).await.unwrap();
        assert_eq!(
            stored,
            Bytes::from(vec![won[0]; 1000 + usize::from(won[0])])
        );
        assert!(
            !store
                .create(&path, Bytes::from_static(b"late"))
                .await
                .unwrap()
        );
        assert_eq!(store.get(&path).await.unwrap(), stored);
    }
}

/// Chunks of uneven sizes, as an encoder hands them over.
fn chunked(data: &Bytes) -> Vec<Bytes> {
    let mut chunks = vec![];
    let mut at = 0;
    for size in [1, 7, 4096, 1 << 20].into_iter().cycle() {
        if at >= data.len() {
            break;
        }
        let end = (at + size).min(data.len());
        chunks.push(data.slice(at..end));
        at = end;
    }
    chunks
}

async fn streamed_puts_round_trip(store: &dyn ObjectStore, large: usize) {
    for size in [0, 10, large, 2 * large + 3] {
        let data = Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        let chunks = futures::stream::iter(chunked(&data).into_iter().map(Ok));
        store
            .put_stream("streamed/x", Box::pin(chunks))
            .await
            .unwrap();
        assert_eq!(store.get("streamed/x").await.unwrap(), data, "{size} bytes");
    }
}

async fn a_failed_stream_leaves_the_previous_object(store: &dyn ObjectStore, large: usize) {
    store
        .put("failed/x", Bytes::from_static(b"before"))
        .await
        .unwrap();
    for size in [10, 2 * large] {
        let data = Bytes::from(vec![7u8; size]);
        let chunks = chunked(&data)
            .into_iter()
            .map(Ok)
            .chain([Err(StoreError::Interrupted {
                reason: "the source failed".into(),
            })]);
        let err = store
            .put_stream("failed/x", Box::pin(futures::stream::iter(chunks)))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("the source failed"), "{err}");
        assert_eq!(
            store.get("failed/x").await.unwrap(),
            Bytes::from_static(b"before")
        );
        assert_eq!(store.list("failed").await.unwrap(), ["failed/x"]);
    }
}

async fn sizes_are_listed_and_many_objects_deleted(store: &dyn ObjectStore) {
    for (path, size) in [("many/a", 3), ("many/b/c", 0), ("many/d", 1000)] {
        store.put(path, Bytes::from(vec![0u8; size])).await.unwrap();
    }
    let listed: Vec<(String, u64, bool)> = store
        .list_sized("many")
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.path, o.size, o.modified.is_some()))
        .collect();
    assert_eq!(
        listed,
        [
            ("many/a".to_owned(), 3, true),
            ("many/b/c".to_owned(), 0, true),
            ("many/d".to_owned(), 1000, true)
        ]
    );
    let paths = ["many/a", "many/d", "many/absent"].map(str::to_owned);
    store.delete_many(&paths).await.unwrap();
    assert_eq!(store.list("many").await.unwrap(), ["many/b/c"]);
}

async fn put_get_head_delete(store: &dyn ObjectStore) {
    store
        .put("a/b/c.bin", Bytes::from_static(b"hello"))
        .await
        .unwrap();
    assert_eq!(
        store.get("a/b/c.bin").await.unwrap(),
        Bytes::from_static(b"hello")
    );
    assert_eq!(store.head("a/b/c.bin").await.unwrap(), Some(5));
    store.delete("a/b/c.bin").await.unwrap();
    assert_eq!(store.head("a/b/c.bin").await.unwrap(), None);
    store
        .delete("a/b/c.bin")
        .await
        .expect("deleting twice is fine");
}

async fn missing_objects(store: &dyn ObjectStore) {
    match store.get("nope/missing.bin").await {
        Err(StoreError::NotFound { path }) => assert_eq!(path, "nope/missing.bin"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert_eq!(store.head("nope/missing.bin").await.unwrap(), None);
}

async fn overwrite_is_whole(store: &dyn ObjectStore) {
    store
        .put("ow/x", Bytes::from(vec![1u8; 1000]))
        .await
        .unwrap();
    store.put("ow/x", Bytes::from(vec![2u8; 10])).await.unwrap();
    assert_eq!(store.get("ow/x").await.unwrap(), Bytes::from(vec![2u8; 10]));
}

async fn list_is_recursive_and_sorted(store: &dyn ObjectStore) {
    for p in ["ls/b/2", "ls/a/1", "ls/a/deeper/3", "lsx/not-included"] {
        store.put(p, Bytes::from_static(b"x")).await.unwrap();
    }
    let listed = store.list("ls").await.unwrap();
    assert_eq!(listed, vec!["ls/a/1", "ls/a/deeper/3", "ls/b/2"]);
    assert!(store.list("ls/none").await.unwrap().is_empty());
    // the folders directly under a folder, not its objects, not a sibling's
    assert_eq!(store.list_dirs("ls").await.unwrap(), vec!["a", "b"]);
    assert_eq!(store.list_dirs("ls/a/").await.unwrap(), vec!["deeper"]);
    assert!(store.list_dirs("ls/none").await.unwrap().is_empty());
}

async fn refuses_escaping_paths(store: &dyn ObjectStore) {
    for bad in ["../x", "a/../../x", "/abs", "a//b", ""] {
        assert!(
            matches!(
                store.put(bad, Bytes::new()).await,
                Err(StoreError::InvalidPath { .. })
            ),
            "{bad:?} must be refused"
        );
    }
}

async fn large_payload_round_trips(store: &dyn ObjectStore, large: usize) {
    let data: Vec<u8> = (0..large).map(|i| (i * 7 % 251) as u8).collect();
    store
        .put("big/blob", Bytes::from(data.clone()))
        .await
        .unwrap();
    assert_eq!(store.head("big/blob").await.unwrap(), Some(large as u64));
    let back = store.get("big/blob").await.unwrap();
    assert!(back == data, "large payload differs after the round trip");
}

async fn empty_payload_round_trips(store: &dyn ObjectStore) {
    store.put("empty/x", Bytes::new()).await.unwrap();
    assert_eq!(store.get("empty/x").await.unwrap().len(), 0);
    assert_eq!(store.head("empty/x").await.unwrap(), Some(0));
}

pub fn manifest_for(key: &ArtifactKey) -> Manifest {
    Manifest::new(key, TypeTag::Bytes, "bincode", "builtins", "bytes")
}

async fn artifact_protocol(store: &dyn ObjectStore) {
    let key = ArtifactKey::new("9a1f", "manual__2026-11-23T18:50:11.286216+00:00", "out").unwrap();
    assert!(!artifacts::exists(store, &key).await.unwrap());
    let written = artifacts::write(
        store,
        &key,
        Bytes::from_static(b"payload"),
        "bin",
        manifest_for(&key),
    )
    .await
    .unwrap();
    assert!(artifacts::exists(store, &key).await.unwrap());
    assert_eq!(written.bytes, 7);
    assert!(written.checksum.starts_with("crc32c:"));
    let (manifest, payload) = artifacts::read(store, &key).await.unwrap();
    assert_eq!(manifest, written);
    assert_eq!(payload, Bytes::from_static(b"payload"));
    // Everything lives under the contract layout.
    let listed = store.list(&key.run_dir()).await.unwrap();
    assert_eq!(
        listed,
        vec![key.manifest_path(), key.payload_path(&written.payload)]
    );
}

async fn corrupted_payload_is_detected(store: &dyn ObjectStore) {
    let key = ArtifactKey::new("corrupt", "run-1", "out").unwrap();
    let m = artifacts::write(
        store,
        &key,
        Bytes::from(vec![42u8; 4096]),
        "bin",
        manifest_for(&key),
    )
    .await
    .unwrap();
    let path = key.payload_path(&m.payload);
    let mut bytes = store.get(&path).await.unwrap().to_vec();
    bytes[100] ^= 0xff;
    store.put(&path, Bytes::from(bytes)).await.unwrap();
    match artifacts::read(store, &key).await {
        Err(StoreError::Corrupt { reason, .. }) => assert!(reason.contains("checksum"), "{reason}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // A missing payload is corruption too, not "not found".
    store.delete(&path).await.unwrap();
    assert!(matches!(
        artifacts::read(store, &key).await,
        Err(StoreError::Corrupt { .. })
    ));
    // So is an unparseable manifest.
    store
        .put(&key.manifest_path(), Bytes::from_static(b"{not json"))
        .await
        .unwrap();
    assert!(matches!(
        artifacts::read(store, &key).await,
        Err(StoreError::Corrupt { .. })
    ));
}

async fn retry_replaces_the_payload(store: &dyn ObjectStore) {
    let key = ArtifactKey::new("retry", "run-1", "out").unwrap();
    let first = artifacts::write(
        store,
        &key,
        Bytes::from_static(b"try one"),
        "bin",
        manifest_for(&key),
    )
    .await
    .unwrap();
    let mut second_manifest = manifest_for(&key);
    second_manifest.try_number = 2;
    let second = artifacts::write(
        store,
        &key,
        Bytes::from_static(b"try two!"),
        "bin",
        second_manifest,
    )
    .await
    .unwrap();
    assert_ne!(first.payload, second.payload);
    let (manifest, payload) = artifacts::read(store, &key).await.unwrap();
    assert_eq!(manifest.try_number, 2);
    assert_eq!(payload, Bytes::from_static(b"try two!"));
    let listed = store.list(&key.run_dir()).await.unwrap();
    assert_eq!(
        listed.len(),
        2,
        "the first try's payload is cleaned up: {listed:?}"
    );
}

/// Every chunk, concatenated; the first error if any.
async fn collect(
    chunks: impl futures::Stream<Item = Result<Bytes, StoreError>>,
) -> Result<Vec<u8>, StoreError> {
    chunks
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
}

async fn chunked_reads_match_whole_reads(store: &dyn ObjectStore, large: usize) {
    let data: Vec<u8> = (0..large).map(|i| (i * 13 % 241) as u8).collect();
    store
        .put("chunks/big", Bytes::from(data.clone()))
        .await
        .unwrap();
    let mut pieces = 0;
    let chunks = store.get_chunks("chunks/big").await.unwrap();
    let back = collect(chunks.inspect_ok(|_| pieces += 1)).await.unwrap();
    assert!(back == data, "chunked read differs from what was written");
    assert!(pieces > 1, "a large object arrives in several chunks");
    store.put("chunks/empty", Bytes::new()).await.unwrap();
    let empty = collect(store.get_chunks("chunks/empty").await.unwrap()).await;
    assert_eq!(empty.unwrap().len(), 0);
    match store.get_chunks("chunks/missing").await {
        Err(StoreError::NotFound { path }) => assert_eq!(path, "chunks/missing"),
        Err(other) => panic!("expected NotFound, got {other:?}"),
        Ok(_) => panic!("expected NotFound, got a stream"),
    }
}

async fn chunked_artifact_reads_verify(store: &dyn ObjectStore, large: usize) {
    let key = ArtifactKey::new("chunked", "run-1", "out").unwrap();
    let data: Vec<u8> = (0..large).map(|i| (i * 3 % 253) as u8).collect();
    let m = artifacts::write(
        store,
        &key,
        Bytes::from(data.clone()),
        "bin",
        manifest_for(&key),
    )
    .await
    .unwrap();
    let (manifest, chunks) = artifacts::read_chunks(store, &key).await.unwrap();
    assert_eq!(manifest.checksum, m.checksum);
    assert!(collect(chunks).await.unwrap() == data);

    let path = key.payload_path(&m.payload);
    let expect_corrupt = |result: Result<Vec<u8>, StoreError>, what: &str| match result {
        Err(StoreError::Corrupt { reason, .. }) => assert!(reason.contains(what), "{reason}"),
        other => panic!(
            "expected Corrupt ({what}), got {:?}",
            other.map(|v| v.len())
        ),
    };
    // A flipped byte in the last chunk fails only at the end, after every byte went by.
    let mut flipped = data.clone();
    *flipped.last_mut().unwrap() ^= 0x01;
    store.put(&path, Bytes::from(flipped)).await.unwrap();
    let (_, chunks) = artifacts::read_chunks(store, &key).await.unwrap();
    expect_corrupt(collect(chunks).await, "checksum");
    // Short and long payloads are caught by size.
    store
        .put(&path, Bytes::from(data[..data.len() - 1].to_vec()))
        .await
        .unwrap();
    let (_, chunks) = artifacts::read_chunks(store, &key).await.unwrap();
    expect_corrupt(collect(chunks).await, "bytes");
    let mut longer = data.clone();
    longer.push(0);
    store.put(&path, Bytes::from(longer)).await.unwrap();
    let (_, chunks) = artifacts::read_chunks(store, &key).await.unwrap();
    expect_corrupt(collect(chunks).await, "more than");
    // A missing payload is corruption, reported before any chunk.
    store.delete(&path).await.unwrap();
    assert!(matches!(
        artifacts::read_chunks(store, &key).await,
        Err(StoreError::Corrupt { .. })
    ));
}
