"""Runs a published flow version here, op by op, as Airflow would run its tasks.

Each op goes through `run_op` with the op prefix of the version and the run id, so keys,
manifests and try records are exactly those of an Airflow run. The run itself is recorded
under `flows/<flow>/runs/<run id>/run.json`: the version it ran, its params, and the state
of every op.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slipstream._native import Store, flow_run_path
from slipstream.errors import Terminated
from slipstream.history import indexing, run_index
from slipstream.history.reader import History, Run
from slipstream.records import runs
from slipstream.records.files import load_spec
from slipstream.records.runs import new_record, write_run
from slipstream.records.types import TryRecord
from slipstream.runtime.cache import Policy, evict_corrupt_inputs
from slipstream.runtime.claim import claim_run
from slipstream.runtime.execute import (
    attempt_or_reuse,
    load_function,
    op_arguments,
    resolve_params,
)


def run_version(
    store: Store,
    flow: str,
    version: str,
    *,
    params: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    cache: bool = True,
    resume: str | None = None,
    overwrite: bool = False,
) -> Run:
    """Runs version `version` of `flow` and returns the recorded run. Ops reuse the outputs
    of earlier runs with the same cache key unless `cache` is off; with `resume`, the
    outputs of that run are reused wherever they are still valid for the current code.
    A `run_id` is claimed atomically: `RunIdTaken` if a run of that id exists or is being
    run, unless `overwrite` and it has finished."""
    spec = load_spec(store, flow, version)
    policy = Policy(enabled=cache)
    if resume is not None:
        resumed = History(store).run(flow, resume)
        policy = Policy(cache, resume, {n: o.state for n, o in resumed.ops.items()})
    values = resolve_params(spec, params or {})
    started = datetime.now(UTC)
    run_id = run_id or f"manual__{started.isoformat()}"
    path = flow_run_path(flow, run_id)
    record = new_record(spec, run_id, values, trigger="local")
    record["started_at"] = started.isoformat()
    record["runner"] = _runner()
    run_index.mark_active(store, flow, run_id)  # first: a run is never in neither
    claim_run(store, record, overwrite=overwrite)
    try:
        with _sigterm_interrupts():
            for op in spec["ops"]:
                state = record["ops"][op["name"]]
                blocked = [u for u in op["upstream"] if record["ops"][u]["status"] != "success"]
                if blocked:
                    state["status"] = "upstream_failed"
                    state["blocked_by"] = blocked
                    continue
                state["status"] = "running"
                write_run(store, record)  # each op's state as it starts and ends: readers
                _run_op(store, spec, op, run_id, values, record, policy)  # follow along
                if _heal_corrupt_inputs(store, spec, op, run_id, values, record):
                    _run_op(store, spec, op, run_id, values, record, policy)
                write_run(store, record)
    except BaseException as exc:
        for state in record["ops"].values():
            if state["status"] in ("pending", "running"):
                state["status"] = "skipped"
        _finish(store, path, record, "failed")
        if isinstance(exc, Terminated):
            _terminate()  # recorded: now end as SIGTERM would have
        raise
    statuses = {state["status"] for state in record["ops"].values()}
    _finish(store, path, record, "success" if statuses <= {"success"} else "failed")
    run = Run(store, record, spec)
    if run.status != "success":
        print(run.summary(), file=sys.stderr)
        run.summary_shown = True
    return run


def _run_op(
    store: Store,
    spec: Mapping[str, Any],
    op: Mapping[str, Any],
    run_id: str,
    params: Mapping[str, Any],
    record: dict[str, Any],
    policy: Policy,
) -> None:
    state = record["ops"][op["name"]]
    state["status"] = "running"
    fn = load_function(op)
    inputs, constants = _arguments(spec, op, run_id, params, record)
    result: TryRecord | None = None
    first = state.get("tries", 0) + 1  # after the tries of an earlier pass (see heal)
    for try_number in range(first, first + op["retries"] + 1):
        state["tries"] = try_number
        state.update(version=record["version"], code_hash=op["function"]["code_hash"])
        state.setdefault("attempts", []).append(runs.attempt(op, record["version"], try_number))
        try:
            result, cache_key = attempt_or_reuse(
                fn, spec, op, inputs, constants, run_id, try_number, store, policy
            )
        except BaseException as exc:  # an interrupt: recorded by run_op, then let through
            state.update(status="failed", error={"type": type(exc).__name__, "message": str(exc)})
            raise
        state.setdefault("started_at", result["started_at"])
        error = result["error"]
        if result["status"] == "success" or (error and error["phase"] == "check"):
            break  # a failed check would fail again: its verdict is not a flaky error
    assert result is not None
    if result["status"] == "success" and cache_key is not None:
        state["cache_key"] = cache_key
    if result.get("cached_from"):
        state["cached_from"] = result["cached_from"]
    state.update(
        status=result["status"],
        ended_at=result["ended_at"],
        error=(
            {"type": result["error"]["type"], "message": result["error"]["message"]}
            if result["error"]
            else None
        ),
    )
    if result["metric"] is not None:
        record["metrics"][op["name"]] = state["metric"] = result["metric"]
    if result["check"] is not None:
        record["checks"][op["name"]] = state["check"] = result["check"]


def _arguments(
    spec: Mapping[str, Any],
    op: Mapping[str, Any],
    run_id: str,
    params: Mapping[str, Any],
    record: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    ops = {o["name"]: o for o in spec["ops"]}
    written_by = {name: runs.outputs_at(s, run_id) for name, s in record["ops"].items()}
    return op_arguments(op, ops, run_id, params, written_by)


def _heal_corrupt_inputs(
    store: Store,
    spec: Mapping[str, Any],
    op: Mapping[str, Any],
    run_id: str,
    params: Mapping[str, Any],
    record: dict[str, Any],
) -> bool:
    """When `op` failed reading a corrupt input (a cache hit's above all: the hit checks the
    size of a large payload, not its bytes): removes the cache entry naming it and runs its
    producer again, so that the op can be tried once more. True when something was healed."""
    state = record["ops"][op["name"]]
    error = (state.get("error") or {}).get("type")
    if state["status"] != "failed" or error != "slipstream.errors.CorruptArtifact":
        return False
    inputs, _ = _arguments(spec, op, run_id, params, record)
    evicted = evict_corrupt_inputs(store, spec["flow"], op, inputs, record["ops"])
    ops = {o["name"]: o for o in spec["ops"]}
    for name in evicted:
        print(
            f"slipstream: the output of op {name!r} that op {op['name']!r} reads is corrupt: "
            f"the cache entry naming it is removed and {name!r} runs again",
            file=sys.stderr,
        )
        record["ops"][name].pop("cached_from", None)
        _run_op(store, spec, ops[name], run_id, params, record, Policy())
    return bool(evicted) and all(record["ops"][n]["status"] == "success" for n in evicted)


def _runner() -> dict[str, Any]:
    """This process, as readers tell whether it is still going (see `Runner` in the Rust
    core): host and pid, and on Linux the boot, pid namespace and start time."""
    runner: dict[str, Any] = {"host": socket.gethostname(), "pid": os.getpid()}
    with contextlib.suppress(OSError, ValueError, IndexError):
        runner["boot_id"] = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        runner["pid_namespace"] = os.readlink("/proc/self/ns/pid")
        stat = Path("/proc/self/stat").read_text()
        runner["started"] = int(stat.rsplit(")", 1)[1].split()[19])
    return runner


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises `Terminated` in the run, as Ctrl-C raises KeyboardInterrupt, so that
    the op running and the run are recorded before the process ends; only where nobody
    else handles SIGTERM (the main thread, the default handler)."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def terminated(signum: int, frame: Any) -> None:
        raise Terminated("the process received SIGTERM")

    signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _terminate() -> None:
    """Ends the process as the SIGTERM it received would have (exit status 143)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _finish(store: Store, path: str, record: dict[str, Any], status: str) -> None:
    record["status"] = status
    record["ended_at"] = datetime.now(UTC).isoformat()
    write_run(store, record)
    indexing.record_ended(store, record["flow"], [record])
