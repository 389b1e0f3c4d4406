//! `slipstream._native.UiServer`: the web UI served from the process's runtime threads while
//! Python waits (and can still be interrupted).

use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::runtime::{runtime, wait};
use crate::store::PyStore;

/// The web UI over one store, serving from the moment it is created until `stop()`.
#[pyclass(name = "UiServer", module = "slipstream", frozen)]
pub struct PyUiServer {
    address: SocketAddr,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<std::io::Result<()>>>>,
}

#[pymethods]
impl PyUiServer {
    #[new]
    #[pyo3(signature = (store, host = "127.0.0.1", port = 8040, token = None, airflow = None, frame_ancestors = Vec::new()))]
    fn new(
        py: Python<'_>,
        store: &PyStore,
        host: &str,
        port: u16,
        token: Option<String>,
        airflow: Option<String>,
        frame_ancestors: Vec<String>,
    ) -> PyResult<Self> {
        let token = token.filter(|t| !t.is_empty());
        slipstream_ui::check_frame_ancestors(&frame_ancestors).map_err(PyValueError::new_err)?;
        let listener = TcpListener::bind((host, port))
            .map_err(|e| PyOSError::new_err(format!("cannot listen on {host}:{port}: {e}")))?;
        let address = listener.local_addr()?;
        if !slipstream_ui::is_loopback(&address) && token.is_none() {
            return Err(PyValueError::new_err(format!(
                "serving on {address} makes the UI reachable from other machines: give it a \
                 token (--token or SLIPSTREAM_UI_TOKEN), or keep the default host 127.0.0.1"
            )));
        }
        listener.set_nonblocking(true)?;
        let config = slipstream_ui::Config {
            store: store.backend(py)?,
            token,
            airflow,
            frame_ancestors,
        };
        let rt = runtime();
        let listener = {
            let _entered = rt.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let task = rt.spawn(slipstream_ui::serve(listener, config, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            address,
            stop: Mutex::new(Some(stop)),
            task: Mutex::new(Some(task)),
        })
    }

    /// `http://host:port` the UI answers on.
    #[getter]
    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops accepting, lets requests in flight finish, and returns when the server is done.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        if let Some(stop) = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = stop.send(());
        }
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            match wait(py, task)? {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(PyOSError::new_err(format!("the UI server failed: {e}"))),
                Err(e) => return Err(PyOSError::new_err(format!("the UI server crashed: {e}"))),
            }
        }
        Ok(())
    }
}

/// A failure of the UI's reader as the SDK raises it.
fn ui_error(flow: &str, err: slipstream_ui::UiError) -> PyErr {
    use crate::errors::{AmbiguousName, ArtifactNotFound, CorruptArtifact, NewerFormat};
    use slipstream_ui::UiError;
    match err {
        UiError::NotFound(m) => ArtifactNotFound::new_err(m),
        UiError::BadRequest(m) => PyValueError::new_err(m),
        UiError::Ambiguous(m) => AmbiguousName::new_err(m),
        UiError::Store(e) => crate::errors::store_error(flow, e),
        UiError::Corrupt {
            path,
            reason,
            newer,
            ..
        } => {
            if newer {
                NewerFormat::new_err(format!("{path}: {reason}"))
            } else {
                CorruptArtifact::new_err(format!(
                    "{path} cannot be read: {reason}; it was not written by slipstream, or was \
                     damaged"
                ))
            }
        }
        other => CorruptArtifact::new_err(other.to_string()),
    }
}

/// The run `name` names in `flow` (its id, `latest`, `latest-failed`, `latest-success` or a
/// unique start of an id), read as the web UI reads it (`slipstream_ui::Index::run`: the one
/// reader): `(record, spec)` as JSON, the record merged from the run's files while it is not
/// over. `ArtifactNotFound`, `AmbiguousName`, `CorruptArtifact` or `NewerFormat` otherwise.
#[pyfunction]
pub fn read_run(
    py: Python<'_>,
    store: &PyStore,
    flow: &str,
    name: &str,
) -> PyResult<(String, String)> {
    let backend = store.backend(py)?;
    let run = wait(py, slipstream_ui::read_run(backend, flow, name))?;
    let (record, spec) = run.map_err(|e| ui_error(flow, e))?;
    Ok((json(&record)?, json(spec.as_ref())?))
}

fn json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Runs `a` and `b` of `flow` compared, as the web UI's comparison page shows them, as JSON
/// (`slipstream diff FLOW RUN_A RUN_B`). A run or flow that is not there raises
/// `ArtifactNotFound`; an ambiguous or impossible name, `ValueError`.
#[pyfunction]
pub fn compare_runs(
    py: Python<'_>,
    store: &PyStore,
    flow: &str,
    a: &str,
    b: &str,
) -> PyResult<String> {
    let backend = store.backend(py)?;
    let comparison = wait(
        py,
        slipstream_ui::compare::compare_runs(backend, flow, a, b),
    )?;
    let comparison = comparison.map_err(|e| ui_error(flow, e))?;
    serde_json::to_string(&comparison).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A unified diff of code from `a` to `b` (`--- from`, `+++ to`, hunks with three lines of
/// context; blank lines left out): the line diff the web UI's version diff draws
/// (`slipstream_ui::code_diff`). "" when they are the same but for blank lines.
#[pyfunction]
#[pyo3(signature = (a, b, from_name = "a", to_name = "b"))]
pub fn code_diff(a: &str, b: &str, from_name: &str, to_name: &str) -> String {
    slipstream_ui::code_diff::unified(a, b, from_name, to_name)
}

/// The runs list of `flow` as the web UI shows it, as JSON: a list of rows, each
/// `{"run": <run summary>}` or `{"unreadable": {run_id, started_at, reason}}`, in the UI's
/// order (runs that cannot be read and whose start is unknown first, then newest first);
/// and why the flow's run index was not used, if it was not.
#[pyfunction]
pub fn list_runs(
    py: Python<'_>,
    store: &PyStore,
    flow: &str,
) -> PyResult<(String, Option<String>)> {
    let backend = store.backend(py)?;
    let (rows, damaged) =
        wait(py, slipstream_ui::list_runs(backend, flow))?.map_err(|e| ui_error(flow, e))?;
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| match row {
            slipstream_ui::Row::Run(summary) => serde_json::json!({"run": summary}),
            slipstream_ui::Row::Unreadable(bad) => serde_json::json!({"unreadable": bad}),
        })
        .collect();
    Ok((json(&rows)?, damaged))
}

/// Every run of `flow` read whole, as JSON: `{"runs": [record, ...] (newest first, merged
/// while not over), "specs": {version: spec}, "unreadable": [{run_id, started_at, reason}]}`.
#[pyfunction]
pub fn read_runs(py: Python<'_>, store: &PyStore, flow: &str) -> PyResult<String> {
    let backend = store.backend(py)?;
    let (runs, bad) =
        wait(py, slipstream_ui::read_runs(backend, flow))?.map_err(|e| ui_error(flow, e))?;
    let mut specs = serde_json::Map::new();
    let mut records = Vec::with_capacity(runs.len());
    for (record, spec) in &runs {
        if !specs.contains_key(&spec.version) {
            let value = serde_json::to_value(spec.as_ref())
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            specs.insert(spec.version.clone(), value);
        }
        records.push(record);
    }
    json(&serde_json::json!({
        "runs": records,
        "specs": specs,
        "unreadable": bad,
    }))
}
