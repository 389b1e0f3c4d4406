//! A flow's run index in a store: immutable segments under `flows/<flow>/index/` holding a
//! summary of each ended run, and an empty marker under `flows/<flow>/active/` for each run
//! not over or not yet indexed (records: [`slipstream_core::records::IndexSegment`]).
//!
//! Readers list the markers first, then the segments: a writer adds a run's segment before
//! it removes the run's marker, so a run is always in one listing or the other. Writers add
//! a segment per event (runs ended, a run deleted); once a flow has more than
//! [`COMPACT_AT`] segments, the writer that sees it compacts them ([`compact`]: the new
//! segment written first, the others deleted after, so that a reader in between sees runs
//! twice, never none).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream};
use slipstream_core::records::{Deleted, IndexSegment, IndexedRuns, Record, RunRecord, RunSummary};
use slipstream_core::{FlowName, RunId, active_dir, active_marker_path, index_dir};

use crate::{Listed, ObjectStore, Result, StoreError};

/// More segments than this and the writer that sees them compacts them, so that a read
/// costs two listings and at most this many reads more (none for a segment already read).
pub const COMPACT_AT: usize = 4;

/// How long a compaction keeps a deletion: longer than any compaction takes, so that the
/// entry it hides cannot come back from a segment a slower compaction read before it.
const KEEP_DELETIONS: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a long-lived reader (the UI) has read of the index. Segments never change, so each
/// is read once; and while a flow's listing stays the same, what it says is reused as is.
#[derive(Debug, Default)]
pub struct SegmentCache {
    segments: Mutex<HashMap<String, Arc<IndexSegment>>>,
    /// Per flow (its index folder): the segments last read, and their runs.
    merged: Mutex<HashMap<String, Merged>>,
}

/// The paths of the segments read, and the runs they say.
type Merged = (Vec<String>, Arc<Vec<RunSummary>>);

/// What a flow's index says.
#[derive(Debug)]
pub enum Indexed {
    /// Every ended run (by run id) and the run folders (escaped run ids) of the runs
    /// that are not over or not yet indexed: those must be read from their records.
    Ready {
        runs: Arc<Vec<RunSummary>>,
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
        let dir = index_dir(flow);
        let known = lock(&cache.merged).get(&dir).cloned();
        if let Some((read, runs)) = known
            && read == paths
        {
            return Ok(Indexed::Ready { runs, active });
        }
        match load(store, flow, &paths, cache).await {
            Ok(segments) => {
                let found = IndexedRuns::of(segments.iter().map(AsRef::as_ref));
                if !found.base {
                    return Ok(Indexed::Missing);
                }
                let runs = Arc::new(found.runs.into_values().collect::<Vec<_>>());
                lock(&cache.merged).insert(dir, (paths, runs.clone()));
                return Ok(Indexed::Ready { runs, active });
            }
            // a compaction replaced a segment between the listing and the read
            Err(StoreError::NotFound { .. }) if tries < 3 => tries += 1,
            Err(StoreError::NotFound { path }) => {
                let why = format!("segment {path} went away three times while it was read");
                return Ok(Indexed::Unreadable(why));
            }
            Err(StoreError::Corrupt { reason, .. }) => return Ok(Indexed::Unreadable(reason)),
            Err(e) => return Err(e),
        }
    }
}

/// The runs of `flow` the index says were deleted (`slipstream delete`) and not indexed
/// again since: their run ids, so that `sync` does not bring back a run Airflow still knows.
/// Deletions are kept for a week of compactions ([`KEEP_DELETIONS`]).
pub async fn deleted(store: &dyn ObjectStore, flow: &FlowName) -> Result<Vec<String>> {
    let mut tries = 0;
    loop {
        let paths = segment_paths(store, flow).await?;
        match load(store, flow, &paths, &SegmentCache::default()).await {
            Ok(segments) => {
                let found = IndexedRuns::of(segments.iter().map(AsRef::as_ref));
                let runs = found.runs;
                return Ok(found
                    .deleted
                    .into_keys()
                    .filter(|id| !runs.contains_key(id))
                    .collect());
            }
            // a compaction replaced a segment between the listing and the read
            Err(StoreError::NotFound { .. }) if tries < 3 => tries += 1,
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
    Ok(segments_sized(store, flow)
        .await?
        .into_iter()
        .map(|o| o.path)
        .collect())
}

async fn segments_sized(store: &dyn ObjectStore, flow: &FlowName) -> Result<Vec<Listed>> {
    Ok(store
        .list_sized(&index_dir(flow))
        .await?
        .into_iter()
        .filter(|o| o.path.ends_with(".json"))
        .collect())
}

/// Whether a segment is a base, from its name alone (its `base` field says the same: both
/// are written by [`write`]), so that a writer can tell without reading it.
fn is_base(path: &str) -> bool {
    path.ends_with("-base.json")
}

/// A segment of `flow` written at `now`.
fn segment(
    flow: &FlowName,
    now: &str,
    base: bool,
    runs: Vec<RunSummary>,
    deleted: Vec<Deleted>,
) -> IndexSegment {
    IndexSegment {
        format: IndexSegment::FORMAT,
        flow: flow.as_str().to_owned(),
        written_at: now.to_owned(),
        base,
        runs,
        deleted,
    }
}

/// Indexes `runs` (ended, as readers merge them) and removes their markers. Returns whether
/// the index has a base: if not, the caller should rebuild it ([`rebuild`]).
pub async fn record(
    store: &dyn ObjectStore,
    flow: &FlowName,
    runs: &[RunRecord],
    now: &str,
) -> Result<bool> {
    check_now(now)?;
    let summaries = runs.iter().map(|r| RunSummary::of(r, now)).collect();
    write(
        store,
        flow,
        &segment(flow, now, false, summaries, Vec::new()),
    )
    .await?;
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
    check_now(now)?;
    let gone = Deleted {
        run_id: run_id.as_str().to_owned(),
        deleted_at: now.to_owned(),
    };
    write(
        store,
        flow,
        &segment(flow, now, false, Vec::new(), vec![gone]),
    )
    .await?;
    store.delete(&active_marker_path(flow, run_id)).await?;
    settle(store, flow, now).await.map(|_| ())
}

/// Compacts when there are too many segments; whether the index has a base that can be
/// read (a damaged segment needs a rebuild, which replaces it).
async fn settle(store: &dyn ObjectStore, flow: &FlowName, now: &str) -> Result<bool> {
    let paths = segment_paths(store, flow).await?;
    if paths.len() > COMPACT_AT {
        match compact(store, flow, now).await {
            Ok(_) => {}
            Err(StoreError::Corrupt { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(paths.iter().any(|p| is_base(p)))
}

/// A new base from `ended` (every ended run of the flow, read from its records after `now`
/// and after `replaced` were listed), their markers removed, replacing the segments at
/// `replaced`. A run that ended or was deleted while the records were read keeps the later
/// segment that says so, and the deletions `replaced` hold are carried on.
pub async fn rebuild(
    store: &dyn ObjectStore,
    flow: &FlowName,
    ended: &[RunRecord],
    replaced: &[String],
    now: &str,
) -> Result<()> {
    check_now(now)?;
    let mut deleted = Vec::new();
    for path in replaced {
        // a damaged or vanished segment has no deletion to carry on that can be read
        if let Ok((_, old)) = read_segment(store, path, &SegmentCache::default()).await {
            deleted.extend(old.deleted.iter().cloned());
        }
    }
    let summaries = ended.iter().map(|r| RunSummary::of(r, now)).collect();
    let base = segment(flow, now, true, summaries, deleted);
    let found = IndexedRuns::of([&base]); // deletions after a run's entry hide it
    write(
        store,
        flow,
        &found.into_segment(flow.as_str(), now, &forget_before(now)?),
    )
    .await?;
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

/// Compacts `flow`'s segments. While the segments written since the last base are small
/// beside it (a quarter of its size), they are merged into one and the base is left as it
/// is, so a compaction costs what was written since; past that, everything is merged into a
/// new base. A segment another compaction removed meanwhile ends this one without a change
/// (that one wrote what it read); a damaged one is an error: the index needs a rebuild.
pub async fn compact(store: &dyn ObjectStore, flow: &FlowName, now: &str) -> Result<Compacted> {
    check_now(now)?;
    let listed = segments_sized(store, flow).await?;
    let (bases, deltas): (Vec<&Listed>, Vec<&Listed>) =
        listed.iter().partition(|o| is_base(&o.path));
    let size = |set: &[&Listed]| set.iter().map(|o| o.size).sum::<u64>();
    let partial = bases.len() == 1 && size(&deltas).saturating_mul(4) < size(&bases);
    let chosen: Vec<&Listed> = if partial {
        deltas
    } else {
        listed.iter().collect()
    };
    let merged: Vec<String> = chosen.iter().map(|o| o.path.clone()).collect();
    let unchanged = Compacted {
        segments: listed.len(),
        runs: 0,
    };
    if merged.len() <= 1 {
        return Ok(unchanged);
    }
    let segments = match load(store, flow, &merged, &SegmentCache::default()).await {
        Ok(segments) => segments,
        Err(StoreError::NotFound { .. }) => return Ok(unchanged),
        Err(e) => return Err(e),
    };
    let found = IndexedRuns::of(segments.iter().map(AsRef::as_ref));
    let runs = found.runs.len();
    // Only a compaction that merges the base may forget deletions: until then the base can
    // still hold an entry a deletion hides.
    let forget = if partial {
        String::new()
    } else {
        forget_before(now)?
    };
    write(
        store,
        flow,
        &found.into_segment(flow.as_str(), now, &forget),
    )
    .await?;
    store.delete_many(&merged).await?;
    Ok(Compacted {
        segments: listed.len(),
        runs,
    })
}

/// `now` as the index writes times: RFC 3339 in UTC (`…Z`), which sorts as text.
fn check_now(now: &str) -> Result<()> {
    humantime::parse_rfc3339(now)
        .map(drop)
        .map_err(|e| invalid(format!("time {now:?} is not RFC 3339 in UTC (…Z): {e}")))
}

/// Deletions before this (a week before `now`) can be forgotten by a full compaction.
fn forget_before(now: &str) -> Result<String> {
    humantime::parse_rfc3339(now)
        .map(|t| humantime::format_rfc3339_micros(t - KEEP_DELETIONS).to_string())
        .map_err(|e| invalid(format!("time {now:?} is not RFC 3339 in UTC (…Z): {e}")))
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

/// The segments at `paths`, in that order, from `cache` where they are in it; the cache
/// then keeps, of `flow`'s segments, only these.
async fn load(
    store: &dyn ObjectStore,
    flow: &FlowName,
    paths: &[String],
    cache: &SegmentCache,
) -> Result<Vec<Arc<IndexSegment>>> {
    let reads: Vec<_> = paths
        .iter()
        .map(|path| read_segment(store, path, cache))
        .collect();
    let segments: Vec<(String, Arc<IndexSegment>)> =
        stream::iter(reads).buffered(16).try_collect().await?;
    let dir = index_dir(flow);
    let mut kept = lock(&cache.segments);
    kept.retain(|path, _| !path.starts_with(&dir));
    kept.extend(segments.iter().cloned());
    Ok(segments.into_iter().map(|(_, s)| s).collect())
}

/// The segment at `path`, from `cache` if it is there.
async fn read_segment(
    store: &dyn ObjectStore,
    path: &str,
    cache: &SegmentCache,
) -> Result<(String, Arc<IndexSegment>)> {
    let hit = lock(&cache.segments).get(path).cloned();
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

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid {
        reason: e.to_string(),
    }
}
