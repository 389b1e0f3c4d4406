//! `/flows/<flow>/checks/<check>`: a check's verdict and failing count in every run that ran
//! it, newest first, like a metric's history.

use maud::{Markup, html};
use slipstream_core::records::{CheckResult, RunSummary};

use super::run::check_verdict;
use super::{check_history_url, flow_url, op_url, shell, short_time};

/// `history`: oldest first, as the index gives it.
pub fn render(flow: &str, check: &str, history: &[(RunSummary, CheckResult)]) -> Markup {
    let crumbs = [
        (flow.to_owned(), flow_url(flow)),
        (check.to_owned(), check_history_url(flow, check)),
    ];
    let failing = history.iter().filter(|(_, c)| !c.passed).count();
    shell::page(
        &format!("check {check} of {flow}"),
        &crumbs,
        html! {
            h1 { "Check " (check) }
            p.muted #check-summary { "Ran in " (history.len()) " runs; failed in " (failing) "." }
            (strip(flow, check, history))
            table #check-history {
                thead { tr { th { "Run" } th { "Started" } th { "Verdict" } th { "Failing" } th { "Of" } } }
                tbody {
                    @for (run, c) in history.iter().rev() {
                        tr data-run=(run.run_id) {
                            td { a href=(op_url(flow, &run.run_id, check)) { (run.run_id) } }
                            td { (short_time(&run.started_at)) }
                            td { (badge(c)) }
                            td.num { (c.failed) }
                            td.num { (c.total) }
                        }
                    }
                }
            }
        },
    )
}

/// One square per run, oldest on the left, coloured by verdict: a pattern at a glance.
fn strip(flow: &str, check: &str, history: &[(RunSummary, CheckResult)]) -> Markup {
    html! {
        p.verdicts {
            @for (run, c) in history {
                a class={"verdict s-" (status(c))} href=(op_url(flow, &run.run_id, check))
                    title={(run.run_id) ": " (check_verdict(c.passed, c.severity)) ", " (c.failed) " of " (c.total) " false"} {}
            }
        }
    }
}

fn status(c: &CheckResult) -> &'static str {
    if c.passed {
        "success"
    } else {
        shell::severity_status(c.severity)
    }
}

pub fn badge(c: &CheckResult) -> Markup {
    html! { span class={"badge s-" (status(c))} { (check_verdict(c.passed, c.severity)) } }
}
