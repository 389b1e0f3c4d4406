use thiserror::Error;

/// Errors raised while building keys or reading manifests.
#[derive(Debug, Error)]
pub enum CoreError {
    /// A key component (op prefix, run id, output name) cannot be used.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidKey {
        what: &'static str,
        value: String,
        reason: String,
    },
    /// A manifest could not be parsed.
    #[error("manifest is not valid: {0}")]
    Manifest(#[from] serde_json::Error),
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
