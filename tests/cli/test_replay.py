"""Replaying an op: the exact inputs it received in a run, and its function called on them
here (the local module's code, or the code stored with the version), with the post-mortem
debugger at the user's line when it fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import slipstream as ss

from tests.flows import sample_flows


def cli(store: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slipstream.cli", *args, "--store", store],
        capture_output=True, text=True, timeout=120, input=stdin,
    )  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = (tmp_path_factory.mktemp("replay") / "store").as_uri()
    sample_flows.build(with_failure=True).run(url, run_id="r1", params={"scale": 3.0})
    return url


def test_inputs_are_what_the_op_received(store: str) -> None:
    run = ss.open(store).run("sample", "r1")
    inputs = run.ops["render"].inputs()
    assert set(inputs) == {"frame", "scale"} and inputs["scale"] == 3.0  # the run's param
    assert isinstance(inputs["frame"], pd.DataFrame) and len(inputs["frame"]) == 50
    pd.testing.assert_frame_equal(inputs["frame"], run["customers"])
    assert run.ops["customers"].inputs() == {"rows": 50}  # constants filled in
    matrix, _ = sample_flows.render.local(**inputs)
    assert (matrix == run["render.matrix"]).all()
    with pytest.raises(ss.errors.ArtifactNotFound, match="has not run"):
        run.ops["after_explode"].inputs()


def test_replay_of_a_failed_op_shows_the_users_error(store: str) -> None:
    proc = cli(store, "replay", "sample", "r1", "explode")
    assert proc.returncode == 1, proc.stderr
    assert "replaying explode of run r1" in proc.stdout
    assert "ValueError: spend column has gone missing" in proc.stderr
    assert "sample_flows.py" in proc.stderr  # the trace reaches the user's line


def test_replay_with_pdb_stops_at_the_users_line(store: str) -> None:
    proc = cli(store, "replay", "sample", "r1", "explode", "--pdb", stdin="p len(frame)\nq\n")
    assert proc.returncode == 1
    assert "(Pdb)" in proc.stdout and "sample_flows.py" in proc.stdout
    assert "(Pdb) 50\n" in proc.stdout  # the post-mortem frame is the op's, with its inputs


def test_replay_stores_outputs_only_when_asked(store: str, tmp_path: Path) -> None:
    proc = cli(store, "replay", "sample", "r1", "summary")
    assert proc.returncode == 0, proc.stderr
    assert "out: pyarrow.lib.Table" in proc.stdout and "stored" not in proc.stdout
    out = tmp_path / "replayed"
    proc = cli(store, "replay", "sample", "r1", "summary", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    run = ss.open(store).run("sample", "r1")
    key = run.key("summary")
    assert ss.Store(out.as_uri()).get(key).equals(run["summary"])


def test_stored_code_of_an_imported_op_runs_where_it_was_captured(store: str) -> None:
    assert cli(store, "replay", "sample", "r1", "summary", "--stored-code").returncode == 0
    # an imported op whose module could not be captured whole has no code to run stored
    run = ss.open(store).run("sample", "r1")
    path = f"flows/sample/versions/{run.version.id}/spec.json"
    spec = json.loads(ss.Store(store).get_object(path))
    for op in spec["ops"]:
        op["function"].pop("module_source", None)
    ss.Store(store).put_object(path, json.dumps(spec).encode())
    proc = cli(store, "replay", "sample", "r1", "summary", "--stored-code")
    assert proc.returncode == 2 and "imported from module 'tests.flows.sample_flows'" in proc.stderr
