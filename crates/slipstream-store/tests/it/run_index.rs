//! The run index on a store: every run stays listed through writes, compactions (two at
//! once) and deletions, and a damaged segment is reported, never read as fewer runs.

use bytes::Bytes;
use slipstream_core::records::{Record, RunRecord, RunStatus};
use slipstream_core::{FlowName, RunId};
use slipstream_store::ObjectStore;
use slipstream_store::run_index::{self, COMPACT_AT, Indexed, SegmentCache};

fn run(id: &str, status: &str) -> RunRecord {
    let json = format!(
        r#"{{"format": 3, "flow": "indexed", "version": "v1", "run_id": "{id}",
            "trigger": "local", "status": "{status}", "params": {{}},
            "started_at": "2027-01-01T00:00:00+00:00", "ended_at": null, "ops": {{}},
            "metrics": {{"m": 1.5}}, "checks": {{}}}}"#
    );
    RunRecord::parse(json.as_bytes()).unwrap()
}

/// `now` for the n-th event: explicit times, one second apart.
fn at(n: usize) -> String {
    format!("2027-01-01T00:{:02}:{:02}.000000Z", n / 60, n % 60)
}

async fn read(store: &dyn ObjectStore, flow: &FlowName) -> (Vec<String>, Vec<String>) {
    match run_index::read(store, flow, &SegmentCache::default())
        .await
        .unwrap()
    {
        Indexed::Ready { runs, active } => {
            (runs.iter().map(|r| r.run_id.clone()).collect(), active)
        }
        other => panic!("the index is not ready: {other:?}"),
    }
}

pub async fn keeps_every_run(store: &dyn ObjectStore) {
    let flow = FlowName::new("indexed").unwrap();
    let cache = SegmentCache::default();
    let missing = run_index::read(store, &flow, &cache).await.unwrap();
    assert!(matches!(missing, Indexed::Missing), "{missing:?}");
    // A base of 100 runs written before this one ran: later writes are small beside it.
    let earlier: Vec<RunRecord> = (0..100)
        .map(|i| run(&format!("e{i:03}"), "success"))
        .collect();
    let mut everything = earlier.clone();
    everything.push(run("r00", "success"));
    run_index::rebuild(store, &flow, &everything, &[], &at(0))
        .await
        .unwrap();
    let base = run_index::segment_paths(store, &flow).await.unwrap();
    for i in 1..=12 {
        let id = RunId::new(format!("r{i:02}")).unwrap();
        run_index::mark_active(store, &flow, &id).await.unwrap();
        let (_, active) = read(store, &flow).await;
        assert_eq!(active, [id.as_str()], "marked while it runs");
        let based = run_index::record(store, &flow, &[run(id.as_str(), "success")], &at(i))
            .await
            .unwrap();
        assert!(based);
        let segments = run_index::segment_paths(store, &flow).await.unwrap();
        assert!(segments.len() <= COMPACT_AT, "{} segments", segments.len());
    }
    let (runs, active) = read(store, &flow).await;
    assert_eq!(runs.len(), 113);
    assert!(active.is_empty());
    let now = run_index::segment_paths(store, &flow).await.unwrap();
    assert!(
        now.contains(&base[0]),
        "the base is left alone while the rest is small"
    );

    // Ended again (a cleared task) and indexed later: the later entry is the run's.
    run_index::record(store, &flow, &[run("r03", "failed")], &at(20))
        .await
        .unwrap();
    // Two compactions at once lose nothing; a reader with a warm cache follows them.
    let (first, second) = (at(21), at(22));
    let (a, b) = tokio::join!(
        run_index::compact(store, &flow, &first),
        run_index::compact(store, &flow, &second)
    );
    a.unwrap();
    b.unwrap();
    let Indexed::Ready { runs, .. } = run_index::read(store, &flow, &cache).await.unwrap() else {
        panic!("not ready")
    };
    assert_eq!(runs.len(), 113);
    let r03 = runs.iter().find(|r| r.run_id == "r03").unwrap();
    assert_eq!(r03.status, RunStatus::Failed);

    // A deleted run is gone from the index, and stays gone through a compaction.
    let gone = RunId::new("r05").unwrap();
    run_index::forget(store, &flow, &gone, &at(30))
        .await
        .unwrap();
    run_index::compact(store, &flow, &at(31)).await.unwrap();
    let (runs, _) = read(store, &flow).await;
    assert_eq!(runs.len(), 112);
    assert!(!runs.iter().any(|r| r == "r05"));
    // ...unless a run of that id ends after the deletion.
    run_index::record(store, &flow, &[run("r05", "success")], &at(32))
        .await
        .unwrap();
    assert_eq!(read(store, &flow).await.0.len(), 113);

    // A rebuild whose records were read before a deletion (its time is taken first) keeps
    // the run deleted, and so does a full compaction after it.
    let reindex_started = at(39);
    run_index::forget(store, &flow, &RunId::new("r07").unwrap(), &at(40))
        .await
        .unwrap();
    let replaced = run_index::segment_paths(store, &flow).await.unwrap();
    let mut scanned = earlier;
    scanned.extend((0..=12).map(|i| run(&format!("r{i:02}"), "success")));
    run_index::rebuild(store, &flow, &scanned, &replaced, &reindex_started)
        .await
        .unwrap();
    let (runs, _) = read(store, &flow).await;
    assert_eq!(runs.len(), 112);
    assert!(
        !runs.iter().any(|r| r == "r07"),
        "the deletion was carried on"
    );

    // A damaged segment: the index says it cannot be used, and why.
    let damaged = run_index::segment_paths(store, &flow).await.unwrap()[0].clone();
    store
        .put(&damaged, Bytes::from_static(b"{\"format\": 1, \"runs\": ["))
        .await
        .unwrap();
    match run_index::read(store, &flow, &SegmentCache::default())
        .await
        .unwrap()
    {
        Indexed::Unreadable(why) => assert!(why.contains(&damaged), "{why}"),
        other => panic!("a damaged segment was used: {other:?}"),
    }
    let all = store.list("flows/indexed/").await.unwrap();
    store.delete_many(&all).await.unwrap();
}
