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
from slipstream.records.types import BY_KIND, AirflowRun, OpState

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
    """As its record class, every value it holds as it was (fields an older format lacks
    take their defaults)."""
    data = (GOLDEN / golden).read_bytes()
    name = Path(golden).name
    kind = next(k for prefix, k in KINDS.items() if name.startswith(prefix))
    record = files.parse(data, golden, BY_KIND[kind])
    assert files.kind_of(type(record)) == kind
    as_read = record.to_dict()
    written = json.loads(data.replace(b"NaN", b"null"))
    assert _pruned(_fields_of(as_read, written)) == _pruned(written)


def _fields_of(read: object, written: object) -> object:
    """Of `read`, the fields `written` has, at every depth (what reading filled in for an
    older format is left out)."""
    if isinstance(read, dict) and isinstance(written, dict):
        return {k: _fields_of(read.get(k), v) for k, v in written.items()}
    if isinstance(read, list) and isinstance(written, list) and len(read) == len(written):
        return [_fields_of(r, w) for r, w in zip(read, written, strict=True)]
    return read


def _pruned(value: object) -> object:
    """`value` without the nulls and empty lists and maps a record may leave out."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


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
    before = store.get_object(path)  # as the run left it
    with pytest.raises(TypeError, match=r"eror"):  # the class has no such field
        OpState(status="success", kind="op", prefix="p", tries=1, eror=None)  # type: ignore[call-arg]
    upstream = OpState(status="success", kind="upstream", prefix="p", tries=1, format=2)
    with pytest.raises(ValueError, match=r"refusing to write .*format"):  # its content needs 3
        runs.write_op_state(store, "sample", "r1", "customers", upstream)
    misspelled = OpState(status="success", kind="op", prefix="p", tries=1).to_dict()
    state_json = json.dumps({**misspelled, "format": 2, "eror": None}).encode()
    with pytest.raises(ValueError, match=r"refusing to write .*eror"):  # a field misspelled
        files.check_write("op_state", state_json, path)
    assert store.get_object(path) == before


def test_the_sdk_merges_a_run_seen_through_airflow_as_the_ui_does(url: str) -> None:
    """A header still says running; Airflow 2 reports one task as "none" (not scheduled) and
    one as "removed": the SDK reads them as the Rust merge does, pending and skipped."""
    history = ss.open(url)
    record = history.run("sample", "r1").record
    pending = {
        n: OpState(status="pending", kind=o.kind, prefix=o.prefix, tries=0)
        for n, o in record.ops.items()
    }
    header = record.replace(status="running", ended_at=None, ops=pending, metrics={}, checks={})
    store = ss.Store(url)
    store.delete_objects(store.list(flow_run_op_path("sample", "r1", "x").rsplit("/", 1)[0]))
    files.write(store, flow_run_path("sample", "r1"), header)
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
    path = flow_run_airflow_path("sample", "r1")
    files.write(store, path, files.parse(json.dumps(airflow).encode(), path, AirflowRun))
    run = history.run("sample", "r1")
    assert run.ops["customers"].status == "pending"
    assert run.ops["render"].status == "skipped"
    assert run.status == "running"
    # and the op file of a task that ran overrides the header, metric included
    mean = record.ops["mean_spend"]
    files.write(store, flow_run_op_path("sample", "r1", "mean_spend"), mean.replace(format=0))
    run = history.run("sample", "r1")
    assert run.ops["mean_spend"].status == "success"
    assert math.isclose(run.metrics["mean_spend"], mean.metric)


def test_a_metric_that_is_not_finite_fails_at_its_own_line(tmp_path: Path) -> None:
    run = sample_flows.nan_metric_flow().run((tmp_path / "store").as_uri(), run_id="r")
    op = run.ops["undefined_mean"]
    assert op.status == "failed" and op.error is not None
    assert "must be a finite number" in op.error.message
    assert "sample_flows.py" in op.error.traceback or op.error.phase == "outputs"
