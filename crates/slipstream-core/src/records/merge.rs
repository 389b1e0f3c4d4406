//! The one merge of what a run's files say, used by the SDK, the CLI and the UI alike:
//!
//! 1. `run.json`: written whole by the local runner, or as a header by the first task;
//! 2. `ops/<op>.json`, each written by its op's task, replace the header's op states;
//! 3. `airflow.json` (`slipstream sync`) is Airflow's word on the run state and on every
//!    task whose Airflow try is at least as new as the task's own file (a killed task never
//!    writes its file);
//! 4. what is still open is derived: a pending op below a failure is `upstream_failed`, a
//!    run whose ops have all ended has a final status (and, unless Airflow said when, the
//!    end of its last op), and a local run whose process is gone is `interrupted`.

use std::collections::BTreeSet;

use super::{AirflowRun, FlowSpec, OpSpec, OpState, OpStatus, RunRecord, RunStatus};

/// The versions the op files say ran (besides the run's own): the specs a merge needs.
pub fn versions_ran<'a>(
    run: &RunRecord,
    op_files: impl IntoIterator<Item = &'a OpState>,
) -> BTreeSet<String> {
    op_files
        .into_iter()
        .filter_map(|s| s.version.clone())
        .filter(|v| *v != run.version)
        .collect()
}

/// The version whose structure a run has now, when it is not the one the run started
/// with: the most recently published of those its op states say ran (`specs` holds the
/// versions known; see [`merge_run`]).
pub fn newest_version<'a, 's>(
    run: &RunRecord,
    specs: &[&'a FlowSpec],
    states: impl IntoIterator<Item = &'s OpState>,
) -> Option<&'a FlowSpec> {
    let ran = versions_ran(run, states);
    specs
        .iter()
        .copied()
        .filter(|s| s.version == run.version || ran.contains(&s.version))
        .max_by(|a, b| {
            (a.published_at.as_deref(), &a.version).cmp(&(b.published_at.as_deref(), &b.version))
        })
        .filter(|s| s.version != run.version)
}

/// The run as readers show it. A run that is no longer `running` is over: its record is its
/// summary, and only Airflow's word on when it ended and on every task's tries is added
/// (`slipstream sync` may say them after the summary was written); `op_files` are `(op name, state)` of the files found under `ops/`; `specs` are
/// the spec of the run's version and of each version its op files say ran
/// ([`versions_ran`]; one missing is left out of the structure).
///
/// A task cleared after a recompile runs the newest version (Airflow moves unfinished task
/// instances to it), so once an op file names a version published after the run's, that
/// version's structure is the run's from then on: its new ops are pending until they run,
/// ops it removed that never ran are skipped, as Airflow marks them `removed`, and an op it
/// removed does not make the run fail once it has ended (Airflow's run succeeds when the
/// tasks its DAG still has do).
pub fn merge_run(
    mut run: RunRecord,
    specs: &[&FlowSpec],
    op_files: impl IntoIterator<Item = (String, OpState)>,
    airflow: Option<&AirflowRun>,
) -> RunRecord {
    if run.status != RunStatus::Running {
        if let Some(airflow) = airflow {
            for (name, task) in &airflow.tasks {
                if let Some(state) = run.ops.get_mut(name) {
                    state.airflow_tries = Some(task.tries.clone());
                }
            }
            if let Some(end) = &airflow.end_date {
                run.ended_at = Some(end.clone());
            }
        }
        return run;
    }
    let op_files: Vec<(String, OpState)> = op_files.into_iter().collect();
    let newest = newest_version(&run, specs, op_files.iter().map(|(_, s)| s));
    if let Some(newest) = newest {
        for op in &newest.ops {
            run.ops
                .entry(op.name.clone())
                .or_insert_with(|| pending(op));
        }
    }
    for (name, state) in op_files {
        if let Some(metric) = &state.metric {
            run.metrics.insert(name.clone(), metric.clone());
        }
        if let Some(check) = &state.check {
            run.checks.insert(name.clone(), check.clone());
        }
        run.ops.insert(name, state);
    }
    if let Some(newest) = newest {
        for (name, state) in run.ops.iter_mut() {
            if state.status == OpStatus::Pending && newest.op(name).is_none() {
                state.status = OpStatus::Skipped; // removed by the version the run moved to
            }
        }
    }
    // Whether Airflow's word is as new as every op file: else its run state is older than
    // what the tasks wrote since (a run cleared and run again before `sync` saw it).
    let mut airflow_current = airflow.is_some();
    if let Some(airflow) = airflow {
        for (name, current) in run.ops.iter_mut() {
            let Some(task) = airflow.tasks.get(name) else {
                airflow_current &= current.tries == 0;
                continue;
            };
            let said = op_status_from_airflow(task.state.as_deref());
            // Airflow's word on a task wins when its try is newer than the op file's, or as
            // new while the op file has not seen the try end (a task killed mid-try never
            // writes its end); an op file that saw the try end is newer than an Airflow
            // state of that try that had not.
            let file_ended = current.status.ends_try() && !said.ends_try();
            if task.try_number > current.tries || (task.try_number == current.tries && !file_ended)
            {
                current.status = said;
                current.tries = task.try_number;
            } else {
                airflow_current = false;
            }
            current.airflow_tries = Some(task.tries.clone());
        }
    }
    let airflow = airflow.filter(|_| airflow_current);
    // Each op's edges as the newest version that has it draws them.
    let op_spec = |name: &str| -> Option<&OpSpec> {
        newest
            .and_then(|s| s.op(name))
            .or_else(|| specs.iter().find_map(|s| s.op(name)))
    };
    let names: Vec<String> = run.ops.keys().cloned().collect();
    // Until nothing changes: ops a newer version added come last, not in dependency order.
    let mut changed = true;
    while changed {
        changed = false;
        for name in &names {
            let Some(op) = op_spec(name) else { continue };
            let blocked: Vec<String> = op
                .upstream
                .iter()
                .filter(|u| run.ops.get(*u).is_some_and(|s| s.status.blocks_consumers()))
                .cloned()
                .collect();
            if let Some(state) = run.ops.get_mut(name)
                && state.status == OpStatus::Pending
                && !blocked.is_empty()
            {
                state.status = OpStatus::UpstreamFailed;
                state.blocked_by = blocked;
                changed = true;
            }
        }
    }
    let all_final = run.ops.values().all(|s| s.status.is_final());
    // An op the version the run moved to removed decides nothing once it has ended (Airflow
    // marks it `removed`, and a run whose other tasks succeeded succeeds).
    let removed = |name: &str| newest.is_some_and(|s| s.op(name).is_none());
    let all_success = run
        .ops
        .iter()
        .all(|(name, s)| s.status == OpStatus::Success || removed(name));
    run.status = match airflow.and_then(|a| a.state.as_deref()) {
        Some("success") => RunStatus::Success,
        Some("failed") => RunStatus::Failed,
        Some("queued") => RunStatus::Queued,
        _ if all_final && all_success => RunStatus::Success,
        _ if all_final => RunStatus::Failed,
        _ if run.runner.as_ref().is_some_and(|r| r.is_gone()) => RunStatus::Interrupted,
        _ => RunStatus::Running,
    };
    if run.status == RunStatus::Interrupted {
        // its process is gone: an op it was running is not running any more
        for state in run.ops.values_mut() {
            if state.status == OpStatus::Running {
                state.status = OpStatus::Other("interrupted".to_owned());
            }
        }
    }
    if let Some(end) = airflow.and_then(|a| a.end_date.clone()) {
        run.ended_at = Some(end);
    }
    if run.ended_at.is_none() && matches!(run.status, RunStatus::Success | RunStatus::Failed) {
        // Over before `sync` said when: it ended when its last op did (slipstream writes
        // every op's end in one spelling, which orders as text).
        run.ended_at = run.ops.values().filter_map(|s| s.ended_at.clone()).max();
    }
    run
}

/// An op of a newer version that has not run in this run yet.
fn pending(op: &OpSpec) -> OpState {
    let mut state = OpState {
        format: 0,
        status: OpStatus::Pending,
        kind: op.kind,
        prefix: op.prefix.clone(),
        tries: 0,
        started_at: None,
        ended_at: None,
        error: None,
        metric: None,
        check: None,
        blocked_by: Vec::new(),
        airflow_tries: None,
        version: None,
        code_hash: None,
        attempts: Vec::new(),
        cache_key: None,
        cached_from: None,
    };
    state.format = super::Record::needed_format(&state);
    state
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
