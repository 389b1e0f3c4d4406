"""run_op: one attempt of one op, with inputs decoded, outputs stored, output captured (C
level included, still echoed) and a record of the attempt written under try-<n>/."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest
import slipstream as ss
from slipstream.errors import ArtifactNotFound
from slipstream.records.types import InputRef

RUN = "manual__2026-11-23T18:50:11.286216+00:00"


def double(numbers: list[int]) -> list[int]:
    print("doubling", len(numbers), "numbers")
    return [n * 2 for n in numbers]


def test_success_stores_outputs_and_a_record(store: ss.Store) -> None:
    source = ss.ArtifactKey("load", RUN)
    store.put(source, [1, 2, 3])
    record = ss.run_op(
        double, store=store, op_prefix="double", run_id=RUN, inputs={"numbers": source}
    )
    assert record.status == "success" and record.error is None
    assert store.get(ss.ArtifactKey("double", RUN)) == [2, 4, 6]
    assert record.outputs["out"].type == "value"
    assert record.outputs["out"].extra["producer"].endswith("test_task.double")
    assert "doubling 3 numbers" in record.stdout
    assert record.duration_seconds >= 0 and record.peak_rss_bytes > 0
    phases = record.phases  # where the try's time went, adding up to all of it
    assert phases is not None and min(phases.inputs, phases.call, phases.outputs) >= 0
    assert abs(phases.inputs + phases.call + phases.outputs - record.duration_seconds) < 1e-6
    started, ended = (datetime.fromisoformat(t) for t in (record.started_at, record.ended_at))
    assert started.tzinfo == UTC and ended.tzinfo == UTC
    assert record.inputs == {"numbers": InputRef(op_prefix="load", run_id=RUN, output="out")}
    stored = json.loads(store.get_object(ss.record_path("double", RUN, 1)))
    assert stored == record.to_dict()
    assert record.record_path.endswith("/try-1/record.json")


def split(n: int) -> tuple[list[int], dict[str, int]]:
    return list(range(n)), {"n": n}


def test_tuple_returns_map_onto_outputs(local_store: ss.Store) -> None:
    record = ss.run_op(
        split, store=local_store, op_prefix="split", run_id=RUN, constants={"n": 3},
        outputs=["items", "meta"],
    )  # fmt: skip
    assert record.status == "success"
    assert local_store.get(ss.ArtifactKey("split", RUN, "items")) == [0, 1, 2]
    assert local_store.get(ss.ArtifactKey("split", RUN, "meta")) == {"n": 3}


def test_wrong_number_of_returned_values_is_explained(local_store: ss.Store) -> None:
    record = ss.run_op(
        split, store=local_store, op_prefix="s", run_id=RUN, constants={"n": 1},
        outputs=["a", "b", "c"],
    )  # fmt: skip
    assert record.status == "failed"
    assert record.error.phase == "outputs"
    assert (
        "op 'split' declares 3 outputs ('a', 'b', 'c') and must return a tuple of 3 values"
        in record.error.message
    )
    assert "but returned a tuple of 2" in record.error.message


def parse_row(row: str) -> int:
    return int(row)


def featurize(rows: list[str]) -> list[int]:
    print("about to fail")
    return [parse_row(r) for r in rows]


def test_failure_records_the_users_stack_trace(store: ss.Store) -> None:
    source = ss.ArtifactKey("load", RUN)
    store.put(source, ["1", "oops"])
    record = ss.run_op(featurize, store=store, op_prefix="feat", run_id=RUN, try_number=2,
                       inputs={"rows": source})  # fmt: skip
    assert record.status == "failed"
    error = record.error
    assert error.type == "ValueError" and "oops" in error.message
    assert error.phase == "call"
    assert record.phases.outputs == 0.0, "it never stored an output"
    functions = [f.function for f in error.frames]
    assert functions[0] == "featurize" and functions[-1] == "parse_row"  # user frames only
    assert not any("slipstream" in f.file for f in error.frames)
    assert "return int(row)" in error.traceback
    assert "about to fail" in record.stdout
    assert not store.exists(ss.ArtifactKey("feat", RUN))
    stored = json.loads(store.get_object(ss.record_path("feat", RUN, 2)))
    assert stored["status"] == "failed" and stored["try_number"] == 2


def test_missing_input_fails_in_the_inputs_phase(local_store: ss.Store) -> None:
    record = ss.run_op(double, store=local_store, op_prefix="d", run_id=RUN,
                       inputs={"numbers": ss.ArtifactKey("never-ran", RUN)})  # fmt: skip
    assert record.status == "failed" and record.error.phase == "inputs"
    assert record.phases.call == record.phases.outputs == 0.0
    assert record.error.type == ArtifactNotFound.__module__ + ".ArtifactNotFound"


def c_level_output() -> int:
    libc = ctypes.CDLL(None)
    libc.printf(b"printf from C\n")
    libc.fflush(None)
    os.write(2, b"raw write to fd 2\n")
    subprocess.run(["echo", "from a child process"], check=True)
    print("from python", file=sys.stderr)
    return 0


def test_c_level_and_child_process_output_is_captured(local_store: ss.Store) -> None:
    record = ss.run_op(c_level_output, store=local_store, op_prefix="c", run_id=RUN)
    assert "printf from C" in record.stdout
    assert "from a child process" in record.stdout
    assert "raw write to fd 2" in record.stderr
    assert "from python" in record.stderr


def test_captured_output_still_reaches_the_real_streams(tmp_path: object) -> None:
    """Airflow's task log reads the process's real stdout/stderr."""
    script = textwrap.dedent(
        f"""
        import ctypes, os, sys
        import slipstream as ss
        def op():
            ctypes.CDLL(None).printf(b"C says hi\\n"); ctypes.CDLL(None).fflush(None)
            print("python says hi")
            os.write(2, b"stderr says hi\\n")
        record = ss.run_op(op, store="file://{tmp_path}/s", op_prefix="p", run_id="r")
        assert "C says hi" in record.stdout and "python says hi" in record.stdout
        print("record ok")
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "C says hi" in proc.stdout and "python says hi" in proc.stdout
    assert "record ok" in proc.stdout and "stderr says hi" in proc.stderr


def test_retry_overwrites_outputs_and_keeps_both_records(local_store: ss.Store) -> None:
    attempts = iter([ValueError("flaky"), None])

    def flaky() -> str:
        failure = next(attempts)
        if failure:
            raise failure
        return "done"

    first = ss.run_op(flaky, store=local_store, op_prefix="f", run_id=RUN, try_number=1)
    second = ss.run_op(flaky, store=local_store, op_prefix="f", run_id=RUN, try_number=2)
    assert (first.status, second.status) == ("failed", "success")
    assert local_store.get(ss.ArtifactKey("f", RUN)) == "done"
    assert local_store.manifest(ss.ArtifactKey("f", RUN))["try_number"] == 2
    for n, status in [(1, "failed"), (2, "success")]:
        assert json.loads(local_store.get_object(ss.record_path("f", RUN, n)))["status"] == status


def test_interrupts_are_recorded_and_reraised(local_store: ss.Store) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ss.run_op(interrupted, store=local_store, op_prefix="i", run_id=RUN)
    stored = json.loads(local_store.get_object(ss.record_path("i", RUN, 1)))
    assert stored["status"] == "failed" and stored["error"]["type"] == "KeyboardInterrupt"
