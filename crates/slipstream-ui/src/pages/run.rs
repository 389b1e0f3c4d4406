//! `/flows/<flow>/runs/<run>`: one run, drawn with the structure of the version it ran.

use maud::{Markup, html};
use serde_json::Value;

use super::{flow_url, op_url, run_url, seconds_between, shell, short_time};
use crate::dag_svg;
use crate::index::Run;

pub fn render(flow: &str, run: &Run, airflow: Option<&str>) -> Markup {
    let id = run.str("run_id");
    let crumbs = [
        (flow.to_owned(), flow_url(flow)),
        (id.to_owned(), run_url(flow, id)),
    ];
    let ops = run.ops();
    let nodes = dag_svg::nodes(&run.spec, ops, |op| op_url(flow, id, op));
    shell::page(
        &format!("{flow} {id}"),
        &crumbs,
        html! {
            h1 { "Run " (id) " " (shell::badge(run.str("status"))) }
            dl.facts {
                dt { "Flow" } dd { a href=(flow_url(flow)) { (flow) } }
                dt { "Version" } dd { code #version { (run.str("version")) } " published "
                    (short_time(run.spec["published_at"].as_str().unwrap_or(""))) }
                dt { "Trigger" } dd { (run.str("trigger")) }
                dt { "Started" } dd { (short_time(run.str("started_at"))) }
                dt { "Ended" } dd { (short_time(run.str("ended_at"))) }
                @if let Some(s) = seconds_between(run.str("started_at"), run.str("ended_at")) {
                    dt { "Duration" } dd { (shell::duration(s)) }
                }
                @if let Some(base) = airflow {
                    dt { "Airflow" } dd { a href={(base.trim_end_matches('/')) "/dags/" (super::seg(flow)) "/runs/" (super::seg(id))} { "this run in Airflow" } }
                }
            }
            @if let Some(params) = run.record["params"].as_object().filter(|p| !p.is_empty()) {
                h2 { "Params" }
                table #params { tbody { @for (k, v) in params { tr { th { (k) } td { code { (v) } } } } } }
            }
            h2 { "Ops" }
            div.dag { (dag_svg::render(&nodes)) }
            table #ops {
                thead { tr { th { "Op" } th { "Kind" } th { "Status" } th { "Tries" } th { "Duration" } th { "Result" } } }
                tbody {
                    @for op in run.spec["ops"].as_array().into_iter().flatten() {
                        @let name = op["name"].as_str().unwrap_or("");
                        @let state = ops.get(name).unwrap_or(&Value::Null);
                        tr {
                            td { a href=(op_url(flow, id, name)) { (name) } }
                            td { (op["kind"].as_str().unwrap_or("")) }
                            td { (shell::badge(state["status"].as_str().unwrap_or("pending"))) }
                            td.num { (state["tries"].as_u64().unwrap_or(0)) }
                            td.num {
                                @if let Some(s) = seconds_between(state["started_at"].as_str().unwrap_or(""), state["ended_at"].as_str().unwrap_or("")) {
                                    (shell::duration(s))
                                }
                            }
                            td { (result(state)) }
                        }
                    }
                }
            }
        },
    )
}

/// What an op's row says beyond its status: its error, metric value or check verdict.
fn result(state: &Value) -> Markup {
    html! {
        @if let Some(error) = state["error"].as_object() {
            span.error { (error.get("type").and_then(Value::as_str).unwrap_or("")) ": "
                (error.get("message").and_then(Value::as_str).unwrap_or("")) }
        } @else if !state["metric"].is_null() {
            code { (state["metric"]) }
        } @else if let Some(check) = state["check"].as_object() {
            @let passed = check.get("passed") == Some(&Value::Bool(true));
            (if passed { "passed" } else { "failed" }) " ("
            (check.get("failed").unwrap_or(&Value::Null)) " of " (check.get("total").unwrap_or(&Value::Null)) " false)"
        } @else if let Some(blocked) = state["blocked_by"].as_array() {
            span.muted { "blocked by " (blocked.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")) }
        }
    }
}
