//! `/flows/<flow>/runs/<run>`: one run, drawn with the structure of the version it ran.

use maud::{Markup, html};
use slipstream_core::records::OpState;

use super::{flow_url, op_url, run_url, seconds_between, shell, short_time};
use crate::dag_svg;
use crate::index::Run;

pub fn render(flow: &str, run: &Run, airflow: Option<&str>) -> Markup {
    let id = run.id();
    let record = &run.record;
    let crumbs = [
        (flow.to_owned(), flow_url(flow)),
        (id.to_owned(), run_url(flow, id)),
    ];
    let nodes = dag_svg::nodes(run.ops(), &record.ops, |op| op_url(flow, id, op));
    let ended = record.ended_at.as_deref().unwrap_or("");
    shell::page(
        &format!("{flow} {id}"),
        &crumbs,
        html! {
            h1 { "Run " (id) " " (shell::badge(record.status.as_str())) }
            dl.facts {
                dt { "Flow" } dd { a href=(flow_url(flow)) { (flow) } }
                dt { "Version" } dd { code #version { (record.version) } " published "
                    (short_time(run.spec.published_at.as_deref().unwrap_or(""))) }
                dt { "Trigger" } dd { (record.trigger) }
                dt { "Started" } dd { (short_time(&record.started_at)) }
                dt { "Ended" } dd { (short_time(ended)) }
                @if let Some(s) = seconds_between(&record.started_at, ended) {
                    dt { "Duration" } dd { (shell::duration(s)) }
                }
                @if let Some(base) = airflow {
                    dt { "Airflow" } dd { a href={(base.trim_end_matches('/')) "/dags/" (super::seg(flow)) "/runs/" (super::seg(id))} { "this run in Airflow" } }
                }
            }
            @if !record.params.is_empty() {
                h2 { "Params" }
                table #params { tbody { @for (k, v) in &record.params { tr { th { (k) } td { code { (v.get()) } } } } } }
            }
            h2 { "Ops" }
            div.dag { (dag_svg::render(&nodes)) }
            table #ops {
                thead { tr { th { "Op" } th { "Kind" } th { "Status" } th { "Tries" } th { "Duration" } th { "Result" } } }
                tbody {
                    @for op in run.ops() {
                        @let state = run.op_state(&op.name);
                        tr {
                            td { a href=(op_url(flow, id, &op.name)) { (op.name) } }
                            td { (super::kind_name(op.kind)) }
                            td {
                                (shell::badge(state.map_or("pending", |s| s.status.as_str())))
                                @if let Some(v) = state.and_then(|s| s.version.as_deref()).filter(|v| *v != record.version) {
                                    " " span.muted.version title="the version its last try ran" { "ran " code { (v) } }
                                }
                            }
                            td.num { (state.map_or(0, |s| s.tries)) }
                            td.num {
                                @if let Some(s) = state.and_then(|s| seconds_between(s.started_at.as_deref()?, s.ended_at.as_deref()?)) {
                                    (shell::duration(s))
                                }
                            }
                            td { @if let Some(state) = state { (result(state)) } }
                        }
                    }
                }
            }
        },
    )
}

/// What an op's row says beyond its status: its error, metric value or check verdict.
fn result(state: &OpState) -> Markup {
    html! {
        @if let Some(error) = &state.error {
            span.error { (error.type_name) ": " (error.message) }
        } @else if let Some(metric) = &state.metric {
            code { (metric.get()) }
        } @else if let Some(check) = &state.check {
            (if check.passed { "passed" } else { "failed" }) " ("
            (check.failed) " of " (check.total) " false)"
        } @else if let Some(at) = &state.cached_from {
            span.muted.cached { "cached from " (at.run_id) }
        } @else if !state.blocked_by.is_empty() {
            span.muted { "blocked by " (state.blocked_by.join(", ")) }
        }
    }
}
