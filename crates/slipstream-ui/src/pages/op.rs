//! `/flows/<flow>/runs/<run>/ops/<op>`: one op in one run — its code as it was in that
//! run's version, its logs and stack trace per try, its outputs with previews, and its
//! metric history or check result.

use maud::{Markup, html};
use serde_json::Value;

use super::{flow_url, op_url, output_url, preview, run_url, shell, short_time};
use crate::chart;
use crate::index::Run;

/// One output of the op: its name, and its manifest and preview if it was stored.
pub struct Output {
    pub name: String,
    pub manifest: Option<slipstream_core::Manifest>,
    pub preview: Option<Value>,
}

pub struct OpPage<'a> {
    pub flow: &'a str,
    pub run: &'a Run,
    pub op: &'a Value,
    /// The records of every try, first to last (a try whose record is missing is `None`).
    pub tries: Vec<Option<Value>>,
    /// The try shown (1-based).
    pub shown: usize,
    pub outputs: Vec<Output>,
    /// (run id, value), oldest first; metrics only.
    pub history: Option<Vec<(String, f64)>>,
}

pub fn render(p: &OpPage<'_>) -> Markup {
    let id = p.run.str("run_id");
    let name = p.op["name"].as_str().unwrap_or("");
    let state = p.run.ops().get(name).cloned().unwrap_or(Value::Null);
    let crumbs = [
        (p.flow.to_owned(), flow_url(p.flow)),
        (id.to_owned(), run_url(p.flow, id)),
        (name.to_owned(), op_url(p.flow, id, name)),
    ];
    let record = p
        .tries
        .get(p.shown.wrapping_sub(1))
        .and_then(Option::as_ref);
    let function = &p.op["function"];
    shell::page(
        &format!("{name} in {id}"),
        &crumbs,
        html! {
            h1 { (p.op["kind"].as_str().unwrap_or("op")) " " (name) " " (shell::badge(state["status"].as_str().unwrap_or("pending"))) }
            @if let Some(d) = p.op["description"].as_str().filter(|d| !d.is_empty()) { p { (d) } }
            dl.facts {
                dt { "Function" } dd { code { (function["module"].as_str().unwrap_or("")) "." (function["qualname"].as_str().unwrap_or("")) } }
                dt { "Defined at" } dd { code { (p.op["defined_at"].as_str().unwrap_or("")) } }
                dt { "Prefix" } dd { code { (p.op["prefix"].as_str().unwrap_or("")) } }
                dt { "Tries" } dd { (state["tries"].as_u64().unwrap_or(0)) " of " (p.op["retries"].as_u64().unwrap_or(0) + 1) " allowed" }
                @if let Some(blocked) = state["blocked_by"].as_array() {
                    dt { "Blocked by" } dd { @for b in blocked.iter().filter_map(Value::as_str) { a href=(op_url(p.flow, id, b)) { (b) } " " } }
                }
            }
            @if let Some(check) = state["check"].as_object() {
                h2 { "Check" }
                p #check {
                    @if check.get("passed") == Some(&Value::Bool(true)) { (shell::badge("success")) " passed" }
                    @else { (shell::badge("failed")) " failed" }
                    " — " (check.get("failed").unwrap_or(&Value::Null)) " of " (check.get("total").unwrap_or(&Value::Null))
                    " values false, severity " (check.get("severity").and_then(Value::as_str).unwrap_or("error"))
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
                @if let Some(r) = record { (try_section(r)) }
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
            p.muted { "As published in version " code { (p.run.str("version")) } }
            pre.code { (function["source"].as_str().unwrap_or("")) }
        },
    )
}

fn try_section(r: &Value) -> Markup {
    let logs = format!(
        "{}{}",
        r["stdout"].as_str().unwrap_or(""),
        r["stderr"].as_str().unwrap_or("")
    );
    html! {
        dl.facts {
            dt { "Status" } dd { (shell::badge(r["status"].as_str().unwrap_or(""))) }
            dt { "Started" } dd { (short_time(r["started_at"].as_str().unwrap_or(""))) }
            dt { "Duration" } dd { (shell::duration(r["duration_seconds"].as_f64().unwrap_or(0.0))) }
            dt { "Host" } dd { (r["host"].as_str().unwrap_or("")) " pid " (r["pid"]) }
        }
        @if let Some(error) = r["error"].as_object() {
            h3 { "Error" }
            p.error #error { (error.get("type").and_then(Value::as_str).unwrap_or("")) ": " (error.get("message").and_then(Value::as_str).unwrap_or(""))
                " (while " (error.get("phase").and_then(Value::as_str).unwrap_or("")) ")" }
            pre.trace #trace { (error.get("traceback").and_then(Value::as_str).unwrap_or("")) }
        }
        h3 { "Logs" }
        @if logs.is_empty() { p.muted { "Nothing printed." } } @else { pre #logs { (logs) } }
    }
}
