//! `slipstream.ArtifactKey`: the address of one output of one op in one run.

use pyo3::prelude::*;
use slipstream_core::ArtifactKey;

use crate::errors::key_error;

/// The address of one output of one op in one run; validated and escaped on construction.
#[pyclass(name = "ArtifactKey", module = "slipstream", frozen, eq, hash)]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PyArtifactKey(pub ArtifactKey);

#[pymethods]
impl PyArtifactKey {
    #[new]
    #[pyo3(signature = (op_prefix, run_id, output = "out"))]
    fn new(op_prefix: &str, run_id: &str, output: &str) -> PyResult<Self> {
        ArtifactKey::new(op_prefix, run_id, output)
            .map(Self)
            .map_err(key_error)
    }

    #[getter]
    fn op_prefix(&self) -> &str {
        self.0.op_prefix.as_str()
    }

    #[getter]
    fn run_id(&self) -> &str {
        self.0.run_id.as_str()
    }

    #[getter]
    fn output(&self) -> &str {
        self.0.output.as_str()
    }

    /// Path of the manifest relative to the store root.
    #[getter]
    fn manifest_path(&self) -> String {
        self.0.manifest_path()
    }

    /// Path of the preview written with the artifact, relative to the store root.
    #[getter]
    fn preview_path(&self) -> String {
        self.0.preview_path()
    }

    /// Path of everything the op wrote in this run, relative to the store root.
    #[getter]
    fn run_dir(&self) -> String {
        self.0.run_dir()
    }

    /// Path of the marker retention writes when it deletes this op's payloads in this run.
    #[getter]
    fn expiry_path(&self) -> String {
        self.0.expiry_path()
    }

    fn __repr__(&self) -> String {
        format!(
            "ArtifactKey(op_prefix={:?}, run_id={:?}, output={:?})",
            self.0.op_prefix.as_str(),
            self.0.run_id.as_str(),
            self.0.output.as_str()
        )
    }
}
