//! Server-rendered pages: flows → runs → a run → an op.

pub mod airflow;
pub mod checks;
pub mod compare;
pub mod flows;
pub mod live;
pub mod op;
pub mod preview;
pub mod run;
pub mod runs;
pub mod shell;
pub mod version;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use slipstream_core::records::{OpKind, OpState, OpStatus, Severity};

pub use crate::time::seconds_between;

/// Bytes left as they are in a path segment; everything else (`/` `%` `:` `+` …) is escaped
/// so that any run id is one segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

pub fn flow_url(flow: &str) -> String {
    format!("/flows/{}", seg(flow))
}

pub fn run_url(flow: &str, run: &str) -> String {
    format!("{}/runs/{}", flow_url(flow), seg(run))
}

pub fn op_url(flow: &str, run: &str, op: &str) -> String {
    format!("{}/ops/{}", run_url(flow, run), seg(op))
}

pub fn version_url(flow: &str, version: &str) -> String {
    format!("{}/versions/{}", flow_url(flow), seg(version))
}

/// The structural diff between two versions.
pub fn diff_url(flow: &str, a: &str, b: &str) -> String {
    format!("{}/diff?a={}&b={}", flow_url(flow), query(a), query(b))
}

pub fn compare_url(flow: &str) -> String {
    format!("{}/compare", flow_url(flow))
}

/// A check's verdicts across runs.
pub fn check_history_url(flow: &str, check: &str) -> String {
    format!("{}/checks/{}", flow_url(flow), seg(check))
}

/// The op states of a run that is not over, as JSON for the page to refresh itself.
pub fn live_url(flow: &str, run: &str) -> String {
    format!("{}/live", run_url(flow, run))
}

/// `s` escaped to be a query string value.
pub fn query(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

pub fn output_url(flow: &str, run: &str, op: &str, output: &str) -> String {
    format!("{}/outputs/{}", op_url(flow, run, op), seg(output))
}

/// An op kind as the pages name it.
pub fn kind_name(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Op => "op",
        OpKind::Metric => "metric",
        OpKind::Check => "check",
        OpKind::Upstream => "upstream",
    }
}

/// An op's status as the pages show it: `warning` for a check that failed with severity
/// warning (it succeeded as a task, and the run went on), else the recorded status.
pub fn op_status(state: Option<&OpState>) -> &str {
    let Some(state) = state else {
        return "pending";
    };
    match &state.check {
        Some(c)
            if !c.passed
                && c.severity == Severity::Warning
                && state.status == OpStatus::Success =>
        {
            "warning"
        }
        _ => state.status.as_str(),
    }
}

/// A timestamp shortened for tables: `2026-11-24 10:31:07`.
pub fn short_time(ts: &str) -> String {
    ts.get(..19).unwrap_or(ts).replace('T', " ")
}
