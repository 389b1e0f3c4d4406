"""The run index as tasks write it: a run header, written by whichever task comes first, and
one state file per op, written only by that op's task, so that parallel tasks never race.

    flows/<flow>/runs/<run>/run.json        version, params, trigger, start
    flows/<flow>/runs/<run>/ops/<op>.json   status, tries, error summary, metric, check
    flows/<flow>/runs/<run>/airflow.json    Airflow's run and task states (`slipstream sync`)

The local runner writes the whole run into `run.json`, final. A run seen through its tasks
is merged by the Rust core's `merge_run`, the one merge the web UI uses too: op files over
the header, then Airflow's word on the run and on every task whose Airflow try is as new as
its op file (a killed task writes no file), then what is still open is derived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slipstream._native import (
    Store,
    classify_run_file,
    flow_run_dir,
    flow_run_op_path,
    flow_run_path,
    merge_run_files,
)
from slipstream.errors import ArtifactNotFound
from slipstream.records import files
from slipstream.records.types import TryRecord
from slipstream.spec import constants as _constants

RUN_FORMAT = 1
OP_STATE_FORMAT = 1
FINAL = ("success", "failed", "upstream_failed", "skipped")


def new_record(
    spec: Mapping[str, Any], run_id: str, params: Mapping[str, Any], trigger: str
) -> dict[str, Any]:
    return {
        "format": RUN_FORMAT,
        "flow": spec["flow"],
        "version": spec["version"],
        "run_id": run_id,
        "trigger": trigger,
        "status": "running",
        "params": {k: _constants.encode(v, k) for k, v in params.items()},
        "started_at": datetime.now(UTC).isoformat(),
        "ended_at": None,
        "ops": {
            op["name"]: {
                "status": "pending",
                "kind": op["kind"],
                "prefix": op["prefix"],
                "tries": 0,
            }
            for op in spec["ops"]
        },
        "metrics": {},
        "checks": {},
    }


def ensure_header(
    store: Store, spec: Mapping[str, Any], run_id: str, params: Mapping[str, Any], trigger: str
) -> None:
    """Writes the run header unless a task of this run already did."""
    path = flow_run_path(spec["flow"], run_id)
    try:
        store.get_object(path)
    except ArtifactNotFound:
        files.write(store, path, "run", new_record(spec, run_id, params, trigger))


def op_state(op: Mapping[str, Any], record: TryRecord, retries_left: bool) -> dict[str, Any]:
    """What an op's attempt leaves in the run index."""
    failed = record["status"] == "failed"
    error = record["error"]
    return {
        "format": OP_STATE_FORMAT,
        "status": "up_for_retry" if failed and retries_left else record["status"],
        "kind": op["kind"],
        "prefix": op["prefix"],
        "tries": record["try_number"],
        "started_at": record["started_at"],
        "ended_at": record["ended_at"],
        "error": {"type": error["type"], "message": error["message"]} if error else None,
        "metric": record["metric"],
        "check": record["check"],
    }


def write_op_state(store: Store, flow: str, run_id: str, op: str, state: Mapping[str, Any]) -> None:
    files.write(store, flow_run_op_path(flow, run_id, op), "op_state", state)


def merged(store: Store, record: dict[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The run record with the files of its tasks and Airflow's state merged in (a finished
    run is returned as it is): ops below a failure are `upstream_failed`, and a run whose ops
    have all ended has a final status."""
    if record["status"] != "running":
        return record
    run_dir = flow_run_dir(record["flow"], record["run_id"])
    op_files: list[tuple[str, bytes]] = []
    airflow: bytes | None = None
    for path in store.list(run_dir):
        match classify_run_file(path[len(run_dir) :]):
            case ("op_state", str(name)):
                op_files.append((name, store.get_object(path)))
            case ("airflow", None):
                airflow = store.get_object(path)
    run = json.dumps(record).encode()
    merged_run: dict[str, Any] = json.loads(
        merge_run_files(run, json.dumps(spec).encode(), op_files, airflow, run_dir)
    )
    return merged_run


def write_run(store: Store, record: Mapping[str, Any]) -> None:
    """Writes a whole run record (the local runner's), checked first."""
    files.write(store, flow_run_path(record["flow"], record["run_id"]), "run", record)
