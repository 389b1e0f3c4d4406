//! `/flows/<flow>/runs/<run>/ops/<op>`: one op in one run — its code as it was in that
//! run's version, its logs and stack trace per try, its outputs with previews, and its
//! metric history or check result.

use maud::{Markup, html};
use slipstream_core::records::{OpSpec, Phases, TryRecord, TryStatus};

use super::{
    airflow, check_history_url, flow_url, kind_name, op_status, op_url, output_url, preview,
    run_url, shell, short_time, version_url,
};
use crate::chart;
use crate::index::{Output, Run};

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
    /// Airflow's base URL, for runs Airflow ran.
    pub airflow: Option<&'a str>,
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
            h1 { (kind_name(op.kind)) " " (name) " " (shell::badge(op_status(state))) }
            @if !op.description.is_empty() { p { (op.description) } }
            dl.facts {
                dt { "Function" } dd { code { (function.module) "." (function.qualname) } }
                dt { "Defined at" } dd { code #defined-at { (op.function.file) ":" (op.function.line) } }
                dt { "Called at" } dd { code #called-at { (op.defined_at) } }
                dt { "Prefix" } dd { code { (op.prefix) } }
                dt { "Tries" } dd { (state.map_or(0, |s| s.tries)) " of " (op.retries + 1) " allowed" }
                @if let Some(source) = &op.source {
                    dt { "Reads" } dd #source { "output " code { (source.output) } " of op " code { (source.op) }
                        " of flow " a href=(flow_url(&source.flow)) { (source.flow) }
                        " (Airflow Asset " code { (source.asset_uri()) } ")" }
                }
                @if let (Some(at), Some(flow)) = (state.and_then(|s| s.cached_from.as_ref()), op.source.as_ref().map(|s| &s.flow)) {
                    dt { "Read" } dd #upstream-run { "the artifact of run "
                        a href=(run_url(flow, &at.run_id)) { (at.run_id) } " of flow " (flow) }
                } @else if let Some(at) = state.and_then(|s| s.cached_from.as_ref()) {
                    dt { "Cached" } dd #cached { "did not run: its outputs are those of run "
                        a href=(run_url(p.flow, &at.run_id)) { (at.run_id) } " (same code, inputs and arguments)" }
                }
                @if let Some(blocked) = state.map(|s| &s.blocked_by).filter(|b| !b.is_empty()) {
                    dt { "Blocked by" } dd { @for b in blocked { a href=(op_url(p.flow, id, b)) { (b) } " " } }
                }
                @if let Some(base) = p.airflow.filter(|_| p.run.record.trigger == "airflow") {
                    dt { "Airflow" } dd {
                        a #airflow-task href=(airflow::task(base, p.flow, id, name)) { "task instance" } " · "
                        a #airflow-log href=(airflow::log(base, p.flow, id, name, p.shown as u32)) { "its log (try " (p.shown) ")" }
                    }
                }
            }
            @if let Some(check) = state.and_then(|s| s.check.as_ref()) {
                h2 { "Check" }
                p #check {
                    (super::checks::badge(check))
                    " " (check.failed) " of " (check.total)
                    " values false (severity " (check.severity.as_str()) "). "
                    a href=(check_history_url(p.flow, name)) { "its verdicts across runs" }
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
                @if let Some(r) = record { (try_section(p.flow, r, &p.run.record.version)) }
                @else { p.error { "The record of try " (p.shown) " is missing from the store." } }
            }
            h2 { "Outputs" }
            @for out in &p.outputs {
                div.preview id={"output-" (out.name)} {
                    h3 { (out.name) }
                    @match (&out.manifest, &out.preview) {
                        (None, _) => p.muted { "Not stored in this run." },
                        (Some(m), preview) => {
                            p.muted { (format!("{:?}", m.type_tag).to_lowercase()) " · " (m.flavor) " · " (m.bytes) " bytes · try " (m.try_number)
                                " · " a.download href=(output_url(p.flow, id, name, &out.name)) { "download " (m.codec) } }
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

fn try_section(flow: &str, r: &TryRecord, run_version: &str) -> Markup {
    let logs = format!("{}{}", r.stdout, r.stderr);
    let status = match r.status {
        TryStatus::Success => "success",
        TryStatus::Failed => "failed",
    };
    html! {
        dl.facts {
            dt { "Status" } dd { (shell::badge(status)) }
            dt { "Started" } dd { (short_time(&r.started_at)) }
            dt { "Duration" } dd #duration { (shell::duration(r.duration_seconds))
                @if let Some(phases) = &r.phases { " — " (phases_text(phases)) } }
            dt { "Host" } dd { (r.host) " pid " (r.pid) }
            @if let Some(v) = r.version.as_deref().filter(|v| *v != run_version) {
                dt { "Version" } dd { a href=(version_url(flow, v)) { code { (v) } } " (cleared and run again after a recompile)" }
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

/// Where a try's time went, e.g. `inputs 12 ms · function 1.2 s · outputs 40 ms`.
fn phases_text(p: &Phases) -> String {
    format!(
        "reading inputs {} · function {} · storing outputs {}",
        shell::duration(p.inputs),
        shell::duration(p.call),
        shell::duration(p.outputs)
    )
}
