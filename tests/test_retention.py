"""Retention (`slipstream gc`), pins: payloads and previews of the runs a policy selects are
deleted, their records kept, their outputs read as expired; never a pinned run's, a run's
that is not over, or what a kept run uses; on the local store and S3, from the CLI too."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
import slipstream as ss
from slipstream._native import UiServer, flow_run_path
from slipstream.cli import main as cli
from slipstream.errors import ArtifactExpired, ArtifactNotFound
from slipstream.history import retention

from tests.support.records import date_run

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
KEEP_TWO = retention.Retention(keep_last=2)


@ss.op
def source(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": range(n * 100)})


@ss.op
def total(frame: pd.DataFrame) -> int:
    return int(frame["x"].sum())


def flow() -> ss.Flow:
    return ss.Flow("kept", outputs=[total(source(ss.param("n", default=1)))])


def history(store: ss.Store, days_apart: int = 1) -> dict[str, ss.Run]:
    """Runs r1..r5 of `n` 1..5 on successive days, then r6 (n=1) which reuses r1's outputs."""
    runs = {}
    for i in range(1, 6):
        runs[f"r{i}"] = flow().run(store.url, params={"n": i}, run_id=f"r{i}")
        date_run(store.url, "kept", f"r{i}", f"2027-01-{i * days_apart:02d}T00:00:00+00:00")
    runs["r6"] = flow().run(store.url, params={"n": 1}, run_id="r6")
    date_run(store.url, "kept", "r6", "2027-01-20T00:00:00+00:00")
    assert runs["r6"].ops["source"].state.get("cached_from", {}).get("run_id") == "r1"
    return runs


def reads(store: ss.Store, run_id: str) -> bool:
    run = ss.open(store.url).run("kept", run_id)
    return bool(run["source"]["x"].sum() >= 0 and run["total"] >= 0)


def test_gc_deletes_payloads_of_selected_runs_and_keeps_their_records(store: ss.Store) -> None:
    history(store)
    dry = retention.plan(store, "kept", KEEP_TWO, NOW)
    assert dry.expired == ["r4", "r3", "r2", "r1"]  # newest first: r6 and r5 are kept
    assert dry.used_by == {"r1": ["r6"]}, "r6 reused r1's outputs: they stay"
    assert {t.run_id for t in dry.targets} == {"r2", "r3", "r4"}
    assert dry.bytes > 0 and all(reads(store, r) for r in ("r1", "r2", "r3", "r4"))

    done = retention.collect(store, dry, NOW)
    assert {t.run_id for t in done.targets} == {"r2", "r3", "r4"}
    for run_id in ("r1", "r5", "r6"):
        assert reads(store, run_id), f"{run_id} is kept or used by a kept run"
    run = ss.open(store.url).run("kept", "r3")
    assert run.status == "success" and run.params == {"n": 3}, "records stay"
    key = run.key("source")
    assert store.manifest(key)["rows"] == 300, "manifests stay"
    with pytest.raises(ArtifactExpired, match="expired: its payload was deleted by retention on "
                       "2027-03-01T12:00:00") as caught:  # fmt: skip
        run["source"]
    assert isinstance(caught.value, ArtifactNotFound)
    assert "keep the last 2 runs" in str(caught.value)
    assert not [p for p in store.list(key.run_dir) if p.endswith("preview.json")]
    assert store.stored_manifest(key) is None, "a cache lookup misses an expired output"

    again = retention.collect(store, retention.plan(store, "kept", KEEP_TWO, NOW), NOW)
    assert again.targets == [] and again.bytes == 0, "nothing is left to delete"


def test_pinned_runs_and_runs_not_over_are_kept(local_store: ss.Store) -> None:
    runs = history(local_store)
    retention.pin(local_store, runs["r3"], "the board deck", NOW)
    path = flow_run_path("kept", "r2")  # r2 as Airflow shows it mid-run: an op still going
    record = json.loads(local_store.get_object(path))
    record.update(status="running", ended_at=None, trigger="airflow")
    record.pop("runner", None)
    record["ops"]["total"]["status"] = "running"
    local_store.put_object(path, json.dumps(record).encode())

    plan = retention.collect(local_store, retention.plan(local_store, "kept", KEEP_TWO, NOW), NOW)
    assert (plan.pinned, plan.active, plan.expired) == (["r3"], ["r2"], ["r4", "r1"])
    assert {t.run_id for t in plan.targets} == {"r4"}
    assert all(reads(local_store, r) for r in ("r1", "r2", "r3", "r5", "r6"))

    assert retention.unpin(local_store, runs["r3"]) and not retention.unpin(local_store, runs["r3"])
    plan = retention.collect(local_store, retention.plan(local_store, "kept", KEEP_TWO, NOW), NOW)
    assert {t.run_id for t in plan.targets} == {"r3"}


def test_older_than_selects_by_age_among_runs_beyond_keep_last(local_store: ss.Store) -> None:
    history(local_store, days_apart=5)  # r1..r5 on Jan 5, 10, 15, 20, 25; r6 on Jan 20
    now = datetime(2027, 1, 31, tzinfo=UTC)
    by_age = retention.plan(local_store, "kept", retention.Retention(older_than_days=12), now)
    assert by_age.expired == ["r3", "r2", "r1"], "ended more than 12 days before Jan 31"
    both = retention.Retention(keep_last=5, older_than_days=12)
    assert retention.plan(local_store, "kept", both, now).expired == ["r1"]


def test_gc_from_the_command_line(
    local_store: ss.Store, capsys: pytest.CaptureFixture[str]
) -> None:
    history(local_store)
    args = ["gc", "kept", "--keep-last", "2", "--store", local_store.url]
    assert cli([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "r2: would delete 4 files of 2 ops" in out
    assert "r1: some outputs kept, used by r6" in out
    assert "kept: would delete 12 files" in out
    assert reads(local_store, "r2"), "a dry run deletes nothing"

    assert cli([*args, "--json"]) == 0
    [summary] = json.loads(capsys.readouterr().out)
    assert summary["expired_runs"] == ["r4", "r3", "r2", "r1"] and summary["files"] == 12
    assert summary["kept_for"] == {"r1": ["r6"]}
    assert cli(["get", "kept", "r2", "source", "-o", "x.parquet", "--store", local_store.url]) == 3
    assert "expired" in capsys.readouterr().err

    assert cli(["pin", "kept", "r5", "--store", local_store.url]) == 0
    assert "pinned run r5" in capsys.readouterr().out
    with pytest.raises(SystemExit) as usage:  # no flow, no --all-flows
        cli(["gc", "--store", local_store.url])
    assert usage.value.code == 2
    assert cli(["gc", "kept", "--store", local_store.url]) == 2  # no policy
    assert "needs keep_last, older_than_days or both" in capsys.readouterr().err


def test_the_ui_says_an_output_expired(local_store: ss.Store) -> None:
    history(local_store)
    retention.collect(local_store, retention.plan(local_store, "kept", KEEP_TWO, NOW), NOW)
    server = UiServer(local_store, "127.0.0.1", 0)
    try:
        with urllib.request.urlopen(f"{server.url}/flows/kept/runs/r2/ops/source") as page:
            html = page.read().decode()
        assert "expired by retention on 2027-03-01T12:00:00+00:00 (keep the last 2 runs)" in html
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(f"{server.url}/flows/kept/runs/r2/ops/source/outputs/out")
        assert gone.value.code == 410
    finally:
        server.stop()


GC = """
import sys
from datetime import datetime, UTC
import slipstream as ss
from slipstream.history import retention
store = ss.Store(sys.argv[1])
now = datetime(2027, 3, 1, tzinfo=UTC)
retention.collect(store, retention.plan(store, "kept", retention.Retention(keep_last=2), now), now)
"""


def test_two_gc_processes_at_once_keep_every_kept_artifact(store: ss.Store) -> None:
    history(store)
    procs = [subprocess.Popen([sys.executable, "-c", GC, store.url]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    kept: list[Any] = []
    for run_id in ("r1", "r5", "r6"):
        run = ss.open(store.url).run("kept", run_id)
        kept += [store.get(run.key(op)) for op in ("source", "total")]  # verified reads
    assert len(kept) == 6
    with pytest.raises(ArtifactExpired):
        ss.open(store.url).run("kept", "r4")["source"]
