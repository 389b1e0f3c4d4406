//! The one merge of what a run's files say, used by the SDK, the CLI and the UI alike:
//!
//! 1. `run.json`: written whole by the local runner, or as a header by the first task;
//! 2. `ops/<op>.json`, each written by its op's task, replace the header's op states;
//! 3. `airflow.json` (`slipstream sync`) is Airflow's word on the run state and on every
//!    task whose Airflow try is at least as new as the task's own file (a killed task never
//!    writes its file);
//! 4. what is still open is derived: a pending op below a failure is `upstream_failed`, and
//!    a run whose ops have all ended has a final status.

use super::{AirflowRun, FlowSpec, OpState, OpStatus, RunRecord, RunStatus};

/// The run as readers show it. A run that is no longer `running` is final and returned as
/// recorded; `op_files` are `(op name, state)` of the files found under `ops/`.
pub fn merge_run(
    mut run: RunRecord,
    spec: &FlowSpec,
    op_files: impl IntoIterator<Item = (String, OpState)>,
    airflow: Option<&AirflowRun>,
) -> RunRecord {
    if run.status != RunStatus::Running {
        return run;
    }
    for (name, state) in op_files {
        let Some(current) = run.ops.get_mut(&name) else {
            continue; // an op of another version: not part of this run's structure
        };
        if let Some(metric) = &state.metric {
            run.metrics.insert(name.clone(), metric.clone());
        }
        if let Some(check) = &state.check {
            run.checks.insert(name.clone(), check.clone());
        }
        *current = state;
    }
    if let Some(airflow) = airflow {
        for (name, task) in &airflow.tasks {
            let Some(current) = run.ops.get_mut(name) else {
                continue;
            };
            if task.try_number >= current.tries {
                current.status = op_status_from_airflow(task.state.as_deref());
                current.tries = task.try_number;
            }
            current.airflow_tries = Some(task.tries.clone());
        }
    }
    for op in &spec.ops {
        let blocked: Vec<String> = op
            .upstream
            .iter()
            .filter(|u| run.ops.get(*u).is_some_and(|s| s.status.blocks_consumers()))
            .cloned()
            .collect();
        if let Some(state) = run.ops.get_mut(&op.name)
            && state.status == OpStatus::Pending
            && !blocked.is_empty()
        {
            state.status = OpStatus::UpstreamFailed;
            state.blocked_by = blocked;
        }
    }
    let all_final = run.ops.values().all(|s| s.status.is_final());
    let all_success = run.ops.values().all(|s| s.status == OpStatus::Success);
    run.status = match airflow.and_then(|a| a.state.as_deref()) {
        Some("success") => RunStatus::Success,
        Some("failed") => RunStatus::Failed,
        Some("queued") => RunStatus::Queued,
        _ if all_final && all_success => RunStatus::Success,
        _ if all_final => RunStatus::Failed,
        _ => RunStatus::Running,
    };
    if let Some(end) = airflow.and_then(|a| a.end_date.clone()) {
        run.ended_at = Some(end);
    }
    run
}

/// An Airflow task-instance state (2 or 3) as an op status. `None`, `"none"` and `""` are
/// Airflow's ways of saying "not scheduled yet"; a state added by a later Airflow is kept
/// as it is spelled.
pub fn op_status_from_airflow(state: Option<&str>) -> OpStatus {
    match state {
        None | Some("none" | "") => OpStatus::Pending,
        Some("scheduled" | "queued" | "deferred" | "restarting" | "up_for_reschedule") => {
            OpStatus::Queued
        }
        Some("running") => OpStatus::Running,
        Some("success") => OpStatus::Success,
        Some("failed") => OpStatus::Failed,
        Some("up_for_retry") => OpStatus::UpForRetry,
        Some("upstream_failed") => OpStatus::UpstreamFailed,
        Some("skipped" | "removed") => OpStatus::Skipped,
        Some(other) => OpStatus::Other(other.to_owned()),
    }
}
