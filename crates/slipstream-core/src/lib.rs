//! Domain types of slipstream, shared by the stores, the codecs and the Python binding.
//!
//! Nothing here does I/O: this crate defines *where* things live (the key layout), *what*
//! is recorded about them (the manifest and the [`records`] of flows, runs and tries, with
//! the one merge of a run's files) and how integrity is checked (checksums).

mod checksum;
mod error;
mod flow_layout;
mod key;
mod manifest;
pub mod records;

pub use checksum::Checksum;
pub use error::{CoreError, Result};
pub use flow_layout::{
    FlowFile, FlowName, RunFile, VersionId, active_dir, active_marker_path, cache_entry_path,
    flow_run_airflow_path, flow_run_dir, flow_run_op_path, flow_run_path, index_dir,
    index_segment_path, runs_dir, version_spec_path, versions_dir,
};
pub use key::{ArtifactKey, OpPrefix, OutputName, RunId, TryNumber, record_path, run_dir};
pub use manifest::{ImageInfo, MANIFEST_FORMAT, Manifest, PickleInfo, TypeTag};
