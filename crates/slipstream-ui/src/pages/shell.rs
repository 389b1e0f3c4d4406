//! The frame of every page: title, breadcrumbs, styles. Everything interpolated here and in
//! the pages goes through maud, which escapes it.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use slipstream_core::records::Severity;

/// A breadcrumb: its text and where it leads.
pub type Crumb = (String, String);

pub fn page(title: &str, crumbs: &[Crumb], body: Markup) -> Markup {
    frame(title, crumbs, None, body)
}

/// A page that refreshes itself from `live` (JSON) while what it shows is not over; the only
/// pages that run a script, `/static/live.js`, served by this UI.
pub fn live_page(title: &str, crumbs: &[Crumb], live: &str, every_ms: u64, body: Markup) -> Markup {
    frame(title, crumbs, Some((live, every_ms)), body)
}

fn frame(title: &str, crumbs: &[Crumb], live: Option<(&str, u64)>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · slipstream" }
                style { (PreEscaped(STYLE)) }
                @if live.is_some() { script src=(LIVE_SCRIPT) defer {} }
            }
            body {
                nav.crumbs {
                    a href="/" { "slipstream" }
                    @for (text, href) in crumbs {
                        " / " a href=(href) { (text) }
                    }
                }
                main data-live=[live.map(|l| l.0)] data-interval=[live.map(|l| l.1)] { (body) }
            }
        }
    }
}

/// Where the script of live pages is served.
pub const LIVE_SCRIPT: &str = "/static/live.js";

/// A status as a coloured badge.
pub fn badge(status: &str) -> Markup {
    html! { span class={"badge s-" (status)} { (status) } }
}

/// The status whose colour a failed check's badge takes: red for an error, its own colour
/// for a warning (the run went on).
pub fn severity_status(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "failed",
        Severity::Warning => "warning",
    }
}

/// Seconds as `340 ms`, `1.2 s`, `3 min 4 s`, `2 h 5 min`.
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else if seconds < 3600.0 {
        format!(
            "{} min {} s",
            (seconds / 60.0) as u64,
            (seconds % 60.0) as u64
        )
    } else {
        format!(
            "{} h {} min",
            (seconds / 3600.0) as u64,
            ((seconds % 3600.0) / 60.0) as u64
        )
    }
}

const STYLE: &str = r#"
:root { --fg:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#f6f8fa; --accent:#0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); }
nav.crumbs { padding: 10px 24px; background: #24292f; color: #fff; }
nav.crumbs a { color: #fff; text-decoration: none; font-weight: 600; }
main { padding: 16px 24px 48px; max-width: 1400px; }
h1 { font-size: 22px; margin: 8px 0 12px; } h2 { font-size: 17px; margin: 24px 0 8px; }
a { color: var(--accent); }
table { border-collapse: collapse; margin: 4px 0 12px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: var(--bg); border: 1px solid var(--line); padding: 10px; overflow: auto; max-height: 480px; font-size: 12.5px; }
pre.trace { border-color: #cf222e; background: #fff8f8; }
.muted { color: var(--muted); } .error { color: #cf222e; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #eaeef2; }
.s-success { background: #dafbe1; color: #116329; } .s-failed { background: #ffebe9; color: #a40e26; }
.s-upstream_failed, .s-interrupted { background: #fff1e5; color: #953800; } .s-running, .s-queued { background: #ddf4ff; color: #0550ae; }
.s-up_for_retry { background: #fff8c5; color: #7d4e00; } .s-skipped, .s-pending { background: #eaeef2; color: #57606a; }
.s-warning { background: #fbefff; color: #6639ba; } .s-unreadable { background: #ffebe9; color: #6e011a; outline: 1px dashed #cf222e; }
.tabs a { margin-right: 12px; } .tabs a.current { font-weight: 700; color: var(--fg); text-decoration: none; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 0 0 12px; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
.preview { margin: 8px 0 24px; } .profile td, .profile th { font-size: 12.5px; }
.hist { display: inline-flex; align-items: flex-end; height: 24px; gap: 1px; }
.hist span { display: inline-block; width: 6px; background: #8c959f; }
div.dag { overflow-x: auto; } svg.dag { max-width: 100%; height: auto; }
svg.dag rect { fill: #f6f8fa; stroke: #8c959f; } svg.dag a:hover rect { stroke-width: 2.5; }
svg.dag a[data-status=success] rect { fill: #dafbe1; stroke: #1a7f37; }
svg.dag a[data-status=failed] rect { fill: #ffebe9; stroke: #cf222e; }
svg.dag a[data-status=upstream_failed] rect, svg.dag a[data-status=interrupted] rect { fill: #fff1e5; stroke: #bc4c00; }
svg.dag a[data-status=running] rect, svg.dag a[data-status=queued] rect { fill: #ddf4ff; stroke: #0969da; }
svg.dag a[data-status=up_for_retry] rect { fill: #fff8c5; stroke: #9a6700; }
svg.dag a[data-status=warning] rect { fill: #fbefff; stroke: #8250df; }
tr.changed td.b, td.changed { background: #fff8c5; } .filters label { margin-right: 10px; }
.diff-add { color: #116329; } .diff-del { color: #a40e26; }
img.thumb { border: 1px solid var(--line); max-width: 256px; }
"#;

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_at_every_scale() {
        assert_eq!(duration(0.0), "0 ms");
        assert_eq!(duration(0.0426), "43 ms");
        assert_eq!(duration(1.26), "1.3 s");
        assert_eq!(duration(184.0), "3 min 4 s");
        assert_eq!(duration(7500.0), "2 h 5 min");
    }
}
