"""One op of a published flow version, as any runner executes it: its function, its
arguments in one run, and one attempt. Shared by the local runner and the Airflow tasks."""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from slipstream._native import ArtifactKey, Store
from slipstream.errors import ParamError
from slipstream.records.types import FlowSpec, OpSpec, OutputsAt, TryRecord
from slipstream.runtime import cache, upstream
from slipstream.runtime.attempt import Reused, run_op
from slipstream.runtime.context import RunContext, serving
from slipstream.spec import code as _code
from slipstream.spec import constants as _constants
from slipstream.spec import params as _params
from slipstream.spec.assets import never_called


def resolve_params(spec: FlowSpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """The flow's param defaults overridden by `given`, each checked against the type of its
    default (strings from a trigger form or a conf are converted where unambiguous);
    unknown or missing names are errors, raised before anything runs."""
    _params.check_names(spec, given)
    values = {}
    flow = spec.flow
    for name, entry in spec.params.items():
        default = None if entry.required else _constants.decode(entry.default)
        values[name] = _typed(flow, name, given[name], default) if name in given else default
        try:
            _constants.encode(values[name], f"param {name!r}")
        except _constants.UnsupportedConstant as exc:
            raise ParamError(
                f"flow {flow!r}: param {name!r} is a {exc}; params are None, bool, "
                "int, float, str, bytes, or lists, tuples and dicts of them"
            ) from None
    return values


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def _typed(flow: str, name: str, value: Any, default: Any) -> Any:
    """`value` as the type of the param's `default` (any type when the default is None)."""
    if default is None or value is None:
        return value
    want = type(default)
    text = value.strip() if isinstance(value, str) else None
    converted: Any = _NO
    if want is bool:
        if isinstance(value, bool):
            converted = value
        elif text is not None and text.lower() in _TRUE + _FALSE:
            converted = text.lower() in _TRUE
    elif want is int:
        if isinstance(value, int) and not isinstance(value, bool):
            converted = value
        elif text is not None and re.fullmatch(r"[+-]?\d+", text):
            converted = int(text)
    elif want is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            converted = float(value)
        elif text is not None:
            with contextlib.suppress(ValueError):
                converted = float(text)
    elif want in (list, tuple, dict):
        if text is not None:  # a template renders to text: JSON, e.g. `{{ x | tojson }}`
            with contextlib.suppress(ValueError):
                value = json.loads(text)
        if want is dict and isinstance(value, dict):
            converted = value
        elif want is not dict and isinstance(value, list | tuple):
            converted = want(value)
    elif isinstance(value, want):
        converted = value
    if converted is _NO:
        raise ParamError(
            f"flow {flow!r}: param {name!r} is {value!r} ({type(value).__name__}), but its "
            f"default {default!r} is a {want.__name__}; pass a {want.__name__}"
        )
    return converted


_NO: Any = object()


def op_arguments(
    op: OpSpec,
    ops: Mapping[str, OpSpec],
    run_id: str,
    params: Mapping[str, Any],
    written_by: Mapping[str, OutputsAt] | None = None,
) -> tuple[dict[str, ArtifactKey], dict[str, Any]]:
    """The input keys and the constant arguments (constants and params) of one op.
    `written_by` maps upstream ops to where their outputs are for this run, when that is not
    this version's prefix in this run: the run started under an older version, or the op
    reused the outputs of an earlier run."""
    at = {name: OutputsAt(run_id=run_id, prefix=o.prefix) for name, o in ops.items()}
    at.update(written_by or {})
    inputs = {
        arg: ArtifactKey(at[src.op].prefix, at[src.op].run_id, src.output)
        for arg, src in op.inputs.items()
    }
    constants = {arg: _constants.decode(v, params) for arg, v in op.constants.items()}
    constants.update({arg: params[name] for arg, name in op.params.items()})
    return inputs, constants


def attempt(
    fn: Callable[..., Any],
    op: OpSpec,
    inputs: Mapping[str, ArtifactKey],
    constants: Mapping[str, Any],
    run_id: str,
    try_number: int,
    store: Store,
    run: FlowSpec,
    reuse: Callable[[], Reused | None] | None = None,
) -> TryRecord:
    """One attempt of an op of a version, through `run_op`; `run` names its flow and
    version; `reuse` may hand it an earlier run's outputs instead (see `run_op`)."""
    return run_op(
        fn,
        store=store,
        op_prefix=op.prefix,
        run_id=run_id,
        try_number=try_number,
        inputs=inputs,
        constants=constants,
        outputs=op.outputs,
        allow_pickle=op.allow_pickle,
        kind=op.kind,
        severity=op.severity or "error",
        convert=op.convert,
        extra={"flow": run.flow, "version": run.version, "op": op.name},
        version=run.version,
        code_hash=op.function.code_hash,
        reuse=reuse,
        name=op.name,
    )


def attempt_or_reuse(
    fn: Callable[..., Any],
    spec: FlowSpec,
    op: OpSpec,
    inputs: Mapping[str, ArtifactKey],
    constants: Mapping[str, Any],
    run_id: str,
    try_number: int,
    store: Store,
    policy: cache.Policy,
    events: Mapping[str, list[dict[str, Any]]] | None = None,
    context: RunContext | None = None,
) -> tuple[TryRecord, str | None]:
    """One try of an op of version `spec`: the outputs of an earlier run with the same cache
    key when `policy` allows it and they are still stored, else a real attempt (whose outputs
    join the cache unless the op read `ss.context()`, which the key does not cover: `context`
    is what it answers). Returns the try record and the cache key (None: no key could be made).
    An `upstream` op takes the other flow's output instead (`events`: the run's triggering
    asset events by URI, see `slipstream.runtime.upstream`), with no cache key."""
    if op.kind == "upstream":
        take = functools.partial(upstream.locate, store, op, events)
        return attempt(never_called, op, {}, {}, run_id, try_number, store, spec, take), None
    keys: list[cache.Key] = []

    def reuse() -> Reused | None:
        # Inside the try's inputs phase: a read that hangs or fails is recorded as the try's.
        # The key is recorded even where caching is off, so that a later run can resume this.
        cache_key = cache.key(store, spec, op, inputs, constants, fn)
        if cache_key is None:
            return None
        keys.append(cache_key)
        return cache.find(store, spec, op, cache_key, policy)

    with serving(context or RunContext(run_id=run_id, try_number=try_number)) as read:
        record = attempt(fn, op, inputs, constants, run_id, try_number, store, spec, reuse)
    cache_key = keys[0] if keys else None
    remember = policy.allows(spec, op) and not record.cached_from and not read[1]
    if cache_key is not None and remember:
        cache.remember(store, spec, op, cache_key, record)
    return record, cache_key.digest if cache_key else None


def load_function(op: OpSpec) -> Callable[..., Any]:
    """The op's function, or one that raises why it cannot be loaded, so that the failure
    is recorded like any other. An `upstream` op has none: it runs no code."""
    if op.kind == "upstream":
        return never_called
    try:
        return _code.load(op.function, op.name)
    except Exception as exc:  # noqa: BLE001 — raised again by the function, inside the try
        return failing(op, exc)


def failing(op: OpSpec, error: Exception) -> Callable[..., Any]:
    """A stand-in for the op's function that raises `error`: a try that cannot run is
    recorded like one that failed."""

    def unavailable(**_: Any) -> Any:
        raise error

    unavailable.__qualname__ = op.function.qualname
    unavailable.__module__ = op.function.module
    return unavailable
