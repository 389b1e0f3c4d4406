"""slipstream in Airflow. For DAG files: `task_group` (a published flow as a task group of a
hand-written DAG), `read` (a flow group's output in a plain task), `xcom` (another task's
XCom as a flow param). Inside tasks: `execute`, the callable of every slipstream task, and
`run_task`, which the `slipstream task` command of the Kubernetes pods calls too.

A task resolves its op and params from the published flow version and what Airflow hands
it, then runs one try through the one op runner (`slipstream.runtime.runner`: inputs, cache,
call, outputs, records, the run's end), and raises if the op failed so that Airflow fails
(and retries) the task. Nothing large goes through XCom: the task returns a summary of its
outputs.

This module imports nothing heavy: DAG files import it when they are parsed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from slipstream._native import Store
from slipstream.airflow.values import xcom
from slipstream.errors import CheckFailed, SlipstreamError

if TYPE_CHECKING:
    from slipstream.airflow.group import read, task_group
    from slipstream.records.types import FlowSpec
    from slipstream.runtime.alerts import Alert
    from slipstream.runtime.context import RunContext


class OpFailed(SlipstreamError):
    """The op of this task failed; the message carries its error and stack trace, which are
    also in the try record."""


def __getattr__(name: str) -> Any:
    """`task_group` and `read` (`slipstream.airflow.group`), imported on first use: that
    module imports Airflow, which tasks of older DAG files need not."""
    if name in ("task_group", "read"):
        import importlib

        return getattr(importlib.import_module("slipstream.airflow.group"), name)
    raise AttributeError(f"module 'slipstream.airflow' has no attribute {name!r}")


def execute(
    *,
    store: str,
    flow: str,
    version: str,
    op: str,
    prefix: str,
    flow_params: Mapping[str, Any] | None = None,
    run_scope: str | None = None,
    **context: Any,
) -> Any:
    """The `python_callable` of a slipstream task (keyword arguments from `op_kwargs`, the
    rest is Airflow's context). `flow_params`: a flow group's params (templates rendered,
    XComs still to pull), else the DAG run's params are the flow's (a compiled DAG);
    `run_scope`: a group's run id prefix (`run_ids.run_id_of`)."""
    from slipstream.airflow import assets, values
    from slipstream.airflow.run_ids import run_id_of
    from slipstream.runtime import context as run_context

    ti = context["ti"]
    conf = getattr(context.get("dag_run"), "conf", None) or {}
    triggering = context.get("triggering_asset_events") or context.get("triggering_dataset_events")
    run_id = run_id_of(run_scope, context["run_id"])
    if flow_params is None:
        params, given = dict(context.get("params") or {}), False
    else:
        params, given = values.resolve(flow_params, ti), True
    summary = run_task(
        store,
        flow,
        version,
        op,
        run_id=run_id,
        try_number=int(ti.try_number),
        params=params,
        params_given=given,
        max_tries=int(getattr(ti, "max_tries", 0) or 0),
        prefix=prefix,
        cache=caching(conf),
        events=assets.triggering_events(triggering),
        context=run_context.from_airflow(context, run_id),
        on_alert=_notifier(getattr(context.get("task"), "slipstream_notifiers", ()), context),
    )
    # The store as readers name it (`Store.url`), whatever spelling the DAG file has.
    assets.emit(context, Store(store).url, flow, version, op, run_id, summary)
    return summary


def _notifier(notifiers: Any, context: Mapping[str, Any]) -> Callable[[Alert], Any] | None:
    """What a task does with an alert: its notifiers are called (None: logged)."""
    from slipstream.runtime import alerts

    if not notifiers:
        return None
    return lambda alert: alerts.notify(notifiers, alert, context)


def collect_garbage(*, store: str, **context: Any) -> None:
    """The `python_callable` of the retention DAG (`to_airflow(..., gc_schedule=...)`): each
    flow's declared retention policy applied to `store`, as `slipstream gc --all-flows`."""
    from datetime import UTC, datetime

    from slipstream.history import retention
    from slipstream.history.reader import History

    target, now = Store(store), datetime.now(UTC)
    for flow in History(target).flows():
        policy = retention.declared(target, flow)
        if policy is None:
            print(f"{flow}: no retention policy declared, nothing to do")
            continue
        for line in retention.describe(retention.apply(target, flow, policy, now), False):
            print(line)


#: The key of a DAG run's conf that turns caching off for that run: `{"slipstream_cache": false}`.
CACHE_CONF = "slipstream_cache"

_log = logging.getLogger("slipstream")


def caching(conf: Mapping[str, Any]) -> bool:
    """Whether a DAG run's conf lets its ops reuse earlier outputs (unless it sets
    `slipstream_cache` false; the trigger form and the REST API may send it as a string)."""
    value = conf.get(CACHE_CONF, True)
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
        return False
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, bool):
        return value
    raise SlipstreamError(f"the run's conf sets {CACHE_CONF!r} to {value!r}: use true or false")


def run_task(
    store_url: str,
    flow: str,
    version: str,
    op_name: str,
    *,
    run_id: str,
    try_number: int = 1,
    params: Mapping[str, Any] | None = None,
    params_given: bool = False,
    max_tries: int = 0,
    prefix: str | None = None,
    trigger: str = "airflow",
    cache: bool = True,
    events: Mapping[str, list[dict[str, Any]]] | None = None,
    context: RunContext | None = None,
    on_alert: Callable[[Alert], Any] | None = None,
) -> dict[str, Any]:
    """Runs one attempt of one op of a published version; raises `OpFailed` (or
    `CheckFailed`) when it fails.

    - `params`: the DAG run's params (those equal to their rendering in the DAG are not
      given), or with `params_given` the values given (a flow group's);
    - `cache=False` runs the op even where an earlier output could be reused (in Airflow:
      `{"slipstream_cache": false}` in the run's conf);
    - `events`: the run's triggering asset events by Asset URI, which name the artifacts its
      `upstream` ops take (see `slipstream.runtime.upstream`);
    - `context`: what `ss.context()` answers in the op (else a stand-in);
    - `on_alert` is called with the alert a failed check or a metric outside its bounds
      raises (`runtime.alerts`; a metric's is logged when None).

    Returns a summary of each output and where it is stored (`prefix`, `stored_run_id`: an
    earlier run's where it was reused)."""
    from slipstream.airflow.builder import dag_params
    from slipstream.records import runs as _runs
    from slipstream.runtime import alerts, runner
    from slipstream.runtime import cache as _cache
    from slipstream.runtime import execute as _execute

    store = Store(store_url)
    spec = _spec(store_url, flow, version)
    ops = {o.name: o for o in spec.ops}
    if op_name not in ops:
        raise SlipstreamError(
            f"flow {flow!r} version {version} has no op {op_name!r} (its ops: {', '.join(ops)})"
        )
    op = ops[op_name]
    if prefix is not None and prefix != op.prefix:
        raise SlipstreamError(
            f"op {op_name!r}: the DAG file says prefix {prefix} but version {version} has "
            f"{op.prefix}; the DAG file and the store disagree, recompile the flow"
        )
    # Airflow hands every param over, defaults as the DAG file renders them in JSON (bytes
    # as text, tuples as lists): those are not given, the spec's own default applies.
    if params_given:
        declared = dict(params or {})
    else:
        rendered = dag_params(spec)
        declared = {k: v for k, v in (params or {}).items()
                    if k in spec.params and v != rendered[k]}  # fmt: skip
    values = _execute.resolve_params(spec, declared)
    runner.open_run(store, spec, run_id, values, trigger)
    task = runner.Task(store, spec, op, run_id, values, _cache.Policy(enabled=cache), events,
                       context)  # fmt: skip
    outcome = runner.run_try(task, try_number, retries_left=try_number <= max_tries)
    runner.end_if_over(task)
    record, state = outcome.record, outcome.state
    alerts.call(on_alert, alerts.of(spec, op, record, run_id))
    check = record.check
    if check is not None:  # a verdict belongs in the task log, a warning's above all
        level = logging.INFO if check.passed else logging.WARNING
        verdict = "passed" if check.passed else "failed"
        _log.log(level, "check %r (%s) %s: %s of %s values false", op_name,
                 check.severity, verdict, check.failed, check.total)  # fmt: skip
    error = record.error
    if error is None:
        at = _runs.outputs_at(state, run_id)
        return {
            name: {"type": m.type, "flavor": m.flavor, "rows": m.rows, "bytes": m.bytes,
                   "checksum": m.checksum, "prefix": at.prefix, "stored_run_id": at.run_id}
            for name, m in record.outputs.items()
        }  # fmt: skip
    print(error.traceback, file=sys.stderr)
    message = f"op {op_name!r} failed: {error.type}: {error.message}"
    if outcome.corrupt:  # a retry would read the same bytes: clearing the producers heals it
        raise _no_retry(OpFailed(
            f"{message}\nthe outputs of {', '.join(map(repr, outcome.corrupt))} it read are "
            "corrupt; the cache entries naming them are removed: clear those tasks (and "
            "this one) to compute them again"
        ))  # fmt: skip
    if error.phase == "check":
        raise _no_retry(CheckFailed(message))
    if outcome.mismatch is not None:
        raise _no_retry(OpFailed(message))
    raise OpFailed(f"{message}\n{error.traceback}\ntry record: {record.record_path}")


@lru_cache(maxsize=16)
def _spec(store_url: str, flow: str, version: str) -> FlowSpec:
    """A version's spec, read once per process: versions never change."""
    from slipstream.records.files import load_spec

    return load_spec(Store(store_url), flow, version)


def _no_retry(exc: Exception) -> Exception:
    """A failed check would fail again: ask Airflow not to retry it."""
    import importlib

    try:
        fail: Any = importlib.import_module("airflow.exceptions").AirflowFailException
    except (ImportError, AttributeError):
        return exc
    failure: Exception = fail(str(exc))
    failure.__cause__ = exc
    return failure


__all__ = ["OpFailed", "caching", "execute", "read", "run_task", "task_group", "xcom"]
