//! `/flows/<flow>?page=N&status=…`: the runs of a flow, newest first, a page at a time,
//! filtered as the URL says, two of them to compare; and its published versions. A run or a
//! version that cannot be read has its row, which says why.

use std::sync::Arc;

use maud::{Markup, html};
use slipstream_core::records::{FlowSpec, RunSummary};

use super::{
    check_history_url, compare_url, flow_url, query, run_url, seconds_between, shell, short_time,
    version_url,
};
use crate::index::filter::RunFilter;
use crate::index::{Row, Unreadable, Versions};

/// Where a page of runs is among all of them (`first` and `last` count from 1).
pub struct Pages {
    pub page: usize,
    pub total: usize,
    pub first: usize,
    pub last: usize,
    pub has_older: bool,
}

const STATUSES: [&str; 5] = ["running", "success", "failed", "interrupted", "queued"];

pub fn render(
    flow: &str,
    runs: &[Row],
    pages: &Pages,
    all: &Versions,
    filter: &RunFilter,
) -> Markup {
    let crumbs = [(flow.to_owned(), flow_url(flow))];
    let versions = &all.specs;
    let checks: Vec<&str> = versions
        .first()
        .map(|v| {
            v.ops
                .iter()
                .filter(|o| o.kind == slipstream_core::records::OpKind::Check)
                .map(|o| o.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    shell::page(
        flow,
        &crumbs,
        html! {
            h1 { "Flow " (flow) }
            @if let Some(latest) = versions.first() {
                @let description = latest.description.as_deref().unwrap_or("");
                @if !description.is_empty() { p { (description) } }
            }
            h2 { "Runs" }
            (filters(flow, versions, filter))
            @if runs.is_empty() {
                p.muted #no-runs { @if pages.total == 0 && !filter.is_empty() { "No run matches this filter." } @else { "No runs yet." } }
            } @else {
                (navigation(flow, pages, filter))
                form #compare method="get" action=(compare_url(flow)) {
                    table #runs {
                        thead { tr {
                            th title="compare: pick run A and run B" { "A B" }
                            th { "Run" } th { "Status" } th { "Trigger" } th { "Started" }
                            th { "Duration" } th { "Version" } th { "Params" } th { "Why it failed" }
                        } }
                        tbody {
                            @for r in runs {
                                @match r {
                                    Row::Run(r) => (row(flow, r)),
                                    Row::Unreadable(u) => (unreadable(flow, u)),
                                }
                            }
                        }
                    }
                    button type="submit" { "compare A with B" }
                }
            }
            @if pages.total > runs.len() { (navigation(flow, pages, filter)) }
            @if !checks.is_empty() {
                h2 { "Checks" }
                p #checks { @for c in &checks { a href=(check_history_url(flow, c)) { (c) } " " } }
            }
            h2 { "Versions" }
            table #versions {
                thead { tr { th { "Version" } th { "Published" } th { "Ops" } } }
                tbody {
                    @for v in versions {
                        tr {
                            td { a href=(version_url(flow, &v.version)) { code { (v.version) } } }
                            td { (short_time(v.published_at.as_deref().unwrap_or(""))) }
                            td.num { (v.ops.len()) }
                        }
                    }
                    @for v in &all.unreadable {
                        tr.unreadable data-version=(v.version) {
                            td { a href=(version_url(flow, &v.version)) { code { (v.version) } } }
                            td colspan="2" { (shell::badge("unreadable")) " " span.error { (v.reason) } }
                        }
                    }
                }
            }
        },
    )
}

fn row(flow: &str, r: &RunSummary) -> Markup {
    let id = &r.run_id;
    html! {
        tr data-run=(id) {
            td.pick { input type="radio" name="a" value=(id) aria-label={"run A: " (id)}; input type="radio" name="b" value=(id) aria-label={"run B: " (id)}; }
            td { a href=(run_url(flow, id)) { (id) } }
            td { (shell::badge(r.status.as_str())) }
            td { (r.trigger) }
            td { (short_time(&r.started_at)) }
            td.num {
                @if let Some(s) = r.ended_at.as_deref().and_then(|e| seconds_between(&r.started_at, e)) {
                    (shell::duration(s))
                }
            }
            td { a href=(version_url(flow, &r.version)) { code { (r.version) } } }
            td.params { @for (k, v) in &r.params { code { (k) "=" (v.get()) } " " } }
            td.why {
                @for (check, verdict) in r.checks.iter().filter(|(_, c)| !c.passed) {
                    span class={"badge s-" (shell::severity_status(verdict.severity))} { (check) } " "
                }
                @for (op, error) in r.failed.iter().filter(|(op, _)| !r.checks.contains_key(*op)) {
                    span.failed-op { a href=(super::op_url(flow, id, op)) { (op) } @if let Some(e) = error { ": " span.error { (e.type_name) ": " (first_line(&e.message)) } } } " "
                }
            }
        }
    }
}

/// A run that cannot be read: its id, its start when known, and why (no pick: it cannot be
/// compared).
fn unreadable(flow: &str, u: &Unreadable) -> Markup {
    let id = &u.run_id;
    html! {
        tr.unreadable data-run=(id) {
            td.pick {}
            td { a href=(run_url(flow, id)) { (id) } }
            td { (shell::badge("unreadable")) }
            td {}
            td { (short_time(u.started_at.as_deref().unwrap_or(""))) }
            td.num {} td {} td.params {}
            td.why { span.error { (u.reason) } }
        }
    }
}

fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("");
    if line.chars().count() > 120 {
        format!("{}…", line.chars().take(119).collect::<String>())
    } else {
        line.to_owned()
    }
}

fn filters(flow: &str, versions: &[Arc<FlowSpec>], f: &RunFilter) -> Markup {
    html! {
        form.filters #filters method="get" action=(flow_url(flow)) {
            label { "status " select name="status" {
                option value="" { "any" }
                @for s in STATUSES { option value=(s) selected[f.status == s] { (s) } }
            } }
            label { "trigger " select name="trigger" {
                option value="" { "any" }
                @for t in ["local", "airflow"] { option value=(t) selected[f.trigger == t] { (t) } }
            } }
            label { "version " select name="version" {
                option value="" { "any" }
                @for v in versions { option value=(v.version) selected[f.version == v.version] { (v.version) } }
            } }
            label { "from " input type="date" name="from" value=(f.from); }
            label { "to " input type="date" name="to" value=(f.to); }
            button type="submit" { "filter" }
            @if !f.is_empty() { " " a href=(flow_url(flow)) { "clear" } }
        }
    }
}

/// The query of a page of this filter.
fn at(flow: &str, f: &RunFilter, page: usize) -> String {
    let mut url = format!("{}?page={page}", flow_url(flow));
    for (k, v) in [
        ("status", &f.status),
        ("trigger", &f.trigger),
        ("version", &f.version),
        ("from", &f.from),
        ("to", &f.to),
    ] {
        if !v.is_empty() {
            url.push_str(&format!("&{k}={}", query(v)));
        }
    }
    url
}

fn navigation(flow: &str, pages: &Pages, f: &RunFilter) -> Markup {
    html! {
        p.pages {
            @if pages.page > 1 { a rel="prev" href=(at(flow, f, pages.page - 1)) { "← newer" } " " }
            span.muted { "runs " (pages.first) "–" (pages.last) " of " (pages.total) }
            @if pages.has_older { " " a rel="next" href=(at(flow, f, pages.page + 1)) { "older →" } }
        }
    }
}
