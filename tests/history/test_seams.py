"""Seams between the SDK, the CLI, `sync` and the UI: a run that moved to a newer version, tries
from before an upgrade, a deleted run Airflow still knows, what `latest` names, and the code
diff. Each reader is asked the same question and must give the same answer."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import pytest
import slipstream as ss
from slipstream._native import (
    UiServer,
    code_diff,
    flow_run_airflow_path,
    flow_run_path,
    index_forget,
)
from slipstream.airflow import OpFailed, run_task
from slipstream.airflow.sync import AirflowClient, sync_once
from slipstream.errors import ArtifactNotFound
from slipstream.history import run_index

from tests.flows import airflow_flows
from tests.support.records import date_run, date_version

RUN = "scheduled__2026-11-27T00:00:00+00:00"


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def cli(store: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slipstream.cli", *args, "--store", store],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> str:
    return (tmp_path / "store").as_uri()


@pytest.fixture
def ui(store: str) -> Iterator[str]:
    server = UiServer(ss.Store(store), "127.0.0.1", 0)
    try:
        yield server.url
    finally:
        server.stop()


# -- a run that moved to a newer version ---------------------------------------------------------


def test_an_op_the_newer_version_removed_is_not_left_pending(store: str, ui: str) -> None:
    v1 = airflow_flows.grown().publish(store)  # make -> use -> halve
    run_task(store, "fixable", v1, "make", run_id=RUN)
    run_task(store, "fixable", v1, "use", run_id=RUN)
    v2 = airflow_flows.fixable(fixed=True).publish(store)  # halve removed
    date_version(store, "fixable", v1, "2026-11-27T08:00:00+00:00")
    date_version(store, "fixable", v2, "2026-11-27T09:00:00+00:00")
    run_task(store, "fixable", v2, "use", run_id=RUN, try_number=2)  # cleared: runs v2

    run = ss.open(store).run("fixable", RUN)
    assert run.ops["use"].version == v2
    assert run.ops["halve"].status == "skipped", "removed by v2: it will never run"
    assert run.status == "success", "every op v2 has succeeded; the op it removed fails nothing"
    _, page = get(f"{ui}/flows/fixable/runs/{quote(RUN, safe='')}")
    assert 'data-op="halve" data-status="skipped"' in page
    assert '<span id="run-status"><span class="badge s-success">' in page
    _, listing = get(f"{ui}/flows/fixable")
    assert '<span class="badge s-success">success</span>' in listing


def test_an_op_only_the_newer_version_has_joins_the_run(store: str, ui: str) -> None:
    v1 = airflow_flows.fixable(fixed=True).publish(store)  # make -> use
    run_task(store, "fixable", v1, "make", run_id=RUN)
    v2 = airflow_flows.grown().publish(store)  # + halve
    date_version(store, "fixable", v1, "2026-11-27T08:00:00+00:00")
    date_version(store, "fixable", v2, "2026-11-27T09:00:00+00:00")
    run_task(store, "fixable", v2, "use", run_id=RUN)

    run = ss.open(store).run("fixable", RUN)
    assert run.ops["halve"].status == "pending" and run.status == "running"
    _, page = get(f"{ui}/flows/fixable/runs/{quote(RUN, safe='')}")
    assert ">halve</a>" in page


# -- tries from before an upgrade ----------------------------------------------------------------


def test_tries_before_an_upgrade_are_read_under_the_prefix_they_ran_with(
    store: str, ui: str
) -> None:
    v1 = airflow_flows.fixable(fixed=False).publish(store)
    run_task(store, "fixable", v1, "make", run_id=RUN)
    with pytest.raises(OpFailed):
        run_task(store, "fixable", v1, "use", run_id=RUN)
    v2 = airflow_flows.fixable(fixed=True).publish(store)
    run_task(store, "fixable", v2, "use", run_id=RUN, try_number=2)

    use = ss.open(store).run("fixable", RUN).ops["use"]
    first, second = use.state.attempts
    assert first.prefix != second.prefix == use.prefix, "the upgrade changed the prefix"
    assert [(t.try_number, t.version) for t in use.tries] == [(1, v1), (2, v2)]
    status, page = get(f"{ui}/flows/fixable/runs/{quote(RUN, safe='')}/ops/use?try=1")
    assert status == 200 and "cannot use 3 values yet" in page and "def use_broken" in page
    logs = cli(store, "show", "fixable", RUN, "use")
    assert f"try 1 ran version {v1}: failed: ValueError: cannot use 3 values yet" in logs.stdout


# -- sync and deleted runs -----------------------------------------------------------------------


class FakeAirflow:
    """What `sync` reads of Airflow's REST API: one slipstream DAG and its runs, each run's
    tasks succeeded."""

    api = "v2"

    def __init__(self, version: str, runs: list[dict[str, Any]]) -> None:
        self.version, self.runs = version, runs

    def pages(self, path: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        if path == "dags":
            tags = [{"name": "slipstream"}, {"name": f"version:{self.version}"}]
            yield {"dag_id": "fixable", "tags": tags}
        elif path.endswith("/dagRuns"):
            yield from self.runs
        elif path.endswith("/taskInstances"):
            for task in ("make", "use"):
                yield {"task_id": task, "state": "success", "try_number": 1,
                       "start_date": "2026-11-27T00:00:01Z",
                       "end_date": "2026-11-27T00:00:02Z"}  # fmt: skip


def dag_run(run_id: str, state: str) -> dict[str, Any]:
    return {"dag_run_id": run_id, "dag_id": "fixable", "state": state, "run_type": "scheduled",
            "start_date": "2026-11-27T00:00:00Z", "end_date": "2026-11-27T00:00:03Z"}  # fmt: skip


def test_sync_does_not_bring_back_a_run_delete_removed(store: str, ui: str) -> None:
    version = airflow_flows.fixable(fixed=True).publish(store)
    for task in ("make", "use"):
        run_task(store, "fixable", version, task, run_id=RUN)
    assert cli(store, "delete", "fixable", RUN, "--yes").returncode == 0
    other = "manual__2026-11-28T00:00:00+00:00"  # a run Airflow has and no task started yet
    airflow = FakeAirflow(version, [dag_run(RUN, "success"), dag_run(other, "queued")])
    slip = ss.Store(store)

    stats = sync_once(cast(AirflowClient, airflow), slip)
    for path in (flow_run_airflow_path("fixable", RUN), flow_run_path("fixable", RUN)):
        with pytest.raises(ArtifactNotFound):
            slip.get_object(path)
    assert stats.runs_deleted == 1
    assert not run_index.is_marked(run_index.marked(slip, "fixable"), "fixable", RUN)
    assert [r.run_id for r in ss.open(store).summaries("fixable")] == [other]
    assert RUN not in get(f"{ui}/flows/fixable")[1]
    slip.get_object(flow_run_airflow_path("fixable", other))  # the other run is synced

    # cleared in Airflow after the delete: its task writes the header again, and sync follows
    run_task(store, "fixable", version, "make", run_id=RUN, try_number=2)
    assert sync_once(cast(AirflowClient, airflow), slip).runs_deleted == 0
    slip.get_object(flow_run_airflow_path("fixable", RUN))


# -- one meaning of latest -----------------------------------------------------------------------


@ss.op
def count(n: int) -> int:
    return n


@ss.op
def positive(n: int) -> int:
    if n < 0:
        raise ValueError("negative")
    return n


def seams() -> ss.Flow:
    return ss.Flow("seams", outputs=[positive(count(ss.param("n", default=1)))])


NAMES = ("latest", "latest-failed", "latest-success")


def resolved(store: str, ui: str, name: str) -> tuple[str, str, str]:
    """The run `name` stands for as the SDK, the CLI and the UI resolve it."""
    sdk = ss.open(store).run("seams", name).run_id
    shown = cli(store, "show", "seams", name, "--json")
    assert shown.returncode == 0, shown.stderr
    status, page = get(f"{ui}/flows/seams/runs/{name}")
    assert status == 200, page
    title = page.split("<h1>Run ", 1)[1].split(" <span", 1)[0]
    return sdk, json.loads(shown.stdout)["run_id"], title


def run_file(store: str, run_id: str) -> Path:
    return Path(store.removeprefix("file://")) / "flows/seams/runs" / run_id / "run.json"


def test_latest_means_one_run_to_the_sdk_the_cli_and_the_ui(store: str, ui: str) -> None:
    flow = seams()
    for run_id, n, started in [
        ("early-ok", 1, "2027-01-01T09:00:00+00:00"),
        ("failed", -1, "2027-01-01T10:00:00+00:00"),
        ("newest-ok", 2, "2027-01-01T12:00:00Z"),  # newer, indexed before the next
        ("older-ok", 3, "2027-01-01T06:30:00-05:00"),  # 11:30 UTC, indexed after
        ("half-deleted", 4, "2027-01-01T14:00:00+00:00"),
    ]:
        flow.run(store, run_id=run_id, params={"n": n})
        date_run(store, "seams", run_id, started)
    # a local run killed at 13:00: interrupted, read from its record (marked, not indexed)
    killed = json.loads(run_file(store, "early-ok").read_text())
    killed.update(run_id="killed", status="running", ended_at=None,
                  started_at="2027-01-01T13:00:00+00:00",
                  runner=dict(killed["runner"], pid=2**22 + 1, started=1))  # fmt: skip
    killed["ops"]["positive"]["status"] = "pending"
    run_file(store, "killed").parent.mkdir()
    run_file(store, "killed").write_text(json.dumps(killed))
    run_index.mark_active(ss.Store(store), "seams", "killed")
    # a delete interrupted after the index recorded it, before the header went
    index_forget(ss.Store(store), "seams", "half-deleted", now="2099-01-01T00:00:00.000000Z")

    assert resolved(store, ui, "latest") == ("killed",) * 3
    assert resolved(store, ui, "latest-failed") == ("killed",) * 3, "interrupted counts"
    assert resolved(store, ui, "latest-success") == ("newest-ok",) * 3
    listed = [r.run_id for r in ss.open(store).summaries("seams")]
    assert listed[:2] == ["killed", "newest-ok"] and "half-deleted" not in listed
    # the runs comparison (`slipstream diff` of two runs) names the same runs
    compared = cli(store, "diff", "seams", "latest-failed", "latest-success", "--json")
    assert compared.returncode == 0, compared.stderr
    pair = json.loads(compared.stdout)
    assert (pair["a"]["run_id"], pair["b"]["run_id"]) == ("killed", "newest-ok")


def test_latest_without_a_run_index_skips_a_run_that_cannot_be_read(store: str, ui: str) -> None:
    flow = seams()
    flow.run(store, run_id="good", params={"n": 1})
    date_run(store, "seams", "good", "2027-01-01T10:00:00+00:00")
    root = Path(store.removeprefix("file://")) / "flows/seams"
    for folder in ("index", "active"):
        shutil.rmtree(root / folder, ignore_errors=True)
    # a newer run whose version's spec is not in the store: listed as unreadable, never named
    broken = json.loads(run_file(store, "good").read_text())
    broken.update(run_id="broken", version="f" * 16, started_at="2027-01-01T11:00:00+00:00")
    run_file(store, "broken").parent.mkdir()
    run_file(store, "broken").write_text(json.dumps(broken))

    for name in NAMES[::2]:
        assert resolved(store, ui, name) == ("good",) * 3


# -- one code diff -------------------------------------------------------------------------------


def test_slipstream_diff_prints_the_code_diff_the_ui_draws(store: str, ui: str) -> None:
    v1 = airflow_flows.fixable(fixed=False).publish(store)
    v2 = airflow_flows.fixable(fixed=True).publish(store)
    history = ss.open(store)

    def code(version: str) -> str:
        function = history.version("fixable", version).ops["use"].function
        return function.module_source or function.source

    expected = code_diff(code(v1), code(v2), f"use ({v1})", f"use ({v2})")
    assert expected.startswith(f"--- use ({v1})\n+++ use ({v2})\n@@ -")
    assert "\n-def use_broken(values: list[int]) -> int:\n" in expected
    assert "\n+    return sum(values) * 10\n" in expected
    shown = cli(store, "diff", "fixable", v1, v2)
    assert shown.returncode == 0 and f"\n{expected}" in shown.stdout
    as_json = json.loads(cli(store, "diff", "fixable", v1, v2, "--json").stdout)
    assert as_json["code_diffs"] == {"use": expected}
    assert code_diff(code(v1), code(v1)) == "", "no diff of the same code"

    status, page = get(f"{ui}/flows/fixable/diff?a={v1}&b={v2}")
    assert status == 200, page
    escape = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;"}
    for line in expected.splitlines()[3:]:  # what the UI draws line by line
        if line.startswith(("-", "+")):
            kind = "diff-del" if line[0] == "-" else "diff-add"
            assert f'<span class="{kind}">{line.translate(escape)}\n</span>' in page, line


# -- one reader of a run -------------------------------------------------------------------------


def test_the_sdk_the_cli_and_the_ui_name_the_same_run_the_same_way(store: str, ui: str) -> None:
    """A run is read by one reader (`read_run`): the same answer, and the same words when
    there is none, from the SDK, the CLI and the UI."""
    flow = airflow_flows.fixable(fixed=True)
    for run_id in ("night-1", "night-2", "noon"):
        flow.run(store, run_id=run_id)
    history = ss.open(store)
    assert history.run("fixable", "noo").run_id == "noon"
    _, page = get(f"{ui}/flows/fixable/runs/noo")
    assert "noon" in page

    said = "'night' is the start of 2 runs of flow 'fixable': night-1, night-2; give more of it"
    with pytest.raises(ss.errors.AmbiguousName) as raised:
        history.run("fixable", "night")
    assert str(raised.value) == said
    status, page = get(f"{ui}/flows/fixable/runs/night")
    assert status == 400 and said in html.unescape(page), page[-400:]
    proc = cli(store, "show", "fixable", "night")
    assert proc.returncode == 2 and said in proc.stderr, proc.stderr

    missing = "flow 'fixable' has no run 'dawn'"
    with pytest.raises(ss.errors.ArtifactNotFound, match=missing):
        history.run("fixable", "dawn")
    status, page = get(f"{ui}/flows/fixable/runs/dawn")
    assert status == 404 and missing in html.unescape(page), page[-400:]
    proc = cli(store, "show", "fixable", "dawn")
    assert proc.returncode == 3 and missing in proc.stderr, proc.stderr
    with pytest.raises(ss.errors.ArtifactNotFound, match="flow 'fixable' has no failed run"):
        history.run("fixable", "latest-failed")
