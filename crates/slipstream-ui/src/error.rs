//! What can go wrong while serving a page, and how each case is shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use slipstream_core::records::RunRecord;
use slipstream_store::StoreError;

use crate::pages::shell;

pub type Result<T> = std::result::Result<T, UiError>;

#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// A flow, run, op or output the store does not hold.
    #[error("{0}")]
    NotFound(String),
    /// A path component that no run id, flow or op name can be.
    #[error("{0}")]
    BadRequest(String),
    /// The start of an id that fits several runs or versions (the message lists them).
    #[error("{0}")]
    Ambiguous(String),
    /// A document the store holds but that cannot be read as what it should be.
    #[error("{what} at {path} cannot be read: {reason}")]
    Corrupt {
        what: &'static str,
        path: String,
        reason: String,
        /// Written by a newer slipstream, in a format this one does not know.
        newer: bool,
    },
    /// A run whose record reads but the spec of whose version does not: its page shows
    /// what its record says and why the rest cannot be shown; its other pages are errors.
    #[error("unreadable: spec of version {version}: {reason}")]
    SpecUnreadable {
        version: String,
        reason: String,
        record: Box<RunRecord>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let status = match &self {
            UiError::NotFound(_) => StatusCode::NOT_FOUND,
            UiError::Store(StoreError::NotFound { .. }) => StatusCode::NOT_FOUND,
            UiError::Store(StoreError::Expired { .. }) => StatusCode::GONE,
            UiError::BadRequest(_) | UiError::Ambiguous(_) => StatusCode::BAD_REQUEST,
            UiError::Corrupt { .. } | UiError::SpecUnreadable { .. } | UiError::Store(_) => {
                StatusCode::BAD_GATEWAY
            }
        };
        tracing::warn!(%status, error = %self, "page not served");
        let title = status.canonical_reason().unwrap_or("Error");
        let body = shell::page(
            title,
            &[],
            maud::html! {
                h1 { (title) }
                p.error { (self.to_string()) }
                p { a href="/" { "Back to the flows" } }
            },
        );
        (status, body).into_response()
    }
}
