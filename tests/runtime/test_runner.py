"""The one op runner: a local run and an Airflow task run an op's try the same way and leave
the same records; an op shows `running` while it runs; a run's summary replaces its header
once the run is over, whichever task ends it, and a cleared task reopens it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import slipstream as ss
from slipstream._native import flow_run_airflow_path, flow_run_op_path, flow_run_path
from slipstream.airflow import OpFailed, run_task
from slipstream.records import runs

from tests.flows import runner_flows

RUN = "scheduled__2026-11-27T00:00:00+00:00"


@pytest.fixture
def store(tmp_path: Path) -> str:
    return (tmp_path / "store").as_uri()


def raw(store: str, path: str) -> dict:
    return json.loads(ss.Store(store).get_object(path))


def test_an_op_shows_running_while_it_runs(store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEEK_STORE", store)
    monkeypatch.setenv("PEEK_RUN", "r1")
    run = runner_flows.peeking().run(store, run_id="r1")
    seen = json.loads(run["peek"])
    assert seen["op"] == "running" and seen["run"] == "running"
    # While the run goes on its record is the header; the ops' states are in their files.
    assert seen["header"]["status"] == "running"
    assert {s["status"] for s in seen["header"]["ops"].values()} == {"pending"}
    # Once over, the summary has replaced it: readable without merging anything.
    summary = raw(store, flow_run_path("peeking", "r1"))
    assert summary["status"] == "success" and summary["ended_at"]
    assert {n: s["status"] for n, s in summary["ops"].items()} == {
        "peek": "success", "after_peek": "success",
    }  # fmt: skip


def test_a_local_run_and_airflow_tasks_leave_the_same_records(store: str) -> None:
    version = runner_flows.chain().publish(store)
    runner_flows.chain().run(store, run_id="local", cache=False)
    for op in ("start", "maybe_fail", "total"):
        run_task(store, "chain", version, op, run_id=RUN, cache=False)
    for op in ("start", "maybe_fail", "total"):
        here = raw(store, flow_run_op_path("chain", "local", op))
        there = raw(store, flow_run_op_path("chain", RUN, op))
        assert here.keys() == there.keys(), op
        assert (here["status"], here["tries"], here["version"]) == ("success", 1, version)
        assert [a["try_number"] for a in here["attempts"]] == [1]
    local, airflow = (raw(store, flow_run_path("chain", r)) for r in ("local", RUN))
    assert local["status"] == airflow["status"] == "success"
    assert local["metrics"] == airflow["metrics"] == {"total": 60}
    assert local["ops"].keys() == airflow["ops"].keys()


def test_the_task_that_ends_a_run_writes_its_summary(store: str) -> None:
    version = runner_flows.chain().publish(store)
    run_task(store, "chain", version, "start", run_id=RUN)
    header = raw(store, flow_run_path("chain", RUN))
    assert header["status"] == "running"  # not over: `maybe_fail` and `total` are to come
    run_task(store, "chain", version, "maybe_fail", run_id=RUN)
    assert raw(store, flow_run_path("chain", RUN))["status"] == "running"
    run_task(store, "chain", version, "total", run_id=RUN)
    summary = raw(store, flow_run_path("chain", RUN))
    assert summary["status"] == "success" and summary["metrics"] == {"total": 60}
    assert all(s["status"] == "success" for s in summary["ops"].values())


def test_a_failure_ends_the_run_and_a_cleared_task_reopens_it(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = runner_flows.chain().publish(store)
    run_task(store, "chain", version, "start", run_id=RUN)
    monkeypatch.setenv("CHAIN_FAILS", "1")
    with pytest.raises(OpFailed, match="told to fail"):
        run_task(store, "chain", version, "maybe_fail", run_id=RUN)  # no retries: over
    summary = raw(store, flow_run_path("chain", RUN))
    assert summary["status"] == "failed"
    assert summary["ops"]["total"]["status"] == "upstream_failed"
    assert summary["ops"]["total"]["blocked_by"] == ["maybe_fail"]
    assert ss.open(store).run("chain", RUN).status == "failed"

    monkeypatch.delenv("CHAIN_FAILS")  # cleared: the run is open again until it ends
    run_task(store, "chain", version, "maybe_fail", run_id=RUN, try_number=2)
    reopened = raw(store, flow_run_path("chain", RUN))
    assert reopened["status"] == "running" and reopened["ended_at"] is None
    assert ss.open(store).run("chain", RUN).ops["maybe_fail"].status == "success"
    run_task(store, "chain", version, "total", run_id=RUN)
    summary = raw(store, flow_run_path("chain", RUN))
    assert summary["status"] == "success"
    assert summary["ops"]["maybe_fail"]["tries"] == 2


def test_a_task_killed_mid_try_leaves_its_op_running(store: str, tmp_path: Path) -> None:
    """A task killed mid-try (SIGKILL: nothing runs after) leaves its op file `running`, and
    readers show the op and the run running, until Airflow's word (synced) says more."""
    version = runner_flows.hanging().publish(store)
    mark = tmp_path / "started"
    code = f"from slipstream.airflow import run_task; run_task({store!r}, 'hanging', "
    code += f"{version!r}, 'hang', run_id={RUN!r})"
    env = {**os.environ, "HANG_MARK": str(mark), "PYTHONPATH": os.pathsep.join(sys.path)}
    task = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 60
        while not mark.exists():
            assert task.poll() is None, "the task ended before its op started"
            assert time.monotonic() < deadline, "the op never started"
            time.sleep(0.05)
        state = raw(store, flow_run_op_path("hanging", RUN, "hang"))
        assert (state["status"], state["tries"], state.get("ended_at")) == ("running", 1, None)
    finally:
        task.kill()
        task.wait()
    run = ss.open(store).run("hanging", RUN)
    assert run.ops["hang"].status == "running" and run.status == "running"
    assert raw(store, flow_run_path("hanging", RUN))["status"] == "running"  # no summary


def test_an_interrupt_fails_the_op_it_stops_without_its_retries(store: str) -> None:
    with pytest.raises(KeyboardInterrupt):
        runner_flows.stopping().run(store, run_id="r1")
    summary = raw(store, flow_run_path("stopping", "r1"))
    state = summary["ops"]["interrupted"]
    assert summary["status"] == "failed"
    assert (state["status"], state["tries"]) == ("failed", 1)  # no retry after Ctrl-C
    assert state["error"]["type"] == "KeyboardInterrupt"


def test_a_failed_check_is_failed_not_up_for_retry_and_ends_the_run(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = runner_flows.checked().publish(store)
    monkeypatch.setenv("CHECK_FAILS", "1")
    for op in ("start", "total"):
        run_task(store, "checked", version, op, run_id=RUN, max_tries=2)
    with pytest.raises(Exception, match="all_positive"):  # Airflow is told not to retry
        run_task(store, "checked", version, "all_positive", run_id=RUN, max_tries=2)
    state = raw(store, flow_run_op_path("checked", RUN, "all_positive"))
    assert state["status"] == "failed"
    assert raw(store, flow_run_path("checked", RUN))["status"] == "failed"  # over: summary


def test_sync_reopens_a_run_airflow_runs_again_and_folds_in_its_word(store: str) -> None:
    version = runner_flows.chain().publish(store)
    for op in ("start", "maybe_fail", "total"):
        run_task(store, "chain", version, op, run_id=RUN)
    assert raw(store, flow_run_path("chain", RUN))["status"] == "success"

    def said(state: str, tries: int, end: str | None) -> None:
        task = {"state": "success" if end else None, "try_number": tries, "start_date": None,
                "end_date": None, "tries": [{"try_number": tries, "state": "success",
                "start_date": None, "end_date": end, "hostname": "w1"}]}  # fmt: skip
        airflow = {"format": 1, "dag_id": "chain", "run_id": RUN, "state": state,
                   "run_type": "manual", "start_date": None, "end_date": end,
                   "tasks": {op: task for op in ("start", "maybe_fail", "total")}}  # fmt: skip
        ss.Store(store).put_object(
            flow_run_airflow_path("chain", RUN), json.dumps(airflow).encode()
        )

    said("success", 1, "2026-11-27T00:05:00Z")  # over, as Airflow saw it: its end and tries
    assert runs.fold_airflow(ss.Store(store), "chain", RUN)
    summary = raw(store, flow_run_path("chain", RUN))
    assert summary["status"] == "success" and summary["ended_at"] == "2026-11-27T00:05:00Z"
    assert summary["ops"]["total"]["airflow_tries"][0]["hostname"] == "w1"
    assert not runs.fold_airflow(ss.Store(store), "chain", RUN), "nothing new: not rewritten"

    said("queued", 2, None)  # cleared in Airflow: queued again, before any task started
    assert runs.fold_airflow(ss.Store(store), "chain", RUN)
    assert raw(store, flow_run_path("chain", RUN))["status"] == "running"
    assert ss.open(store).run("chain", RUN).status == "queued"


def test_overwriting_an_unreadable_run_leaves_none_of_its_files(store: str) -> None:
    runner_flows.chain().run(store, run_id="r1")
    ss.Store(store).put_object(flow_run_path("chain", "r1"), b"{cut")
    ss.Store(store).put_object(  # an op file the new run would never write
        flow_run_op_path("chain", "r1", "gone"), b'{"status": "success"}'
    )
    run = runner_flows.chain().run(store, run_id="r1", overwrite=True)
    assert run.status == "success" and set(run.ops) == {"start", "maybe_fail", "total"}
    with pytest.raises(ss.errors.ArtifactNotFound):
        ss.Store(store).get_object(flow_run_op_path("chain", "r1", "gone"))
