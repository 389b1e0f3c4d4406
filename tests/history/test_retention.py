"""Retention (`slipstream gc`), pins: payloads and previews of the runs a policy selects are
deleted, their records kept, their outputs read as expired; never a pinned run's, a run's
that is not over, or what a kept run uses; on the local store and S3, from the CLI too."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
import slipstream as ss
from slipstream._native import UiServer, flow_run_op_path, flow_run_path
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
    assert runs["r6"].ops["source"].state.cached_from.run_id == "r1"
    return runs


def gc(store: ss.Store) -> retention.Plan:
    """Keeps the last two runs of `kept`, at NOW."""
    return retention.collect(store, retention.plan(store, "kept", KEEP_TWO, NOW), NOW, grace=0)


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

    done = retention.collect(store, dry, NOW, grace=0)
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

    again = gc(store)
    assert again.targets == [] and again.bytes == 0, "nothing is left to delete"


def test_a_run_that_starts_reusing_outputs_during_gc_keeps_them(local_store: ss.Store) -> None:
    history(local_store)
    planned = retention.plan(local_store, "kept", KEEP_TWO, NOW)
    assert "r2" in {t.run_id for t in planned.targets}
    # between the plan and the deletion, a run reuses r2's outputs from the cache
    r7 = flow().run(local_store.url, params={"n": 2}, run_id="r7")
    assert r7.ops["source"].state.cached_from.run_id == "r2"
    done = retention.collect(local_store, planned, NOW, grace=0)
    assert {t.run_id for t in done.targets} == {"r3", "r4"}
    assert done.used_by["r2"] == ["r7"]
    assert reads(local_store, "r7") and reads(local_store, "r2")
    assert local_store.stored_manifest(ss.open(local_store.url).run("kept", "r2").key("source"))


def test_pinned_runs_and_runs_not_over_are_kept(local_store: ss.Store) -> None:
    runs = history(local_store)
    retention.pin(local_store, runs["r3"], "the board deck", NOW)
    path = flow_run_path("kept", "r2")  # r2 as Airflow shows it mid-run: an op still going
    record = json.loads(local_store.get_object(path))
    record.update(status="running", ended_at=None, trigger="airflow")
    record.pop("runner", None)
    record["ops"]["total"]["status"] = "running"
    local_store.put_object(path, json.dumps(record).encode())
    local_store.put_object(  # where a running op says so
        flow_run_op_path("kept", "r2", "total"), json.dumps(record["ops"]["total"]).encode()
    )

    plan = retention.collect(
        local_store, retention.plan(local_store, "kept", KEEP_TWO, NOW), NOW, grace=0
    )
    assert (plan.pinned, plan.active, plan.expired) == (["r3"], ["r2"], ["r4", "r1"])
    assert {t.run_id for t in plan.targets} == {"r4"}
    assert all(reads(local_store, r) for r in ("r1", "r2", "r3", "r5", "r6"))

    assert retention.unpin(local_store, runs["r3"]) and not retention.unpin(local_store, runs["r3"])
    plan = retention.collect(
        local_store, retention.plan(local_store, "kept", KEEP_TWO, NOW), NOW, grace=0
    )
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
    args = ["gc", "kept", "--keep-last", "2", "--grace", "0", "--store", local_store.url]
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
    assert cli(["show", "kept", "r2", "source", "--store", local_store.url]) == 0
    assert "outputs expired by retention on " in capsys.readouterr().out

    assert cli(["pin", "kept", "r5", "--store", local_store.url]) == 0
    assert "pinned run r5" in capsys.readouterr().out
    for no_flow_or_no_policy in (["gc"], ["gc", "kept"]):
        with pytest.raises(SystemExit) as usage:
            cli([*no_flow_or_no_policy, "--store", local_store.url])
        assert usage.value.code == 2
    assert "declares no retention" in capsys.readouterr().err


def test_the_ui_says_an_output_expired(local_store: ss.Store) -> None:
    history(local_store)
    gc(local_store)
    server = UiServer(local_store, "127.0.0.1", 0)
    try:
        with urllib.request.urlopen(f"{server.url}/flows/kept/runs/r2/ops/source") as page:
            html = page.read().decode()
        assert "expired by retention on 2027-03-01T12:00:00.000Z (keep the last 2 runs)" in html
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


def test_delete_removes_a_run_completely_unless_others_use_it(
    local_store: ss.Store, capsys: pytest.CaptureFixture[str]
) -> None:
    history(local_store)
    url = local_store.url
    assert cli(["delete", "kept", "r1", "--yes", "--store", url]) == 7
    assert "runs r6 of kept use outputs of run r1" in capsys.readouterr().err
    assert cli(["delete", "kept", "r2", "--store", url]) == 7  # no terminal, no --yes
    assert "needs --yes" in capsys.readouterr().err
    assert reads(local_store, "r2")

    key = ss.open(url).run("kept", "r2").key("source")
    assert cli(["delete", "kept", "r2", "--yes", "--store", url]) == 0
    assert "deleted run r2 of kept" in capsys.readouterr().out
    assert [r.run_id for r in ss.open(url).runs("kept")] == ["r6", "r5", "r4", "r3", "r1"]
    assert local_store.list(key.run_dir) == [], "what its ops wrote is gone too"
    assert not [p for p in local_store.list("flows/kept/runs/") if "/r2/" in p]

    assert cli(["pin", "kept", "r5", "--store", url]) == 0
    assert cli(["delete", "kept", "r5", "--yes", "--store", url]) == 7
    assert "is pinned: unpin it first" in capsys.readouterr().err
    assert cli(["delete", "kept", "r6", "--yes", "--store", url]) == 0
    assert cli(["delete", "kept", "r1", "--yes", "--store", url]) == 0, "r6 used it, r6 is gone"
    assert reads(local_store, "r5")


def test_orphans_older_than_the_safety_age_are_removed(
    store: ss.Store, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import timedelta

    from slipstream.history import orphans

    history(store)
    key = ss.open(store.url).run("kept", "r5").key("source")
    folder = key.manifest_path.rsplit("/", 1)[0]
    store.put_object(f"{folder}/payload-00000000.parquet", b"a put killed before its manifest")
    # a run folder whose header is gone (an interrupted delete)
    store.put_object("flows/kept/runs/zombie/ops/source.json", b"{}")
    if store.url.startswith("s3://"):
        bucket, _, root = store.url.removeprefix("s3://").partition("/")
        s3 = boto3.client("s3")
        upload = s3.create_multipart_upload(Bucket=bucket, Key=f"{root}/{folder}/x")
        s3.upload_part(Bucket=bucket, Key=f"{root}/{folder}/x", UploadId=upload["UploadId"],
                       PartNumber=1, Body=b"p" * 100)  # fmt: skip
        leftover = f"{folder}/x (open multipart upload)"
    else:
        tmp = Path(store.url.removeprefix("file://"), folder, ".tmp-killed")
        tmp.write_bytes(b"half")
        leftover = f"{folder}/.tmp-killed"

    young = orphans.find(store, datetime.now(UTC))  # everything is younger than a day
    assert (young.payloads, young.run_folders) == ([], [])
    # moto dates every multipart upload 2010-11-10: there, an open upload always looks old
    assert [p for p, _ in young.leftovers] == ([leftover] if store.url.startswith("s3://") else [])
    # What is kept for being young is counted and said: the payload, and the local temp file.
    assert young.young == ((1, 32) if store.url.startswith("s3://") else (2, 36))
    kept = "1 leftovers younger" if store.url.startswith("s3://") else "2 leftovers younger"
    assert f"kept {kept}" in "\n".join(orphans.describe(young, True))

    later = datetime.now(UTC) + timedelta(days=2)
    found = orphans.find(store, later)
    assert [p for p, _ in found.leftovers] == [leftover]
    # Every byte it frees is counted, the interrupted writes' included (moto answers ListParts
    # with a root element the SDK refuses, so there an open upload's parts count as 0).
    assert found.bytes == 32 + 2 + (0 if store.url.startswith("s3://") else 4)
    assert found.payloads == [(f"{folder}/payload-00000000.parquet", 32)]
    assert found.run_folders == [("flows/kept/runs/zombie/ops/source.json", 2)]
    orphans.remove(store, found, later)
    assert orphans.find(store, later).bytes == 0 and not orphans.find(store, later).leftovers
    assert reads(store, "r5"), "the output's own payload stays"
    assert len(ss.open(store.url).runs("kept")) == 6

    assert cli(["gc", "--orphans", "--dry-run", "--store", store.url]) == 0
    assert "orphans: would remove 0 interrupted writes" in capsys.readouterr().out
    with pytest.raises(SystemExit) as too_young:  # would take puts in flight for orphans
        cli(["gc", "--orphans", "--min-age", "0", "--store", store.url])
    assert too_young.value.code == 2


@ss.op
def daily() -> pd.DataFrame:
    return pd.DataFrame({"x": [1]})


def test_a_flow_declares_its_retention_and_gc_applies_it(
    local_store: ss.Store, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ss.errors.FlowDefinitionError, match=r"ss\.Retention"):
        ss.Flow("declared", outputs=[daily()], retention=3)  # type: ignore[arg-type]
    declared = ss.Flow("declared", outputs=[daily()], retention=ss.Retention(keep_last=1))
    for i in range(3):
        declared.run(local_store.url, run_id=f"d{i}", cache=False)
        date_run(local_store.url, "declared", f"d{i}", f"2027-01-0{i + 1}T00:00:00+00:00")
    history(local_store)  # the flow "kept" declares no policy
    assert retention.declared(local_store, "declared") == ss.Retention(keep_last=1)

    assert cli(["gc", "--all-flows", "--grace", "0", "--store", local_store.url]) == 0
    out = capsys.readouterr().out
    assert "kept: no retention policy declared, nothing to do" in out
    assert "declared: deleted 4 files, " in out and "of 2 runs (keep the last 1 runs" in out
    with pytest.raises(ArtifactExpired):
        ss.open(local_store.url).run("declared", "d0")["daily"]

    ss.Flow("declared", outputs=[daily()]).publish(local_store.url)
    assert retention.declared(local_store, "declared") is None, "the last publish decides"
