"""`ss.context()`: the run an op is running in, as Airflow names it — logical date, data
interval, run id, try number, DAG run conf, partition key — so that the same op runs in an
Airflow task and locally unchanged.

In Airflow the values are the task's (`from_airflow`; in a pod, those `slipstream task` is
given). Locally they are a stand-in (`stand_in`): the logical date is the moment the run
started (UTC) and both ends of the data interval are the logical date, the conf is empty,
there is no partition key or DAG id, the task id is the op's name, unless
`flow.run(..., context={...})` sets them.

The cache is kept right: an op whose function read its context may depend on it, and the
context is not part of the cache key, so its outputs are not offered to later runs (its
result is not remembered in the cache; `resume` still takes it, as it takes any output).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from slipstream.errors import SlipstreamError


@dataclass(frozen=True)
class RunContext:
    """What `ss.context()` answers inside an op."""

    #: The slipstream run id (in Airflow: the DAG run's, prefixed for a flow group).
    run_id: str
    #: The try of the op now running, from 1.
    try_number: int = 1
    logical_date: datetime | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    #: The DAG run's conf (locally: empty unless given).
    conf: Mapping[str, Any] = field(default_factory=dict)
    partition_key: str | None = None
    dag_id: str | None = None
    task_id: str | None = None
    #: Whether the op runs in an Airflow task.
    in_airflow: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "conf", MappingProxyType(dict(self.conf)))


_current: ContextVar[list[Any] | None] = ContextVar("slipstream_run_context", default=None)


def context() -> RunContext:
    """The run the calling op runs in (see the module's docstring); outside an op, an
    error saying so."""
    current = _current.get()
    if current is None:
        raise SlipstreamError(
            "ss.context() is only known inside an op while it runs (locally through "
            "flow.run, or in an Airflow task); in a thread the op starts, run the thread's "
            "function in the op's context: contextvars.copy_context().run(fn)"
        )
    current[1] = True
    found: RunContext = current[0]
    return found


@contextlib.contextmanager
def serving(found: RunContext) -> Iterator[list[Any]]:
    """Makes `found` what `context()` answers while the block runs; the yielded cell's second
    item says whether the op read it."""
    cell: list[Any] = [found, False]
    token = _current.set(cell)
    try:
        yield cell
    finally:
        _current.reset(token)


def stand_in(
    run_id: str, started: datetime, given: RunContext | Mapping[str, Any] | None
) -> RunContext:
    """A local run's context: the run started at `started`; `given` (`flow.run(...,
    context=...)`) sets any field."""
    if isinstance(given, RunContext):
        return replace(given, run_id=run_id)
    base = RunContext(run_id=run_id, logical_date=started, data_interval_start=started,
                      data_interval_end=started)  # fmt: skip
    if not given:
        return base
    names = {f.name for f in fields(RunContext)} - {"run_id", "try_number", "in_airflow"}
    unknown = sorted(set(given) - names)
    if unknown:
        raise SlipstreamError(
            f"flow.run(context=...) has no field {unknown[0]!r}; its fields: "
            + ", ".join(sorted(names))
        )
    values = dict(given)
    for name in ("logical_date", "data_interval_start", "data_interval_end"):
        value = values.get(name)
        if value is not None and not isinstance(value, datetime):
            raise SlipstreamError(
                f"flow.run(context=...): {name} is a datetime, not {type(value).__name__} {value!r}"
            )
    if not isinstance(values.get("conf") or {}, Mapping):
        raise SlipstreamError("flow.run(context=...): conf is a dict, as a DAG run's conf")
    values["conf"] = values.get("conf") or {}
    logical = values.get("logical_date", started)
    values.setdefault("data_interval_start", logical)  # as a manual Airflow run's interval
    values.setdefault("data_interval_end", logical)
    return replace(base, **values)


def from_airflow(context: Mapping[str, Any], run_id: str) -> RunContext:
    """The context of an Airflow task (its `context` mapping); `run_id`: the slipstream run
    id of its DAG run."""
    ti, dag_run = context.get("ti"), context.get("dag_run")
    dag = context.get("dag")
    return RunContext(
        run_id=run_id,
        try_number=int(getattr(ti, "try_number", 1) or 1),
        logical_date=context.get("logical_date"),
        data_interval_start=context.get("data_interval_start"),
        data_interval_end=context.get("data_interval_end"),
        conf=dict(getattr(dag_run, "conf", None) or {}),
        partition_key=context.get("partition_key"),
        dag_id=getattr(dag, "dag_id", None) or getattr(ti, "dag_id", None),
        task_id=getattr(ti, "task_id", None),
        in_airflow=True,
    )
