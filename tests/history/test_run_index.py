"""The run index: ended runs summarised in a few segments per flow, so that the runs list and
a metric's history cost the same few requests however many runs a flow has. Written by the
local runner, by the Airflow task that ends a run (`run_task`, the body of every task), by
`sync`, `gc` and `delete`; rebuilt by `slipstream reindex`; a lost or damaged index loses no
run. The store's own tests (`crates/slipstream-store/tests/it/run_index.rs`) cover
compactions at once and deletions on both backends."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import slipstream as ss
from slipstream._native import UiServer, index_segments
from slipstream.airflow import OpFailed, run_task
from slipstream.cli import main as cli
from slipstream.history import run_index

from tests.flows import airflow_flows
from tests.ui.test_ui import get


@ss.op
def count(n: int) -> int:
    return n


@ss.metric
def score(value: int) -> float:
    return value / 2


def tiny() -> ss.Flow:
    return ss.Flow("tiny", outputs=[score(count(ss.param("n", default=1)))])


def listed(url: str, flow: str) -> list[str]:
    """Run ids the runs list of a fresh UI server shows, newest first (one page)."""
    server = UiServer(ss.Store(url), "127.0.0.1", 0)
    try:
        status, body, _ = get(f"{server.url}/flows/{flow}")
    finally:
        server.stop()
    assert status == 200, body
    return [unquote(r) for r in re.findall(rf'<td><a href="/flows/{flow}/runs/([^"]+)">', body)]


def indexed(store: ss.Store, flow: str) -> tuple[dict[str, str], list[str]]:
    """`({run id: status}, marked run folders)` as the index says."""
    found = run_index.summaries(store, flow)
    assert found is not None, "the flow has a usable index"
    runs, active = found
    return {r.run_id: r.status for r in runs}, active


def requests_per_view(store: ss.Store, url: str) -> tuple[int, int]:
    """Requests of the first and of a second view of `url` by one UI server."""
    server = UiServer(store, "127.0.0.1", 0)
    try:
        counts = []
        for _ in range(2):
            before = store.requests()
            status, body, _ = get(server.url + url)
            assert status == 200, body
            counts.append((store.requests() or 0) - (before or 0))
    finally:
        server.stop()
    return counts[0], counts[1]


def test_views_cost_the_same_few_requests_however_many_runs(s3_store: ss.Store) -> None:
    flow = tiny()
    costs = {}
    for total in (3, 14):
        for i in range(len(costs) * 3, total):
            flow.run(s3_store, run_id=f"r{i:02d}", params={"n": i})
        runs, active = indexed(s3_store, "tiny")
        assert len(runs) == total and not active
        assert len(index_segments(s3_store, "tiny")) <= 4, "compacted as it grows"
        listing = requests_per_view(s3_store, "/flows/tiny")
        history = requests_per_view(s3_store, f"/flows/tiny/runs/r{total - 1:02d}/ops/score")
        costs[total] = (listing, history)
        assert listing[0] <= 10 and history[0] <= 14, costs
    # a second view reads no segment again: two listings of the index, one of the versions
    assert costs[3][0][1] == costs[14][0][1] <= 4, costs
    assert costs[3][1][1] == costs[14][1][1], costs
    _, body, _ = get_page(s3_store, "/flows/tiny/runs/r13/ops/score")
    assert len(re.findall(r"<title>(?:this run, )?(r\d+): ([^<]+)</title>", body)) == 14


def get_page(store: ss.Store, url: str) -> tuple[int, str, object]:
    server = UiServer(store, "127.0.0.1", 0)
    try:
        return get(server.url + url)
    finally:
        server.stop()


def test_a_lost_or_damaged_index_loses_no_run(
    store: ss.Store, caplog: pytest.LogCaptureFixture
) -> None:
    flow = tiny()
    for i in range(6):
        flow.run(store, run_id=f"r{i}", params={"n": i})
    expected = [f"r{i}" for i in reversed(range(6))]
    assert listed(store.url, "tiny") == expected
    # damaged: the runs list reads every run record instead, and the writer of the next
    # compaction (a few runs later) finds the damage and rebuilds the index
    segment = index_segments(store, "tiny")[0]
    store.put_object(segment, b'{"format": 1, "runs": [')
    assert run_index.summaries(store, "tiny") is None
    assert listed(store.url, "tiny") == expected
    with caplog.at_level("WARNING", logger="slipstream"):  # the SDK says why, and what to do
        assert [r.run_id for r in ss.open(store.url).summaries("tiny")] == expected
    assert "the run index of flow 'tiny' is not used" in caplog.text
    assert "slipstream reindex tiny" in caplog.text
    for i in range(6, 11):
        flow.run(store, run_id=f"r{i}", params={"n": i})
        expected.insert(0, f"r{i}")
        if run_index.summaries(store, "tiny") is not None:
            break
    runs, _ = indexed(store, "tiny")
    assert sorted(runs) == sorted(expected) and segment not in index_segments(store, "tiny")
    # lost: the same; `reindex` builds it again
    store.delete_objects(index_segments(store, "tiny"))
    assert run_index.summaries(store, "tiny") is None
    assert listed(store.url, "tiny") == expected
    assert cli(["reindex", "tiny", "--store", store.url]) == 0
    assert len(index_segments(store, "tiny")) == 1
    assert listed(store.url, "tiny") == expected


def test_a_run_seen_through_its_tasks_is_indexed_by_the_task_that_ends_it(tmp_path: Path) -> None:
    url = (tmp_path / "store").as_uri()
    store = ss.Store(url)
    run = "scheduled__2027-01-01T00:00:00+00:00"
    v1 = airflow_flows.fixable(fixed=False).publish(url)
    run_task(url, "fixable", v1, "make", run_id=run)
    assert run_index.summaries(store, "fixable") is None, "no run has ended: no index yet"
    assert len(run_index.marked(store, "fixable")) == 1, "not over: marked"
    assert listed(url, "fixable") == [run]
    with pytest.raises(OpFailed):
        run_task(url, "fixable", v1, "use", run_id=run)  # fails for good: the run is over
    runs, active = indexed(store, "fixable")
    assert runs == {run: "failed"} and not active
    # cleared after a fix: marked again while it runs, indexed again when it ends
    v2 = airflow_flows.fixable(fixed=True).publish(url)
    run_task(url, "fixable", v2, "use", run_id=run, try_number=2)
    runs, active = indexed(store, "fixable")
    assert runs == {run: "success"} and not active
    server = UiServer(store, "127.0.0.1", 0)
    try:
        _, body, _ = get(f"{server.url}/flows/fixable")
    finally:
        server.stop()
    row = body[body.index(f"runs/{quote(run, safe='')}") :]
    assert "s-success" in row.split("</tr>")[0]


def test_delete_and_gc_keep_the_index_right(local_store: ss.Store) -> None:
    flow = tiny()
    for i in range(3):
        flow.run(local_store, run_id=f"r{i}", params={"n": i})
    assert cli(["delete", "tiny", "r1", "--yes", "--store", local_store.url]) == 0
    runs, _ = indexed(local_store, "tiny")
    assert sorted(runs) == ["r0", "r2"]
    assert listed(local_store.url, "tiny") == ["r2", "r0"]
    args = ["gc", "tiny", "--keep-last", "1", "--grace", "0", "--store", local_store.url]
    assert cli(args) == 0
    assert len(index_segments(local_store, "tiny")) == 1, "gc compacts the index"
    runs, _ = indexed(local_store, "tiny")
    assert sorted(runs) == ["r0", "r2"], "expired runs stay listed"
    server = UiServer(local_store, "127.0.0.1", 0)
    try:
        assert get(f"{server.url}/flows/tiny/runs/r1")[0] == 404
        # an indexed run whose records were removed by hand is not found, by id or by name
        shutil.rmtree(Path(local_store.url.removeprefix("file://")) / "flows/tiny/runs/r0")
        assert get(f"{server.url}/flows/tiny/runs/r0")[0] == 404
        status, body, _ = get(f"{server.url}/flows/tiny/runs/latest")
        assert status == 200 and "r2" in body
    finally:
        server.stop()
    assert cli(["reindex", "tiny", "--store", local_store.url]) == 0
    runs, _ = indexed(local_store, "tiny")
    assert sorted(runs) == ["r2"], "reindexed from the records there are"


def test_a_killed_local_run_stays_listed_until_reindexed(local_store: ss.Store) -> None:
    """A run whose process died keeps its marker: it is read from its record (and shown as
    interrupted) until `reindex` indexes it as what it is and removes the marker."""
    tiny().run(local_store, run_id="done", params={"n": 1})
    record = Path(local_store.url.removeprefix("file://")) / "flows/tiny/runs/done/run.json"
    killed = json.loads(record.read_text())
    killed.update(run_id="killed", status="running", ended_at=None,
                  runner=dict(killed["runner"], pid=2**22 + 1, started=1))  # fmt: skip
    killed["ops"]["score"]["status"] = "pending"  # killed before its last op
    folder = record.parent.parent / "killed"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps(killed))
    run_index.mark_active(local_store, "tiny", "killed")
    assert listed(local_store.url, "tiny")[0] == "killed"
    runs, active = indexed(local_store, "tiny")
    assert "killed" not in runs and active == ["killed"]
    assert cli(["reindex", "tiny", "--store", local_store.url]) == 0
    runs, active = indexed(local_store, "tiny")
    assert runs["killed"] == "interrupted" and not active
    assert listed(local_store.url, "tiny") == ["killed", "done"]
    run_index.mark_active(local_store, "tiny", "ghost")
    assert listed(local_store.url, "tiny") == ["killed", "done"], "a marker without a run"
