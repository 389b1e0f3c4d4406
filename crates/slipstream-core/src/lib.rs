//! Domain types of slipstream, shared by the stores, the codecs and the Python binding.
//!
//! Nothing here does I/O: this crate defines *where* things live (the key layout), *what*
//! is recorded about them (the manifest) and how integrity is checked (checksums).

mod checksum;
mod error;
mod key;
mod manifest;

pub use checksum::Checksum;
pub use error::{CoreError, Result};
pub use key::{ArtifactKey, OpPrefix, OutputName, RunId, TryNumber, record_path, run_dir};
pub use manifest::{ImageInfo, Manifest, PickleInfo, TypeTag, MANIFEST_FORMAT};
