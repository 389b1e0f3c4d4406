//! A flow's run index in a store: immutable segments under `flows/<flow>/index/` holding a
//! summary of each ended run, and an empty marker under `flows/<flow>/active/` for each run
//! not over or not yet indexed (records: [`slipstream_core::records::IndexSegment`]).
//!
//! Readers list the markers first, then the segments: a writer adds a run's segment before
//! it removes the run's marker, so a run is always in one listing or the other. Writers add
//! a segment per event (runs ended, a run deleted); once a flow has more than
//! [`COMPACT_AT`] segments, the writer that sees it replaces them by one (written first,
//! then the others deleted, so that a reader in between sees runs twice, never none).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};
use slipstream_core::records::{IndexSegment, IndexedRuns, Record, RunRecord, RunSummary};
use slipstream_core::{FlowName, RunId, active_dir, active_marker_path, index_dir};

use crate::{ObjectStore, Result, StoreError};

/// More segments than this and the writer that sees them compacts them into one, so that a
/// read costs two listings and at most this many (small) reads more.
pub const COMPACT_AT: usize = 4;

/// How long a compaction keeps a deletion: longer than any compaction takes, so that the
/// entry it hides cannot come back from a segment a slower compaction read before it.
const KEEP_DELETIONS: Duration = Duration::from_secs(7 * 24 * 3600);

/// Segments already read, by path: a segment never changes, so a long-lived reader (the UI)
/// reads each once.
#[derive(Debug, Default)]
pub struct SegmentCache(Mutex<HashMap<String, Arc<IndexSegment>>>);

/// What a flow's index says.
#[derive(Debug)]
pub enum Indexed {
    /// Every ended run (by run id) and the run folders (escaped run ids) of the runs
    /// that are not over or not yet indexed: those must be read from their records.
    Ready {
        runs: Vec<RunSummary>,
        active: Vec<String>,
    },
    /// No segment was written from every run record: the index may not know every run.
    Missing,
    /// A segment cannot be read (why): the index cannot be trusted until rebuilt.
    Unreadable(String),
}

/// Now, as the index records times: RFC 3339 in UTC to the microsecond, which sorts as text.
pub fn now() -> String {
    humantime::format_rfc3339_micros(SystemTime::now()).to_string()
}

/// Reads the index of `flow`, taking segments already read from `cache`.
pub async fn read(
    store: &dyn ObjectStore,
    flow: &FlowName,
    cache: &SegmentCache,
) -> Result<Indexed> {
    let mut tries = 0;
    loop {
        let active = active(store, flow).await?;
        let paths = segment_paths(store, flow).await?;
        match load(store, &paths, cache).await {
            Ok(segments) => {
                let found = IndexedRuns::of(segments.iter().map(AsRef::as_ref));
                if !found.base {
                    return Ok(Indexed::Missing);
                }
                let runs = found.runs.into_values().collect();
                return Ok(Indexed::Ready { runs, active });
            }
            // a compaction replaced a segment between the listing and the read
            Err(StoreError::NotFound { .. }) if tries < 3 => tries += 1,
            Err(StoreError::Corrupt { reason, .. }) => return Ok(Indexed::Unreadable(reason)),
            Err(e) => return Err(e),
        }
    }
}

/// The run folders (escaped run ids) with an active marker.
pub async fn active(store: &dyn ObjectStore, flow: &FlowName) -> Result<Vec<String>> {
    let dir = active_dir(flow);
    Ok(store
        .list(&dir)
        .await?
        .into_iter()
        .filter_map(|p| p.strip_prefix(&dir).map(str::to_owned))
        .filter(|name| !name.contains('/'))
        .collect())
}

/// Marks `run_id` as not over: readers read it from its records until it is indexed.
pub async fn mark_active(store: &dyn ObjectStore, flow: &FlowName, run_id: &RunId) -> Result<()> {
    store
        .put(&active_marker_path(flow, run_id), Bytes::new())
        .await
}

/// Paths of the segments of `flow`'s index.
pub async fn segment_paths(store: &dyn ObjectStore, flow: &FlowName) -> Result<Vec<String>> {
    Ok(store
        .list(&index_dir(flow))
        .await?
        .into_iter()
        .filter(|p| p.ends_with(".json"))
        .collect())
}

/// Whether a segment is a base, from its name alone.
fn is_base(path: &str) -> bool {
    path.ends_with("-base.json")
}

/// Indexes `runs` (ended, as readers merge them) and removes their markers. Returns whether
/// the index has a base: if not, the caller should rebuild it ([`rebuild`]).
pub async fn record(
    store: &dyn ObjectStore,
    flow: &FlowName,
    runs: &[RunRecord],
    now: &str,
) -> Result<bool> {
    let segment = IndexSegment {
        format: IndexSegment::FORMAT,
        flow: flow.as_str().to_owned(),
        written_at: now.to_owned(),
        base: false,
        runs: runs.iter().map(|r| RunSummary::of(r, now)).collect(),
        deleted: Vec::new(),
    };
    write(store, flow, &segment).await?;
    unmark(store, flow, runs).await?;
    settle(store, flow, now).await
}

/// Records that `run_id` was deleted and removes its marker.
pub async fn forget(
    store: &dyn ObjectStore,
    flow: &FlowName,
    run_id: &RunId,
    now: &str,
) -> Result<()> {
    let segment = IndexSegment {
        format: IndexSegment::FORMAT,
        flow: flow.as_str().to_owned(),
        written_at: now.to_owned(),
        base: false,
        runs: Vec::new(),
        deleted: vec![slipstream_core::records::Deleted {
            run_id: run_id.as_str().to_owned(),
            deleted_at: now.to_owned(),
        }],
    };
    write(store, flow, &segment).await?;
    store.delete(&active_marker_path(flow, run_id)).await?;
    settle(store, flow, now).await.map(|_| ())
}

/// Compacts when there are too many segments; whether the index has a base.
async fn settle(store: &dyn ObjectStore, flow: &FlowName, now: &str) -> Result<bool> {
    let paths = segment_paths(store, flow).await?;
    if paths.len() > COMPACT_AT {
        compact(store, flow, now).await?;
    }
    Ok(paths.iter().any(|p| is_base(p)))
}

/// A new base from `ended` (every ended run of the flow, read from its records), their
/// markers removed, replacing the segments at `replaced`: those listed before the records were read, so that a run that
/// ended meanwhile keeps the segment it was indexed in.
pub async fn rebuild(
    store: &dyn ObjectStore,
    flow: &FlowName,
    ended: &[RunRecord],
    replaced: &[String],
    now: &str,
) -> Result<()> {
    let segment = IndexSegment {
        format: IndexSegment::FORMAT,
        flow: flow.as_str().to_owned(),
        written_at: now.to_owned(),
        base: true,
        runs: ended.iter().map(|r| RunSummary::of(r, now)).collect(),
        deleted: Vec::new(),
    };
    write(store, flow, &segment).await?;
    unmark(store, flow, ended).await?;
    store.delete_many(replaced).await
}

/// Removes the markers of `runs`, now indexed.
async fn unmark(store: &dyn ObjectStore, flow: &FlowName, runs: &[RunRecord]) -> Result<()> {
    let markers = runs
        .iter()
        .map(|run| {
            Ok(active_marker_path(
                flow,
                &RunId::new(run.run_id.as_str()).map_err(invalid)?,
            ))
        })
        .collect::<Result<Vec<String>>>()?;
    store.delete_many(&markers).await
}

/// What a compaction did: segments before and runs indexed after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    pub segments: usize,
    pub runs: usize,
}

/// Replaces the segments of `flow` by one. A segment another compaction removed meanwhile
/// ends this one without a change (that one wrote what it read).
pub async fn compact(store: &dyn ObjectStore, flow: &FlowName, now: &str) -> Result<Compacted> {
    let paths = segment_paths(store, flow).await?;
    let segments = match load(store, &paths, &SegmentCache::default()).await {
        Ok(segments) => segments,
        Err(StoreError::NotFound { .. }) => {
            return Ok(Compacted {
                segments: paths.len(),
                runs: 0,
            });
        }
        Err(e) => return Err(e),
    };
    let found = IndexedRuns::of(segments.iter().map(AsRef::as_ref));
    let runs = found.runs.len();
    if paths.len() <= 1 {
        return Ok(Compacted {
            segments: paths.len(),
            runs,
        });
    }
    let forget_before = humantime::parse_rfc3339(now)
        .map(|t| humantime::format_rfc3339_micros(t - KEEP_DELETIONS).to_string())
        .map_err(|e| invalid(format!("time {now:?}: {e}")))?;
    write(
        store,
        flow,
        &found.into_segment(flow.as_str(), now, &forget_before),
    )
    .await?;
    store.delete_many(&paths).await?;
    Ok(Compacted {
        segments: paths.len(),
        runs,
    })
}

/// Writes `segment` under a new name: the time, a random part, and `-base` for a base.
async fn write(store: &dyn ObjectStore, flow: &FlowName, segment: &IndexSegment) -> Result<()> {
    let stamp: String = segment
        .written_at
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let base = if segment.base { "-base" } else { "" };
    let name = format!("{stamp}-{}{base}", uuid::Uuid::new_v4().simple());
    let path = slipstream_core::index_segment_path(flow, &name).map_err(invalid)?;
    let json = serde_json::to_vec(segment).map_err(|e| invalid(e.to_string()))?;
    store.put(&path, Bytes::from(json)).await
}

/// The segments at `paths`, from `cache` where they are in it; the cache keeps only these.
async fn load(
    store: &dyn ObjectStore,
    paths: &[String],
    cache: &SegmentCache,
) -> Result<Vec<Arc<IndexSegment>>> {
    let reads: Vec<_> = paths
        .iter()
        .map(|path| segment(store, path, cache))
        .collect();
    let segments: Vec<(String, Arc<IndexSegment>)> = stream::iter(reads)
        .buffer_unordered(16)
        .try_collect()
        .await?;
    let mut kept = cache.0.lock().unwrap_or_else(|p| p.into_inner());
    kept.clear();
    kept.extend(segments.iter().cloned());
    Ok(segments.into_iter().map(|(_, s)| s).collect())
}

/// The segment at `path`, from `cache` if it is there.
async fn segment(
    store: &dyn ObjectStore,
    path: &str,
    cache: &SegmentCache,
) -> Result<(String, Arc<IndexSegment>)> {
    let hit = cache
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(path)
        .cloned();
    if let Some(hit) = hit {
        return Ok((path.to_owned(), hit));
    }
    let bytes = store.get(path).await?;
    let segment = IndexSegment::parse(&bytes).map_err(|e| StoreError::Corrupt {
        key: path.to_owned(),
        reason: format!("run index segment {path} cannot be read ({e})"),
    })?;
    Ok((path.to_owned(), Arc::new(segment)))
}

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid {
        reason: e.to_string(),
    }
}
