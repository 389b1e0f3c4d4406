//! `flows/<flow>/index/<segment>.json`: the run index, what the runs list and metric history
//! need of every ended run, so that they read a few segments instead of every `run.json`.
//!
//! Segments are immutable: a writer adds one (a run ended, a run deleted), and compaction
//! replaces several by one. The same run may be in several segments (a compaction under
//! way, a run cleared and ended again): the entry indexed last is the run's. The index is
//! derived data: every entry can be rebuilt from the run records (`slipstream reindex`).

use std::collections::BTreeMap;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CheckResult, ErrorSummary, OpStatus, RawJson, Record, RunRecord, RunStatus};

/// One segment of a flow's run index.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct IndexSegment {
    pub format: u32,
    pub flow: String,
    /// When it was written (RFC 3339, UTC).
    pub written_at: String,
    /// Written from every run record of the flow (a rebuild, or a compaction of segments
    /// one of which was): with it, the index holds every ended run. Without any, readers
    /// read every run record instead.
    #[serde(default)]
    pub base: bool,
    pub runs: Vec<RunSummary>,
    /// Runs deleted (`slipstream delete`): they hide entries of the run indexed before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<Deleted>,
}

impl Record for IndexSegment {
    const KIND: &'static str = "run index segment";
    const FORMAT: u32 = 1;
}

/// A run the runs list shows as unreadable: its id (its folder's name when its record cannot
/// be read), its start when its record says it, and why. Not stored: what readers list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnreadableRun {
    pub run_id: String,
    pub started_at: Option<String>,
    /// Always `unreadable`: a row of the runs list says its status, whichever it is.
    pub status: UnreadableStatus,
    pub reason: String,
}

/// The status of a run whose records cannot be read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnreadableStatus {
    #[default]
    Unreadable,
}

/// What the runs list, a run's row in it and a metric's or check's history show of a run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunSummary {
    pub run_id: String,
    pub version: String,
    pub trigger: String,
    pub status: RunStatus,
    pub params: IndexMap<String, RawJson>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub metrics: IndexMap<String, RawJson>,
    pub checks: IndexMap<String, CheckResult>,
    /// The ops that failed, with their exception when one was recorded.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub failed: IndexMap<String, Option<ErrorSummary>>,
    /// When this entry was written (RFC 3339, UTC): of two entries of a run, the later is
    /// the run's.
    pub indexed_at: String,
}

/// A run deleted at `deleted_at` (RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Deleted {
    pub run_id: String,
    pub deleted_at: String,
}

impl RunSummary {
    /// The summary of a run as readers merge it ([`super::merge_run`]).
    pub fn of(run: &RunRecord, indexed_at: &str) -> Self {
        let failed = run
            .ops
            .iter()
            .filter(|(_, s)| s.status == OpStatus::Failed)
            .map(|(name, s)| (name.clone(), s.error.clone()))
            .collect();
        Self {
            run_id: run.run_id.clone(),
            version: run.version.clone(),
            trigger: run.trigger.clone(),
            status: run.status,
            params: run.params.clone(),
            started_at: run.started_at.clone(),
            ended_at: run.ended_at.clone(),
            metrics: run.metrics.clone(),
            checks: run.checks.clone(),
            failed,
            indexed_at: indexed_at.to_owned(),
        }
    }
}

/// What a set of segments says, run by run: for each run id its entry indexed last, unless a
/// deletion at least as recent hides it. Deletions are kept (newest of each run) so that a
/// compaction can carry them on.
#[derive(Debug, Default)]
pub struct IndexedRuns {
    pub runs: BTreeMap<String, RunSummary>,
    pub deleted: BTreeMap<String, Deleted>,
    /// Whether one of the segments was a base (see [`IndexSegment::base`]).
    pub base: bool,
}

/// Puts `item` at `id` unless what is there is as new or newer (by `at`).
fn keep_newer<T: Clone>(map: &mut BTreeMap<String, T>, id: &str, item: &T, at: fn(&T) -> &String) {
    if map.get(id).is_none_or(|had| at(had) < at(item)) {
        map.insert(id.to_owned(), item.clone());
    }
}

impl IndexedRuns {
    pub fn of<'a>(segments: impl IntoIterator<Item = &'a IndexSegment>) -> Self {
        let mut found = Self::default();
        for segment in segments {
            found.base |= segment.base;
            for run in &segment.runs {
                keep_newer(&mut found.runs, &run.run_id, run, |r| &r.indexed_at);
            }
            for gone in &segment.deleted {
                keep_newer(&mut found.deleted, &gone.run_id, gone, |d| &d.deleted_at);
            }
        }
        let deleted = &found.deleted;
        found.runs.retain(|id, run| {
            deleted
                .get(id)
                .is_none_or(|gone| gone.deleted_at < run.indexed_at)
        });
        found
    }

    /// One segment saying all of it; deletions before `forget_before` (RFC 3339) are left
    /// out: by then no segment they hide an entry of is left.
    pub fn into_segment(self, flow: &str, written_at: &str, forget_before: &str) -> IndexSegment {
        IndexSegment {
            format: IndexSegment::FORMAT,
            flow: flow.to_owned(),
            written_at: written_at.to_owned(),
            base: self.base,
            runs: self.runs.into_values().collect(),
            deleted: self
                .deleted
                .into_values()
                .filter(|d| d.deleted_at.as_str() >= forget_before)
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str, status: RunStatus, indexed_at: &str) -> RunSummary {
        RunSummary {
            run_id: id.to_owned(),
            version: "v1".to_owned(),
            trigger: "local".to_owned(),
            status,
            params: IndexMap::new(),
            started_at: "2027-01-01T00:00:00+00:00".to_owned(),
            ended_at: None,
            metrics: IndexMap::new(),
            checks: IndexMap::new(),
            failed: IndexMap::new(),
            indexed_at: indexed_at.to_owned(),
        }
    }

    fn segment(runs: Vec<RunSummary>, deleted: Vec<Deleted>) -> IndexSegment {
        IndexSegment {
            format: 1,
            flow: "f".to_owned(),
            written_at: "2027-01-02T00:00:00.000000Z".to_owned(),
            base: false,
            runs,
            deleted,
        }
    }

    #[test]
    fn the_entry_indexed_last_is_the_runs_whatever_the_segment_order() {
        let old = segment(
            vec![summary(
                "a",
                RunStatus::Success,
                "2027-01-01T00:00:01.000000Z",
            )],
            vec![],
        );
        let new = segment(
            vec![summary(
                "a",
                RunStatus::Failed,
                "2027-01-01T00:00:02.000000Z",
            )],
            vec![],
        );
        for order in [[&old, &new], [&new, &old]] {
            let found = IndexedRuns::of(order);
            assert_eq!(found.runs["a"].status, RunStatus::Failed);
        }
    }

    #[test]
    fn a_deletion_hides_what_was_indexed_before_it_only() {
        let gone = Deleted {
            run_id: "a".to_owned(),
            deleted_at: "2027-01-01T00:00:05.000000Z".to_owned(),
        };
        let before = segment(
            vec![summary(
                "a",
                RunStatus::Success,
                "2027-01-01T00:00:01.000000Z",
            )],
            vec![],
        );
        let found = IndexedRuns::of([&before, &segment(vec![], vec![gone.clone()])]);
        assert!(found.runs.is_empty());
        // kept for a while by a compaction, then forgotten
        let kept = IndexedRuns::of([&segment(vec![], vec![gone.clone()])]);
        assert_eq!(
            kept.into_segment("f", "now", "2027-01-01T00:00:00.000000Z")
                .deleted,
            std::slice::from_ref(&gone)
        );
        let kept = IndexedRuns::of([&segment(vec![], vec![gone.clone()])]);
        assert!(
            kept.into_segment("f", "now", "2027-01-08T00:00:00.000000Z")
                .deleted
                .is_empty()
        );
        let again = segment(
            vec![summary(
                "a",
                RunStatus::Success,
                "2027-01-01T00:00:09.000000Z",
            )],
            vec![],
        );
        let found = IndexedRuns::of([&before, &segment(vec![], vec![gone]), &again]);
        assert_eq!(
            found.runs.len(),
            1,
            "a run of that id ended after the deletion"
        );
    }

    #[test]
    fn failed_ops_are_summarised_with_their_exception() {
        let run: RunRecord = serde_json::from_str(
            r#"{"format": 3, "flow": "f", "version": "v1", "run_id": "r", "trigger": "airflow",
                "status": "failed", "params": {}, "started_at": "2027-01-01T00:00:00Z",
                "ended_at": "2027-01-01T00:00:30+00:00", "metrics": {}, "checks": {},
                "ops": {
                  "a": {"status": "success", "kind": "op", "prefix": "p", "tries": 1},
                  "b": {"status": "failed", "kind": "op", "prefix": "q", "tries": 2,
                        "error": {"type": "ValueError", "message": "bad"}},
                  "c": {"status": "upstream_failed", "kind": "op", "prefix": "r", "tries": 0}
                }}"#,
        )
        .unwrap();
        let summary = RunSummary::of(&run, "2027-01-01T00:01:00.000000Z");
        assert_eq!(
            summary.ended_at.as_deref(),
            Some("2027-01-01T00:00:30+00:00")
        );
        assert_eq!(summary.failed.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(summary.failed["b"].as_ref().unwrap().message, "bad");
    }
}
