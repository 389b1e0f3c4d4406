use thiserror::Error;

/// Errors raised while building keys or reading manifests and records.
#[derive(Debug, Error)]
pub enum CoreError {
    /// A key component (op prefix, run id, output name) cannot be used.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidKey {
        what: &'static str,
        value: String,
        reason: String,
    },
    /// A record file does not have the shape of its kind.
    #[error("{kind} is not valid: {source}")]
    Record {
        kind: &'static str,
        source: serde_json::Error,
    },
    /// A record file was written by a newer slipstream, in a format this one does not know.
    #[error(
        "this {kind} was written by a newer slipstream (format {found}); this slipstream reads \
         {kind}s up to format {known}: upgrade slipstream to read it"
    )]
    NewerFormat {
        kind: &'static str,
        found: u32,
        known: u32,
    },
    /// A record about to be written has fields its kind does not have (misspelled).
    #[error("this {kind} has fields that no {kind} has: {fields}")]
    UnknownFields { kind: &'static str, fields: String },
    /// A record about to be written says another format than the one this build writes.
    #[error("this {kind} says format {found}, but its content is written as format {current}")]
    NotCurrentFormat {
        kind: &'static str,
        found: u32,
        current: u32,
    },
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
