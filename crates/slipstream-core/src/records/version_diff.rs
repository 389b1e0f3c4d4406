//! What changed between two versions of a flow: ops, their code, edges and params. The web
//! UI's diff page, its run comparison and `slipstream diff` all show this one diff.

use std::collections::BTreeSet;

use serde::Serialize;

use super::FlowSpec;

/// The structural difference from version `a` to version `b`, each list sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VersionDiff {
    pub ops_added: Vec<String>,
    pub ops_removed: Vec<String>,
    /// Ops of both whose code hash differs (their function, or a helper it uses).
    pub code_changed: Vec<String>,
    /// `upstream -> op`.
    pub edges_added: Vec<String>,
    pub edges_removed: Vec<String>,
    /// Params added, removed, or whose declaration (default, required) changed.
    pub params_changed: Vec<String>,
}

impl VersionDiff {
    pub fn of(a: &FlowSpec, b: &FlowSpec) -> Self {
        let names =
            |s: &FlowSpec| -> BTreeSet<String> { s.ops.iter().map(|o| o.name.clone()).collect() };
        let edges = |s: &FlowSpec| -> BTreeSet<String> {
            s.ops
                .iter()
                .flat_map(|o| o.upstream.iter().map(move |u| format!("{u} -> {}", o.name)))
                .collect()
        };
        let (ops_a, ops_b) = (names(a), names(b));
        let (edges_a, edges_b) = (edges(a), edges(b));
        let code_changed = ops_a
            .intersection(&ops_b)
            .filter(|n| {
                let hash = |s: &FlowSpec| s.op(n).map(|o| o.function.code_hash.clone());
                hash(a) != hash(b)
            })
            .cloned()
            .collect();
        let params: BTreeSet<&String> = a.params.keys().chain(b.params.keys()).collect();
        // compared as JSON values: the order of a default's keys is no change
        let declared =
            |s: &FlowSpec, k: &str| s.params.get(k).and_then(|p| serde_json::to_value(p).ok());
        Self {
            ops_added: ops_b.difference(&ops_a).cloned().collect(),
            ops_removed: ops_a.difference(&ops_b).cloned().collect(),
            code_changed,
            edges_added: edges_b.difference(&edges_a).cloned().collect(),
            edges_removed: edges_a.difference(&edges_b).cloned().collect(),
            params_changed: params
                .into_iter()
                .filter(|k| declared(a, k) != declared(b, k))
                .cloned()
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}
