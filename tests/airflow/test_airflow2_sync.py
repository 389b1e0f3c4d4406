"""`slipstream sync` against a real Airflow 2.11: its webserver's `/api/v1` with basic auth,
and its scheduler running a slipstream DAG whose tasks succeed, fail, block their downstream
op and retry. Airflow 3's `/api/v2` is covered by test_airflow_api.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import slipstream as ss

from tests.flows import airflow2_flows
from tests.support.airflow2 import PASSWORD, USER, Airflow2Api, airflow2_stack

RUN_ID = "manual__2026-11-23T18:50:11.286216+00:00"  # `:` and `+` are quoted in URLs
QUEUED = "queued-while-paused"


class Stack:
    def __init__(self, api: Airflow2Api, root: Path) -> None:
        self.api, self.root = api, root
        self.store = (root / "store").as_uri()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("airflow2")
    flow = airflow2_flows.classic(marker_dir=str(root))
    retry = {"retry_delay": timedelta(seconds=1)}
    flow.to_airflow(root / "dags", store=(root / "store").as_uri(), default_args=retry)
    with airflow2_stack(root / "home", root / "dags") as api:
        api.wait_for_dag("classic")
        yield Stack(api, root)


def sync(stack: Stack, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    env = {"SLIPSTREAM_AIRFLOW_USERNAME": USER, "SLIPSTREAM_AIRFLOW_PASSWORD": password}
    return subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "sync", "--store", stack.store,
         "--airflow", stack.api.base_url],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env},
    )  # fmt: skip


def snapshot(stack: Stack) -> dict[str, bytes]:
    folder = stack.root / "store" / "flows"
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_sync_copies_airflow_2_runs_and_tries(stack: Stack) -> None:
    api = stack.api
    api.trigger("classic", RUN_ID)
    assert api.wait_for_run("classic", RUN_ID)["state"] == "failed"
    api.pause("classic", True)
    api.trigger("classic", QUEUED)  # a paused DAG's run stays queued: no task writes

    first = sync(stack)
    assert first.returncode == 0, first.stderr
    assert "1 DAG(s), 2 run(s) seen, 2 updated, 1 new" in first.stdout
    assert PASSWORD not in first.stdout + first.stderr

    history = ss.open(stack.store)
    run = history.run("classic", RUN_ID)
    assert run.record.trigger == "airflow"
    assert run.status == "failed" and run.ended_at == api.run("classic", RUN_ID)["end_date"]
    flaky = run.ops["flaky"]
    assert flaky.status == "success" and run["flaky"] == "second time lucky"
    assert [t.state for t in flaky.state.airflow_tries] == ["failed", "success"]
    assert [t.status for t in flaky.tries] == ["failed", "success"]
    assert run.ops["explode"].status == "failed"
    assert "cannot count 3 values today" in run.ops["explode"].error.message
    assert run.ops["after_explode"].status == "upstream_failed"
    assert run.ops["numbers"].status == "success" and run["numbers"] == [3, 1, 2]

    queued = history.run("classic", QUEUED)
    assert queued.status == "queued"
    assert {op.status for op in queued.ops.values()} == {"pending"}

    before = snapshot(stack)
    again = sync(stack)
    assert again.returncode == 0 and "0 updated, 0 new" in again.stdout
    assert snapshot(stack) == before, "a second sync changes nothing"


def test_sync_with_wrong_airflow_2_credentials_says_so(stack: Stack) -> None:
    before = snapshot(stack) if (stack.root / "store" / "flows").exists() else {}
    proc = sync(stack, password="wrong-pw")
    assert proc.returncode == 6, proc.stderr
    assert "Airflow refused GET" in proc.stderr and "check the credentials" in proc.stderr
    assert "wrong-pw" not in proc.stderr
    after = snapshot(stack) if (stack.root / "store" / "flows").exists() else {}
    assert after == before
