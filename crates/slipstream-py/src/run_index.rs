//! The run index of a flow (`slipstream_store::run_index`) for the writers in Python: the
//! local runner, the Airflow task that ends a run, `sync`, `gc`, `delete` and `reindex`.
//! Times are RFC 3339 UTC; `now` is given by tests, else the clock's.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use slipstream_core::records::{Record, RunRecord, RunSummary};
use slipstream_core::{FlowName, RunId};
use slipstream_store::StoreError;
use slipstream_store::run_index::{self, Indexed, SegmentCache};

use crate::errors::{CorruptArtifact, key_error, record_error, store_error};
use crate::runtime::wait;
use crate::store::PyStore;

fn flow_name(flow: &str) -> PyResult<FlowName> {
    FlowName::new(flow).map_err(key_error)
}

fn records(runs: Vec<Vec<u8>>) -> PyResult<Vec<RunRecord>> {
    runs.iter()
        .map(|data| RunRecord::parse(data).map_err(|e| record_error("a run to index", e)))
        .collect()
}

fn time(now: Option<String>) -> String {
    now.unwrap_or_else(run_index::now)
}

/// A failure of the index of `flow`: a damaged segment says how to rebuild it.
fn index_error(flow: &str, err: StoreError) -> PyErr {
    match err {
        StoreError::Corrupt { reason, .. } => CorruptArtifact::new_err(format!(
            "the run index of flow {flow:?} is damaged: {reason}; rebuild it with \
             `slipstream reindex {flow}`"
        )),
        other => store_error(flow, other),
    }
}

/// Now, as the run index writes times (RFC 3339 UTC to the microsecond, `…Z`).
#[pyfunction]
pub fn index_now() -> String {
    run_index::now()
}

/// What the run index keeps of a run (a run record as JSON, as readers merge it), as JSON.
#[pyfunction]
pub fn run_summary(run: &[u8]) -> PyResult<String> {
    let record = RunRecord::parse(run).map_err(|e| record_error("a run to summarise", e))?;
    serde_json::to_string(&RunSummary::of(&record, ""))
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Marks run `run_id` of `flow` as not over: readers read it from its records until it is
/// indexed.
#[pyfunction]
pub fn index_mark_active(
    py: Python<'_>,
    store: &PyStore,
    flow: &str,
    run_id: &str,
) -> PyResult<()> {
    let (flow, id) = (flow_name(flow)?, RunId::new(run_id).map_err(key_error)?);
    let backend = store.backend(py)?;
    wait(py, async {
        run_index::mark_active(backend.as_ref(), &flow, &id).await
    })?
    .map_err(|e| store_error(run_id, e))
}

/// Indexes `runs` (run records as JSON, ended, as readers merge them) and removes their
/// markers; whether the index has a base (if not, rebuild it).
#[pyfunction]
#[pyo3(signature = (store, flow, runs, now = None))]
pub fn index_record(
    py: Python<'_>,
    store: &PyStore,
    flow: &str,
    runs: Vec<Vec<u8>>,
    now: Option<String>,
) -> PyResult<bool> {
    let (name, runs, now) = (flow_name(flow)?, records(runs)?, time(now));
    let backend = store.backend(py)?;
    wait(py, async {
        run_index::record(backend.as_ref(), &name, &runs, &now).await
    })?
    .map_err(|e| index_error(flow, e))
}

/// Records that run `run_id` was deleted.
#[pyfunction]
#[pyo3(signature = (store, flow, run_id, now = None))]
pub fn index_forget(
    py: Python<'_>,
    store: &PyStore,
    flow: &str,
    run_id: &str,
    now: Option<String>,
) -> PyResult<()> {
    let (name, id, now) = (
        flow_name(flow)?,
        RunId::new(run_id).map_err(key_error)?,
        time(now),
    );
    let backend = store.backend(py)?;
    wait(py, async {
        run_index::forget(backend.as_ref(), &name, &id, &now).await
    })?
    .map_err(|e| index_error(flow, e))
}

/// Replaces the segments of `flow`'s index by one: `(segments before, runs indexed)`.
#[pyfunction]
#[pyo3(signature = (store, flow, now = None))]
pub fn index_compact(
    py: Python<'_>,
    store: &PyStore,
    flow: &str,
    now: Option<String>,
) -> PyResult<(usize, usize)> {
    let (name, now) = (flow_name(flow)?, time(now));
    let backend = store.backend(py)?;
    let done = wait(py, async {
        run_index::compact(backend.as_ref(), &name, &now).await
    })?
    .map_err(|e| index_error(flow, e))?;
    Ok((done.segments, done.runs))
}

/// A new base of `flow`'s index from `runs` (every ended run, as JSON), replacing the
/// segments at `replaced` (listed before the runs were read).
#[pyfunction]
#[pyo3(signature = (store, flow, runs, replaced, now = None))]
pub fn index_rebuild(
    py: Python<'_>,
    store: &PyStore,
    flow: &str,
    runs: Vec<Vec<u8>>,
    replaced: Vec<String>,
    now: Option<String>,
) -> PyResult<()> {
    let (name, runs, now) = (flow_name(flow)?, records(runs)?, time(now));
    let backend = store.backend(py)?;
    wait(py, async {
        run_index::rebuild(backend.as_ref(), &name, &runs, &replaced, &now).await
    })?
    .map_err(|e| index_error(flow, e))
}

/// Paths of the segments of `flow`'s index.
#[pyfunction]
pub fn index_segments(py: Python<'_>, store: &PyStore, flow: &str) -> PyResult<Vec<String>> {
    let name = flow_name(flow)?;
    let backend = store.backend(py)?;
    wait(py, async {
        run_index::segment_paths(backend.as_ref(), &name).await
    })?
    .map_err(|e| index_error(flow, e))
}

/// The run folders (escaped run ids) of `flow` marked as not over or not yet indexed.
#[pyfunction]
pub fn index_active(py: Python<'_>, store: &PyStore, flow: &str) -> PyResult<Vec<String>> {
    let name = flow_name(flow)?;
    let backend = store.backend(py)?;
    wait(py, async {
        run_index::active(backend.as_ref(), &name).await
    })?
    .map_err(|e| index_error(flow, e))
}

/// Run ids of `flow` the index says were deleted and not indexed again since.
#[pyfunction]
pub fn index_deleted(py: Python<'_>, store: &PyStore, flow: &str) -> PyResult<Vec<String>> {
    let name = flow_name(flow)?;
    let backend = store.backend(py)?;
    wait(py, async {
        run_index::deleted(backend.as_ref(), &name).await
    })?
    .map_err(|e| index_error(flow, e))
}

/// What `flow`'s index says: `("ready", runs as a JSON list, active run folders)`,
/// `("missing", None, [])` (never built), or `("unreadable", why, [])`.
#[pyfunction]
pub fn index_read(
    py: Python<'_>,
    store: &PyStore,
    flow: &str,
) -> PyResult<(&'static str, Option<String>, Vec<String>)> {
    let name = flow_name(flow)?;
    let backend = store.backend(py)?;
    let cache = SegmentCache::default();
    let found = wait(py, async {
        run_index::read(backend.as_ref(), &name, &cache).await
    })?
    .map_err(|e| index_error(flow, e))?;
    Ok(match found {
        Indexed::Ready { runs, active } => {
            let json = serde_json::to_string(runs.as_ref())
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            ("ready", Some(json), active)
        }
        Indexed::Missing => ("missing", None, Vec::new()),
        Indexed::Unreadable(why) => ("unreadable", Some(why), Vec::new()),
    })
}
