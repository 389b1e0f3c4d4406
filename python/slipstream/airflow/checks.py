"""What `to_airflow` can tell before any task runs: code its tasks will not find, and a
local store that tasks on other machines cannot share."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from slipstream.records.types import FlowSpec


def deployment_warnings(
    spec: FlowSpec,
    dags_folder: Path,
    *,
    store: str,
    mode: str,
    shared_store: bool,
) -> list[str]:
    """One message per problem, each naming what to do."""
    found = []
    if mode == "kubernetes" and store.startswith("file://") and not shared_store:
        found.append(
            f"the store {store} is a local folder, but mode='kubernetes' runs every task in "
            "its own pod: each would write to its own empty folder. Use an s3:// store, or, "
            "if that path is a volume mounted into every pod, say so with "
            "to_airflow(..., shared_store=True)"
        )
    executor = os.environ.get("AIRFLOW__CORE__EXECUTOR", "")
    remote = any(name in executor for name in ("Celery", "Kubernetes", "Edge"))
    if mode == "python" and remote and store.startswith("file://") and not shared_store:
        found.append(
            f"the store {store} is a local folder, but this Airflow's executor ({executor}) "
            "runs tasks on other machines, each with its own folder. Use an s3:// store, or, "
            "if that path is shared by every worker, say so with "
            "to_airflow(..., shared_store=True)"
        )
    missing = _not_importable_by_tasks(spec, dags_folder)
    for op in spec.ops:
        function = op.function
        top = function.module.partition(".")[0]
        if top in missing:
            where = getattr(sys.modules.get(function.module), "__file__", None) or "?"
            found.append(
                f"op {op.name!r} is imported from module {function.module!r} ({where}), "
                "which a fresh Python here cannot import: it is importable now only because "
                "its folder is on this process's sys.path. Tasks will fail with "
                "CodeUnavailable. Install it where tasks run (pip install -e <project>), put "
                f"it in the DAG folder {dags_folder}, or set PYTHONPATH for the workers"
            )
    return found


def _not_importable_by_tasks(spec: FlowSpec, dags_folder: Path) -> set[str]:
    """Top-level modules of importable ops without captured source that a fresh interpreter
    (started elsewhere, with the DAG folder on its path, as Airflow's) cannot find."""
    modules = sorted({
        op.function.module.partition(".")[0]
        for op in spec.ops
        if op.function.importable and not op.function.module_source
    })  # fmt: skip
    if not modules:
        return set()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(Path(dags_folder).resolve())
    program = (
        "import importlib.util, json, sys\n"
        "print(json.dumps([m for m in sys.argv[1:] if importlib.util.find_spec(m) is None]))"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", program, *modules],
            capture_output=True, text=True, timeout=60, env=env, cwd=os.path.expanduser("~"),
        )  # fmt: skip
        found = json.loads(proc.stdout.splitlines()[-1]) if proc.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        found = []  # cannot tell: say nothing rather than something wrong
    return set(found)
