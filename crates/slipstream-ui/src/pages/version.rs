//! `/flows/<flow>/versions/<version>`: a published version, its DAG, ops and params; and
//! `/flows/<flow>/diff?a=<version>&b=<version>`: what changed between two, with the code.

use maud::{Markup, html};
use similar::ChangeTag;
use slipstream_core::records::{FlowSpec, OpSpec, VersionDiff};

use super::compare::diff_summary;
use super::{diff_url, flow_url, kind_name, shell, short_time, version_url};
use crate::{code_diff, dag};

/// `previous`: the version published before this one, if any.
pub fn render(flow: &str, spec: &FlowSpec, previous: Option<&FlowSpec>) -> Markup {
    let version = spec.version.as_str();
    let crumbs = [
        (flow.to_owned(), flow_url(flow)),
        (version.to_owned(), version_url(flow, version)),
    ];
    let no_states = indexmap::IndexMap::new();
    let nodes = dag::nodes(&spec.ops, &no_states, |op| format!("#op-{op}"));
    shell::page(
        &format!("{flow} version {version}"),
        &crumbs,
        html! {
            h1 { "Version " code { (version) } }
            dl.facts {
                dt { "Flow" } dd { a href=(flow_url(flow)) { (flow) } }
                dt { "Published" } dd { (short_time(spec.published_at.as_deref().unwrap_or(""))) }
                dt { "Runs" } dd { a #version-runs href={(flow_url(flow)) "?version=" (super::query(version))} { "the runs of this version" } }
                @if let Some(p) = previous {
                    dt { "Changes" } dd { a #diff-previous href=(diff_url(flow, &p.version, version)) { "since " code { (p.version) } } }
                }
            }
            @if !spec.params.is_empty() {
                h2 { "Params" }
                table #version-params { tbody { @for (k, p) in &spec.params {
                    tr { th { (k) } td { code { (serde_json::to_string(p).unwrap_or_default()) } } }
                } } }
            }
            h2 { "Ops" }
            div.dag { (dag::render(&nodes)) }
            table #version-ops {
                thead { tr { th { "Op" } th { "Kind" } th { "Function" } th { "Upstream" } th { "Code hash" } } }
                tbody { @for op in &spec.ops { (op_row(op)) } }
            }
        },
    )
}

/// A published version whose spec cannot be read: why, and where its runs are.
pub fn unreadable(flow: &str, version: &str, reason: &str) -> Markup {
    let crumbs = [
        (flow.to_owned(), flow_url(flow)),
        (version.to_owned(), version_url(flow, version)),
    ];
    shell::page(
        &format!("{flow} version {version}"),
        &crumbs,
        html! {
            h1 { "Version " code { (version) } " " (shell::badge("unreadable")) }
            p.error #unreadable { "unreadable: spec of version " (version) ": " (reason) }
            dl.facts {
                dt { "Flow" } dd { a href=(flow_url(flow)) { (flow) } }
                dt { "Runs" } dd { "listed as unreadable on " a href=(flow_url(flow)) { "the flow's page" } }
            }
        },
    )
}

fn op_row(op: &OpSpec) -> Markup {
    html! {
        tr id={"op-" (op.name)} {
            td { (op.name) }
            td { (kind_name(op.kind)) }
            td { code { (op.function.module) "." (op.function.qualname) } }
            td { (op.upstream.join(", ")) }
            td { code { (op.function.code_hash.get(..12).unwrap_or(&op.function.code_hash)) } }
        }
    }
}

pub fn diff(flow: &str, a: &FlowSpec, b: &FlowSpec) -> Markup {
    let crumbs = [(flow.to_owned(), flow_url(flow))];
    let changes = VersionDiff::of(a, b);
    shell::page(
        &format!("{flow}: {} → {}", a.version, b.version),
        &crumbs,
        html! {
            h1 { "From " a href=(version_url(flow, &a.version)) { code { (a.version) } }
                " to " a href=(version_url(flow, &b.version)) { code { (b.version) } } }
            div #version-diff { (diff_summary(&changes)) }
            @for name in &changes.code_changed {
                @if let (Some(x), Some(y)) = (a.op(name), b.op(name)) {
                    h2 { "Code of " (name) }
                    (code_diff(x, y))
                }
            }
        },
    )
}

/// The line diff of an op's code in two versions ([`crate::code_diff`], the diff
/// `slipstream diff` prints too).
fn code_diff(a: &OpSpec, b: &OpSpec) -> Markup {
    let (old, new) = (
        code_diff::diffed(code_diff::op_code(a)),
        code_diff::diffed(code_diff::op_code(b)),
    );
    let diff = code_diff::line_diff(&old, &new);
    html! {
        pre.code-diff data-op=(a.name) {
            @for group in diff.grouped_ops(code_diff::CONTEXT) {
                @for op in group {
                    @for change in diff.iter_changes(&op) {
                        @match change.tag() {
                            ChangeTag::Delete => span.diff-del { "-" (change.value()) },
                            ChangeTag::Insert => span.diff-add { "+" (change.value()) },
                            ChangeTag::Equal => span { " " (change.value()) },
                        }
                    }
                }
                span.muted { "…\n" }
            }
        }
        @if old == new { p.muted { "Same code: a helper it uses changed." } }
    }
}
