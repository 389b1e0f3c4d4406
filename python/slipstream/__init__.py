"""slipstream: a data-aware runtime for Apache Airflow.

The low-level API, shared by the SDK, the Airflow tasks and the tests:

>>> import slipstream as ss
>>> store = ss.Store("file:///tmp/slip")
>>> key = ss.ArtifactKey(op_prefix="9a1f", run_id="manual__2026-11-23T18:50:11+00:00")
>>> manifest = store.put(key, {"rows": 3})
>>> store.get(key)
{'rows': 3}
"""

from __future__ import annotations

from slipstream import errors
from slipstream._native import ArtifactKey, Store, __version__, record_path, run_dir
from slipstream._task import TaskRecord, run_op

__all__ = [
    "ArtifactKey",
    "Store",
    "TaskRecord",
    "__version__",
    "errors",
    "record_path",
    "run_dir",
    "run_op",
]
