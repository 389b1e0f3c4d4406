"""slipstream: a data-aware runtime for Apache Airflow.

Write plain functions, mark them, call them to wire a flow, run it:

>>> import slipstream as ss
>>> @ss.op
... def load() -> dict: return {"rows": 3}
>>> @ss.op
... def double(data: dict) -> int: return data["rows"] * 2
>>> flow = ss.Flow("demo", outputs=[double(load())])
>>> run = flow.run("file:///tmp/slip")
>>> run.status, run["double"]
('success', 6)

The low-level API, shared by the SDK, the Airflow tasks and the tests: `Store`,
`ArtifactKey`, `run_op`.

Names are imported on first use, so that `import slipstream.airflow` in a DAG file costs the
DAG processor next to nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from slipstream import errors
from slipstream._native import ArtifactKey, Store, __version__, record_path, run_dir

if TYPE_CHECKING:
    from slipstream.airflow.values import xcom
    from slipstream.authoring.flow import Flow
    from slipstream.authoring.graph import (
        Artifact,
        OpDefinition,
        Outcome,
        Param,
        check,
        metric,
        op,
        param,
    )
    from slipstream.authoring.sql import save, sql
    from slipstream.authoring.upstream import FlowAsset, upstream
    from slipstream.history.reader import History, OpRun, Run, Version, default_store, open
    from slipstream.history.retention import Retention
    from slipstream.records import TaskRecord
    from slipstream.records.types import TryRecord
    from slipstream.runtime.attempt import run_op
    from slipstream.runtime.connections import Connection, connection
    from slipstream.runtime.context import RunContext, context

_LAZY = {
    "Flow": "authoring.flow",
    "default_store": "history.reader",
    "Artifact": "authoring.graph",
    "OpDefinition": "authoring.graph",
    "Outcome": "authoring.graph",
    "Param": "authoring.graph",
    "check": "authoring.graph",
    "metric": "authoring.graph",
    "op": "authoring.graph",
    "param": "authoring.graph",
    "History": "history.reader",
    "OpRun": "history.reader",
    "Run": "history.reader",
    "Version": "history.reader",
    "open": "history.reader",
    "Retention": "history.retention",
    "FlowAsset": "authoring.upstream",
    "upstream": "authoring.upstream",
    "save": "authoring.sql",
    "sql": "authoring.sql",
    "TaskRecord": "records",
    "TryRecord": "records.types",
    "run_op": "runtime.attempt",
    "Connection": "runtime.connections",
    "connection": "runtime.connections",
    "RunContext": "runtime.context",
    "context": "runtime.context",
    "xcom": "airflow.values",
}

__all__ = [
    "Artifact",
    "ArtifactKey",
    "Connection",
    "Flow",
    "FlowAsset",
    "History",
    "OpDefinition",
    "OpRun",
    "Outcome",
    "Param",
    "Retention",
    "Run",
    "RunContext",
    "Store",
    "TaskRecord",
    "TryRecord",
    "Version",
    "__version__",
    "check",
    "connection",
    "context",
    "default_store",
    "errors",
    "metric",
    "op",
    "open",
    "param",
    "record_path",
    "run_dir",
    "run_op",
    "save",
    "sql",
    "upstream",
    "xcom",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'slipstream' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"slipstream.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
