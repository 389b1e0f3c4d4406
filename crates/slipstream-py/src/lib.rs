//! `slipstream._native`: the Rust runtime of slipstream as a Python extension module.
//! Thin wrappers only; one concern per file.

mod capture;
mod codec;
mod errors;
mod key;
mod runtime;
mod store;

use pyo3::prelude::*;

#[pymodule]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::capture::PyOutputCapture;
    #[pymodule_export]
    use crate::key::PyArtifactKey;
    #[pymodule_export]
    use crate::store::PyStore;

    /// Path of the record of one task attempt, relative to the store root.
    #[pyfunction]
    fn record_path(op_prefix: &str, run_id: &str, try_number: u32) -> PyResult<String> {
        let op = slipstream_core::OpPrefix::new(op_prefix).map_err(crate::errors::key_error)?;
        let run = slipstream_core::RunId::new(run_id).map_err(crate::errors::key_error)?;
        let attempt = slipstream_core::TryNumber::new(try_number).map_err(crate::errors::key_error)?;
        Ok(slipstream_core::record_path(&op, &run, attempt))
    }

    /// `ops/<op prefix>/<escaped run id>`: everything one op wrote in one run.
    #[pyfunction]
    fn run_dir(op_prefix: &str, run_id: &str) -> PyResult<String> {
        let op = slipstream_core::OpPrefix::new(op_prefix).map_err(crate::errors::key_error)?;
        let run = slipstream_core::RunId::new(run_id).map_err(crate::errors::key_error)?;
        Ok(slipstream_core::run_dir(&op, &run))
    }

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
