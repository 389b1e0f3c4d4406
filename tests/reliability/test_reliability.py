"""What a hostile pass found wrong, each kept as a case: stale cache hits through helper
modules, corrupt or rebound cache entries served as hits, two writers of one run id, a
forked child running the rest of the flow, secrets in store URLs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import slipstream as ss
from slipstream.errors import CorruptArtifact, RunIdTaken, StorageError

from tests.reliability.test_errors import flip_one_byte


def _run_script(path: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                          timeout=180, cwd=path.parent)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


# -- stale cache through imported helpers -----------------------------------------------------


@pytest.mark.parametrize("layout", ["script", "module"])
def test_a_changed_helper_module_invalidates_the_op_importing_it(
    tmp_path: Path, layout: str
) -> None:
    url = (tmp_path / "store").as_uri()
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    ops = textwrap.dedent("""
        import slipstream as ss
        from factors import factor
        from pkg import deep

        @ss.op
        def scaled() -> int:
            return factor(3)

        @ss.op
        def nested() -> int:
            return deep.value()

        @ss.op(code_version="v1")
        def pinned() -> int:
            return factor(1)
    """)
    main = textwrap.dedent("""
        import sys
        import slipstream as ss
        {imports}
        flow = ss.Flow("helpers", outputs=[scaled(), nested(), pinned()])
        run = flow.run(sys.argv[1], run_id=sys.argv[2])
        print(*(run.ops[n].cached_from for n in ("scaled", "nested", "pinned")),
              run["scaled"], run["nested"], run["pinned"])
    """)
    if layout == "script":
        script = main.replace("{imports}", ops)
    else:
        (tmp_path / "user_ops.py").write_text(ops)
        script = main.replace("{imports}", "from user_ops import scaled, nested, pinned")
    (tmp_path / "flow_main.py").write_text(script)

    def run(factor: int, inner: int, run_id: str) -> str:
        (tmp_path / "factors.py").write_text(f"def factor(x):\n    return x * {factor}\n")
        # `deep` reaches a second helper through a relative import of its package.
        deep = "from .inner import base\n\ndef value():\n    return base() + 1\n"
        (tmp_path / "pkg" / "deep.py").write_text(deep)
        (tmp_path / "pkg" / "inner.py").write_text(f"def base():\n    return {inner}\n")
        return _run_script(tmp_path / "flow_main.py", url, run_id)

    assert run(2, 10, "r1") == "None None None 6 11 2"
    assert run(2, 10, "r2") == "r1 r1 r1 6 11 2"
    # The helper changed: the op importing it runs; the pinned one keeps its code_version.
    assert run(5, 10, "r3") == "None r1 r1 15 11 2"
    # A module two imports away changed.
    assert run(5, 20, "r4") == "r3 None r1 15 21 2"

    explained = subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "cache", "explain", "helpers", "scaled",
         "--run", "r3", "--store", url], capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert explained.returncode == 0, explained.stderr
    assert "factors" in explained.stdout and "packages" in explained.stdout
    assert "changed since run r2: code.modules.factors" in explained.stdout, explained.stdout
    pinned = subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "cache", "explain", "helpers", "pinned",
         "--store", url], capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert pinned.returncode == 0, pinned.stderr
    assert "code_version: v1" in pinned.stdout, pinned.stdout


# -- corrupt or rebound cache entries ---------------------------------------------------------


@ss.op
def _big() -> bytes:
    return bytes(range(256)) * (5 * 4096 + 1)  # over the size a hit reads whole


@ss.op
def _small() -> dict[str, int]:
    return {"a": 1}


@ss.op(cache=False)
def _length(data: bytes) -> int:
    return len(data)


@pytest.mark.parametrize("which", ["small", "big"])
def test_a_corrupt_cached_payload_is_never_served_and_heals(store: ss.Store, which: str) -> None:
    producer = _small.named("make") if which == "small" else _big.named("make")

    def flow() -> ss.Flow:
        return ss.Flow("corrupt_cache", outputs=[producer()])

    first = flow().run(store, run_id="r1")
    assert first.status == "success"
    expected = first["make"]
    flip_one_byte(store, ss.ArtifactKey(first.ops["make"].prefix, "r1"))
    second = flow().run(store, run_id="r2")
    assert second.status == "success", second.summary()
    healed = "r2"
    if which == "small":  # read whole and checked at the hit: never reused
        assert second.ops["make"].cached_from is None
    else:  # too big to read at every hit: the reader that finds it corrupt evicts the entry
        assert second.ops["make"].cached_from == "r1"
        with pytest.raises(CorruptArtifact, match="cache entry that names this output is removed"):
            second["make"]
        third = flow().run(store, run_id="r3")
        assert third.ops["make"].cached_from is None
        healed = "r3"
    assert ss.open(store).run("corrupt_cache", healed)["make"] == expected
    again = flow().run(store, run_id="r9")
    assert again.ops["make"].cached_from == healed  # the new output is cached


def test_an_op_reading_a_corrupt_cached_input_heals_it_in_the_same_run(
    local_store: ss.Store,
) -> None:
    def flow() -> ss.Flow:
        return ss.Flow("heal", outputs=[_length(_big.named("make")())])

    first = flow().run(local_store, run_id="r1")
    flip_one_byte(local_store, ss.ArtifactKey(first.ops["make"].prefix, "r1"))
    second = flow().run(local_store, run_id="r2")
    assert second.status == "success", second.summary()
    assert second["_length"] == 256 * (5 * 4096 + 1)
    assert second.ops["make"].cached_from is None  # ran again in this run
    assert [t.status for t in second.ops["_length"].tries] == ["failed", "success"]
    assert "CorruptArtifact" in second.ops["_length"].tries[0].error.type


def test_a_cache_entry_pointing_at_another_output_is_not_trusted(local_store: ss.Store) -> None:
    @ss.op
    def one() -> int:
        return 1

    @ss.op
    def two() -> int:
        return 2

    flow = lambda: ss.Flow("rebound", outputs=[one(), two()])  # noqa: E731
    flow().run(local_store, run_id="r1")
    root = Path(local_store.url.removeprefix("file://"))
    entries = {p.parent.name: p for p in (root / "flows/rebound/cache").rglob("*.json")}
    one_entry, two_entry = json.loads(entries["one"].read_text()), entries["two"]
    # Edited: `two`'s entry now names `one`'s output.
    forged = json.loads(two_entry.read_text())
    forged["at"] = one_entry["at"]
    two_entry.write_text(json.dumps(forged))
    again = flow().run(local_store, run_id="r2")
    assert again["two"] == 2 and again.ops["two"].cached_from is None
    # Copied whole over another key's entry: written for another key and op, refused too.
    entries["two"].write_bytes(entries["one"].read_bytes())
    third = flow().run(local_store, run_id="r3")
    assert third["two"] == 2 and third.ops["two"].cached_from is None
    assert third.ops["one"].cached_from == "r1"


# -- one writer per run id --------------------------------------------------------------------


@ss.op
def _slow(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


def _claimed(x: float = 0.0) -> ss.Flow:
    return ss.Flow("claimed", outputs=[_slow(ss.param("x", default=x))])


def test_a_run_id_is_claimed_once(store: ss.Store, tmp_path: Path) -> None:
    assert store.exclusive_creates()  # local: link(2); moto honours If-None-Match
    _claimed().run(store, run_id="r1")
    with pytest.raises(RunIdTaken, match=r"already exists .*overwrite=True"):
        _claimed().run(store, run_id="r1")
    replaced = _claimed().run(store, run_id="r1", params={"x": 0.01}, overwrite=True)
    assert replaced["_slow"] == 0.01

    # Two processes at once: exactly one runs, the other is refused before running anything.
    script = tmp_path / "race.py"
    script.write_text(
        textwrap.dedent("""
        import sys
        from slipstream.errors import RunIdTaken
        from tests.reliability.test_reliability import _claimed

        try:
            run = _claimed().run(sys.argv[1], run_id="race", params={"x": float(sys.argv[2])})
            print("ran", run["_slow"])
        except RunIdTaken:
            print("refused")
    """)
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2]))
    racers = [
        subprocess.Popen(
            [sys.executable, str(script), store.url, x], env=env, stdout=subprocess.PIPE, text=True
        )
        for x in ("0.5", "0.25")
    ]
    said = sorted(p.communicate(timeout=180)[0].strip() for p in racers)
    assert said[1] == "refused" and said[0].startswith("ran "), said
    stored = ss.open(store).run("claimed", "race")
    # The record and the artifact are the same writer's.
    assert stored.params == {"x": stored["_slow"]} and said[0] == f"ran {stored['_slow']}"


def test_a_running_run_is_never_overwritten(local_store: ss.Store, tmp_path: Path) -> None:
    # A run record left "running" by a live process (this one) is refused even with overwrite.
    flow = ss.Flow("busy", outputs=[_slow(0.0)])  # run ids of the same flow
    run = flow.run(local_store, run_id="r")
    root = Path(local_store.url.removeprefix("file://"))
    path = root / "flows/busy/runs/r/run.json"
    record = json.loads(path.read_text())
    record["status"] = "running"
    record["ops"]["_slow"]["status"] = "running"
    path.write_text(json.dumps(record))
    op_file = root / "flows/busy/runs/r/ops/_slow.json"  # where a running op says so
    op_file.write_text(json.dumps(record["ops"]["_slow"] | {"ended_at": None}))
    assert run.record.runner.pid == os.getpid()
    with pytest.raises(RunIdTaken, match="being run by another process"):
        flow.run(local_store, run_id="r", overwrite=True)


# -- a forked child ---------------------------------------------------------------------------


def test_a_forked_child_does_not_run_the_rest_of_the_flow(tmp_path: Path) -> None:
    url = (tmp_path / "store").as_uri()
    marks = tmp_path / "marks"
    marks.mkdir()
    (tmp_path / "forking.py").write_text(
        textwrap.dedent(f"""
        import os, sys
        import slipstream as ss

        @ss.op
        def fork() -> int:
            os.fork()  # the child returns normally, as the parent does
            return 1

        @ss.op
        def after(x: int) -> int:
            open(os.path.join({str(marks)!r}, str(os.getpid())), "w").close()
            return x + 1

        run = ss.Flow("forking", outputs=[after(fork())]).run(sys.argv[1], run_id="r")
        print(run.status, run["after"])
    """)
    )
    assert _run_script(tmp_path / "forking.py", url) == "success 2"
    assert len(list(marks.iterdir())) == 1  # only the owning process ran `after`


# -- secrets in store URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["s3://AKIAEXAMPLE:s3cr3tv4lue@bucket/p", "file://user:s3cr3tv4lue@/tmp/x",
     "s3://bucket/p?secret=s3cr3tv4lue"],
)  # fmt: skip
def test_store_urls_with_secrets_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(StorageError) as info:
        ss.Store(url)
    assert "s3cr3tv4lue" not in str(info.value) and "***" in str(info.value)
    cli = subprocess.run([sys.executable, "-m", "slipstream.cli", "runs", "f", "--store", url],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert cli.returncode != 0
    assert "s3cr3tv4lue" not in cli.stdout + cli.stderr and "***" in cli.stderr, cli.stderr


# -- one unreadable record --------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["[]", "{not json", "exploded", "spec"])
def test_one_unreadable_record_does_not_take_down_the_history(
    local_store: ss.Store, damage: str
) -> None:
    def flow(n: int) -> ss.Flow:
        return ss.Flow("damaged", outputs=[_slow(ss.param("x", default=float(n)))])

    flow(0).run(local_store, run_id="good-1", params={"x": 0.0})
    ss.Flow("damaged", outputs=[_small()]).run(local_store, run_id="bad")
    flow(0).run(local_store, run_id="good-2", params={"x": 0.0})
    root = Path(local_store.url.removeprefix("file://")) / "flows/damaged"
    bad = root / "runs/bad/run.json"
    if damage == "exploded":
        record = json.loads(bad.read_text())
        record["status"] = "exploded"
        bad.write_text(json.dumps(record))
    elif damage == "spec":
        version = json.loads(bad.read_text())["version"]
        spec = root / "versions" / version / "spec.json"
        spec.write_bytes(spec.read_bytes()[: spec.stat().st_size // 2])
    else:
        bad.write_text(damage)
    for index in root.glob("index*"):  # the index missing: every record is read
        import shutil

        shutil.rmtree(index) if index.is_dir() else index.unlink()

    cli = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "slipstream.cli", *a, "--store", local_store.url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    runs = cli("runs", "damaged")
    assert runs.returncode == 0, runs.stderr
    assert "good-1" in runs.stdout and "good-2" in runs.stdout
    assert "unreadable" in runs.stdout and "run bad cannot be read" in runs.stderr
    reindexed = cli("reindex", "damaged")
    assert reindexed.returncode == 0, reindexed.stderr
    assert "indexed 2 ended run(s)" in reindexed.stdout
    assert "skipped run bad" in reindexed.stderr
    history = ss.open(local_store)
    assert [r.run_id for r in history.runs("damaged")] == ["good-2", "good-1"]
    assert [r.run_id for r in history.unreadable("damaged")] == ["bad"]
    assert {r.status for r in history.summaries("damaged")} == {"success", "unreadable"}
    if damage == "spec":  # republishing writes the damaged spec again
        again = ss.Flow("damaged", outputs=[_small()]).run(local_store, run_id="fixed")
        assert again.status == "success"
        assert ss.open(local_store).unreadable("damaged") == []


# -- errors an op raises in odd ways ----------------------------------------------------------


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


@ss.op
def _raises(kind: str) -> int:
    if kind == "unprintable":
        raise _Unprintable()
    if kind == "huge":
        raise ValueError("x" * 10_000_000)
    sys.exit(0)


@pytest.mark.parametrize("kind", ["unprintable", "huge", "exit"])
def test_odd_failures_are_recorded_as_the_ops(local_store: ss.Store, kind: str) -> None:
    run = ss.Flow("odd", outputs=[_raises(kind)]).run(local_store, run_id=kind)
    assert run.status == "failed"  # and the script goes on: sys.exit in an op ends the op only
    error = run.ops["_raises"].error
    assert error is not None
    root = Path(local_store.url.removeprefix("file://"))
    assert (root / f"flows/odd/runs/{kind}/run.json").stat().st_size < 200_000
    if kind == "unprintable":
        assert "could not be made" in error.message
    elif kind == "huge":
        assert len(error.message) < 20_000 and "more characters not kept" in error.message
    else:
        assert error.type == "SystemExit" and "sys.exit(0)" in error.message


@ss.op
def _huge_ints() -> tuple[int, int, list[int]]:
    return 2**1024, -(10**5000), [10**5000, 1]


def test_integers_of_any_size_are_stored_and_previewed(local_store: ss.Store) -> None:
    run = ss.Flow("ints", outputs=[_huge_ints.named("huge")()]).run(local_store, run_id="r")
    assert run.status == "success", run.summary()
    assert run["huge"] == (2**1024, -(10**5000), [10**5000, 1])


@pytest.mark.parametrize("name", ["a" * 101, "bad name"])
def test_op_names_are_refused_for_their_actual_fault(name: str) -> None:
    from slipstream.errors import FlowDefinitionError

    def plain() -> int:
        return 1

    with pytest.raises(FlowDefinitionError) as info:
        ss.op(name=name)(plain)
    if len(name) > 100:
        assert "101 characters long; at most 100" in str(info.value)
        assert name not in str(info.value)  # not echoed whole
    else:
        assert "letters, digits" in str(info.value)


def _arrow_tables() -> dict[str, object]:
    import pyarrow as pa

    types, offsets = pa.array([0, 1, 0], pa.int8()), pa.array([0, 0, 1], pa.int32())
    return {
        "dense union": pa.table(
            {"u": pa.UnionArray.from_dense(types, offsets, [pa.array([1, 2]), pa.array(["a"])])}
        ),
        "sparse union": pa.table(
            {
                "u": pa.UnionArray.from_sparse(
                    pa.array([0, 1], pa.int8()), [pa.array([1, 2]), pa.array(["a", "b"])]
                )
            }
        ),
        "interval": pa.table(
            {"u": pa.array([pa.MonthDayNano([1, 2, 3])], pa.month_day_nano_interval())}
        ),
        "nested interval": pa.table(
            {"u": pa.array([[1]]).cast(pa.list_(pa.int64()))}
        ).append_column("v", pa.array([{"x": pa.MonthDayNano([1, 2, 3])}])),
    }


@pytest.mark.parametrize("case", list(_arrow_tables()))
def test_columns_parquet_cannot_hold_are_refused_by_name(local_store: ss.Store, case: str) -> None:
    from slipstream.errors import UnsupportedType

    table = _arrow_tables()[case]
    key = ss.ArtifactKey("p", "r")
    with pytest.raises(UnsupportedType, match=r"column \"[uv]\" of type .*cannot be stored"):
        local_store.put(key, table)  # not a PanicException, which `except Exception` misses
    assert not local_store.exists(key)
    import pyarrow as pa

    with pytest.raises(UnsupportedType, match="cannot be stored"):  # streamed too
        local_store.put(key, pa.RecordBatchReader.from_batches(table.schema, table.to_batches()))
    assert not local_store.exists(key)


def test_an_airflow_task_reading_a_corrupt_cached_input_evicts_it(local_store: ss.Store) -> None:
    from slipstream.airflow import OpFailed, run_task

    flow = ss.Flow("heal_in_airflow", outputs=[_length(_big.named("make")())])
    version = flow.publish(local_store)
    for op in ("make", "_length"):
        run_task(local_store.url, flow.name, version, op, run_id="scheduled__1")
    first = ss.open(local_store).run(flow.name, "scheduled__1")
    flip_one_byte(local_store, ss.ArtifactKey(first.ops["make"].prefix, "scheduled__1"))
    run_task(local_store.url, flow.name, version, "make", run_id="scheduled__2")  # a hit
    # Not retried (a retry would read the same bytes): Airflow's fail-now exception.
    with pytest.raises(Exception, match="cache entries naming them are removed: clear") as info:
        run_task(local_store.url, flow.name, version, "_length", run_id="scheduled__2")
    assert isinstance(info.value.__cause__, OpFailed)
    # Cleared: the producer runs again, and the op reads what it wrote.
    run_task(local_store.url, flow.name, version, "make", run_id="scheduled__2", try_number=2)
    run_task(local_store.url, flow.name, version, "_length", run_id="scheduled__2", try_number=2)
    second = ss.open(local_store).run(flow.name, "scheduled__2")
    assert second.ops["make"].cached_from is None
    assert second["_length"] == 256 * (5 * 4096 + 1)
