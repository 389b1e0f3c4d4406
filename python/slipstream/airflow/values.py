"""Airflow values as flow params: a template (`"{{ ds }}"`, `"{{ dag_run.conf['region'] }}"`)
or another task's XCom (`ss.xcom("list_files")`), given to a flow group's params and resolved
inside each task, then recorded in the run like any param.

Templates need nothing of ours: the group's params are a templated field of its tasks, so
Airflow renders them. An XCom is a marker, a plain dict that survives DAG serialization
and template rendering untouched, pulled by the task (`resolve`).

This module imports nothing of Airflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slipstream.errors import ParamError

#: The key of the marker dict that `xcom` returns.
XCOM_MARKER = "__slipstream_xcom__"


def xcom(task: Any, key: str = "return_value") -> dict[str, Any]:
    """The XCom `key` of task `task` (its task id, or the task itself) in the same DAG run,
    as a flow param's value: `task_group("churn", params={"files": ss.xcom("list_files")})`.
    The task must be in the DAG before the group; it becomes upstream of the group."""
    task_id = task if isinstance(task, str) else getattr(task, "task_id", None)
    if not isinstance(task_id, str) or not task_id:
        raise ParamError(f"ss.xcom takes a task id or a task, not {task!r}")
    if not isinstance(key, str) or not key:
        raise ParamError(f"ss.xcom: the XCom key is a non-empty string, not {key!r}")
    return {XCOM_MARKER: {"task_id": task_id, "key": key}}


def xcom_source(value: Any) -> tuple[str, str] | None:
    """The (task id, key) a param value pulls, or None when it is not an XCom marker."""
    if isinstance(value, Mapping) and set(value) == {XCOM_MARKER}:
        inner = value[XCOM_MARKER]
        return str(inner["task_id"]), str(inner["key"])
    return None


def resolve(params: Mapping[str, Any], ti: Any) -> dict[str, Any]:
    """The group's params as this task sees them: XCom markers pulled through `ti` (the task
    instance), templates already rendered by Airflow."""
    values = {}
    for name, value in params.items():
        source = xcom_source(value)
        if source is None:
            values[name] = value
            continue
        task_id, key = source
        pulled = ti.xcom_pull(task_ids=task_id, key=key)
        if pulled is None:
            raise ParamError(
                f"param {name!r} takes the XCom {key!r} of task {task_id!r}, which has none in "
                "this DAG run: did the task return a value (or push that key)?"
            )
        values[name] = pulled
    return values
