"""One op of a published flow version, as any runner executes it: its function, its
arguments in one run, and one attempt. Shared by the local runner and the Airflow tasks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from slipstream._native import ArtifactKey, Store
from slipstream.records.types import TryRecord
from slipstream.runtime.attempt import run_op
from slipstream.spec import code as _code
from slipstream.spec import constants as _constants


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


def attempt(
    fn: Callable[..., Any],
    op: Mapping[str, Any],
    inputs: Mapping[str, ArtifactKey],
    constants: Mapping[str, Any],
    run_id: str,
    try_number: int,
    store: Store,
    run: Mapping[str, Any],
) -> TryRecord:
    """One attempt of an op of a version, through `run_op`; `run` names its flow and
    version."""
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
        extra={"flow": run["flow"], "version": run["version"], "op": op["name"]},
    )


def load_function(op: Mapping[str, Any]) -> Callable[..., Any]:
    """The op's function, or one that raises why it cannot be loaded, so that the failure
    is recorded like any other."""
    try:
        return _code.load(op["function"], op["name"])
    except Exception as exc:  # noqa: BLE001 — raised again by the function, inside the try
        error = exc

        def unavailable(**_: Any) -> Any:
            raise error

        unavailable.__qualname__ = op["function"]["qualname"]
        unavailable.__module__ = op["function"]["module"]
        return unavailable
