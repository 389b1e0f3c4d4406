"""Formats across releases: which format a record is written in is the Rust core's rule
alone, a field a newer release added is ignored by readers (rolling upgrades) but a
misspelled one is never written, and `slipstream doctor` reports the formats a store holds
and which releases read them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import slipstream as ss
from slipstream._native import (
    FORMATS,
    UiServer,
    check_write,
    flow_run_op_path,
    flow_run_path,
    record_format,
)
from slipstream.records import files
from slipstream.records.types import OpState

from tests.flows import asset_flows, runner_flows
from tests.ui.test_ui import get


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = (tmp_path / "store").as_uri()
    runner_flows.chain().run(url, run_id="r1")
    return url


def doctor(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "doctor", "--store", url, *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_format_of_a_record_is_the_rust_cores_rule(url: str) -> None:
    store = ss.Store(url)
    run = json.loads(store.get_object(flow_run_path("chain", "r1")))
    state = json.loads(store.get_object(flow_run_op_path("chain", "r1", "start")))
    assert (run["format"], state["format"]) == (3, 2)  # what the release before reads
    # An `upstream` op needs the newer formats: its run, op state and spec say so.
    spec = asset_flows.report().spec()
    assert spec.format == 2 == record_format("spec", spec.to_json())
    upstream = files.parse(json.dumps(dict(state, kind="upstream")).encode(), "p", OpState)
    assert record_format("op_state", upstream.to_json()) == FORMATS["op_state"] == 3
    # A record that says another format than its content needs is never written.
    with pytest.raises(ValueError, match="its content is written as format 3"):
        files.dump(upstream.replace(format=2), "x/ops/a.json")
    assert json.loads(files.dump(upstream.replace(format=0), "p"))["format"] == 3  # stamped


def test_a_field_a_newer_release_added_is_read_around(url: str) -> None:
    store = ss.Store(url)
    for path in (flow_run_path("chain", "r1"), flow_run_op_path("chain", "r1", "start")):
        record = json.loads(store.get_object(path))
        store.put_object(path, json.dumps({**record, "added_later": {"x": 1}}).encode())
    run = ss.open(url).run("chain", "r1")
    assert run.status == "success" and run["total"] == 60
    server = UiServer(store, "127.0.0.1", 0)
    try:
        status, page, _ = get(f"{server.url}/flows/chain/runs/r1")
        assert status == 200 and "start" in page, page[:300]
    finally:
        server.stop()
    # and the SDK reads it as its record, without the field it does not know
    assert "added_later" not in run.ops["start"].state.to_dict()
    # but a writer never drops a field it does not know: a misspelling is refused
    state = store.get_object(flow_run_op_path("chain", "r1", "start"))
    with pytest.raises(ValueError, match="fields that no op state has: added_later"):
        check_write("op_state", state, "p")


def test_doctor_reports_the_formats_and_the_releases_that_read_them(url: str) -> None:
    proc = doctor(url)
    assert proc.returncode == 0, proc.stderr
    assert "run       format 3         1  read by slipstream 0.1.0 and later" in proc.stdout
    assert "every record reads in slipstream 0.1.0 and later" in proc.stdout
    report = json.loads(doctor(url, "--json").stdout)
    counts = {(r["kind"], r["format"]): r["count"] for r in report["records"]}
    assert counts[("try", 3)] == 3 and counts[("op_state", 2)] == 3 and counts[("spec", 1)] == 1
    assert report["unreadable"] == []


def test_doctor_names_records_a_newer_release_wrote_and_broken_ones(url: str) -> None:
    store = ss.Store(url)
    run = json.loads(store.get_object(flow_run_path("chain", "r1")))
    store.put_object(flow_run_path("chain", "r1"), json.dumps(dict(run, format=99)).encode())
    store.put_object(flow_run_op_path("chain", "r1", "start"), b"{cut sho")
    proc = doctor(url)
    assert proc.returncode == 4, proc.stdout
    assert "run       format 99        1  written by a newer slipstream" in proc.stdout
    assert f"reads run records up to format {FORMATS['run']}; upgrade" in proc.stdout
    assert "unreadable: flows/chain/runs/r1/ops/start.json: not JSON" in proc.stdout
