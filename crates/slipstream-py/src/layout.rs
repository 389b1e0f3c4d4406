//! Paths of the key layout, computed by `slipstream-core` so that Python and Rust readers
//! never disagree on where something lives.

use pyo3::prelude::*;
use slipstream_core::{FlowFile, FlowName, OpPrefix, RunFile, RunId, TryNumber, VersionId};

use crate::errors::key_error;

fn parse_flow(name: &str) -> PyResult<FlowName> {
    FlowName::new(name).map_err(key_error)
}

fn parse_run(id: &str) -> PyResult<RunId> {
    RunId::new(id).map_err(key_error)
}

fn parse_prefix(prefix: &str) -> PyResult<OpPrefix> {
    OpPrefix::new(prefix).map_err(key_error)
}

/// `ops/<op prefix>/<escaped run id>/try-<n>/record.json`: the record of one task attempt.
#[pyfunction]
pub fn record_path(op_prefix: &str, run_id: &str, try_number: u32) -> PyResult<String> {
    let attempt = TryNumber::new(try_number).map_err(key_error)?;
    Ok(slipstream_core::record_path(
        &parse_prefix(op_prefix)?,
        &parse_run(run_id)?,
        attempt,
    ))
}

/// `ops/<op prefix>/<escaped run id>`: everything one op wrote in one run.
#[pyfunction]
pub fn run_dir(op_prefix: &str, run_id: &str) -> PyResult<String> {
    Ok(slipstream_core::run_dir(
        &parse_prefix(op_prefix)?,
        &parse_run(run_id)?,
    ))
}

/// `flows/<flow>/versions`: every published version of a flow.
#[pyfunction]
pub fn versions_dir(flow: &str) -> PyResult<String> {
    Ok(slipstream_core::versions_dir(&parse_flow(flow)?))
}

/// `flows/<flow>/versions/<version>/spec.json`: a flow version's spec.
#[pyfunction]
pub fn version_spec_path(flow: &str, version: &str) -> PyResult<String> {
    let version = VersionId::new(version).map_err(key_error)?;
    Ok(slipstream_core::version_spec_path(
        &parse_flow(flow)?,
        &version,
    ))
}

/// `flows/<flow>/runs`: the record of every run of a flow.
#[pyfunction]
pub fn runs_dir(flow: &str) -> PyResult<String> {
    Ok(slipstream_core::runs_dir(&parse_flow(flow)?))
}

/// `flows/<flow>/runs/<escaped run id>/run.json`: the record of one run.
#[pyfunction]
pub fn flow_run_path(flow: &str, run_id: &str) -> PyResult<String> {
    Ok(slipstream_core::flow_run_path(
        &parse_flow(flow)?,
        &parse_run(run_id)?,
    ))
}

/// `flows/<flow>/runs/<escaped run id>/ops/<op>.json`: one op's state in one run.
#[pyfunction]
pub fn flow_run_op_path(flow: &str, run_id: &str, op: &str) -> PyResult<String> {
    slipstream_core::flow_run_op_path(&parse_flow(flow)?, &parse_run(run_id)?, op)
        .map_err(key_error)
}

/// `flows/<flow>/runs/<escaped run id>/`: every file of one run's record.
#[pyfunction]
pub fn flow_run_dir(flow: &str, run_id: &str) -> PyResult<String> {
    Ok(slipstream_core::flow_run_dir(
        &parse_flow(flow)?,
        &parse_run(run_id)?,
    ))
}

/// `flows/<flow>/runs/<escaped run id>/airflow.json`: Airflow's states of one run.
#[pyfunction]
pub fn flow_run_airflow_path(flow: &str, run_id: &str) -> PyResult<String> {
    Ok(slipstream_core::flow_run_airflow_path(
        &parse_flow(flow)?,
        &parse_run(run_id)?,
    ))
}

/// What a file of a run's folder is, from its path relative to the folder: `("run", None)`,
/// `("op_state", op name)`, `("airflow", None)`, or `None` for any other file.
#[pyfunction]
pub fn classify_run_file(relative: &str) -> Option<(&'static str, Option<String>)> {
    Some(match RunFile::classify(relative)? {
        RunFile::Record => ("run", None),
        RunFile::OpState(name) => ("op_state", Some(name)),
        RunFile::Airflow => ("airflow", None),
    })
}

/// What a path under `flows/` is: `("spec", flow, version)`, `("run", flow, run id)` (None
/// for a very long id, stored hashed: its `run.json` has it), or `None` for any other file.
#[pyfunction]
pub fn classify_flow_file(path: &str) -> Option<(&'static str, String, Option<String>)> {
    Some(match FlowFile::classify(path)? {
        FlowFile::Spec { flow, version } => ("spec", flow.to_owned(), Some(version.to_owned())),
        FlowFile::RunRecord {
            flow,
            escaped_run_id,
        } => ("run", flow.to_owned(), RunId::unescape(escaped_run_id)),
    })
}

/// `flows/<flow>/cache/<op>/<key>.json`: which run's outputs an op made from a cache key.
#[pyfunction]
pub fn cache_entry_path(flow: &str, op: &str, key: &str) -> PyResult<String> {
    slipstream_core::cache_entry_path(&parse_flow(flow)?, op, key).map_err(key_error)
}
