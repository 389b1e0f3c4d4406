//! `slipstream._native`: the Rust runtime of slipstream as a Python extension module.
//! Thin wrappers only; one concern per file.

mod capture;
mod codec;
mod download;
mod errors;
mod key;
mod layout;
mod records;
mod run_index;
mod runtime;
mod store;
mod ui;

use pyo3::prelude::*;

#[pymodule]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::capture::PyOutputCapture;
    #[pymodule_export]
    use crate::key::PyArtifactKey;
    #[pymodule_export]
    use crate::layout::{
        cache_entry_path, classify_flow_file, classify_run_file, flow_run_airflow_path,
        flow_run_dir, flow_run_op_path, flow_run_path, record_path, run_dir, runs_dir,
        version_spec_path, versions_dir,
    };
    #[pymodule_export]
    use crate::records::{
        check_write, first_reader, merge_run_files, read_record, record_format, record_kind,
        records_schema, survey_formats, version_diff,
    };
    #[pymodule_export]
    use crate::run_index::{
        index_active, index_compact, index_deleted, index_forget, index_mark_active, index_now,
        index_read, index_rebuild, index_record, index_segments, run_summary,
    };
    #[pymodule_export]
    use crate::store::PyStore;
    #[pymodule_export]
    use crate::ui::{PyUiServer, code_diff, compare_runs, list_runs, read_run, read_runs};

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add("FORMATS", crate::records::formats(m.py())?)
    }
}
