"""Runs a published flow version here, op by op, as Airflow would run its tasks.

Each op goes through `run_op` with the op prefix of the version and the run id, so keys,
manifests and try records are exactly those of an Airflow run. The run itself is recorded
under `flows/<flow>/runs/<run id>/run.json`: the version it ran, its params, and the state
of every op.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from slipstream import _code, _constants
from slipstream._history import Run, load_spec
from slipstream._native import ArtifactKey, Store, flow_run_path
from slipstream._task import TaskRecord, run_op

RUN_FORMAT = 1


def run_version(
    store: Store,
    flow: str,
    version: str,
    *,
    params: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> Run:
    """Runs version `version` of `flow` and returns the recorded run."""
    spec = load_spec(store, flow, version)
    values = resolve_params(spec, params or {})
    started = datetime.now(UTC)
    run_id = run_id or f"manual__{started.isoformat()}"
    path = flow_run_path(flow, run_id)
    ops = {op["name"]: op for op in spec["ops"]}
    record: dict[str, Any] = {
        "format": RUN_FORMAT,
        "flow": flow,
        "version": version,
        "run_id": run_id,
        "trigger": "local",
        "status": "running",
        "params": {k: _constants.encode(v, k) for k, v in values.items()},
        "started_at": started.isoformat(),
        "ended_at": None,
        "ops": {
            name: {"status": "pending", "kind": op["kind"], "prefix": op["prefix"], "tries": 0}
            for name, op in ops.items()
        },
        "metrics": {},
        "checks": {},
    }
    store.put_object(path, _dump(record))
    try:
        for op in spec["ops"]:
            state = record["ops"][op["name"]]
            blocked = [up for up in op["upstream"] if record["ops"][up]["status"] != "success"]
            if blocked:
                state["status"] = "upstream_failed"
                state["blocked_by"] = blocked
                continue
            _run_op(store, op, ops, run_id, values, state, record)
    except BaseException:
        for state in record["ops"].values():
            if state["status"] in ("pending", "running"):
                state["status"] = "skipped"
        _finish(store, path, record, "failed")
        raise
    statuses = {state["status"] for state in record["ops"].values()}
    _finish(store, path, record, "success" if statuses <= {"success"} else "failed")
    return Run(store, record, spec)


def resolve_params(spec: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The flow's param defaults overridden by `given`; unknown or missing names are errors."""
    declared = spec["params"]
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ValueError(f"flow {spec['flow']!r} has no param {unknown[0]!r} (its params: {known})")
    values = {}
    for name, entry in declared.items():
        if name in given:
            values[name] = given[name]
        elif entry["required"]:
            raise ValueError(f"flow {spec['flow']!r} needs a value for param {name!r}")
        else:
            values[name] = _constants.decode(entry["default"])
        _constants.encode(values[name], f"param {name!r}")
    return values


def op_arguments(
    op: Mapping[str, Any], ops: Mapping[str, Any], run_id: str, params: Mapping[str, Any]
) -> tuple[dict[str, ArtifactKey], dict[str, Any]]:
    """The input keys and the constant arguments (constants and params) of one op."""
    inputs = {
        arg: ArtifactKey(ops[src["op"]]["prefix"], run_id, src["output"])
        for arg, src in op["inputs"].items()
    }
    constants = {arg: _constants.decode(v, params) for arg, v in op["constants"].items()}
    constants.update({arg: params[name] for arg, name in op["params"].items()})
    return inputs, constants


def _run_op(
    store: Store,
    op: Mapping[str, Any],
    ops: Mapping[str, Any],
    run_id: str,
    params: Mapping[str, Any],
    state: dict[str, Any],
    record: dict[str, Any],
) -> None:
    state["status"] = "running"
    fn = _loaded(op)
    inputs, constants = op_arguments(op, ops, run_id, params)
    result: TaskRecord | None = None
    for try_number in range(1, op["retries"] + 2):
        state["tries"] = try_number
        try:
            result = _attempt(fn, op, inputs, constants, run_id, try_number, store, record)
        except BaseException as exc:  # an interrupt: recorded by run_op, then let through
            state.update(status="failed", error={"type": type(exc).__name__, "message": str(exc)})
            raise
        state.setdefault("started_at", result["started_at"])
        error = result["error"]
        if result["status"] == "success" or (error and error["phase"] == "check"):
            break  # a failed check would fail again: its verdict is not a flaky error
    assert result is not None
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


def _attempt(
    fn: Callable[..., Any],
    op: Mapping[str, Any],
    inputs: Mapping[str, ArtifactKey],
    constants: Mapping[str, Any],
    run_id: str,
    try_number: int,
    store: Store,
    record: Mapping[str, Any],
) -> TaskRecord:
    return run_op(
        fn,
        store=store,
        op_prefix=op["prefix"],
        run_id=run_id,
        try_number=try_number,
        inputs=inputs,
        constants=constants,
        outputs=op["outputs"],
        allow_pickle=op["allow_pickle"],
        kind=op["kind"],
        severity=op["severity"] or "error",
        convert=op["convert"],
        extra={"flow": record["flow"], "version": record["version"], "op": op["name"]},
    )


def _loaded(op: Mapping[str, Any]) -> Callable[..., Any]:
    """The op's function, or one that raises why it cannot be loaded, so that the failure
    is recorded like any other."""
    try:
        return _code.load(op["function"], op["name"])
    except Exception as exc:
        error = exc

        def unavailable(**_: Any) -> Any:
            raise error

        unavailable.__qualname__ = op["function"]["qualname"]
        unavailable.__module__ = op["function"]["module"]
        return unavailable


def _finish(store: Store, path: str, record: dict[str, Any], status: str) -> None:
    record["status"] = status
    record["ended_at"] = datetime.now(UTC).isoformat()
    store.put_object(path, _dump(record))


def _dump(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, indent=1).encode()
