//! Maps the Rust errors onto the Python hierarchy defined in `slipstream.errors`, keeping
//! the exception class meaningful (`ArtifactNotFound` is a `FileNotFoundError`, …) and
//! naming the key and what to do in every message.

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use slipstream_store::StoreError;

/// Builds `slipstream.errors.<class>(message)`.
pub fn error(py: Python<'_>, class: &str, message: String) -> PyErr {
    let built = py
        .import("slipstream.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call1(PyTuple::new(py, [message])?));
    match built {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// A store failure while working on `key` (an artifact key or a path, for the message).
pub fn store_error(py: Python<'_>, key: &str, err: StoreError) -> PyErr {
    match err {
        StoreError::NotFound { path } => error(
            py,
            "ArtifactNotFound",
            format!(
                "no artifact at {key} (looked for {path}): the op has not written this output \
                 for this run id yet, or it failed; check the op's task record and the run id"
            ),
        ),
        StoreError::Corrupt { key, reason } => error(
            py,
            "CorruptArtifact",
            format!(
                "artifact {key} is corrupt: {reason}; re-run the op that produces it to rewrite it"
            ),
        ),
        StoreError::InvalidUrl { .. } | StoreError::InvalidPath { .. } | StoreError::Key { .. } => {
            error(py, "StorageError", err.to_string())
        }
        StoreError::Io { .. } | StoreError::S3 { .. } => {
            error(py, "StorageError", format!("while accessing {key}: {err}"))
        }
    }
}

/// An invalid key part: a `ValueError` naming the part and the rule it breaks.
pub fn key_error(err: slipstream_core::CoreError) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(err.to_string())
}
