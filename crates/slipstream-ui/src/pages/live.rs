//! `/flows/<flow>/runs/<run>/live`: the states of a run's ops as JSON, for the page of a run
//! that is not over to refresh itself (`/static/live.js`).

use serde::Serialize;
use slipstream_core::records::RunStatus;

use super::{op_status, seconds_between, shell};
use crate::index::Run;

#[derive(Debug, Serialize)]
pub struct LiveRun {
    pub status: String,
    /// Once true the page stops asking.
    pub over: bool,
    pub ops: indexmap::IndexMap<String, LiveOp>,
}

#[derive(Debug, Serialize)]
pub struct LiveOp {
    /// As the page shows it (`warning` for a failed warning check).
    pub status: String,
    pub tries: u32,
    /// As the page shows it, empty while the op runs.
    pub duration: String,
}

/// Whether a run's page follows it: while it is queued or running.
pub fn is_live(status: RunStatus) -> bool {
    matches!(status, RunStatus::Queued | RunStatus::Running)
}

/// How often a live page asks, in ms: every 2 s, less often for big runs (each ask merges
/// the run's op files anew).
pub fn interval_ms(ops: usize) -> u64 {
    (2_000 + 20 * ops as u64).min(15_000)
}

pub fn state(run: &Run) -> LiveRun {
    let ops = run
        .ops()
        .into_iter()
        .map(|op| {
            let state = run.op_state(&op.name);
            let duration = state
                .and_then(|s| seconds_between(s.started_at.as_deref()?, s.ended_at.as_deref()?))
                .map(shell::duration)
                .unwrap_or_default();
            let live = LiveOp {
                status: op_status(state).to_owned(),
                tries: state.map_or(0, |s| s.tries),
                duration,
            };
            (op.name.clone(), live)
        })
        .collect();
    LiveRun {
        status: run.record.status.as_str().to_owned(),
        over: !is_live(run.record.status),
        ops,
    }
}
