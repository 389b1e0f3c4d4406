//! `/flows/<flow>?page=N`: the runs of a flow, newest first, a page at a time, and its
//! published versions.

use maud::{Markup, html};

use slipstream_core::records::{FlowSpec, RunSummary};

use super::{flow_url, run_url, seconds_between, shell, short_time};

/// Where a page of runs is among all of them (`first` and `last` count from 1).
pub struct Pages {
    pub page: usize,
    pub total: usize,
    pub first: usize,
    pub last: usize,
    pub has_older: bool,
}

pub fn render(
    flow: &str,
    runs: &[RunSummary],
    pages: &Pages,
    versions: &[std::sync::Arc<FlowSpec>],
) -> Markup {
    let crumbs = [(flow.to_owned(), flow_url(flow))];
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
            @if runs.is_empty() {
                p.muted { "No runs yet." }
            } @else {
                (navigation(flow, pages))
                table #runs {
                    thead { tr {
                        th { "Run" } th { "Status" } th { "Trigger" } th { "Started" }
                        th { "Duration" } th { "Version" } th { "Failed checks" }
                    } }
                    tbody {
                        @for r in runs {
                            @let id = &r.run_id;
                            tr {
                                td { a href=(run_url(flow, id)) { (id) } }
                                td { (shell::badge(r.status.as_str())) }
                                td { (r.trigger) }
                                td { (short_time(&r.started_at)) }
                                td.num {
                                    @if let Some(s) = r.ended_at.as_deref().and_then(|e| seconds_between(&r.started_at, e)) {
                                        (shell::duration(s))
                                    }
                                }
                                td { code { (r.version) } }
                                td {
                                    @for (check, verdict) in r.checks.iter().filter(|(_, c)| !c.passed) {
                                        span class={"badge s-" (shell::severity_status(verdict.severity))} {
                                            (check)
                                        } " "
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if pages.total > runs.len() { (navigation(flow, pages)) }
            h2 { "Versions" }
            table #versions {
                thead { tr { th { "Version" } th { "Published" } th { "Ops" } } }
                tbody {
                    @for v in versions {
                        tr {
                            td { code { (v.version) } }
                            td { (short_time(v.published_at.as_deref().unwrap_or(""))) }
                            td.num { (v.ops.len()) }
                        }
                    }
                }
            }
        },
    )
}

fn navigation(flow: &str, pages: &Pages) -> Markup {
    let at = |page: usize| format!("{}?page={page}", flow_url(flow));
    html! {
        p.pages {
            @if pages.page > 1 { a rel="prev" href=(at(pages.page - 1)) { "← newer" } " " }
            span.muted { "runs " (pages.first) "–" (pages.last) " of " (pages.total) }
            @if pages.has_older { " " a rel="next" href=(at(pages.page + 1)) { "older →" } }
        }
    }
}
