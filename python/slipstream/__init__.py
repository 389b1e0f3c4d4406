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
"""

from __future__ import annotations

from slipstream import errors
from slipstream._flow import Flow, default_store
from slipstream._graph import Artifact, OpDefinition, Outcome, Param, check, metric, op, param
from slipstream._history import History, OpRun, Run, Version, open
from slipstream._native import ArtifactKey, Store, __version__, record_path, run_dir
from slipstream._sql import save, sql
from slipstream._task import TaskRecord, run_op

__all__ = [
    "Artifact",
    "ArtifactKey",
    "Flow",
    "History",
    "OpDefinition",
    "OpRun",
    "Outcome",
    "Param",
    "Run",
    "Store",
    "TaskRecord",
    "Version",
    "__version__",
    "check",
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
]
