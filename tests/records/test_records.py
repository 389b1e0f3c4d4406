"""Record files through the SDK, the CLI and the UI: each is checked against its one Rust
definition, a newer format is refused everywhere with the same clear error, and a run seen
through its tasks is merged by the one merge the UI uses too."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import slipstream as ss
from slipstream._native import UiServer, flow_run_airflow_path, flow_run_op_path, flow_run_path
from slipstream.errors import CorruptArtifact, NewerFormat
from slipstream.records import files, runs

from tests.flows import sample_flows
from tests.ui.test_ui import get

GOLDEN = Path(__file__).parents[2] / "crates/slipstream-core/tests/golden"
KINDS = {
    "spec": "spec", "run": "run", "op-state": "op_state", "try-record": "try",
    "airflow": "airflow", "preview": "preview", "cache": "cache", "expiry": "expiry",
    "pin": "pin", "retention": "retention", "index": "index",
}  # fmt: skip


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = (tmp_path / "store").as_uri()
    sample_flows.build().run(url, run_id="r1")
    return url


def edit(url: str, path: str, change: dict[str, object]) -> None:
    store = ss.Store(url)
    record = json.loads(store.get_object(path))
    store.put_object(path, json.dumps({**record, **change}).encode())


# Manifests are left out: the store reads them itself, and the Rust golden test covers them.
@pytest.mark.parametrize(
    "golden",
    sorted(
        str(p.relative_to(GOLDEN))
        for p in GOLDEN.rglob("*.json")
        if not p.name.startswith("manifest")
    ),
)
def test_every_golden_file_reads_through_the_sdk(golden: str) -> None:
    data = (GOLDEN / golden).read_bytes()
    name = Path(golden).name
    kind = next(k for prefix, k in KINDS.items() if name.startswith(prefix))
    assert files.parse(data, golden, kind) == json.loads(data)  # type: ignore[arg-type]


def test_a_newer_format_is_refused_by_the_sdk_the_cli_and_the_ui(url: str) -> None:
    edit(url, flow_run_path("sample", "r1"), {"format": 999})
    with pytest.raises(NewerFormat, match=r"newer slipstream \(format 999\).*upgrade"):
        ss.open(url).run("sample", "r1")
    proc = subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "show", "sample", "r1", "--store", url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 4, proc.stderr  # the store cannot be read: never "not found"
    assert "newer slipstream (format 999)" in proc.stderr
    server = UiServer(ss.Store(url), "127.0.0.1", 0)
    try:
        status, body, _ = get(f"{server.url}/flows/sample/runs/r1")
        assert status == 502 and "newer slipstream (format 999)" in body
    finally:
        server.stop()


def test_a_record_that_is_not_its_kind_is_corrupt_not_missing(url: str) -> None:
    edit(url, flow_run_path("sample", "r1"), {"status": "runing"})
    with pytest.raises(CorruptArtifact, match=r"run\.json cannot be read"):
        ss.open(url).run("sample", "r1")
    proc = subprocess.run(  # (`runs` reads the run index, which has the run as it ended)
        [sys.executable, "-m", "slipstream.cli", "show", "sample", "r1", "--store", url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 4 and "runing" in proc.stderr, proc.stderr


def test_a_misspelled_record_is_never_written(url: str) -> None:
    store = ss.Store(url)
    path = flow_run_op_path("sample", "r1", "customers")
    state = {"format": 2, "status": "success", "kind": "op", "prefix": "p", "tries": 1,
             "eror": None}  # fmt: skip
    before = store.get_object(path)  # as the run left it
    with pytest.raises(ValueError, match=r"refusing to write .*eror"):
        runs.write_op_state(store, "sample", "r1", "customers", state)
    assert store.get_object(path) == before


def test_the_sdk_merges_a_run_seen_through_airflow_as_the_ui_does(url: str) -> None:
    """A header still says running; Airflow 2 reports one task as "none" (not scheduled) and
    one as "removed": the SDK reads them as the Rust merge does, pending and skipped."""
    history = ss.open(url)
    record = history.run("sample", "r1").record
    pending = {n: dict(o, status="pending", tries=0) for n, o in record["ops"].items()}
    header = dict(record, status="running", ended_at=None, ops=pending)
    store = ss.Store(url)
    store.delete_objects(store.list(flow_run_op_path("sample", "r1", "x").rsplit("/", 1)[0]))
    files.write(store, flow_run_path("sample", "r1"), "run", header)
    airflow = {
        "format": 1, "dag_id": "sample", "run_id": "r1", "state": "running",
        "run_type": "manual", "start_date": None, "end_date": None,
        "tasks": {
            "customers": {"state": "none", "try_number": 0, "start_date": None,
                          "end_date": None, "tries": []},
            "render": {"state": "removed", "try_number": 0, "start_date": None,
                       "end_date": None, "tries": []},
        },
    }  # fmt: skip
    files.write(store, flow_run_airflow_path("sample", "r1"), "airflow", airflow)
    run = history.run("sample", "r1")
    assert run.ops["customers"].status == "pending"
    assert run.ops["render"].status == "skipped"
    assert run.status == "running"
    # and the op file of a task that ran overrides the header, metric included
    mean = record["ops"]["mean_spend"]
    files.write(store, flow_run_op_path("sample", "r1", "mean_spend"), "op_state",
                dict(mean, format=2))  # fmt: skip
    run = history.run("sample", "r1")
    assert run.ops["mean_spend"].status == "success"
    assert math.isclose(run.metrics["mean_spend"], mean["metric"])


def test_a_metric_that_is_not_finite_fails_at_its_own_line(tmp_path: Path) -> None:
    run = sample_flows.nan_metric_flow().run((tmp_path / "store").as_uri(), run_id="r")
    op = run.ops["undefined_mean"]
    assert op.status == "failed" and op.error is not None
    assert "must be a finite number" in op.error["message"]
    assert "sample_flows.py" in op.error["traceback"] or op.error["phase"] == "outputs"
