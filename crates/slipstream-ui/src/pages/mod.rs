//! Server-rendered pages: flows → runs → a run → an op.

pub mod flows;
pub mod op;
pub mod preview;
pub mod run;
pub mod runs;
pub mod shell;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use slipstream_core::records::OpKind;

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

pub fn output_url(flow: &str, run: &str, op: &str, output: &str) -> String {
    format!("{}/outputs/{}", op_url(flow, run, op), seg(output))
}

/// An op kind as the pages name it.
pub fn kind_name(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Op => "op",
        OpKind::Metric => "metric",
        OpKind::Check => "check",
    }
}

/// A timestamp shortened for tables: `2026-11-24 10:31:07`.
pub fn short_time(ts: &str) -> String {
    ts.get(..19).unwrap_or(ts).replace('T', " ")
}
