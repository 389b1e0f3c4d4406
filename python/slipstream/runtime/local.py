"""Runs a published flow version here, op by op, as Airflow would run its tasks.

Each op goes through `run_op` with the op prefix of the version and the run id, so keys,
manifests and try records are exactly those of an Airflow run. The run itself is recorded
under `flows/<flow>/runs/<run id>/run.json`: the version it ran, its params, and the state
of every op.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slipstream._native import Store, flow_run_path
from slipstream.history.reader import History, Run
from slipstream.records import runs
from slipstream.records.files import load_spec
from slipstream.records.runs import new_record, write_run
from slipstream.records.types import TryRecord
from slipstream.runtime.cache import Policy
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
) -> Run:
    """Runs version `version` of `flow` and returns the recorded run. Ops reuse the outputs
    of earlier runs with the same cache key unless `cache` is off; with `resume`, the
    outputs of that run are reused wherever they are still valid for the current code."""
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
    write_run(store, record)
    try:
        for op in spec["ops"]:
            state = record["ops"][op["name"]]
            blocked = [up for up in op["upstream"] if record["ops"][up]["status"] != "success"]
            if blocked:
                state["status"] = "upstream_failed"
                state["blocked_by"] = blocked
                continue
            _run_op(store, spec, op, run_id, values, record, policy)
    except BaseException:
        for state in record["ops"].values():
            if state["status"] in ("pending", "running"):
                state["status"] = "skipped"
        _finish(store, path, record, "failed")
        raise
    statuses = {state["status"] for state in record["ops"].values()}
    _finish(store, path, record, "success" if statuses <= {"success"} else "failed")
    run = Run(store, record, spec)
    if run.status != "success":
        print(f"{run.summary()}\n(run.raise_for_status() raises this)", file=sys.stderr)
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
    ops = {o["name"]: o for o in spec["ops"]}
    written_by = {name: runs.outputs_at(s, run_id) for name, s in record["ops"].items()}
    inputs, constants = op_arguments(op, ops, run_id, params, written_by)
    result: TryRecord | None = None
    for try_number in range(1, op["retries"] + 2):
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


def _finish(store: Store, path: str, record: dict[str, Any], status: str) -> None:
    record["status"] = status
    record["ended_at"] = datetime.now(UTC).isoformat()
    write_run(store, record)
