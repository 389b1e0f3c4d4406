//! The slipstream web UI: server-rendered pages (axum + maud) over what a store holds —
//! flows, runs drawn with the structure of the version they ran, and every op's code, logs,
//! stack traces, output previews, metric history and check results.
//!
//! The UI reads only the store: run states from Airflow arrive there through
//! `slipstream sync`. It binds loopback by default; beyond loopback it requires a token.

mod chart;
pub mod code_diff;
pub mod compare;
mod dag;
mod error;
mod index;
mod pages;
mod server;
mod time;

pub use error::UiError;
pub use index::{Latest, Row, Unreadable, latest, list_runs, read_run, read_runs};
pub use server::{Config, check_frame_ancestors, is_loopback, router, serve};
