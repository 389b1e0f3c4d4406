"""The reading commands of `slipstream` on a real store: flows, runs, show, logs, diff, with
`--json` and exit codes that scripts can rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import airflow_flows, sample_flows


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
