"""A run outlives a version: a task cleared after a recompile runs the new version on the
outputs the run already has, every try keeps its own version and code, and an output the new
version no longer has is named in the error. Tasks run as Airflow runs them (`run_task`, the
body of every task), so that each step is checked here; `test_airflow_api.py` runs the same
loop through real Airflow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import slipstream as ss
from slipstream._native import UiServer
from slipstream.airflow import OpFailed, run_task
from slipstream.records.types import Attempt

from tests.flows import airflow_flows
from tests.support.records import date_version
from tests.ui.test_ui import get

RUN = "scheduled__2026-11-27T00:00:00+00:00"


def cli(store: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slipstream.cli", *args, "--store", store],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> str:
    return (tmp_path / "store").as_uri()


def test_a_cleared_task_runs_the_new_version_on_the_runs_outputs(store: str) -> None:
    v1 = airflow_flows.fixable(fixed=False).publish(store)
    run_task(store, "fixable", v1, "make", run_id=RUN)
    with pytest.raises(OpFailed, match="cannot use 3 values yet"):
        run_task(store, "fixable", v1, "use", run_id=RUN)
    v2 = airflow_flows.fixable(fixed=True).publish(store)  # the fix, recompiled
    assert v2 != v1
    run_task(store, "fixable", v2, "use", run_id=RUN, try_number=2)  # cleared: try 2, on v2

    run = ss.open(store).run("fixable", RUN)
    assert run.status == "success" and run.version.id == v1  # the run started with v1
    use = run.ops["use"]
    assert use.status == "success" and use.version == v2 and run["use"] == 60
    assert [(t.try_number, t.version, t.status) for t in use.tries] == [
        (1, v1, "failed"), (2, v2, "success"),
    ]  # fmt: skip
    assert use.tries[0].error.message == "cannot use 3 values yet"  # try 1 stays visible
    assert "def use_fixed" in use.code and run.ops["make"].version == v1

    text = cli(store, "show", "fixable", RUN, "use").stdout
    assert "success after 2 tries" in text
    assert f"try 1 ran version {v1}: failed: ValueError: cannot use 3 values yet" in text
    assert f"try 2 ran version {v2}: succeeded" in text
    assert f"code of version {v2}:" in text and "def use_fixed" in text
    table = cli(store, "show", "fixable", RUN).stdout
    header = next(line for line in table.splitlines() if line.startswith("op "))
    assert header.split() == ["op", "status", "tries", "version", "error"] and v2 in table
    shown = json.loads(cli(store, "show", "fixable", RUN, "use", "--json").stdout)
    assert shown["tries"] == 2 and shown["try_versions"] == {"1": v1, "2": v2}

    server = UiServer(ss.Store(store), "127.0.0.1", 0)
    try:
        op_url = f"{server.url}/flows/fixable/runs/{quote(RUN, safe='')}/ops/use"
        status, page, _ = get(op_url)
        assert status == 200 and "def use_fixed" in page
        line = airflow_flows.use_fixed.fn.__code__.co_firstlineno
        assert f'id="defined-at">{airflow_flows.__file__}:{line}<' in page  # the def
        assert 'id="called-at">tests/flows/airflow_flows.py:' in page  # where the flow calls it
        assert f"the run started with <code>{v1}" in page
        # its output, written under version 2's prefix, is found and previewed
        assert "Not stored in this run" not in page and "<code>60</code>" in page
        status, _, _ = get(f"{op_url}/outputs/out")
        assert status == 200
        status, first, _ = get(f"{op_url}?try=1")  # try 1, with the code it ran
        assert "def use_broken" in first and "cannot use 3 values yet" in first
        _, run_page, _ = get(f"{server.url}/flows/fixable/runs/{quote(RUN, safe='')}")
        assert f'ran <a href="/flows/fixable/versions/{v2}"><code>{v2}</code></a>' in run_page
    finally:
        server.stop()


def test_an_output_the_new_version_renamed_is_named_in_the_error(store: str) -> None:
    v1 = airflow_flows.fixable(fixed=False).publish(store)
    run_task(store, "fixable", v1, "make", run_id=RUN)
    v2 = airflow_flows.renamed().publish(store)
    with pytest.raises(Exception) as failed:  # Airflow's "do not retry" wrapper
        run_task(store, "fixable", v2, "use", run_id=RUN, try_number=2)
    assert type(failed.value).__name__ == "AirflowFailException"  # retrying cannot help
    assert isinstance(failed.value.__cause__, OpFailed)
    message = str(failed.value)
    assert f"'make' ran version {v1}, whose outputs are out" in message
    assert "renamed or removed it" in message and "Clear 'make' too" in message
    error = ss.open(store).run("fixable", RUN).ops["use"].error
    assert error is not None and error.type == "slipstream.errors.UpstreamMismatch"


def test_a_run_moved_to_a_version_with_a_new_op_waits_for_it(store: str) -> None:
    v1 = airflow_flows.fixable(fixed=False).publish(store)
    run_task(store, "fixable", v1, "make", run_id=RUN)
    with pytest.raises(OpFailed):
        run_task(store, "fixable", v1, "use", run_id=RUN)
    v2 = airflow_flows.grown().publish(store)  # the fix adds `halve` after `use`
    date_version(store, "fixable", v1, "2026-11-27T08:00:00+00:00")
    date_version(store, "fixable", v2, "2026-11-27T09:00:00+00:00")
    run_task(store, "fixable", v2, "use", run_id=RUN, try_number=2)

    run = ss.open(store).run("fixable", RUN)
    assert run.status == "running", "the op v2 added has not run yet"
    assert run.ops["halve"].status == "pending"
    run_task(store, "fixable", v2, "halve", run_id=RUN)
    run = ss.open(store).run("fixable", RUN)
    assert run.status == "success" and run["halve"] == 30.0
    assert run.ops["halve"].version == v2

    server = UiServer(ss.Store(store), "127.0.0.1", 0)
    try:
        run_url = f"{server.url}/flows/fixable/runs/{quote(RUN, safe='')}"
        _, page, _ = get(run_url)
        assert ">halve</a>" in page, "the run page draws the op only v2 has"
        status, op_page, _ = get(f"{run_url}/ops/halve")
        assert status == 200 and "<code>30.0</code>" in op_page
    finally:
        server.stop()


def test_a_local_run_records_the_version_of_every_try(store: str) -> None:
    run = airflow_flows.fixable(fixed=True).run(store, run_id="r")
    use = run.ops["use"]
    assert use.version == run.version.id
    assert use.state.attempts == (Attempt(
        try_number=1, version=run.version.id, prefix=use.prefix,
        code_hash=run.version.ops["use"].function.code_hash,
    ),)  # fmt: skip
    assert use.tries[0].version == run.version.id
