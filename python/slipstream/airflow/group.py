"""A published flow inside a hand-written DAG: `task_group` adds its ops as an Airflow
`TaskGroup`, and `read` gives a plain task of the same DAG run an output of it.

    with DAG("daily", schedule="@daily", ...) as dag:
        wait = BashOperator(task_id="wait_for_export", bash_command="...")
        churn = slipstream.airflow.task_group("churn", store="s3://analytics/slipstream",
                                              params={"day": "{{ ds }}"})
        wait >> churn >> notify

The group is built by the one DAG builder (`slipstream.airflow.builder`) from the spec
`slipstream publish` wrote beside the DAG file; parsing it imports none of the flow's code
and reads no store.

This module imports Airflow: only DAG files and Airflow's own processes import it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from slipstream.airflow import builder
from slipstream.airflow.run_ids import run_id_of
from slipstream.airflow.values import xcom_source
from slipstream.errors import FlowDefinitionError, SlipstreamError

try:  # Airflow 3
    from airflow.sdk import TaskGroup
except ModuleNotFoundError as missing:  # Airflow 2
    if missing.name != "airflow.sdk":
        raise
    from airflow.utils.task_group import TaskGroup


def task_group(
    flow: str,
    *,
    store: str | None = None,
    params: Mapping[str, Any] | None = None,
    group_id: str | None = None,
    spec: str | Path | None = None,
    mode: builder.Mode = "python",
    image: str | None = None,
    secret: str = "slipstream-store",
    tooltip: str | None = None,
    notifiers: Sequence[Any] = (),
    **task_kwargs: Any,
) -> Any:
    """Adds the published flow `flow` to the DAG being defined as a `TaskGroup` and returns
    it, to wire with `>>` like any task.

    - `store`: the store its version was published to (default: `$SLIPSTREAM_STORE` where
      the DAG is parsed);
    - `params`: the flow's params for this group: plain values, Airflow templates
      (`"{{ ds }}"`), or another task's XCom (`slipstream.airflow.xcom("list_files")`, a
      task already in the DAG, which becomes upstream of the group); the flow's defaults
      for the others;
    - `group_id`: the group's id (default: the flow's name); one flow may be added twice
      under two ids;
    - `spec`: the published spec's file (default: `<flow>.slipstream.json` beside the DAG
      file, as `slipstream publish --into` writes it);
    - `notifiers`: Airflow notifiers (`BaseNotifier`) called when a check fails or a metric
      crosses its alert bound (`slipstream.runtime.alerts`);
    - `mode`, `image`, `secret`: as `flow.to_airflow`; `task_kwargs` go to every task
      (`retries`, `pool`, `execution_timeout`, ...).

    Each task records its op under the slipstream run `<dag id>.<group id>/<run id>` of
    the flow (see `run_ids`)."""
    try:
        group = TaskGroup(group_id or flow)
    except RuntimeError as exc:  # Airflow 3: "TaskGroup can only be used inside a dag"
        raise FlowDefinitionError(
            f"task_group({flow!r}) adds a flow to the DAG being defined: call it inside a "
            f"`with DAG(...)` block ({exc})"
        ) from None
    dag = group.dag
    if dag is None:
        raise FlowDefinitionError(
            f"task_group({flow!r}) adds a flow to the DAG being defined: call it inside a "
            "`with DAG(...)` block"
        )
    if spec is not None:
        published = builder.load(spec, flow)
    else:
        published = builder.published(Path(dag.fileloc).parent, flow)
    store = store or os.environ.get("SLIPSTREAM_STORE")
    if not store:
        raise FlowDefinitionError(
            f"task_group({flow!r}): name the store its version was published to, "
            "store='s3://bucket/prefix', or set SLIPSTREAM_STORE where the DAG is parsed"
        )
    params = dict(params or {})
    sources = _xcom_tasks(dag, flow, params)
    group.tooltip = tooltip or f"slipstream flow {flow}, version {published.version}"
    with group:
        builder.add_tasks(
            published, store=store, mode=mode, params=params,
            run_scope=f"{dag.dag_id}.{group.group_id}", image=image, secret=secret,
            notifiers=notifiers, **task_kwargs,
        )  # fmt: skip
    for source in sources:
        source >> group
    return group


def _xcom_tasks(dag: Any, flow: str, params: Mapping[str, Any]) -> list[Any]:
    """The tasks whose XComs `params` take: in the DAG already."""
    found = []
    for name, value in params.items():
        source = xcom_source(value)
        if source is None:
            continue
        task = dag.task_dict.get(source[0])
        if task is None:
            raise FlowDefinitionError(
                f"task_group({flow!r}): param {name!r} takes the XCom of task {source[0]!r}, "
                "which is not in the DAG yet: define that task before the group"
            )
        found.append(task)
    return found


def read(
    flow: str,
    op: str,
    context: Mapping[str, Any],
    output: str | None = None,
    *,
    group_id: str | None = None,
    store: str | None = None,
) -> Any:
    """The output `output` (default: `out`) of op `op` of the group of flow `flow` in this
    DAG run, read as the ops read it (typed, its checksum verified); `context`: the task's
    Airflow context. The group is `group_id`, else the one named after the flow, else the
    flow's only group. The store is the group's."""
    from slipstream.history.reader import open as open_store

    dag = context["dag"]
    found = []
    for task in dag.task_dict.values():
        kwargs = getattr(task, "op_kwargs", None) or {}
        if (kwargs.get("flow"), kwargs.get("op")) != (flow, op) or not kwargs.get("run_scope"):
            continue
        scope = str(kwargs["run_scope"]).removeprefix(f"{dag.dag_id}.")
        if group_id is None or scope == group_id or scope.endswith(f".{group_id}"):
            found.append(kwargs)
    named = [k for k in found if k["run_scope"] == f"{dag.dag_id}.{flow}"]
    if group_id is None and named:  # the group of the flow's own name, where it is
        found = named
    if len(found) != 1:
        groups = sorted(str(k["run_scope"]).removeprefix(f"{dag.dag_id}.") for k in found)
        raise SlipstreamError(
            f"DAG {dag.dag_id!r} has no group of flow {flow!r} with op {op!r}"
            + (f" whose id is {group_id!r}" if group_id else "")
            + " (groups added with task_group(), mode='python')"
            if not found
            else f"DAG {dag.dag_id!r} has several groups of flow {flow!r} ({', '.join(groups)}): "
            "name one, read(..., group_id=...)"
        )
    (kwargs,) = found
    store = store or kwargs["store"]
    run_id = run_id_of(kwargs["run_scope"], context["run_id"])
    run = open_store(store).run(flow, run_id)
    return run[f"{op}.{output or 'out'}"]
