//! An output's preview as the runtime stored it (`slipstream._preview`): a table with its
//! per-column profile and values heat-mapped by column, an image thumbnail, a number, text.

use maud::{Markup, html};
use serde_json::Value;
use slipstream_core::records::{Capped, ColumnProfile, FrameHead, Histogram, Preview};

/// `full` links to the whole artifact (images open full size).
pub fn render(preview: &Preview, full: &str) -> Markup {
    match preview {
        Preview::Frame {
            rows,
            columns,
            columns_shown,
            head,
            profile,
            profiled_rows,
            ..
        } => html! {
            p.muted {
                (rows) " rows × " (columns) " columns"
                @if columns_shown != columns { ", first " (columns_shown) " shown" }
                @if let Some(profiled) = profiled_rows {
                    "; profile of the first " (profiled) " rows (the frame was streamed)"
                }
            }
            (frame(head, profile, profiled_rows.unwrap_or(*rows)))
        },
        Preview::Image {
            width,
            height,
            mode,
            thumbnail,
            ..
        } => html! {
            a.image-preview href=(full) title="open the full image" {
                img.thumb src={"data:image/png;base64," (thumbnail)} alt={"image " (width) "×" (height)};
            }
            p.muted { (width) " × " (height) " px, mode " (mode) }
        },
        Preview::Number { value, .. } => html! { p.number { code { (value) } } },
        Preview::Array {
            shape, dtype, text, ..
        } => html! {
            p.muted { "array of shape " (dims(shape)) ", " (dtype) }
            (capped(text))
        },
        Preview::Text { text, .. } | Preview::Json { text, .. } => capped(text),
        Preview::Bytes { length, hex, .. } => html! {
            p.muted { (length) " bytes, first bytes:" }
            pre.value { (hex) }
        },
        Preview::None { reason, .. } => html! { p.muted { (reason) } },
    }
}

/// A column's distinct count: as counted, or an estimate marked "≈" and never above the
/// number of non-null values (previews before format 2 stored an unclamped estimate).
pub fn distinct(c: &ColumnProfile, profiled: u64) -> String {
    match c.distinct {
        None => String::new(),
        Some(d) if c.distinct_exact => d.to_string(),
        Some(d) => format!("≈{}", d.min(profiled.saturating_sub(c.nulls))),
    }
}

fn capped(text: &Capped) -> Markup {
    html! {
        pre.value { (text.text) }
        @if text.truncated { p.muted { "first characters of " (text.length) } }
    }
}

fn frame(head: &FrameHead, profile: &[ColumnProfile], profiled: u64) -> Markup {
    html! {
        table.profile {
            thead { tr { th { "column" } th { "type" } th { "nulls" } th { "distinct" } th { "min" } th { "max" } th { "mean" } th { "histogram" } } }
            tbody {
                @for c in profile {
                    tr {
                        td { (c.name) }
                        td { code { (c.type_name) } }
                        td.num { (c.nulls) }
                        td.num.distinct { (distinct(c, profiled)) }
                        td.num { (show_opt(c.min.as_ref())) }
                        td.num { (show_opt(c.max.as_ref())) }
                        td.num { (show_opt(c.mean.as_ref())) }
                        td { @if let Some(h) = &c.histogram { (histogram(h)) } }
                    }
                }
            }
        }
        table.head {
            thead { tr { @for c in &head.columns { th { (c) } } } }
            tbody {
                @for row in &head.rows {
                    tr {
                        @for (i, v) in row.iter().enumerate() {
                            @let heat = heat(v, profile.get(i));
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
fn heat(v: &Value, column: Option<&ColumnProfile>) -> Option<f64> {
    let x = v.as_f64()?;
    let column = column?;
    let (lo, hi) = (
        column.min.as_ref()?.as_f64()?,
        column.max.as_ref()?.as_f64()?,
    );
    let t = if hi > lo { (x - lo) / (hi - lo) } else { 0.5 };
    Some(0.06 + 0.5 * t.clamp(0.0, 1.0))
}

fn histogram(h: &Histogram) -> Markup {
    let counts = &h.counts;
    let top = counts.iter().copied().max().unwrap_or(0).max(1);
    html! {
        @if !counts.is_empty() {
            span.hist title={"counts per bin: " (counts.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))} {
                @for c in counts { span style={"height: " (2 + c * 22 / top) "px"} {} }
            }
        }
    }
}

fn dims(shape: &[u64]) -> String {
    shape
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" × ")
}

fn show_opt(v: Option<&Value>) -> String {
    v.map(show).unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn column(distinct: u64, nulls: u64, exact: bool) -> ColumnProfile {
        serde_json::from_value(serde_json::json!({
            "name": "c", "type": "Int64", "nulls": nulls, "distinct": distinct,
            "distinct_exact": exact,
        }))
        .unwrap()
    }

    #[test]
    fn an_estimate_is_marked_and_never_above_the_values_there_are() {
        assert_eq!(distinct(&column(1674, 0, true), 1674), "1674");
        // HyperLogLog said 1683 of 1674 rows, 4 of them null (previews before format 2)
        assert_eq!(distinct(&column(1683, 4, false), 1674), "≈1670");
        assert_eq!(distinct(&column(12, 0, false), 1674), "≈12");
    }
}
