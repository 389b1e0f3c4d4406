"""The reading commands of `slipstream` on a real store: flows, runs, show, logs, get, diff,
with `--json` and exit codes that scripts can rely on."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import slipstream as ss
from PIL import Image

from tests.conftest import make_bucket
from tests.flows import airflow_flows, sample_flows
from tests.support.records import date_run, date_version

#: 24 MiB: several chunks on both backends, and above the size from which `get` shows progress.
BLOB = bytes(range(256)) * (96 * 1024)


def cli(store: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slipstream.cli", *args, "--store", store],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def as_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = (tmp_path_factory.mktemp("cli") / "store").as_uri()
    sample_flows.build(with_failure=True).run(url, run_id="run-1")
    airflow_flows.evolving(1).run(url, run_id="old")
    airflow_flows.evolving(2).run(url, run_id="new")
    airflow_flows.fixable(fixed=False).run(url, run_id="fix-1")
    airflow_flows.fixable(fixed=True).run(url, run_id="fix-2")
    flows = {"run-1": "sample", "old": "evolving", "new": "evolving", "fix-1": "fixable",
             "fix-2": "fixable"}  # fmt: skip
    history = ss.open(url)
    for hour, (run_id, flow) in enumerate(flows.items(), start=8):
        at = f"2026-11-24T{hour:02d}:00:00+00:00"
        date_run(url, flow, run_id, at)
        date_version(url, flow, history.run(flow, run_id).version.id, at)
    return url


def test_flows_and_runs(store: str) -> None:
    flows = {row["flow"]: row for row in as_json(cli(store, "flows", "--json"))}
    assert flows["sample"]["runs"] == 1 and flows["sample"]["last_status"] == "failed"
    assert flows["evolving"]["versions"] == 2 and flows["evolving"]["last_run"] == "new"
    runs = as_json(cli(store, "runs", "evolving", "--json"))
    assert [r["run_id"] for r in runs] == ["new", "old"]
    assert runs[0]["version"] != runs[1]["version"] and runs[0]["status"] == "success"
    sample = as_json(cli(store, "runs", "sample", "--json"))[0]
    assert sample["failed_checks"] == "spend_positive" and sample["seconds"] > 0
    text = cli(store, "runs", "sample").stdout
    assert text.splitlines()[0].split()[:3] == ["run_id", "status", "trigger"]
    assert "run-1" in text and "failed" in text


def test_show_a_run_and_an_op(store: str) -> None:
    run = as_json(cli(store, "show", "sample", "run-1", "--json"))
    assert run["ops"]["explode"]["status"] == "failed"
    assert run["ops"]["after_explode"]["status"] == "upstream_failed"
    assert run["params"] == {"scale": 2.0} and "mean_spend" in run["metrics"]
    op = as_json(cli(store, "show", "sample", "run-1", "explode", "--json"))
    assert op["status"] == "failed" and op["error"]["type"] == "ValueError"
    assert "def explode(frame: pd.DataFrame)" in op["code"]
    text = cli(store, "show", "sample", "run-1", "customers").stdout
    assert "output out: frame pandas.DataFrame, 50 rows" in text


def test_show_says_what_went_wrong_without_noise(store: str) -> None:
    text = cli(store, "show", "sample", "run-1").stdout
    assert "spend_positive: FAILED (warning)" in text and "ids_unique: passed (error)" in text
    row = next(line for line in text.splitlines() if line.startswith("explode "))
    assert "ValueError: " in row  # the exception's type, not only its message
    assert "op 'explode' failed: ValueError" in text and "sample_flows.py:" in text
    assert "None" not in text
    op = cli(store, "show", "sample", "run-1", "explode").stdout
    assert "after 1 try " in op and "defined at tests/flows/sample_flows.py:64" in op
    assert "called at tests/flows/sample_flows.py:" in op
    assert 'File "' in op and "raise ValueError" in op
    assert "None" not in op and "Traceback (most recent call last):\n\n" not in op
    check = cli(store, "show", "sample", "run-1", "spend_positive").stdout
    assert "check: FAILED (warning)" in check


def test_runs_are_named_by_latest_and_unique_prefixes(store: str) -> None:
    def shown(flow: str, ref: str) -> str:
        return str(as_json(cli(store, "show", flow, ref, "--json"))["run_id"])

    assert shown("evolving", "latest") == "new" and shown("evolving", "ol") == "old"
    assert shown("fixable", "latest-failed") == "fix-1"
    assert shown("fixable", "latest-success") == "fix-2"
    assert shown("sample", "latest-failed") == "run-1"
    none_failed = cli(store, "show", "evolving", "latest-failed")
    assert none_failed.returncode == 3 and "has no failed run" in none_failed.stderr
    ambiguous = cli(store, "show", "fixable", "fix-")
    assert ambiguous.returncode == 2 and "fix-1, fix-2" in ambiguous.stderr
    _, old = (r["version"] for r in as_json(cli(store, "runs", "evolving", "--json")))
    changes = as_json(cli(store, "diff", "evolving", old[:6], "latest", "--json"))
    assert changes["ops_added"] == ["grow"]
    typo = cli(store, "runs", "evolvng")
    assert typo.returncode == 3 and "did you mean 'evolving'?" in typo.stderr


def test_diff_shows_the_code_that_changed(store: str) -> None:
    versions = {r["run_id"]: r["version"] for r in as_json(cli(store, "runs", "fixable", "--json"))}
    text = cli(store, "diff", "fixable", versions["fix-1"], versions["fix-2"]).stdout
    assert "code changed    use" in text
    assert f"--- use ({versions['fix-1']})" in text and f"+++ use ({versions['fix-2']})" in text
    assert "-def use_broken(values: list[int]) -> int:" in text
    assert "+    return sum(values) * 10" in text


def test_get_writes_arrays_as_npy_and_values_as_json(store: str, tmp_path: Path) -> None:
    import numpy as np

    run = ss.open(store).run("sample", "run-1")
    proc = cli(store, "get", "sample", "run-1", "render", "matrix", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert np.array_equal(np.load(tmp_path / "render.matrix.npy"), run["render.matrix"])
    assert cli(store, "get", "sample", "run-1", "describe", "-o", str(tmp_path)).returncode == 0
    described = json.loads((tmp_path / "describe.json").read_text())
    assert described == json.loads(json.dumps(run["describe"]))  # tuples are JSON lists
    raw = cli(store, "get", "sample", "run-1", "describe", "--raw", "-o", str(tmp_path))
    assert raw.returncode == 0 and "bytes of bincode" in raw.stdout
    manifest = ss.Store(store).manifest(run.key("describe"))
    stored = tmp_path / f"describe.{manifest['payload'].rpartition('.')[2]}"
    assert stored.stat().st_size == manifest["bytes"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no leftovers"


def test_logs(store: str) -> None:
    proc = cli(store, "logs", "sample", "run-1", "explode")
    assert proc.returncode == 0 and proc.stdout == "about to fail on 50 rows\n"
    assert cli(store, "logs", "sample", "run-1", "explode", "--try", "2").returncode == 3


def test_diff_between_versions(store: str) -> None:
    new, old = (r["version"] for r in as_json(cli(store, "runs", "evolving", "--json")))
    changes = as_json(cli(store, "diff", "evolving", old, new, "--json"))
    assert changes["ops_added"] == ["grow"] and changes["ops_removed"] == []
    assert changes["edges_added"] == ["scaled -> grow"]
    assert "define the same flow" in cli(store, "diff", "evolving", old, old).stdout


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "nope"),
        ("show", "sample", "no-such-run"),
        ("show", "sample", "run-1", "no_such_op"),
        ("logs", "sample", "run-1", "after_explode"),  # never ran
        ("diff", "evolving", "0000000000000000", "1111111111111111"),
    ],
)
def test_missing_things_exit_3(store: str, args: tuple[str, ...]) -> None:
    proc = cli(store, *args)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("slipstream: ")


def test_bad_command_lines_exit_2(store: str, tmp_path: Path) -> None:
    assert cli(store, "runs").returncode == 2
    assert cli(store, "frobnicate").returncode == 2


def test_get_writes_the_verified_payload(store: str, tmp_path: Path) -> None:
    proc = cli(store, "get", "sample", "run-1", "customers", "-o", str(tmp_path / "c.parquet"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{tmp_path / 'c.parquet'}: frame pandas.DataFrame, 50 rows")
    assert "verified" in proc.stdout
    table = pq.read_table(tmp_path / "c.parquet")
    stored = ss.open(store).run("sample", "run-1")["customers"]
    assert table.num_rows == 50 and table.column("spend").to_pylist() == list(stored["spend"])
    # A folder as -o gets the default name; the output is named when the op has several.
    proc = cli(store, "get", "sample", "run-1", "render", "picture", "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    with Image.open(tmp_path / "render.picture.png") as picture:
        assert picture.size == (8, 8) and picture.getpixel((1, 0)) == 4
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no leftovers"


def test_get_explains_what_it_cannot_do(store: str, tmp_path: Path) -> None:
    ambiguous = cli(store, "get", "sample", "run-1", "render", "-o", str(tmp_path))
    assert ambiguous.returncode == 2 and "outputs matrix, picture" in ambiguous.stderr
    no_output = cli(store, "get", "sample", "run-1", "render", "nope", "-o", str(tmp_path))
    assert no_output.returncode == 3 and "no output 'nope'" in no_output.stderr
    failed = cli(store, "get", "sample", "run-1", "explode", "-o", str(tmp_path))
    assert failed.returncode == 3 and "has status failed" in failed.stderr
    missing_dir = tmp_path / "no" / "such" / "x.parquet"
    unwritable = cli(store, "get", "sample", "run-1", "customers", "-o", str(missing_dir))
    assert unwritable.returncode == 1 and str(missing_dir.parent) in unwritable.stderr
    assert not list(tmp_path.iterdir()), "nothing written by the refused commands"


def test_get_never_writes_a_corrupt_payload(store: str, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    shutil.copytree(Path(store.removeprefix("file://")), copy)
    run = ss.open(copy.as_uri()).run("sample", "run-1")
    key = run.key("render", "matrix")
    payload = copy / payload_path(run.store, key)
    data = bytearray(payload.read_bytes())
    data[-1] ^= 0x01  # the last byte: found only after every byte has gone by
    payload.write_bytes(bytes(data))
    dest = tmp_path / "matrix.bin"
    dest.write_text("what was here before")
    proc = cli(copy.as_uri(), "get", "sample", "run-1", "render", "matrix", "-o", str(dest))
    assert proc.returncode == 4 and "corrupt" in proc.stderr and "checksum" in proc.stderr
    assert dest.read_text() == "what was here before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matrix.bin", "store"]


@ss.op
def blob() -> bytes:
    return BLOB


@pytest.fixture(scope="module", params=["local", "s3"])
def big_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "local":
        url = (tmp_path_factory.mktemp("big") / "store").as_uri()
    else:
        url = f"s3://{make_bucket(request.getfixturevalue('s3_endpoint'))}/cli"
    ss.Flow("big", outputs=[blob()]).run(url, run_id="r")
    return url


def test_get_streams_a_large_artifact(big_store: str, tmp_path: Path) -> None:
    env = {**os.environ, "SLIPSTREAM_S3_PART_SIZE_MB": "5"}  # five ranges on S3
    proc = subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "get", "big", "r", "blob", "--store", big_store],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", "no progress bar off a terminal"
    assert (tmp_path / "blob.bin").read_bytes() == stored_payload(big_store)


def test_get_draws_progress_on_a_terminal(big_store: str, tmp_path: Path) -> None:
    """Progress goes to stderr only when it is a terminal: here a pseudo-terminal."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "slipstream.cli", "get", "big", "r", "blob", "--store", big_store],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=secondary,
    )  # fmt: skip
    os.close(secondary)
    drawn = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        drawn += chunk
    os.close(primary)
    assert proc.wait(timeout=120) == 0
    assert proc.stdout is not None and b"blob.bin: bytes" in proc.stdout.read()
    assert b"blob.bin [" in drawn and b"/24.00 MiB" in drawn, drawn[:300]
    assert (tmp_path / "blob.bin").read_bytes() == stored_payload(big_store)


def stored_payload(url: str) -> bytes:
    run = ss.open(url).run("big", "r")
    key = run.key("blob")
    return run.store.get_object(payload_path(run.store, key))


def payload_path(store: ss.Store, key: ss.ArtifactKey) -> str:
    """The payload's object path: beside the manifest, under the name the manifest gives."""
    return f"{key.manifest_path.rpartition('/')[0]}/{store.manifest(key)['payload']}"
