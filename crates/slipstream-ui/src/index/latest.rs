//! What `latest`, `latest-failed` and `latest-success` name: the one rule by which the web UI,
//! the SDK (`History.run`, through `slipstream._native.read_run`) and so the CLI resolve
//! them.
//!
//! Among the runs the runs list shows (every run that can be read: ended runs as the run
//! index says, runs not over, or not yet indexed, as their records say now; without an
//! index, every run's records), those of the status asked for (`latest-failed`: failed or
//! interrupted; `latest-success`: succeeded; `latest`: any), the newest by start. Starts
//! compare as instants, whatever their spelling (an unparsable one is the oldest); of runs
//! that started at the same instant, the greater run id. A run that cannot be read is never
//! named: it has no status, and no page but its own to show it.

use slipstream_core::records::{RunStatus, RunSummary};

use crate::time::newest_first;

/// A run named by what it is rather than by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latest {
    /// `latest`: the newest run, whatever its status.
    Any,
    /// `latest-failed`: the newest run that failed or was interrupted.
    Failed,
    /// `latest-success`: the newest run that succeeded.
    Success,
}

impl Latest {
    /// The name's meaning, or None when it is not one of these names.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "latest" => Some(Self::Any),
            "latest-failed" => Some(Self::Failed),
            "latest-success" => Some(Self::Success),
            _ => None,
        }
    }

    /// What the name stands for, in messages: "run", "failed run", "successful run".
    pub fn what(self) -> &'static str {
        match self {
            Self::Any => "run",
            Self::Failed => "failed run",
            Self::Success => "successful run",
        }
    }

    /// Whether a run of `status` can be the run this name stands for.
    pub fn accepts(self, status: RunStatus) -> bool {
        match self {
            Self::Any => true,
            Self::Failed => matches!(status, RunStatus::Failed | RunStatus::Interrupted),
            Self::Success => status == RunStatus::Success,
        }
    }
}

/// The run `which` names among `runs` (the runs list; see the module's documentation).
pub fn latest<'a>(
    runs: impl IntoIterator<Item = &'a RunSummary>,
    which: Latest,
) -> Option<&'a RunSummary> {
    runs.into_iter()
        .filter(|r| which.accepts(r.status))
        .min_by(|a, b| newest_first((&a.started_at, &a.run_id), (&b.started_at, &b.run_id)))
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;

    use super::*;

    fn run(id: &str, status: RunStatus, started_at: &str) -> RunSummary {
        RunSummary {
            run_id: id.to_owned(),
            version: "v1".to_owned(),
            trigger: "local".to_owned(),
            status,
            params: IndexMap::new(),
            started_at: started_at.to_owned(),
            ended_at: None,
            metrics: IndexMap::new(),
            checks: IndexMap::new(),
            failed: IndexMap::new(),
            indexed_at: String::new(),
        }
    }

    #[test]
    fn the_newest_by_start_as_instants_then_the_greater_id() {
        let runs = [
            run("b", RunStatus::Success, "2027-01-01T10:00:00+00:00"),
            run("a", RunStatus::Failed, "2027-01-01T10:00:00.5Z"),
            run("z", RunStatus::Interrupted, "2027-01-01T05:30:00-05:00"), // 10:30 UTC
            run("y", RunStatus::Running, "not a time"),
        ];
        let named = |which| latest(&runs, which).map(|r| r.run_id.as_str());
        assert_eq!(named(Latest::Any), Some("z"));
        assert_eq!(
            named(Latest::Failed),
            Some("z"),
            "interrupted counts as failed"
        );
        assert_eq!(named(Latest::Success), Some("b"));
        let tied = [
            run("r-1", RunStatus::Success, "2027-01-01T10:00:00Z"),
            run("r-2", RunStatus::Success, "2027-01-01T10:00:00+00:00"),
        ];
        assert_eq!(latest(&tied, Latest::Any).unwrap().run_id, "r-2");
        assert!(latest(&runs[3..], Latest::Failed).is_none());
        assert_eq!(Latest::parse("latest-failed"), Some(Latest::Failed));
        assert_eq!(Latest::parse("latest-x"), None);
    }
}
