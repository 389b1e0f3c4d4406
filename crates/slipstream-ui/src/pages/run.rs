//! `/flows/<flow>/runs/<run>`: one run, drawn with the structure of the version it ran. A run
//! that is not over refreshes its op states in place (`/static/live.js` polls
//! [`crate::pages::live`]) until it ends.

use maud::{Markup, html};
use slipstream_core::records::{OpState, RunRecord, Severity};

use super::{
    airflow, compare_url, flow_url, op_status, op_url, run_url, seconds_between, shell, short_time,
    version_url,
};
use crate::dag;
use crate::index::Run;

pub fn render(flow: &str, run: &Run, airflow_base: Option<&str>) -> Markup {
    let id = run.id();
    let record = &run.record;
    let crumbs = [
        (flow.to_owned(), flow_url(flow)),
        (id.to_owned(), run_url(flow, id)),
    ];
    let nodes = dag::nodes(run.ops(), &record.ops, |op| op_url(flow, id, op));
    let ended = record.ended_at.as_deref().unwrap_or("");
    let live = super::live::is_live(record.status);
    let in_airflow = airflow_base.filter(|_| record.trigger == "airflow");
    let body = html! {
        h1 { "Run " (id) " " span #run-status { (shell::badge(record.status.as_str())) } }
        dl.facts {
            dt { "Flow" } dd { a href=(flow_url(flow)) { (flow) } }
            dt { "Version" } dd { a #version href=(version_url(flow, &record.version)) { code { (record.version) } } " published "
                (short_time(run.spec.published_at.as_deref().unwrap_or(""))) }
            dt { "Trigger" } dd { (record.trigger) }
            dt { "Started" } dd { (short_time(&record.started_at)) }
            dt { "Ended" } dd #run-ended { (short_time(ended)) }
            @if let Some(s) = seconds_between(&record.started_at, ended) {
                dt { "Duration" } dd { (shell::duration(s)) }
            }
            @if let Some(base) = in_airflow {
                dt { "Airflow" } dd { a #airflow-run href=(airflow::run(base, flow, id)) { "this DAG run in Airflow" } }
            }
            dt { "Compare" } dd { a href={(compare_url(flow)) "?a=" (super::query(id))} { "with another run…" } }
        }
        @if live {
            p.muted #live { "This run is not over: its ops refresh every "
                (super::live::interval_ms(record.ops.len()) / 1000) " s." }
        }
        @if !record.params.is_empty() {
            h2 { "Params" }
            table #params { tbody { @for (k, v) in &record.params { tr { th { (k) } td { code { (v.get()) } } } } } }
        }
        h2 { "Ops" }
        div.dag { (dag::render(&nodes)) }
        table #ops {
            thead { tr {
                th { "Op" } th { "Kind" } th { "Status" } th { "Tries" } th { "Duration" } th { "Result" }
                @if in_airflow.is_some() { th { "Airflow" } }
            } }
            tbody {
                @for op in run.ops() {
                    @let state = run.op_state(&op.name);
                    tr data-op=(op.name) {
                        td { a href=(op_url(flow, id, &op.name)) { (op.name) } }
                        td { (super::kind_name(op.kind)) }
                        td.status {
                            (shell::badge(op_status(state)))
                            @if let Some(v) = state.and_then(|s| s.version.as_deref()).filter(|v| *v != record.version) {
                                " " span.muted.version title="the version its last try ran" { "ran " a href=(version_url(flow, v)) { code { (v) } } }
                            }
                        }
                        td.num.tries { (state.map_or(0, |s| s.tries)) }
                        td.num.duration {
                            @if let Some(s) = state.and_then(|s| seconds_between(s.started_at.as_deref()?, s.ended_at.as_deref()?)) {
                                (shell::duration(s))
                            }
                        }
                        td.result { @if let Some(state) = state { (result(state)) } }
                        @if let Some(base) = in_airflow {
                            td.airflow {
                                a href=(airflow::task(base, flow, id, &op.name)) { "task" } " · "
                                a href=(airflow::log(base, flow, id, &op.name, state.map_or(1, |s| s.tries.max(1)))) { "log" }
                            }
                        }
                    }
                }
            }
        }
    };
    if live {
        let every = super::live::interval_ms(record.ops.len());
        shell::live_page(
            &format!("{flow} {id}"),
            &crumbs,
            &super::live_url(flow, id),
            every,
            body,
        )
    } else {
        shell::page(&format!("{flow} {id}"), &crumbs, body)
    }
}

/// A run whose record reads but the spec of whose version, `version`, does not: what its
/// record says, and why the rest (its structure, its ops' pages) cannot be shown.
pub fn unreadable(flow: &str, record: &RunRecord, version: &str, reason: &str) -> Markup {
    let id = record.run_id.as_str();
    let crumbs = [
        (flow.to_owned(), flow_url(flow)),
        (id.to_owned(), run_url(flow, id)),
    ];
    let body = html! {
        h1 { "Run " (id) " " span #run-status { (shell::badge("unreadable")) } }
        p.error #unreadable { "unreadable: spec of version " (version) ": " (reason) }
        dl.facts {
            dt { "Flow" } dd { a href=(flow_url(flow)) { (flow) } }
            dt { "Version" } dd { a #version href=(version_url(flow, version)) { code { (version) } } }
            dt { "Recorded status" } dd { (shell::badge(record.status.as_str())) }
            dt { "Trigger" } dd { (record.trigger) }
            dt { "Started" } dd { (short_time(&record.started_at)) }
            dt { "Ended" } dd #run-ended { (short_time(record.ended_at.as_deref().unwrap_or(""))) }
        }
        @if !record.params.is_empty() {
            h2 { "Params" }
            table #params { tbody { @for (k, v) in &record.params { tr { th { (k) } td { code { (v.get()) } } } } } }
        }
        h2 { "Ops" }
        table #ops {
            thead { tr { th { "Op" } th { "Status" } th { "Tries" } th { "Result" } } }
            tbody {
                @for (name, state) in &record.ops {
                    tr data-op=(name) {
                        td { (name) }
                        td.status { (shell::badge(op_status(Some(state)))) }
                        td.num.tries { (state.tries) }
                        td.result { (result(state)) }
                    }
                }
            }
        }
    };
    shell::page(&format!("{flow} {id}"), &crumbs, body)
}

/// What an op's row says beyond its status: its error, metric value or check verdict.
pub fn result(state: &OpState) -> Markup {
    html! {
        @if let Some(error) = &state.error {
            span.error { (error.type_name) ": " (error.message) }
        } @else if let Some(metric) = &state.metric {
            code { (metric.get()) }
        } @else if let Some(check) = &state.check {
            (check_verdict(check.passed, check.severity)) " (" (check.failed) " of " (check.total) " false)"
        } @else if let Some(at) = &state.cached_from {
            @if let Some(flow) = &at.flow {
                span.upstream { "from " a href=(run_url(flow, &at.run_id)) { (flow) " run " (at.run_id) } }
            } @else {
                span.muted.cached { "cached from " (at.run_id) }
            }
        } @else if !state.blocked_by.is_empty() {
            span.muted { "blocked by " (state.blocked_by.join(", ")) }
        }
    }
}

/// A check's verdict in words: one per outcome, a failed warning saying the run went on.
pub fn check_verdict(passed: bool, severity: Severity) -> &'static str {
    match (passed, severity) {
        (true, _) => "passed",
        (false, Severity::Error) => "failed",
        (false, Severity::Warning) => "warning: failed, run continued",
    }
}
