//! The DAG of a flow version as SVG, laid out left to right in layers: an op sits one layer
//! right of its deepest upstream; within a layer ops are ordered by the mean position of
//! their upstreams (one barycenter pass), which keeps most edges short and uncrossed.

use std::collections::HashMap;

use indexmap::IndexMap;
use maud::{Markup, html};
use slipstream_core::records::{OpSpec, OpState};

const NODE_W: f64 = 176.0;
const NODE_H: f64 = 34.0;
const GAP_X: f64 = 64.0;
const GAP_Y: f64 = 16.0;
const PAD: f64 = 8.0;
const MAX_LABEL: usize = 22;

/// One op to draw: its name, upstream names, and state.
pub struct Node<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub upstream: Vec<&'a str>,
    pub status: &'a str,
    pub href: String,
}

pub fn render(nodes: &[Node<'_>]) -> Markup {
    let positions = layout(nodes);
    let width = positions.values().map(|p| p.0).fold(0.0, f64::max) + NODE_W + 2.0 * PAD;
    let height = positions.values().map(|p| p.1).fold(0.0, f64::max) + NODE_H + 2.0 * PAD;
    html! {
        svg.dag xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
            viewBox={"0 0 " (width) " " (height)} role="img" aria-label="the flow's ops and their dependencies" {
            @for node in nodes {
                @for up in &node.upstream {
                    @if let (Some(a), Some(b)) = (positions.get(*up), positions.get(node.name)) {
                        @let (x1, y1, x2, y2) = (a.0 + NODE_W, a.1 + NODE_H / 2.0, b.0, b.1 + NODE_H / 2.0);
                        @let mid = (x1 + x2) / 2.0;
                        path d={"M" (x1) "," (y1) " C" (mid) "," (y1) " " (mid) "," (y2) " " (x2) "," (y2)}
                            fill="none" stroke="#8c959f" stroke-width="1.4" {}
                    }
                }
            }
            @for node in nodes {
                @let (x, y) = positions[node.name];
                @let (fill, stroke) = colours(node.status);
                a href=(node.href) data-op=(node.name) data-status=(node.status) {
                    title { (node.name) " (" (node.kind) "): " (node.status) }
                    rect x=(x) y=(y) width=(NODE_W) height=(NODE_H) rx=(if node.kind == "op" { 6 } else { 16 })
                        fill=(fill) stroke=(stroke) stroke-width="1.4" {}
                    text x=(x + 10.0) y=(y + NODE_H / 2.0 + 4.5) font-size="12.5" fill="#1f2328" {
                        (label(node.name))
                    }
                }
            }
        }
    }
}

fn layout(nodes: &[Node<'_>]) -> HashMap<String, (f64, f64)> {
    // Specs list ops in dependency order, so one pass finds every layer.
    let mut layer: HashMap<&str, usize> = HashMap::new();
    for node in nodes {
        let depth = node
            .upstream
            .iter()
            .filter_map(|u| layer.get(u))
            .map(|d| d + 1)
            .max()
            .unwrap_or(0);
        layer.insert(node.name, depth);
    }
    let depth = layer.values().copied().max().map_or(0, |d| d + 1);
    let mut rows: Vec<Vec<&Node<'_>>> = vec![Vec::new(); depth];
    for node in nodes {
        rows[layer[node.name]].push(node);
    }
    let mut slot: HashMap<&str, f64> = HashMap::new();
    let mut positions = HashMap::new();
    for (x, row) in rows.iter_mut().enumerate() {
        let mean = |n: &Node<'_>| {
            let ups: Vec<f64> = n
                .upstream
                .iter()
                .filter_map(|u| slot.get(u).copied())
                .collect();
            if ups.is_empty() {
                f64::MAX
            } else {
                ups.iter().sum::<f64>() / ups.len() as f64
            }
        };
        let mut keyed: Vec<(f64, usize, &Node<'_>)> = row
            .iter()
            .enumerate()
            .map(|(i, n)| (mean(n), i, *n))
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (y, (_, _, node)) in keyed.into_iter().enumerate() {
            slot.insert(node.name, y as f64);
            positions.insert(
                node.name.to_owned(),
                (
                    PAD + x as f64 * (NODE_W + GAP_X),
                    PAD + y as f64 * (NODE_H + GAP_Y),
                ),
            );
        }
    }
    positions
}

fn label(name: &str) -> String {
    if name.chars().count() <= MAX_LABEL {
        return name.to_owned();
    }
    let mut short: String = name.chars().take(MAX_LABEL - 1).collect();
    short.push('…');
    short
}

fn colours(status: &str) -> (&'static str, &'static str) {
    match status {
        "success" => ("#dafbe1", "#1a7f37"),
        "failed" => ("#ffebe9", "#cf222e"),
        "upstream_failed" | "interrupted" => ("#fff1e5", "#bc4c00"),
        "running" | "queued" => ("#ddf4ff", "#0969da"),
        "up_for_retry" => ("#fff8c5", "#9a6700"),
        _ => ("#f6f8fa", "#8c959f"),
    }
}

/// The nodes of a run's ops (or a version's), with states from a run record's `ops`.
pub fn nodes<'a>(
    spec_ops: impl IntoIterator<Item = &'a OpSpec>,
    ops: &'a IndexMap<String, OpState>,
    href: impl Fn(&str) -> String,
) -> Vec<Node<'a>> {
    spec_ops
        .into_iter()
        .map(|op| Node {
            name: &op.name,
            kind: crate::pages::kind_name(op.kind),
            upstream: op.upstream.iter().map(String::as_str).collect(),
            status: ops.get(&op.name).map_or("pending", |s| s.status.as_str()),
            href: href(&op.name),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node<'a>(name: &'a str, upstream: Vec<&'a str>) -> Node<'a> {
        Node {
            name,
            kind: "op",
            upstream,
            status: "success",
            href: String::new(),
        }
    }

    #[test]
    fn ops_sit_one_layer_right_of_their_deepest_upstream() {
        let nodes = [
            node("a", vec![]),
            node("b", vec!["a"]),
            node("c", vec!["a", "b"]),
            node("d", vec![]),
        ];
        let p = layout(&nodes);
        assert_eq!(p["a"].0, p["d"].0);
        assert!(p["b"].0 > p["a"].0 && p["c"].0 > p["b"].0);
        assert_ne!(p["a"].1, p["d"].1, "two ops of one layer do not overlap");
    }

    #[test]
    fn labels_are_escaped_and_shortened() {
        let nodes = [node("<script>alert(1)</script>_and_a_long_tail", vec![])];
        let svg = render(&nodes).into_string();
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains('…'));
    }
}
