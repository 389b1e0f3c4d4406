//! The merge of a run header, its op files and Airflow's synced state, over every task state
//! Airflow 2 and 3 report.

use serde_json::json;
use slipstream_core::records::{
    AirflowRun, FlowSpec, OpState, OpStatus, Record, RunRecord, RunStatus, Runner, merge_run,
    op_status_from_airflow, versions_ran,
};

/// A three-op chain `a -> b -> c`, published; its run header (all pending) and op states.
fn spec() -> FlowSpec {
    let op = |name: &str, upstream: &[&str]| {
        json!({
            "name": name, "kind": "op", "severity": null, "description": "",
            "function": {"module": "m", "qualname": name, "file": "m.py", "line": 1,
                         "importable": true, "source": "", "code_hash": "sha256:0"},
            "inputs": {}, "params": {}, "constants": {}, "convert": {}, "outputs": ["out"],
            "upstream": upstream, "allow_pickle": false, "retries": 0, "resources": {},
            "image": null, "defined_at": "m.py:1",
            "prefix": format!("00000000-0000-0000-0000-00000000000{}", name.len()),
        })
    };
    let spec = json!({
        "format": 1, "flow": "chain", "description": null, "schedule": null, "params": {},
        "ops": [op("a", &[]), op("b", &["a"]), op("c", &["b"])],
        "outputs": [{"op": "c", "output": "out"}], "version": "v1",
        "environment": {"python": "3.11", "libraries": {}},
    });
    FlowSpec::parse(spec.to_string().as_bytes()).unwrap()
}

fn header() -> RunRecord {
    let pending =
        |name: &str| json!({"status": "pending", "kind": "op", "prefix": name, "tries": 0});
    let record = json!({
        "format": 1, "flow": "chain", "version": "v1", "run_id": "r", "trigger": "airflow",
        "status": "running", "params": {}, "started_at": "2026-11-24T00:00:00+00:00",
        "ended_at": null, "ops": {"a": pending("a"), "b": pending("b"), "c": pending("c")},
        "metrics": {}, "checks": {},
    });
    RunRecord::parse(record.to_string().as_bytes()).unwrap()
}

fn state(status: &str, tries: u32) -> OpState {
    let state = json!({"format": 1, "status": status, "kind": "op", "prefix": "p", "tries": tries,
                       "started_at": "2026-11-24T00:00:01+00:00", "ended_at": null, "error": null});
    OpState::parse(state.to_string().as_bytes()).unwrap()
}

fn airflow(run_state: &str, task: &str, task_state: Option<&str>, try_number: u32) -> AirflowRun {
    let airflow = json!({
        "format": 1, "dag_id": "chain", "run_id": "r", "state": run_state, "run_type": "manual",
        "start_date": null, "end_date": null,
        "tasks": {task: {"state": task_state, "try_number": try_number, "start_date": null,
                         "end_date": null, "tries": []}},
    });
    AirflowRun::parse(airflow.to_string().as_bytes()).unwrap()
}

#[test]
fn every_airflow_task_state_maps_to_one_op_status() {
    let table: &[(Option<&str>, OpStatus)] = &[
        (None, OpStatus::Pending),
        (Some("none"), OpStatus::Pending), // Airflow 2's spelling of "not scheduled yet"
        (Some(""), OpStatus::Pending),
        (Some("scheduled"), OpStatus::Queued),
        (Some("queued"), OpStatus::Queued),
        (Some("deferred"), OpStatus::Queued),
        (Some("restarting"), OpStatus::Queued),
        (Some("up_for_reschedule"), OpStatus::Queued),
        (Some("running"), OpStatus::Running),
        (Some("success"), OpStatus::Success),
        (Some("failed"), OpStatus::Failed),
        (Some("up_for_retry"), OpStatus::UpForRetry),
        (Some("upstream_failed"), OpStatus::UpstreamFailed),
        (Some("skipped"), OpStatus::Skipped),
        (Some("removed"), OpStatus::Skipped),
        (Some("shutdown"), OpStatus::Other("shutdown".into())), // Airflow 2.x, kept as spelled
    ];
    for (airflow_state, expected) in table {
        assert_eq!(
            &op_status_from_airflow(*airflow_state),
            expected,
            "{airflow_state:?}"
        );
        // and through the merge, for a task Airflow has tried as often as its own file says
        let merged = merge_run(
            header(),
            &[&spec()],
            [("a".to_owned(), state("running", 1))],
            Some(&airflow("running", "a", *airflow_state, 1)),
        );
        assert_eq!(
            &merged.ops["a"].status, expected,
            "{airflow_state:?} merged"
        );
    }
}

#[test]
fn op_files_replace_the_header_and_failures_block_what_is_below() {
    let merged = merge_run(
        header(),
        &[&spec()],
        [("a".to_owned(), state("failed", 1))],
        None,
    );
    assert_eq!(merged.ops["a"].status, OpStatus::Failed);
    assert_eq!(merged.ops["b"].status, OpStatus::UpstreamFailed);
    assert_eq!(merged.ops["b"].blocked_by, ["a"]);
    assert_eq!(merged.ops["c"].status, OpStatus::UpstreamFailed);
    assert_eq!(merged.ops["c"].blocked_by, ["b"]);
    assert_eq!(merged.status, RunStatus::Failed, "every op has ended");
}

#[test]
fn a_run_over_before_sync_ends_when_its_last_op_did() {
    let ended = |status: &str, at: &str| {
        let mut s = state(status, 1);
        s.ended_at = Some(at.to_owned());
        s
    };
    let files = [
        (
            "a".to_owned(),
            ended("success", "2026-11-24T00:00:05+00:00"),
        ),
        (
            "b".to_owned(),
            ended("success", "2026-11-24T00:00:09.250000+00:00"),
        ),
        (
            "c".to_owned(),
            ended("success", "2026-11-24T00:00:07+00:00"),
        ),
    ];
    let merged = merge_run(header(), &[&spec()], files.clone(), None);
    assert_eq!(merged.status, RunStatus::Success);
    assert_eq!(
        merged.ended_at.as_deref(),
        Some("2026-11-24T00:00:09.250000+00:00")
    );
    let going = merge_run(header(), &[&spec()], files[..2].to_vec(), None);
    assert_eq!(going.ended_at, None, "a run not over has no end");
}

#[test]
fn a_run_still_going_stays_running() {
    let merged = merge_run(
        header(),
        &[&spec()],
        [("a".to_owned(), state("success", 1))],
        None,
    );
    assert_eq!(merged.status, RunStatus::Running);
    assert_eq!(merged.ops["b"].status, OpStatus::Pending);
}

#[test]
fn airflow_wins_only_when_its_try_is_as_new_as_the_op_file() {
    // The task's file says try 2 failed; Airflow still reports try 1 (an older sync).
    let stale = airflow("running", "a", Some("success"), 1);
    let merged = merge_run(
        header(),
        &[&spec()],
        [("a".to_owned(), state("failed", 2))],
        Some(&stale),
    );
    assert_eq!(merged.ops["a"].status, OpStatus::Failed);
    // A task killed before writing its file: Airflow's try 2 is newer than the file's try 1.
    let killed = airflow("failed", "a", Some("failed"), 2);
    let merged = merge_run(
        header(),
        &[&spec()],
        [("a".to_owned(), state("running", 1))],
        Some(&killed),
    );
    assert_eq!(
        (merged.ops["a"].status.clone(), merged.ops["a"].tries),
        (OpStatus::Failed, 2)
    );
    assert_eq!(
        merged.status,
        RunStatus::Failed,
        "Airflow's word on the run"
    );
}

#[test]
fn airflow_decides_the_run_state_and_its_end() {
    for (run_state, expected) in [
        ("success", RunStatus::Success),
        ("failed", RunStatus::Failed),
        ("queued", RunStatus::Queued),
        ("running", RunStatus::Running),
    ] {
        let mut synced = airflow(run_state, "a", Some("running"), 1);
        synced.end_date = Some("2026-11-24T01:00:00Z".into());
        let merged = merge_run(header(), &[&spec()], [], Some(&synced));
        assert_eq!(merged.status, expected, "{run_state}");
        assert_eq!(merged.ended_at.as_deref(), Some("2026-11-24T01:00:00Z"));
    }
}

#[test]
fn a_finished_run_is_returned_as_recorded() {
    let mut run = header();
    run.status = RunStatus::Success;
    let merged = merge_run(
        run,
        &[&spec()],
        [("a".to_owned(), state("failed", 1))],
        None,
    );
    assert_eq!(merged.ops["a"].status, OpStatus::Pending);
}

/// Version 2 of the chain, published after version 1: `b` renamed `b2`, `d` added after `c`.
fn spec_v2() -> FlowSpec {
    let mut v2 = serde_json::to_value(spec()).unwrap();
    v2["version"] = json!("v2");
    v2["published_at"] = json!("2026-11-24T02:00:00+00:00");
    let ops = v2["ops"].as_array_mut().unwrap();
    ops[1]["name"] = json!("b2");
    ops[2]["upstream"] = json!(["b2"]);
    let mut d = ops[2].clone();
    d["name"] = json!("d");
    d["upstream"] = json!(["c"]);
    ops.push(d);
    FlowSpec::parse(v2.to_string().as_bytes()).unwrap()
}

fn ran(status: &str, version: &str) -> OpState {
    let mut s = state(status, 1);
    s.version = Some(version.to_owned());
    s
}

#[test]
fn a_run_moved_to_a_newer_version_takes_its_structure() {
    let mut v1 = spec();
    v1.published_at = Some("2026-11-24T00:00:00+00:00".into());
    let v2 = spec_v2();
    let files = || {
        vec![
            ("a".to_owned(), ran("success", "v1")),
            ("b2".to_owned(), ran("success", "v2")),
        ]
    };
    let names = versions_ran(&header(), files().iter().map(|(_, s)| s));
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["v2"]);

    let merged = merge_run(header(), &[&v1, &v2], files(), None);
    assert_eq!(
        merged.ops["b2"].status,
        OpStatus::Success,
        "an op only v2 has ran"
    );
    assert_eq!(
        merged.ops["b"].status,
        OpStatus::Skipped,
        "v2 removed b, never ran"
    );
    assert_eq!(
        merged.ops["d"].status,
        OpStatus::Pending,
        "v2 added d, not run yet"
    );
    assert_eq!(merged.ops["d"].prefix, v2.op("d").unwrap().prefix);
    assert_eq!(merged.status, RunStatus::Running);

    // every op of v2 ended: the run is final without Airflow's word
    let mut done = files();
    done.push(("c".to_owned(), ran("success", "v2")));
    done.push(("d".to_owned(), ran("failed", "v2")));
    let merged = merge_run(header(), &[&v1, &v2], done.clone(), None);
    assert_eq!(merged.status, RunStatus::Failed);
    // ... and succeeds when they all did: the op v2 removed (skipped) fails nothing
    done.pop();
    done.push(("d".to_owned(), ran("success", "v2")));
    let merged = merge_run(header(), &[&v1, &v2], done, None);
    assert_eq!(merged.ops["b"].status, OpStatus::Skipped);
    assert_eq!(merged.status, RunStatus::Success);

    // v2's edges decide what a failure blocks: c reads b2 there, not b
    let failed = vec![
        ("a".to_owned(), ran("success", "v1")),
        ("b2".to_owned(), ran("failed", "v2")),
    ];
    let merged = merge_run(header(), &[&v1, &v2], failed, None);
    assert_eq!(merged.ops["c"].status, OpStatus::UpstreamFailed);
    assert_eq!(merged.ops["c"].blocked_by, ["b2"]);
    assert_eq!(merged.ops["d"].status, OpStatus::UpstreamFailed);

    // without v2's spec (unreadable), the op that ran is still shown
    let merged = merge_run(header(), &[&v1], files(), None);
    assert_eq!(merged.ops["b2"].status, OpStatus::Success);
    assert_eq!(merged.ops["b"].status, OpStatus::Pending);
}

#[test]
fn a_local_run_whose_process_is_gone_is_interrupted() {
    let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") else {
        return; // no /proc: a gone process cannot be told, which the next case covers
    };
    let with_runner = |host: &str, pid: u32| {
        let mut run = header();
        run.runner = Some(Runner {
            host: host.to_owned(),
            pid,
            boot_id: None,
            pid_namespace: None,
            started: None,
        });
        run
    };
    let here = host.trim();
    let no_such_pid = u32::MAX;
    let mut killed = with_runner(here, no_such_pid);
    let first = killed.ops.keys().next().unwrap().clone();
    killed.ops[&first].status = OpStatus::Running; // written as it started
    let merged = merge_run(killed, &[&spec()], [], None);
    assert_eq!(merged.status, RunStatus::Interrupted);
    assert_eq!(
        merged.ops[&first].status,
        OpStatus::Other("interrupted".into()),
        "the op it was running is not running any more"
    );
    let alive = merge_run(with_runner(here, std::process::id()), &[&spec()], [], None);
    assert_eq!(alive.status, RunStatus::Running);
    let elsewhere = merge_run(
        with_runner("another-host", no_such_pid),
        &[&spec()],
        [],
        None,
    );
    assert_eq!(
        elsewhere.status,
        RunStatus::Running,
        "cannot be told from here"
    );
    // this process's id, but another start time: the id was reused, the run's process is gone
    let mut reused = with_runner(here, std::process::id());
    reused.runner.as_mut().unwrap().started = Some(1);
    assert_eq!(
        merge_run(reused, &[&spec()], [], None).status,
        RunStatus::Interrupted
    );
    // another pid namespace (a container beside this one): its processes are not seen here
    let mut other_container = with_runner(here, no_such_pid);
    other_container.runner.as_mut().unwrap().pid_namespace = Some("pid:[1]".into());
    assert_eq!(
        merge_run(other_container, &[&spec()], [], None).status,
        RunStatus::Running
    );
}

#[test]
fn a_failure_reaches_past_ops_a_newer_version_inserted() {
    // v2 puts a new op `x` between `a` and `b`: `a -> x -> b -> c`.
    let mut v2 = serde_json::to_value(spec()).unwrap();
    v2["version"] = json!("v2");
    v2["published_at"] = json!("2026-11-24T02:00:00+00:00");
    let ops = v2["ops"].as_array_mut().unwrap();
    let mut x = ops[1].clone();
    x["name"] = json!("x");
    x["upstream"] = json!(["a"]);
    ops[1]["upstream"] = json!(["x"]);
    ops.insert(1, x);
    let v2 = FlowSpec::parse(v2.to_string().as_bytes()).unwrap();
    let merged = merge_run(
        header(),
        &[&spec(), &v2],
        [("a".to_owned(), ran("failed", "v2"))],
        None,
    );
    for op in ["x", "b", "c"] {
        assert_eq!(merged.ops[op].status, OpStatus::UpstreamFailed, "{op}");
    }
    assert_eq!(merged.status, RunStatus::Failed);
}

#[test]
fn a_run_that_is_over_takes_only_airflows_end_and_tries() {
    let mut summary = header();
    summary.status = RunStatus::Failed;
    summary.ended_at = Some("2026-11-24T00:00:05+00:00".into());
    for state in summary.ops.values_mut() {
        state.status = OpStatus::Failed;
    }
    let mut said = airflow("success", "b", Some("success"), 3);
    said.end_date = Some("2026-11-24T00:00:09Z".into());
    let merged = merge_run(
        summary,
        &[&spec()],
        [("b".into(), state("success", 3))],
        Some(&said),
    );
    // the summary's statuses stand: the task that wrote it saw every op's end
    assert_eq!(merged.status, RunStatus::Failed);
    assert_eq!(merged.ops["b"].status, OpStatus::Failed);
    assert_eq!(merged.ended_at.as_deref(), Some("2026-11-24T00:00:09Z"));
    assert_eq!(
        merged.ops["b"].airflow_tries.as_ref().map(Vec::len),
        Some(0)
    );
    assert!(merged.ops["a"].airflow_tries.is_none());
}

#[test]
fn op_files_newer_than_airflows_word_decide_the_run() {
    // Airflow said the run failed at `b`'s first try; `b` was cleared and ran again (try 2)
    // and `c` ran, before `sync` saw it: the op files are newer, and they say success.
    let said = json!({
        "format": 1, "dag_id": "chain", "run_id": "r", "state": "failed",
        "run_type": "manual", "start_date": null, "end_date": "2026-11-24T00:00:03Z",
        "tasks": {
            "a": {"state": "success", "try_number": 1, "start_date": null, "end_date": null, "tries": []},
            "b": {"state": "failed", "try_number": 1, "start_date": null, "end_date": null, "tries": []},
            "c": {"state": "upstream_failed", "try_number": 0, "start_date": null, "end_date": null, "tries": []},
        },
    });
    let said = AirflowRun::parse(said.to_string().as_bytes()).unwrap();
    let files = [
        ("a".to_owned(), state("success", 1)),
        ("b".to_owned(), state("success", 2)),
        ("c".to_owned(), state("success", 1)),
    ];
    let merged = merge_run(header(), &[&spec()], files, Some(&said));
    assert_eq!(merged.status, RunStatus::Success);
    assert!(merged.ops.values().all(|s| s.status == OpStatus::Success));
    assert_ne!(merged.ended_at.as_deref(), Some("2026-11-24T00:00:03Z"));
}

#[test]
fn an_op_file_that_saw_its_try_end_is_newer_than_airflow_saying_running() {
    // `sync` saw `c` running; its task then ended and wrote its file (same try).
    let said = airflow("running", "c", Some("running"), 1);
    let files = [
        ("a".to_owned(), state("success", 1)),
        ("b".to_owned(), state("success", 1)),
        ("c".to_owned(), state("success", 1)),
    ];
    let merged = merge_run(header(), &[&spec()], files, Some(&said));
    assert_eq!(merged.ops["c"].status, OpStatus::Success);
    assert_eq!(merged.status, RunStatus::Success);
    // but a task killed mid-try (its file still `running`) is as Airflow says
    let said = airflow("running", "c", Some("failed"), 1);
    let files = [
        ("a".to_owned(), state("success", 1)),
        ("b".to_owned(), state("success", 1)),
        ("c".to_owned(), state("running", 1)),
    ];
    let merged = merge_run(header(), &[&spec()], files, Some(&said));
    assert_eq!(merged.ops["c"].status, OpStatus::Failed);
}
