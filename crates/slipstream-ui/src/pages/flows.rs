//! `/`: every flow in the store.

use maud::{Markup, html};

use super::{flow_url, run_url, shell, short_time};
use crate::index::FlowSummary;

pub fn render(store_url: &str, flows: &[FlowSummary]) -> Markup {
    shell::page(
        "Flows",
        &[],
        html! {
            h1 { "Flows" }
            p.muted { "Store " code { (store_url) } }
            @if flows.is_empty() {
                p { "No flow has been published to this store yet. Publish one with "
                    code { "flow.publish(store)" } " or run it with " code { "flow.run(store)" } "." }
            } @else {
                table #flows {
                    thead { tr { th { "Flow" } th { "Versions" } th { "Runs" } th { "Last run" } th { "Started" } } }
                    tbody {
                        @for f in flows {
                            tr {
                                td { a href=(flow_url(&f.name)) { (f.name) } }
                                td.num { (f.versions) }
                                td.num { (f.runs) }
                                @if let Some(last) = &f.last {
                                    td.last { (shell::badge(last.status.as_str())) " " a href=(run_url(&f.name, &last.run_id)) { (last.run_id) } }
                                    td { (short_time(&last.started_at)) }
                                } @else { td.muted { "none" } td {} }
                            }
                        }
                    }
                }
            }
        },
    )
}
