//! An output's preview as the runtime stored it (`slipstream._preview`): a table with its
//! per-column profile and values heat-mapped by column, an image thumbnail, a number, text.

use maud::{Markup, html};
use serde_json::Value;

/// `full` links to the whole artifact (images open full size).
pub fn render(preview: &Value, full: &str) -> Markup {
    match preview["kind"].as_str() {
        Some("frame") => frame(preview),
        Some("image") => html! {
            a.image-preview href=(full) title="open the full image" {
                img.thumb src={"data:image/png;base64," (preview["thumbnail"].as_str().unwrap_or(""))}
                    alt={"image " (preview["width"]) "×" (preview["height"])};
            }
            p.muted { (preview["width"]) " × " (preview["height"]) " px, mode " (preview["mode"].as_str().unwrap_or("")) }
        },
        Some("number") => html! { p.number { code { (preview["value"]) } } },
        Some("text" | "json" | "array") => html! {
            @if preview["kind"] == "array" {
                p.muted { "array of shape " (shape(&preview["shape"])) ", " (preview["dtype"].as_str().unwrap_or("")) }
            }
            pre.value { (preview["text"].as_str().unwrap_or("")) }
            @if preview["truncated"] == Value::Bool(true) {
                p.muted { "first characters of " (preview["length"]) }
            }
        },
        Some("bytes") => html! {
            p.muted { (preview["length"]) " bytes, first bytes:" }
            pre.value { (preview["hex"].as_str().unwrap_or("")) }
        },
        _ => html! { p.muted { (preview["reason"].as_str().unwrap_or("no preview")) } },
    }
}

fn frame(p: &Value) -> Markup {
    let columns: Vec<&str> = p["head"]["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let profile: Vec<&Value> = p["profile"].as_array().into_iter().flatten().collect();
    let rows: Vec<&Vec<Value>> = p["head"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .collect();
    html! {
        p.muted {
            (p["rows"]) " rows × " (p["columns"]) " columns"
            @if p["columns_shown"] != p["columns"] { ", first " (p["columns_shown"]) " shown" }
        }
        table.profile {
            thead { tr { th { "column" } th { "type" } th { "nulls" } th { "distinct" } th { "min" } th { "max" } th { "mean" } th { "histogram" } } }
            tbody {
                @for c in &profile {
                    tr {
                        td { (c["name"].as_str().unwrap_or("")) }
                        td { code { (c["type"].as_str().unwrap_or("")) } }
                        td.num { (c["nulls"]) }
                        td.num { (show(&c["distinct"])) }
                        td.num { (show(&c["min"])) }
                        td.num { (show(&c["max"])) }
                        td.num { (show(&c["mean"])) }
                        td { (histogram(&c["histogram"])) }
                    }
                }
            }
        }
        table.head {
            thead { tr { @for c in &columns { th { (c) } } } }
            tbody {
                @for row in &rows {
                    tr {
                        @for (i, v) in row.iter().enumerate() {
                            @let heat = heat(v, profile.get(i).copied());
                            @if let Some(alpha) = heat {
                                td.num style={"background: rgba(9, 105, 218, " (format!("{alpha:.2}")) ")"} { (show(v)) }
                            } @else {
                                td { (show(v)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// How strongly a numeric cell is shaded: its place between its column's min and max.
fn heat(v: &Value, column: Option<&Value>) -> Option<f64> {
    let x = v.as_f64()?;
    let column = column?;
    let (lo, hi) = (column["min"].as_f64()?, column["max"].as_f64()?);
    let t = if hi > lo { (x - lo) / (hi - lo) } else { 0.5 };
    Some(0.06 + 0.5 * t.clamp(0.0, 1.0))
}

fn histogram(h: &Value) -> Markup {
    let counts: Vec<u64> = h["counts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    let top = counts.iter().copied().max().unwrap_or(0).max(1);
    html! {
        @if !counts.is_empty() {
            span.hist title={"counts per bin: " (counts.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))} {
                @for c in &counts { span style={"height: " (2 + c * 22 / top) "px"} {} }
            }
        }
    }
}

fn shape(dims: &Value) -> String {
    let dims: Vec<String> = dims
        .as_array()
        .into_iter()
        .flatten()
        .map(Value::to_string)
        .collect();
    dims.join(" × ")
}

fn show(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() != 0.0 => format!("{}", (f * 1e4).round() / 1e4),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}
