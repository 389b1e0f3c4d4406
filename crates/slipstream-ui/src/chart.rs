//! A metric's history across runs as a small SVG line chart: one point per run, oldest on the
//! left, the runs named along the x-axis; the run shown is ringed (a mark, not a judgement).

use maud::{Markup, html};

const W: f64 = 640.0;
const H: f64 = 200.0;
const LEFT: f64 = 64.0;
const PAD: f64 = 14.0;
/// Room under the plot for the x-axis and its labels.
const AXIS: f64 = 34.0;
/// Runs named on the axis at most (first, last, and evenly between).
const LABELS: usize = 6;

/// `points`: (run id, value), oldest first; `current` is marked.
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
    let bottom = H - AXIS;
    let step = if points.len() > 1 {
        (W - LEFT - PAD) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let x_of = |i: usize| LEFT + i as f64 * step;
    let y_of = |v: f64| PAD + (hi - v) / (hi - lo) * (bottom - PAD);
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x_of(i), y_of(p.1)))
        .collect();
    let labelled = labelled(points.len());
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" width=(W) height=(H) viewBox={"0 0 " (W) " " (H)}
            role="img" aria-label="metric value per run, oldest run on the left" {
            line x1=(LEFT) y1=(PAD) x2=(LEFT) y2=(bottom) stroke="#d0d7de" {}
            line.x-axis x1=(LEFT) y1=(bottom) x2=(W - PAD) y2=(bottom) stroke="#d0d7de" {}
            text x=(LEFT - 6.0) y=(PAD + 4.0) font-size="11" text-anchor="end" fill="#656d76" { (fmt(hi)) }
            text x=(LEFT - 6.0) y=(bottom) font-size="11" text-anchor="end" fill="#656d76" { (fmt(lo)) }
            @for &i in &labelled {
                line x1=(x_of(i)) y1=(bottom) x2=(x_of(i)) y2=(bottom + 4.0) stroke="#8c959f" {}
                text.run-label x=(x_of(i)) y=(bottom + 16.0) font-size="10.5" fill="#656d76"
                    text-anchor=(anchor(i, points.len())) { (short(&points[i].0)) }
            }
            text x=((LEFT + W - PAD) / 2.0) y=(H - 3.0) font-size="10.5" text-anchor="middle" fill="#8c959f" { "runs, oldest → newest" }
            polyline points=(line.join(" ")) fill="none" stroke="#0969da" stroke-width="1.6" {}
            @for (i, (run, v)) in points.iter().enumerate() {
                @let (x, y) = (x_of(i), y_of(*v));
                @if run == current {
                    circle.current cx=(x) cy=(y) r="6" fill="#fff" stroke="#1f2328" stroke-width="2" {
                        title { "this run, " (run) ": " (fmt(*v)) }
                    }
                } @else {
                    circle cx=(x) cy=(y) r="3" fill="#0969da" { title { (run) ": " (fmt(*v)) } }
                }
            }
        }
    }
}

/// Which points get a label: the first, the last, and evenly spaced ones between.
fn labelled(n: usize) -> Vec<usize> {
    if n <= LABELS {
        return (0..n).collect();
    }
    let mut at: Vec<usize> = (0..LABELS).map(|k| k * (n - 1) / (LABELS - 1)).collect();
    at.dedup();
    at
}

fn anchor(i: usize, n: usize) -> &'static str {
    match i {
        0 if n > 1 => "start",
        i if i + 1 == n && n > 1 => "end",
        _ => "middle",
    }
}

/// A run id short enough for the axis.
fn short(run: &str) -> String {
    if run.chars().count() <= 16 {
        run.to_owned()
    } else {
        format!("{}…", run.chars().take(15).collect::<String>())
    }
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_names_the_first_and_last_run_and_the_current_one_is_not_red() {
        let points: Vec<(String, f64)> = (0..30).map(|i| (format!("run-{i}"), i as f64)).collect();
        let svg = render(&points, "run-7").into_string();
        assert!(svg.contains(">run-0<") && svg.contains(">run-29<"));
        assert_eq!(svg.matches("class=\"run-label\"").count(), LABELS);
        assert!(svg.contains("this run, run-7"));
        assert!(!svg.contains("#cf222e"), "red reads as bad");
    }
}
