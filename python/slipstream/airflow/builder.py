"""The one DAG builder: the tasks of a published flow version, added to the DAG (or task
group) being defined, wired as the flow's ops are.

Both ways a flow reaches Airflow go through `add_tasks`:

- `task_group("churn", store=..., params=...)` in a hand-written DAG adds the flow as an
  Airflow `TaskGroup` (`wait_for_export >> churn >> notify`);
- the DAG file `flow.to_airflow` writes is a thin `with DAG(**dag_args(SPEC, ...))` around
  `add_tasks(SPEC, ...)`.

Parsing stays cheap and offline: the builder reads the version's spec from the file
`slipstream publish` (or `to_airflow`) wrote beside the DAG files (`<flow>.slipstream.json`,
so the DAG bundle's versioning covers it); it never imports the user's code, publishes a
version or reads the store. Tasks read the store when they run.

Run ids: see `run_ids` (a group's tasks record their run under its own scope).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from slipstream.errors import FlowDefinitionError
from slipstream.records.types import FlowSpec
from slipstream.spec.params import check_names

Mode = Literal["python", "kubernetes"]

#: The suffix of a published spec beside the DAG files: `<flow>.slipstream.json`.
SPEC_SUFFIX = ".slipstream.json"

# The start date of a version published before versions recorded when (a fixed day, so that
# such a DAG too is the same whenever it is parsed).
_UNDATED_START = date(2026, 1, 1)


def spec_file(folder: str | Path, flow: str) -> Path:
    """Where the published spec of `flow` is, in the DAG folder `folder`."""
    return Path(folder) / f"{flow}{SPEC_SUFFIX}"


def write_spec(spec: FlowSpec, folder: str | Path) -> Path:
    """Writes the spec of a published version into the DAG folder `folder`, whole (the DAG
    processor never reads half a file), and returns its path."""
    from slipstream.records.files import dump

    path = spec_file(folder, spec.flow)
    write_whole(path, dump(spec, str(path)))
    return path


def write_whole(path: Path, data: bytes) -> None:
    """Writes `path` whole: a temporary file of its own in the same folder, renamed over it,
    so that the DAG processor (or another writer at the same time) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def published(near: str | Path, flow: str) -> FlowSpec:
    """The published spec of `flow` beside `near` (a DAG file, or the DAG folder itself)."""
    where = Path(near)
    return load(spec_file(where if where.is_dir() else where.parent, flow), flow)


def load(path: str | Path, flow: str | None = None) -> FlowSpec:
    """The spec in the file `path` (read once per process while the file is unchanged);
    `flow`: the flow it must be of."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        name = flow or path.name.removesuffix(SPEC_SUFFIX)
        raise FlowDefinitionError(
            f"no published spec of flow {name!r} at {path}: publish it there with "
            f"`slipstream publish <flow file> --store URL --into {path.parent}`"
        ) from None
    spec = _read(str(path), stat.st_mtime_ns, stat.st_size)
    if flow is not None and spec.flow != flow:
        raise FlowDefinitionError(f"{path} is the spec of flow {spec.flow!r}, not {flow!r}")
    return spec


@functools.lru_cache(maxsize=64)
def _read(path: str, mtime_ns: int, size: int) -> FlowSpec:
    from slipstream.records.files import parse

    return parse(Path(path).read_bytes(), path, FlowSpec)


def start_date(spec: FlowSpec) -> date:
    """The DAG's `start_date`: the UTC day the version was first published to its store. It
    belongs to the version, not to the day of parsing, so an unchanged flow gives the same
    DAG; with `catchup=False` Airflow starts from the latest interval."""
    published_at = spec.published_at
    if not published_at:
        return _UNDATED_START
    at = datetime.fromisoformat(published_at)
    return (at.astimezone(UTC) if at.tzinfo else at).date()


def dag_params(spec: FlowSpec) -> dict[str, Any]:
    """DAG params: each flow param with its default (None when required), as JSON values
    (a task takes a param equal to its rendering here as not given: its default applies)."""
    from slipstream.spec import constants

    params = {}
    for name, entry in spec.params.items():
        value = None if entry.required else constants.decode(entry.default)
        params[name] = json.loads(json.dumps(value, default=str))  # tuples become lists
    return params


def dag_args(
    spec: FlowSpec,
    *,
    schedule: Any = None,
    default_args: Mapping[str, Any] | None = None,
    mode: Mode = "python",
) -> dict[str, Any]:
    """The arguments of the DAG of a compiled flow: description, schedule (`schedule`, else
    the flow's: a cron line, or the Assets of other flows' outputs it is scheduled on),
    start date, params, default args and the tags `slipstream`, `flow:<flow>`,
    `version:<id>` (by which `slipstream sync` finds it)."""
    if schedule is None and spec.schedule_on:
        from slipstream.airflow.operator import asset

        check_schedule_mode(spec.flow, spec.schedule_on, mode)
        schedule = [asset(a.flow, a.op, a.output) for a in spec.schedule_on]
    elif schedule is None:
        schedule = spec.schedule
    day = start_date(spec)
    return {
        "description": spec.description or f"slipstream flow {spec.flow}",
        "schedule": schedule,
        "start_date": datetime(day.year, day.month, day.day, tzinfo=UTC),
        "catchup": False,
        "params": dag_params(spec),
        "default_args": dict(default_args or {}),
        "tags": ["slipstream", f"flow:{spec.flow}", f"version:{spec.version}"],
    }


def check_mode(spec: FlowSpec, mode: str, image: str | None) -> None:
    """`mode` is one the builder makes, and in `kubernetes` every op has an image (its own
    `@op(image=...)`, else `image`)."""
    if mode not in ("python", "kubernetes"):
        raise ValueError(f"mode must be 'python' or 'kubernetes', not {mode!r}")
    missing = [o.name for o in spec.ops if not (o.image or image)]
    if mode == "kubernetes" and missing:
        raise ValueError(
            f"mode='kubernetes' needs an image: pass image=... (to_airflow, task_group) or "
            f"set @op(image=...) on {', '.join(missing)}"
        )


def check_schedule_mode(flow: str, schedule_on: Any, mode: str) -> None:
    """A flow scheduled on other flows' outputs compiles to `mode="python"` only."""
    if schedule_on and mode != "python":
        raise FlowDefinitionError(
            f"flow {flow!r} is scheduled on other flows' outputs, which needs "
            "mode='python' (the Asset events are read by the slipstream operator)"
        )


def add_tasks(
    spec: FlowSpec,
    *,
    store: str,
    mode: Mode = "python",
    params: Mapping[str, Any] | None = None,
    run_scope: str | None = None,
    image: str | None = None,
    secret: str = "slipstream-store",
    notifiers: Sequence[Any] = (),
    **task_kwargs: Any,
) -> dict[str, Any]:
    """Adds one task per op of `spec` to the DAG or task group being defined, wired as the
    ops are, and returns them by op name. `params`: the flow's params for these tasks (plain
    values, templates, `ss.xcom(...)`), else the DAG run's params (a compiled DAG's);
    `run_scope`: what the run id of these tasks' slipstream run starts with (a group's);
    `notifiers`: Airflow notifiers the tasks call with alerts (`runtime.alerts`);
    `task_kwargs`: passed to every task (`retries`, `pool`, `execution_timeout`...)."""
    check_mode(spec, mode, image)
    if notifiers and mode != "python":
        raise FlowDefinitionError(
            f"flow {spec.flow!r}: notifiers need mode='python' (a pod cannot call them)"
        )
    if notifiers:
        task_kwargs["notifiers"] = list(notifiers)
    if params is not None:  # their names now; their values in the task, once rendered
        check_names(spec, params)
    if mode == "kubernetes":
        from slipstream.airflow.pods import pod_task as make
    else:
        from slipstream.airflow.operator import op_task as make
    tasks: dict[str, Any] = {}
    for op in spec.ops:
        kwargs = dict(task_kwargs)
        if op.retries:
            kwargs["retries"] = op.retries
        tasks[op.name] = make(
            spec, op, store=store, params=params, run_scope=run_scope,
            image=image, secret=secret, **kwargs,
        )  # fmt: skip
    for op in spec.ops:
        for upstream in op.upstream:
            tasks[upstream] >> tasks[op.name]
    return tasks
