use thiserror::Error;

/// Errors of the object stores. Each names the store URL or the path it concerns.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("no object at {path}")]
    NotFound { path: String },

    #[error("invalid store URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error(
        "invalid object path {path:?}: paths are relative and have no empty, '.' or '..' parts"
    )]
    InvalidPath { path: String },

    #[error("{op} {path} in {root}: {source}")]
    Io {
        op: &'static str,
        path: String,
        root: String,
        #[source]
        source: std::io::Error,
    },

    #[error("S3 {op} {path} in {url} failed: {message}{hint}")]
    S3 {
        op: &'static str,
        path: String,
        url: String,
        message: String,
        /// What the user can do about it, when we can tell.
        hint: String,
    },

    /// A value the store was handed cannot be used (a record's run id, a time).
    #[error("{reason}")]
    Invalid { reason: String },

    #[error("the write was interrupted: {reason}")]
    Interrupted { reason: String },

    #[error("artifact {key}: {reason}")]
    Corrupt { key: String, reason: String },

    #[error(
        "artifact {key} expired: its payload was deleted by retention on {at} ({reason}); \
         its manifest and records are kept"
    )]
    Expired {
        key: String,
        at: String,
        reason: String,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
