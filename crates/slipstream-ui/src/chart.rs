//! A metric's history across runs as a small SVG line chart, oldest run on the left.

use maud::{Markup, html};

const W: f64 = 640.0;
const H: f64 = 180.0;
const LEFT: f64 = 64.0;
const PAD: f64 = 14.0;

/// `points`: (run id, value), oldest first; `current` is highlighted.
pub fn render(points: &[(String, f64)], current: &str) -> Markup {
    if points.is_empty() {
        return html! { p.muted { "No run recorded this metric yet." } };
    }
    let lo = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let step = if points.len() > 1 {
        (W - LEFT - PAD) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy = |i: usize, v: f64| {
        (
            LEFT + i as f64 * step,
            PAD + (hi - v) / (hi - lo) * (H - 2.0 * PAD),
        )
    };
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (x, y) = xy(i, p.1);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" width=(W) height=(H) viewBox={"0 0 " (W) " " (H)}
            role="img" aria-label="metric value per run" {
            line x1=(LEFT) y1=(PAD) x2=(LEFT) y2=(H - PAD) stroke="#d0d7de" {}
            text x=(LEFT - 6.0) y=(PAD + 4.0) font-size="11" text-anchor="end" fill="#656d76" { (fmt(hi)) }
            text x=(LEFT - 6.0) y=(H - PAD) font-size="11" text-anchor="end" fill="#656d76" { (fmt(lo)) }
            polyline points=(line.join(" ")) fill="none" stroke="#0969da" stroke-width="1.6" {}
            @for (i, (run, v)) in points.iter().enumerate() {
                @let (x, y) = xy(i, *v);
                circle cx=(x) cy=(y) r=(if run == current { 5 } else { 3 })
                    fill=(if run == current { "#cf222e" } else { "#0969da" }) {
                    title { (run) ": " (fmt(*v)) }
                }
            }
        }
    }
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}
