//! Every Rust error that reaches Python is mapped here, onto the hierarchy defined in
//! `slipstream.errors` (typed handles, no look-up by name), keeping the exception class
//! meaningful (`ArtifactNotFound` is a `FileNotFoundError`, …) and naming the key and what
//! to do in every message.

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use slipstream_core::CoreError;
use slipstream_store::StoreError;

pyo3::import_exception!(slipstream.errors, AmbiguousName);
pyo3::import_exception!(slipstream.errors, ArtifactExpired);
pyo3::import_exception!(slipstream.errors, ArtifactNotFound);
pyo3::import_exception!(slipstream.errors, CorruptArtifact);
pyo3::import_exception!(slipstream.errors, NewerFormat);
pyo3::import_exception!(slipstream.errors, PickleNotAllowed);
pyo3::import_exception!(slipstream.errors, SlipstreamError);
pyo3::import_exception!(slipstream.errors, StorageError);
pyo3::import_exception!(slipstream.errors, UnsupportedType);

/// A store failure while working on `key` (an artifact key or a path, for the message).
pub fn store_error(key: &str, err: StoreError) -> PyErr {
    match err {
        StoreError::NotFound { path } => ArtifactNotFound::new_err(format!(
            "no artifact at {key} (looked for {path}): the op has not written this output \
             for this run id yet, or it failed; check the op's task record and the run id"
        )),
        StoreError::Expired { .. } => ArtifactExpired::new_err(format!(
            "{err}; re-run the op that produces it to write it again"
        )),
        StoreError::Corrupt { key, reason } => CorruptArtifact::new_err(format!(
            "artifact {key} is corrupt: {reason}; run the op that produces it again to rewrite \
             it (a local run whose op reads it through the cache does that by itself; else \
             run with cache=False, or clear that task in Airflow)"
        )),
        StoreError::InvalidUrl { .. }
        | StoreError::InvalidPath { .. }
        | StoreError::Invalid { .. } => StorageError::new_err(err.to_string()),
        StoreError::Io { .. } | StoreError::S3 { .. } | StoreError::Interrupted { .. } => {
            StorageError::new_err(format!("while accessing {key}: {err}"))
        }
    }
}

/// Runs `work`, turning a panic in it (a bug of slipstream's or of a library it calls) into a
/// `SlipstreamError` naming what was being done, instead of pyo3's `PanicException`, a
/// `BaseException` that `except Exception` does not catch and that ends a script.
pub fn guarded<T>(what: &str, work: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(done) => done,
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            Err(SlipstreamError::new_err(format!(
                "{what} failed inside slipstream ({text}). This is a bug: please report it \
                 with the type of the value"
            )))
        }
    }
}

/// An invalid key part: a `ValueError` naming the part and the rule it breaks.
pub fn key_error(err: CoreError) -> PyErr {
    PyValueError::new_err(err.to_string())
}

/// A record at `path` that cannot be read as its kind, or was written by a newer slipstream.
pub fn record_error(path: &str, err: CoreError) -> PyErr {
    match err {
        CoreError::NewerFormat { .. } => NewerFormat::new_err(format!("{path}: {err}")),
        other => CorruptArtifact::new_err(format!(
            "{path} cannot be read: {other}; it was not written by slipstream, or was damaged"
        )),
    }
}

/// A record the SDK is about to write that does not have its kind's shape: a bug, never
/// written, so that no reader meets it.
pub fn invalid_record(path: &str, err: CoreError) -> PyErr {
    PyValueError::new_err(format!("refusing to write {path}: {err}"))
}

/// A codec failure on the Python side: the value or payload is not what the codec takes.
pub fn codec_error(e: slipstream_codec::CodecError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// An `OSError` of the right subclass (`PermissionError`, `FileNotFoundError`…) naming `path`.
pub fn file_error(path: &std::path::Path, source: std::io::Error) -> PyErr {
    let filename = path.display().to_string();
    match source.raw_os_error() {
        Some(errno) => PyOSError::new_err((errno, source.to_string(), filename)),
        None => PyOSError::new_err(format!("cannot write {filename}: {source}")),
    }
}

/// The last OS error, after `what` failed.
pub fn os_error(what: &str) -> PyErr {
    PyOSError::new_err(format!("{what}: {}", std::io::Error::last_os_error()))
}
