//! What the store holds but cannot read — a run's record, its op files, the spec of its
//! version — shown as unreadable with why, among everything else, which reads as usual: one
//! damaged file never takes a flow's pages down.

use std::cmp::Ordering;
use std::sync::Arc;

use slipstream_core::RunId;
use slipstream_core::records::{FlowSpec, RunSummary};

use crate::error::UiError;
use crate::time::newest_first;

pub use slipstream_core::records::UnreadableRun as Unreadable;

/// The run in the folder named `escaped`, whose record cannot be read.
pub fn in_folder(escaped: &str, error: &UiError) -> Unreadable {
    Unreadable {
        run_id: RunId::unescape(escaped).unwrap_or_else(|| escaped.to_owned()),
        started_at: None,
        status: Default::default(),
        reason: why(error),
    }
}

/// The run `run_id`, started at `started_at`, whose record reads but not what it needs.
pub fn unreadable_run(run_id: String, started_at: String, error: &UiError) -> Unreadable {
    Unreadable {
        run_id,
        started_at: Some(started_at),
        status: Default::default(),
        reason: why(error),
    }
}

fn key(bad: &Unreadable) -> (Option<&str>, &str) {
    (bad.started_at.as_deref(), &bad.run_id)
}

/// What an error reading one item says about it, for the page that shows the item as
/// unreadable.
pub fn why(error: &UiError) -> String {
    match error {
        UiError::Corrupt { path, reason, .. } => format!("{path}: {reason}"),
        UiError::SpecUnreadable {
            version, reason, ..
        } => format!("spec of version {version}: {reason}"),
        other => other.to_string(),
    }
}

/// A row of a runs list.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // nearly every row is a run: boxing them would cost more
pub enum Row {
    Run(RunSummary),
    Unreadable(Unreadable),
}

/// Newest first by `(start, id)`; a run whose start is not known (its record cannot be read)
/// comes before all others, so that it is seen on the first page.
pub fn order(a: (Option<&str>, &str), b: (Option<&str>, &str)) -> Ordering {
    match (a.0, b.0) {
        (None, None) => a.1.cmp(b.1),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => newest_first((x, a.1), (y, b.1)),
    }
}

/// Sorts unreadable runs as [`order`] says.
pub fn sort(runs: &mut [Unreadable]) {
    runs.sort_by(|a, b| order(key(a), key(b)));
}

/// Rows `skip..skip + count` of `runs` and `unreadable` (each in [`order`]) merged in that
/// order; only the rows returned are copied.
pub fn page(runs: &[RunSummary], unreadable: &[Unreadable], skip: usize, count: usize) -> Vec<Row> {
    let mut runs = runs.iter().peekable();
    let mut bad = unreadable.iter().peekable();
    let merged = std::iter::from_fn(move || {
        let bad_first = match (bad.peek(), runs.peek()) {
            (Some(u), Some(r)) => order(key(u), (Some(&r.started_at), &r.run_id)).is_le(),
            (Some(_), None) => true,
            (None, _) => false,
        };
        if bad_first {
            bad.next().map(Err)
        } else {
            runs.next().map(Ok)
        }
    });
    merged
        .skip(skip)
        .take(count)
        .map(|row| match row {
            Ok(r) => Row::Run(r.clone()),
            Err(u) => Row::Unreadable(u.clone()),
        })
        .collect()
}

/// A published version whose spec cannot be read, and why.
#[derive(Debug, Clone)]
pub struct DamagedVersion {
    pub version: String,
    pub reason: String,
}

/// The published versions of a flow: those whose spec reads, newest first, and the others.
#[derive(Debug, Clone, Default)]
pub struct Versions {
    pub specs: Vec<Arc<FlowSpec>>,
    pub unreadable: Vec<DamagedVersion>,
}

impl Versions {
    /// Whether the flow has no published version at all (then it is no flow).
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty() && self.unreadable.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, started_at: &str) -> RunSummary {
        let mut run: RunSummary = serde_json::from_value(serde_json::json!({
            "run_id": id, "version": "v", "trigger": "local", "status": "success",
            "params": {}, "started_at": started_at, "ended_at": null, "metrics": {},
            "checks": {}, "indexed_at": "",
        }))
        .unwrap();
        run.run_id = id.to_owned();
        run
    }

    fn bad(id: &str, started_at: Option<&str>) -> Unreadable {
        Unreadable {
            run_id: id.to_owned(),
            started_at: started_at.map(str::to_owned),
            status: Default::default(),
            reason: "why".to_owned(),
        }
    }

    fn ids(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| match r {
                Row::Run(r) => r.run_id.clone(),
                Row::Unreadable(u) => format!("!{}", u.run_id),
            })
            .collect()
    }

    #[test]
    fn unreadable_runs_are_merged_in_by_start_and_first_when_it_is_not_known() {
        let runs = [
            summary("c", "2026-11-24T12:00:00Z"),
            summary("a", "2026-11-24T10:00:00+00:00"),
        ];
        let mut unreadable = vec![
            bad("b", Some("2026-11-24T11:00:00+00:00")),
            bad("z", None),
            bad("y", None),
        ];
        sort(&mut unreadable);
        let all = page(&runs, &unreadable, 0, 10);
        assert_eq!(ids(&all), ["!y", "!z", "c", "!b", "a"]);
        assert_eq!(ids(&page(&runs, &unreadable, 2, 2)), ["c", "!b"]);
        assert_eq!(ids(&page(&runs, &unreadable, 4, 50)), ["a"]);
        assert!(page(&runs, &unreadable, 5, 50).is_empty());
        assert_eq!(ids(&page(&runs, &[], 0, 1)), ["c"]);
    }

    #[test]
    fn the_reason_names_the_file_and_what_is_wrong_with_it() {
        let corrupt = UiError::Corrupt {
            what: "run record",
            path: "flows/f/runs/r/run.json".to_owned(),
            reason: "EOF".to_owned(),
            newer: false,
        };
        assert_eq!(why(&corrupt), "flows/f/runs/r/run.json: EOF");
        let bad = in_folder("manual__2026%3A01", &corrupt);
        assert_eq!(bad.run_id, "manual__2026:01");
        assert_eq!(bad.started_at, None);
    }
}
