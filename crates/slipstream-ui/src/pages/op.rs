//! `/flows/<flow>/runs/<run>/ops/<op>`: one op in one run — its code as it was in that
//! run's version, its logs and stack trace per try, its outputs with previews, and its
//! metric history or check result.

use maud::{Markup, html};
use slipstream_core::records::{OpSpec, Preview, TryRecord, TryStatus};

use super::{flow_url, kind_name, op_url, output_url, preview, run_url, shell, short_time};
use crate::chart;
use crate::index::Run;

/// One output of the op: its name, and its manifest and preview if it was stored.
pub struct Output {
    pub name: String,
    pub manifest: Option<slipstream_core::Manifest>,
    pub preview: Option<Preview>,
}

pub struct OpPage<'a> {
    pub flow: &'a str,
    pub run: &'a Run,
    pub op: &'a OpSpec,
    /// The records of every try, first to last (a try whose record is missing is `None`).
    pub tries: Vec<Option<TryRecord>>,
    /// The try shown (1-based).
    pub shown: usize,
    pub outputs: Vec<Output>,
    /// (run id, value), oldest first; metrics only.
    pub history: Option<Vec<(String, f64)>>,
    /// The version whose code the shown try ran, and that code.
    pub code: (String, String),
}

pub fn render(p: &OpPage<'_>) -> Markup {
    let id = p.run.id();
    let op = p.op;
    let name = op.name.as_str();
    let state = p.run.op_state(name);
    let crumbs = [
        (p.flow.to_owned(), flow_url(p.flow)),
        (id.to_owned(), run_url(p.flow, id)),
        (name.to_owned(), op_url(p.flow, id, name)),
    ];
    let record = p
        .tries
        .get(p.shown.wrapping_sub(1))
        .and_then(Option::as_ref);
    let function = &op.function;
    shell::page(
        &format!("{name} in {id}"),
        &crumbs,
        html! {
            h1 { (kind_name(op.kind)) " " (name) " " (shell::badge(state.map_or("pending", |s| s.status.as_str()))) }
            @if !op.description.is_empty() { p { (op.description) } }
            dl.facts {
                dt { "Function" } dd { code { (function.module) "." (function.qualname) } }
                dt { "Defined at" } dd { code #defined-at { (op.function.file) ":" (op.function.line) } }
                dt { "Called at" } dd { code #called-at { (op.defined_at) } }
                dt { "Prefix" } dd { code { (op.prefix) } }
                dt { "Tries" } dd { (state.map_or(0, |s| s.tries)) " of " (op.retries + 1) " allowed" }
                @if let Some(at) = state.and_then(|s| s.cached_from.as_ref()) {
                    dt { "Cached" } dd #cached { "did not run: its outputs are those of run "
                        a href=(run_url(p.flow, &at.run_id)) { (at.run_id) } " (same code, inputs and arguments)" }
                }
                @if let Some(blocked) = state.map(|s| &s.blocked_by).filter(|b| !b.is_empty()) {
                    dt { "Blocked by" } dd { @for b in blocked { a href=(op_url(p.flow, id, b)) { (b) } " " } }
                }
            }
            @if let Some(check) = state.and_then(|s| s.check.as_ref()) {
                h2 { "Check" }
                p #check {
                    @if check.passed { (shell::badge("success")) " passed" }
                    @else { (shell::badge("failed")) " failed" }
                    " — " (check.failed) " of " (check.total)
                    " values false, severity " (check.severity.as_str())
                }
            }
            @if let Some(history) = &p.history {
                h2 { "Metric history" }
                div #metric-history { (chart::render(history, id)) }
            }
            h2 { "Tries" }
            @if p.tries.is_empty() {
                p.muted { "This op has not run in this run." }
            } @else {
                p.tabs {
                    @for n in 1..=p.tries.len() {
                        a class=(if n == p.shown { "current" } else { "" }) href={(op_url(p.flow, id, name)) "?try=" (n)} { "try " (n) }
                    }
                }
                @if let Some(r) = record { (try_section(r, &p.run.record.version)) }
                @else { p.error { "The record of try " (p.shown) " is missing from the store." } }
            }
            h2 { "Outputs" }
            @for out in &p.outputs {
                div.preview id={"output-" (out.name)} {
                    h3 { (out.name) }
                    @match (&out.manifest, &out.preview) {
                        (None, _) => p.muted { "Not stored in this run." },
                        (Some(m), preview) => {
                            p.muted { (format!("{:?}", m.type_tag).to_lowercase()) " · " (m.flavor) " · " (m.bytes) " bytes · try " (m.try_number) }
                            @if let Some(pv) = preview { (preview::render(pv, &output_url(p.flow, id, name, &out.name))) }
                            @else { p.muted { "No preview was stored with this output." } }
                        }
                    }
                }
            }
            h2 { "Code" }
            p.muted #code-version { "As published in version " code { (p.code.0) }
                @if p.code.0 != p.run.record.version { " (the run started with " code { (p.run.record.version) } ")" } }
            pre.code { (p.code.1) }
        },
    )
}

fn try_section(r: &TryRecord, run_version: &str) -> Markup {
    let logs = format!("{}{}", r.stdout, r.stderr);
    let status = match r.status {
        TryStatus::Success => "success",
        TryStatus::Failed => "failed",
    };
    html! {
        dl.facts {
            dt { "Status" } dd { (shell::badge(status)) }
            dt { "Started" } dd { (short_time(&r.started_at)) }
            dt { "Duration" } dd { (shell::duration(r.duration_seconds)) }
            dt { "Host" } dd { (r.host) " pid " (r.pid) }
            @if let Some(v) = r.version.as_deref().filter(|v| *v != run_version) {
                dt { "Version" } dd { code { (v) } " (cleared and run again after a recompile)" }
            }
        }
        @if let Some(error) = &r.error {
            h3 { "Error" }
            p.error #error { (error.type_name) ": " (error.message) " (while " (error.phase) ")" }
            pre.trace #trace { (error.traceback) }
        }
        h3 { "Logs" }
        @if logs.is_empty() { p.muted { "Nothing printed." } } @else { pre #logs { (logs) } }
    }
}
