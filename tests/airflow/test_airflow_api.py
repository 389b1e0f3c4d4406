"""Runs triggered through the Airflow 3 REST API, against api-server + scheduler +
dag-processor: retries, failures, checks and a conf override as Airflow itself runs them,
and `slipstream sync` copying Airflow's run and task states into the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import slipstream as ss
from slipstream.history import run_index

from tests.flows import airflow_flows
from tests.support.airflow import AirflowApi, AirflowHome, airflow_stack
from tests.support.servers import free_port

RUN_ID = "manual__2026-11-23T18:50:11.286216+00:00"


class Stack:
    def __init__(self, api: AirflowApi, store: str, markers: Path, home: AirflowHome) -> None:
        self.api, self.store, self.markers, self.home = api, store, markers, home


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("api")
    store = (root / "store").as_uri()
    home = AirflowHome(root / "airflow")
    retry = {"retry_delay": timedelta(seconds=1)}
    airflow_flows.semantics(marker_dir=str(root)).to_airflow(
        home.dags, store=store, default_args=retry
    )
    airflow_flows.gated(str(root)).to_airflow(home.dags, store=store)
    airflow_flows.fixable(fixed=False).to_airflow(home.dags, store=store)
    with airflow_stack(home) as api:
        api.wait_for_dag("semantics")
        api.wait_for_dag("gated")
        api.wait_for_dag("fixable")
        yield Stack(api, store, root, home)


def test_run_triggered_through_the_rest_api(stack: Stack) -> None:
    api, store = stack.api, stack.store
    api.trigger("semantics", RUN_ID, conf={"scale": 5.0})
    dag_run = api.wait_for_run("semantics", RUN_ID)
    tasks = api.task_instances("semantics", RUN_ID)

    assert dag_run["state"] == "failed"
    states = {task_id: ti["state"] for task_id, ti in tasks.items()}
    assert states["flaky"] == "success" and tasks["flaky"]["try_number"] == 2
    assert states["explode"] == "failed" and states["after_explode"] == "upstream_failed"
    assert states["sorted_numbers"] == "failed" and states["consume"] == "upstream_failed"
    assert states["all_small"] == "success" and states["scaled"] == "success"

    run = ss.open(store).run("semantics", RUN_ID)
    assert run.record.trigger == "airflow" and run.status == "failed"
    flaky = run.ops["flaky"]
    assert flaky.status == "success" and [t.status for t in flaky.tries] == ["failed", "success"]
    first = flaky.tries[0].error
    assert first is not None and first.message == "the warehouse is busy, try again"
    assert run["flaky"] == "second time lucky"
    error = run.ops["explode"].error
    assert error is not None and 'raise ValueError("the value column' in error.traceback
    assert run.ops["sorted_numbers"].status == "failed"
    assert run.ops["consume"].status == "upstream_failed"
    assert run.checks["all_small"].passed is False
    assert run.params == {"scale": 5.0} and run["scaled"]["value"].max() == 5.0


def test_the_ui_links_a_run_airflow_ran_to_its_dag_run_task_and_log(stack: Stack) -> None:
    """The links name what Airflow's REST API knows by those ids, and Airflow's UI serves them."""
    import html
    import re
    import urllib.parse

    import httpx
    from slipstream._native import UiServer

    api = stack.api
    api.wait_for_run("semantics", RUN_ID)
    server = UiServer(ss.Store(stack.store), "127.0.0.1", 0, None, api.base_url)
    try:
        quoted = urllib.parse.quote(RUN_ID, safe="")
        page = httpx.get(f"{server.url}/flows/semantics/runs/{quoted}", timeout=30).text
    finally:
        server.stop()
    links = [html.unescape(u) for u in re.findall(r'href="(' + re.escape(api.base_url) + '[^"]+)"',
                                                  page)]  # fmt: skip
    dag_run = f"{api.base_url}/dags/semantics/runs/{quoted}"
    assert dag_run in links
    assert f"{dag_run}/tasks/explode/details" in links
    assert f"{dag_run}/tasks/explode?try_number=1" in links
    assert f"{dag_run}/tasks/flaky?try_number=2" in links, "the log of the last try"
    # the ids in the links are Airflow's own
    assert api.client.get(f"/dags/semantics/dagRuns/{quoted}/taskInstances/flaky").json()[
        "try_number"] == 2  # fmt: skip
    for url in (dag_run, f"{dag_run}/tasks/explode/details"):
        answer = httpx.get(url, timeout=30, follow_redirects=True)
        assert answer.status_code == 200 and "<html" in answer.text.lower(), url


def sync(stack: Stack, *extra: str, airflow: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"SLIPSTREAM_AIRFLOW_USERNAME": "admin", "SLIPSTREAM_AIRFLOW_PASSWORD": "admin-pw"}
    return subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "sync", "--store", stack.store,
         "--airflow", airflow or stack.api.base_url, *extra],
        capture_output=True, text=True, timeout=300, env={**os.environ, **env},
    )  # fmt: skip


def snapshot(store: str) -> dict[str, bytes]:
    folder = Path(store.removeprefix("file://")) / "flows"
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def wait_for_task(api: AirflowApi, dag: str, run: str, task: str, state: str) -> None:
    deadline = time.monotonic() + 180
    while api.task_instances(dag, run).get(task, {}).get("state") != state:
        assert time.monotonic() < deadline, f"{dag}/{run}/{task} never became {state}"
        time.sleep(0.5)


def test_sync_copies_every_run_state_idempotently(stack: Stack) -> None:
    api = stack.api
    if not _exists(api, "semantics", RUN_ID):  # when run on its own
        api.trigger("semantics", RUN_ID, conf={"scale": 5.0})
    (stack.markers / "open").touch()
    api.trigger("gated", "passes", conf={"gate": "open"})
    api.trigger("gated", "held", conf={"gate": "later"})
    api.wait_for_run("semantics", RUN_ID)
    assert api.wait_for_run("gated", "passes")["state"] == "success"
    wait_for_task(api, "gated", "held", "wait_for", "running")

    first = sync(stack)
    assert first.returncode == 0, first.stderr
    assert "admin-pw" not in first.stdout + first.stderr
    history = ss.open(stack.store)
    failed = history.run("semantics", RUN_ID)
    assert failed.status == "failed" and failed.ended_at is not None
    flaky = failed.ops["flaky"].state
    assert flaky.status == "success" and flaky.tries == 2
    assert [t.state for t in flaky.airflow_tries] == ["failed", "success"]
    assert failed.ops["after_explode"].status == "upstream_failed"
    assert history.run("gated", "passes").status == "success"
    held = history.run("gated", "held")
    assert held.status == "running" and held.ops["wait_for"].status == "running"
    assert held.ops["wait_for"].record is None  # its task has not written anything yet

    before = snapshot(stack.store)
    again = sync(stack)
    assert again.returncode == 0 and "0 updated, 0 new" in again.stdout
    assert snapshot(stack.store) == before, "a second sync changes nothing"

    (stack.markers / "later").touch()
    assert api.wait_for_run("gated", "held")["state"] == "success"
    assert sync(stack).returncode == 0
    assert ss.open(stack.store).run("gated", "held").status == "success"
    synced = json.loads(
        (
            Path(stack.store.removeprefix("file://")) / "flows/gated/runs/held/airflow.json"
        ).read_text()
    )
    assert synced["tasks"]["wait_for"]["state"] == "success"
    # every run over is in the run index, and none is left marked
    found = run_index.summaries(ss.Store(stack.store), "gated")
    assert found is not None
    runs, active = found
    assert {r.run_id: r.status for r in runs} == {"passes": "success", "held": "success"}
    assert not active


def test_gc_during_sync_keeps_what_kept_runs_need(stack: Stack) -> None:
    """`gc` runs again and again while `sync` rewrites run states: afterwards every output
    of every kept run reads back verified. The runs reuse each other's outputs (cache
    hits), so a kept run needs outputs of runs gc expires."""
    api = stack.api
    (stack.markers / "open").touch()
    ids = [f"gc-{i}" for i in range(3)]
    for run_id in ids:
        api.trigger("gated", run_id, conf={"gate": "open"})
    for run_id in ids:
        assert api.wait_for_run("gated", run_id)["state"] == "success"
    gc = [sys.executable, "-m", "slipstream.cli", "gc", "gated", "--keep-last", "1",
          "--grace", "0.5", "--store", stack.store]  # fmt: skip
    syncs: list[subprocess.CompletedProcess[str]] = []
    syncing = threading.Thread(target=lambda: syncs.extend(sync(stack) for _ in range(3)))
    syncing.start()
    passes = 0
    while syncing.is_alive() or passes < 2:
        proc = subprocess.run(gc, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        passes += 1
    syncing.join()
    assert all(p.returncode == 0 for p in syncs), [p.stderr for p in syncs]
    history = ss.open(stack.store)
    runs = history.runs("gated")
    newest = runs[0]
    assert newest.run_id in ids or newest.run_id in ("passes", "held")
    assert newest["wait_for"] in ("open", "later")  # read back, checksum verified

    def stored_in(run: Any) -> str:  # the run whose output it reads (its own, or reused)
        reused = run.ops["wait_for"].state.cached_from
        return str(reused.run_id) if reused else str(run.run_id)

    for run in runs[1:]:  # expired, unless it reads what the kept run reads
        try:
            run["wait_for"]
        except ss.errors.ArtifactExpired:
            continue
        assert stored_in(run) == stored_in(newest), f"{run.run_id} was not expired"


def test_sync_reports_an_unreachable_airflow_and_keeps_the_store(stack: Stack) -> None:
    before = snapshot(stack.store)
    proc = sync(stack, airflow=f"http://127.0.0.1:{free_port()}")
    assert proc.returncode == 5
    assert "cannot reach Airflow at http://127.0.0.1:" in proc.stderr
    assert snapshot(stack.store) == before


def test_sync_with_wrong_credentials_says_so(stack: Stack) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "sync", "--store", stack.store,
         "--airflow", stack.api.base_url, "--username", "admin", "--password", "wrong-pw"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 6
    assert "refused the credentials of user 'admin'" in proc.stderr
    assert "wrong-pw" not in proc.stderr


def _exists(api: AirflowApi, dag: str, run_id: str) -> bool:
    runs = api.client.get(f"/dags/{dag}/dagRuns").json()["dag_runs"]
    return run_id in {r["dag_run_id"] for r in runs}


def test_a_failed_task_fixed_recompiled_and_cleared_succeeds(stack: Stack) -> None:
    """The everyday loop: a run fails in `use`; the op is fixed, the DAG recompiled (a new
    version) and the failed task cleared through the REST API. The task runs version 2 on
    the output `make` wrote under version 1, and the run ends `success`."""
    api, run_id = stack.api, "manual__fix-and-clear"
    v1 = airflow_flows.fixable(fixed=False).version
    api.trigger("fixable", run_id, conf={})
    assert api.wait_for_run("fixable", run_id)["state"] == "failed"
    fixed = airflow_flows.fixable(fixed=True)
    fixed.to_airflow(stack.home.dags, store=stack.store)
    v2 = fixed.version
    api.wait_for_dag_tag("fixable", f"version:{v2}")
    api.clear("fixable", run_id, ["use"])
    wait_for_task(api, "fixable", run_id, "use", "success")
    assert api.wait_for_run("fixable", run_id)["state"] == "success"

    run = ss.open(stack.store).run("fixable", run_id)
    assert run.status == "success" and run.version.id == v1
    use = run.ops["use"]
    assert use.version == v2 and run["use"] == 60
    assert [(t.version, t.status) for t in use.tries] == [(v1, "failed"), (v2, "success")]
    assert "def use_fixed" in use.code and run.ops["make"].version == v1
