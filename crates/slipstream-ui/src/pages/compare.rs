//! `/flows/<flow>/compare?a=<run>&b=<run>`: two runs side by side, what changed highlighted.
//! Without both runs, a form to pick them.

use maud::{Markup, html};
use slipstream_core::records::{CheckResult, VersionDiff};

use super::run::check_verdict;
use super::{compare_url, diff_url, flow_url, run_url, shell, short_time, version_url};
use crate::compare::{Comparison, OutputPair, OutputSide, Pair};

/// The form to pick two runs, `a` and `b` filled in when given.
pub fn pick(flow: &str, a: &str, b: &str) -> Markup {
    let crumbs = [(flow.to_owned(), flow_url(flow))];
    shell::page(
        &format!("compare runs of {flow}"),
        &crumbs,
        html! {
            h1 { "Compare two runs of " (flow) }
            form.compare method="get" action=(compare_url(flow)) {
                label { "run A " input name="a" value=(a) required; } " "
                label { "run B " input name="b" value=(b) required; } " "
                button type="submit" { "compare" }
            }
            p.muted { "Run ids, or " code { "latest" } ", " code { "latest-failed" } ", "
                code { "latest-success" } ", or the start of an id. Or tick two runs in the "
                a href=(flow_url(flow)) { "runs list" } "." }
        },
    )
}

pub fn render(c: &Comparison) -> Markup {
    let flow = c.flow.as_str();
    let crumbs = [(flow.to_owned(), flow_url(flow))];
    let (a, b) = (&c.a, &c.b);
    shell::page(
        &format!("{} vs {}", a.run_id, b.run_id),
        &crumbs,
        html! {
            h1 { "Compare " (a.run_id) " and " (b.run_id) }
            table #runs-compared {
                thead { tr { th {} th { "A" } th { "B" } } }
                tbody {
                    tr { th { "Run" } td { a href=(run_url(flow, &a.run_id)) { (a.run_id) } } td { a href=(run_url(flow, &b.run_id)) { (b.run_id) } } }
                    tr.changed[a.status != b.status] { th { "Status" } td { (shell::badge(&a.status)) } td.b { (shell::badge(&b.status)) } }
                    tr.changed[a.version != b.version] #versions-compared { th { "Version" }
                        td { a href=(version_url(flow, &a.version)) { code { (a.version) } } }
                        td.b { a href=(version_url(flow, &b.version)) { code { (b.version) } } } }
                    tr { th { "Trigger" } td { (a.trigger) } td.b { (b.trigger) } }
                    tr { th { "Started" } td { (short_time(&a.started_at)) } td { (short_time(&b.started_at)) } }
                    tr { th { "Duration" } td.num { (seconds(a.seconds)) } td.num { (seconds(b.seconds)) } }
                }
            }
            @if let Some(diff) = &c.versions {
                h2 { "Structure" }
                (diff_summary(diff))
                p { a href=(diff_url(flow, &a.version, &b.version)) { "the code that changed" } }
            }
            @if !c.params.is_empty() {
                h2 { "Params" }
                table #params-compared {
                    thead { tr { th { "Param" } th { "A" } th { "B" } } }
                    tbody { @for p in &c.params { tr.changed[p.changed] { th { (p.name) } td { (text(&p.a)) } td.b { (text(&p.b)) } } } }
                }
            }
            h2 { "Ops" }
            table #ops-compared {
                thead { tr { th { "Op" } th { "A" } th { "B" } th { "A took" } th { "B took" } } }
                tbody {
                    @for p in &c.ops {
                        tr.changed[p.changed_status()] data-op=(p.name) {
                            th { (p.name) }
                            td { @if let Some(s) = &p.a { (shell::badge(&s.status)) } @else { span.muted { "not in A" } } }
                            td.b { @if let Some(s) = &p.b { (shell::badge(&s.status)) } @else { span.muted { "not in B" } } }
                            td.num { (seconds(p.a.as_ref().and_then(|s| s.seconds))) }
                            td.num { (seconds(p.b.as_ref().and_then(|s| s.seconds))) }
                        }
                    }
                }
            }
            @if !c.metrics.is_empty() {
                h2 { "Metrics" }
                table #metrics-compared {
                    thead { tr { th { "Metric" } th { "A" } th { "B" } th { "Change" } } }
                    tbody {
                        @for m in &c.metrics {
                            tr.changed[m.a != m.b] data-metric=(m.name) {
                                th { (m.name) } td.num { (number(m.a)) } td.num.b { (number(m.b)) }
                                td.num { @if let Some(d) = m.change { (signed(d)) @if let Some(p) = m.a.filter(|a| *a != 0.0).map(|a| d / a.abs() * 100.0) { " (" (signed_pct(p)) ")" } } }
                            }
                        }
                    }
                }
            }
            @if !c.checks.is_empty() {
                h2 { "Checks" }
                table #checks-compared {
                    thead { tr { th { "Check" } th { "A" } th { "B" } } }
                    tbody { @for p in &c.checks { tr.changed[p.changed] { th { (p.name) } td { (verdict(p.a.as_ref())) } td.b { (verdict(p.b.as_ref())) } } } }
                }
            }
            h2 { "Outputs" }
            @for o in &c.outputs { (output(o)) }
        },
    )
}

impl Pair<crate::compare::OpSide> {
    fn changed_status(&self) -> bool {
        self.a.as_ref().map(|s| &s.status) != self.b.as_ref().map(|s| &s.status)
    }
}

pub fn diff_summary(diff: &VersionDiff) -> Markup {
    let rows: [(&str, &Vec<String>); 6] = [
        ("ops added", &diff.ops_added),
        ("ops removed", &diff.ops_removed),
        ("code changed", &diff.code_changed),
        ("edges added", &diff.edges_added),
        ("edges removed", &diff.edges_removed),
        ("params changed", &diff.params_changed),
    ];
    html! {
        @if diff.is_empty() {
            p.muted { "Both versions define the same flow." }
        } @else {
            table.version-diff { tbody {
                @for (what, items) in rows { @if !items.is_empty() {
                    tr { th { (what) } td { @for i in items { code { (i) } " " } } }
                } }
            } }
        }
    }
}

fn output(o: &OutputPair) -> Markup {
    let side = |s: &Option<OutputSide>| -> Markup {
        html! {
            @if let Some(s) = s {
                (s.type_name) @if let Some(r) = s.rows { " · " (r) " rows" }
                @if let Some(shape) = &s.shape { " · shape " (format!("{shape:?}")) }
                " · " (s.bytes) " bytes"
                @if !s.schema.is_empty() { br; span.muted { (s.schema.join(", ")) } }
            } @else { span.muted { "not stored" } }
        }
    };
    html! {
        div.output-compared data-output={(o.op) "." (o.output)} data-changed=(o.changed.join(" ")) {
            h3 { (o.op) "." (o.output) " "
                @if o.changed.is_empty() { span.muted { "same data" } }
                @else { span class="badge s-up_for_retry" { "changed: " (o.changed.join(", ")) } } }
            table {
                thead { tr { th { "A" } th { "B" } } }
                tbody { tr { td { (side(&o.a)) } td.b.changed[!o.changed.is_empty()] { (side(&o.b)) } } }
            }
            @if let (Some(a), Some(b)) = (&o.a, &o.b) { @if !a.profile.is_empty() || !b.profile.is_empty() { (profiles(a, b)) } }
        }
    }
}

/// One fact of a column's profile, as shown.
type Fact = fn(&slipstream_core::records::ColumnProfile, u64) -> String;

/// Each column's profile in A and B, cells that differ highlighted.
fn profiles(a: &OutputSide, b: &OutputSide) -> Markup {
    let mut columns: Vec<&str> = a.profile.iter().map(|c| c.name.as_str()).collect();
    columns.extend(
        b.profile
            .iter()
            .map(|c| c.name.as_str())
            .filter(|n| !a.profile.iter().any(|c| c.name == *n)),
    );
    let cell = |side: &OutputSide, name: &str, fact: Fact| {
        side.profile
            .iter()
            .find(|c| c.name == name)
            .map(|c| fact(c, side.profiled))
            .unwrap_or_default()
    };
    let facts: [(&str, Fact); 5] = [
        ("nulls", |c, _| c.nulls.to_string()),
        ("distinct", super::preview::distinct),
        ("min", |c, _| {
            c.min.as_ref().map(|v| v.to_string()).unwrap_or_default()
        }),
        ("max", |c, _| {
            c.max.as_ref().map(|v| v.to_string()).unwrap_or_default()
        }),
        ("mean", |c, _| {
            c.mean.as_ref().map(|v| v.to_string()).unwrap_or_default()
        }),
    ];
    html! {
        table.profile.profile-compared {
            thead { tr { th { "column" } @for (f, _) in &facts { th { (f) " A" } th { (f) " B" } } } }
            tbody {
                @for name in &columns {
                    tr {
                        td { (name) }
                        @for (_, fact) in &facts {
                            @let (x, y) = (cell(a, name, *fact), cell(b, name, *fact));
                            td.num { (x) } td.num.changed[x != y] { (y) }
                        }
                    }
                }
            }
        }
    }
}

fn verdict(check: Option<&CheckResult>) -> Markup {
    html! {
        @if let Some(c) = check {
            span class={"badge s-" (if c.passed { "success" } else { shell::severity_status(c.severity) })} { (check_verdict(c.passed, c.severity)) }
            " " (c.failed) " of " (c.total) " false"
        } @else { span.muted { "did not run" } }
    }
}

fn text(v: &Option<String>) -> Markup {
    html! { @if let Some(v) = v { code { (v) } } @else { span.muted { "unset" } } }
}

fn seconds(s: Option<f64>) -> String {
    s.map(shell::duration).unwrap_or_default()
}

fn number(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

fn signed(d: f64) -> String {
    if d > 0.0 {
        format!("+{d}")
    } else {
        format!("{d}")
    }
}

fn signed_pct(p: f64) -> String {
    if p > 0.0 {
        format!("+{p:.1} %")
    } else {
        format!("{p:.1} %")
    }
}
