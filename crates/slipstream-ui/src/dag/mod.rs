//! The DAG of a run (or of a version) as SVG, laid out by [`layout`]: top to bottom, as wide as
//! a page at most, long edges in lanes beside the ops they pass. Nodes are coloured by their
//! `data-status` in the page's style, so that a live page recolours one by changing it.

mod layout;

use indexmap::IndexMap;
use maud::{Markup, html};
use slipstream_core::records::{OpSpec, OpState};

use layout::{NODE_H, NODE_W};

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
    let index: IndexMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.name, i)).collect();
    let upstream: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            n.upstream
                .iter()
                .filter_map(|u| index.get(u).copied())
                .collect()
        })
        .collect();
    let drawing = layout::layout(&upstream);
    let (width, height) = (drawing.width.ceil(), drawing.height.ceil());
    html! {
        svg.dag xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
            viewBox={"0 0 " (width) " " (height)} role="img" aria-label="the flow's ops and their dependencies" {
            defs {
                marker #arrow viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto" {
                    path d="M0,0 L8,4 L0,8 z" fill="#8c959f" {}
                }
            }
            @for (from, to, points) in &drawing.edges {
                path.edge d=(curve(points)) data-from=(nodes[*from].name) data-to=(nodes[*to].name)
                    fill="none" stroke="#8c959f" stroke-width="1.3" marker-end="url(#arrow)" {}
            }
            @for (node, &(x, y)) in nodes.iter().zip(&drawing.ops) {
                a href=(node.href) data-op=(node.name) data-status=(node.status) {
                    title { (node.name) " (" (node.kind) "): " (node.status) }
                    // Another flow's output: a dashed box, outside this flow's code.
                    rect x=(x) y=(y) width=(NODE_W) height=(NODE_H) rx=(if node.kind == "op" || node.kind == "upstream" { 6 } else { 15 })
                        stroke-width="1.4" stroke-dasharray=[(node.kind == "upstream").then_some("5 3")] {}
                    text x=(x + 10.0) y=(y + NODE_H / 2.0 + 4.5) font-size="12.5" fill="#1f2328" {
                        (label(node.name))
                    }
                }
            }
        }
    }
}

/// A smooth path through `points`: vertical at every point, straight down a lane.
fn curve(points: &[(f64, f64)]) -> String {
    let mut d = format!("M{:.1},{:.1}", points[0].0, points[0].1);
    for pair in points.windows(2) {
        let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
        if x1 == x2 {
            d.push_str(&format!(" L{x2:.1},{y2:.1}"));
        } else {
            let mid = (y1 + y2) / 2.0;
            d.push_str(&format!(
                " C{x1:.1},{mid:.1} {x2:.1},{mid:.1} {x2:.1},{y2:.1}"
            ));
        }
    }
    d
}

fn label(name: &str) -> String {
    if name.chars().count() <= MAX_LABEL {
        return name.to_owned();
    }
    let mut short: String = name.chars().take(MAX_LABEL - 1).collect();
    short.push('…');
    short
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
            status: crate::pages::op_status(ops.get(&op.name)),
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
    fn labels_are_escaped_and_shortened() {
        let nodes = [node("<script>alert(1)</script>_and_a_long_tail", vec![])];
        let svg = render(&nodes).into_string();
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script>"));
        assert!(svg.contains('…'));
    }

    #[test]
    fn every_edge_is_drawn_once_from_its_upstream() {
        let nodes = [
            node("a", vec![]),
            node("b", vec!["a"]),
            node("c", vec!["a", "b", "gone"]),
        ];
        let svg = render(&nodes).into_string();
        assert_eq!(
            svg.matches("class=\"edge\"").count(),
            3,
            "an unknown upstream is left out"
        );
        assert!(svg.contains("data-from=\"a\" data-to=\"c\""));
    }
}
