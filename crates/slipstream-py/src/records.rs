//! The record formats of `slipstream-core` for the SDK: every record file the SDK writes is
//! checked against its one typed definition first, every one it reads is checked (its
//! `format` above all), and a run's files are merged by the same function the UI uses.

use pyo3::prelude::*;
use slipstream_core::records::{
    AirflowRun, FlowSpec, OpState, Record, RunRecord, VersionDiff, merge_run, versions_ran,
};
use slipstream_core::{CoreError, RunFile};

use crate::errors::{invalid_record, record_error};

/// Runs `$body` with `$R` the record type of `$kind` (`with_record_type!` of the core), or
/// raises `ValueError` naming the kinds there are.
macro_rules! by_kind {
    ($kind:expr, $R:ident => $body:expr) => {
        slipstream_core::with_record_type!($kind, $R => $body, _ => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "no record kind {:?}: {}",
                $kind,
                slipstream_core::records::RECORD_KINDS.join(", ")
            )))
        })
    };
}

/// Checks `data` as a record about to be written as the kind named `kind`: of the format
/// its content needs, every field known.
fn check_current(kind: &str, data: &[u8]) -> PyResult<Result<(), CoreError>> {
    Ok(by_kind!(kind, R => R::parse_current(data).map(drop)))
}

/// The newest format of every record kind this build reads and writes, and of manifests
/// (`manifest`): the module's `FORMATS`.
pub fn formats(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    let formats = pyo3::types::PyDict::new(py);
    for kind in slipstream_core::records::RECORD_KINDS {
        formats.set_item(kind, slipstream_core::records::newest_format(kind))?;
    }
    Ok(formats)
}

/// The format a `kind` record with the content `data` is written as: the oldest whose
/// readers read it right (`Record::needed_format`; the `format` `data` says is ignored).
#[pyfunction]
pub fn record_format(kind: &str, data: &[u8]) -> PyResult<u32> {
    by_kind!(kind, R => R::format_of(data))
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("not a {kind} record: {e}")))
}

/// A record read from `path`, as the record classes of `slipstream.records.types` read it:
/// `data` parsed as a `kind` record and written back whole (defaults of older formats filled
/// in). `CorruptArtifact` if it is not a `kind` record, `NewerFormat` if a newer slipstream
/// wrote it.
#[pyfunction]
pub fn read_record<'py>(
    py: Python<'py>,
    kind: &str,
    data: &[u8],
    path: &str,
) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
    let canonical = slipstream_core::records::canonical(kind, data)
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err(format!("no record kind {kind:?}")))?
        .map_err(|e| record_error(path, e))?;
    Ok(pyo3::types::PyBytes::new(py, &canonical))
}

/// The JSON Schema of every record kind, made from the core's types: what the record
/// classes of `slipstream.records.types` are generated from.
#[pyfunction]
pub fn records_schema() -> String {
    slipstream_core::records::records_schema().to_string()
}

/// Checks a record about to be written to `path`: `ValueError` if it is not a `kind` record.
#[pyfunction]
pub fn check_write(kind: &str, data: &[u8], path: &str) -> PyResult<()> {
    check_current(kind, data)?.map_err(|e| invalid_record(path, e))
}

/// The run as readers show it, as JSON: `run` (its `run.json`), merged with the op files
/// `op_files` (`(op name, bytes)`) and Airflow's synced state. `spec` is the spec of the
/// run's version; `load_spec(version)` returns the bytes of another version's spec (or
/// None), called for each version the op files say ran.
#[pyfunction]
#[pyo3(signature = (run, spec, op_files, airflow, run_dir, load_spec))]
pub fn merge_run_files(
    run: &[u8],
    spec: &[u8],
    op_files: Vec<(String, Vec<u8>)>,
    airflow: Option<&[u8]>,
    run_dir: &str,
    load_spec: &Bound<'_, PyAny>,
) -> PyResult<String> {
    let at = |file: RunFile| format!("{run_dir}{}", file.relative());
    let record = RunRecord::parse(run).map_err(|e| record_error(&at(RunFile::Record), e))?;
    let spec_of = |version: &str, data: &[u8]| {
        FlowSpec::parse(data).map_err(|e| record_error(&format!("the spec of {version}"), e))
    };
    let mut specs = vec![spec_of(&record.version, spec)?];
    let states = op_files
        .into_iter()
        .map(|(name, data)| {
            let state = OpState::parse(&data)
                .map_err(|e| record_error(&at(RunFile::OpState(name.clone())), e))?;
            Ok((name, state))
        })
        .collect::<PyResult<Vec<_>>>()?;
    for version in versions_ran(&record, states.iter().map(|(_, s)| s)) {
        let data: Option<Vec<u8>> = load_spec.call1((version.as_str(),))?.extract()?;
        if let Some(data) = data {
            specs.push(spec_of(&version, &data)?);
        }
    }
    let airflow = airflow
        .map(|data| AirflowRun::parse(data).map_err(|e| record_error(&at(RunFile::Airflow), e)))
        .transpose()?;
    let specs: Vec<&FlowSpec> = specs.iter().collect();
    let merged = merge_run(record, &specs, states, airflow.as_ref());
    serde_json::to_string(&merged)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// What changed from version `a` to version `b` (specs as JSON), as JSON: the one structural
/// diff the web UI shows too (`slipstream_core::records::VersionDiff`).
#[pyfunction]
pub fn version_diff(a: &[u8], b: &[u8]) -> PyResult<String> {
    let (a, b) = (
        FlowSpec::parse(a).map_err(|e| record_error("a flow spec", e))?,
        FlowSpec::parse(b).map_err(|e| record_error("a flow spec", e))?,
    );
    serde_json::to_string(&VersionDiff::of(&a, &b))
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
}

/// The record kind stored at `path` (`spec`, `run`, …, `manifest`), or None for anything
/// that is not a record (`slipstream_core::records::record_kind`).
#[pyfunction]
pub fn record_kind(path: &str) -> Option<&'static str> {
    slipstream_core::records::record_kind(path)
}

/// The first release that reads format `format` of `kind`, or None for a format newer than
/// this build knows (`slipstream_core::records::first_reader`).
#[pyfunction]
pub fn first_reader(kind: &str, format: u32) -> Option<&'static str> {
    slipstream_core::records::first_reader(kind, format)
}

/// Every record of `store` by kind and format (`slipstream_store::survey`): `([(kind,
/// format, count)], [(path, why)])`, the latter for records whose format cannot be read.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn survey_formats(
    py: Python<'_>,
    store: &crate::store::PyStore,
) -> PyResult<(Vec<(&'static str, u32, u64)>, Vec<(String, String)>)> {
    let backend = store.backend(py)?;
    let found = crate::runtime::wait(py, async move {
        slipstream_store::survey::survey(backend).await
    })?
    .map_err(|e| crate::errors::store_error("the store's records", e))?;
    let counts = found
        .formats
        .into_iter()
        .map(|((kind, format), n)| (kind, format, n))
        .collect();
    Ok((counts, found.unreadable))
}
