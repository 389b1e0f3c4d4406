"""The run index as tasks write it: a run header, written by whichever task comes first, and
one state file per op, written only by that op's task, so that parallel tasks never race.

    flows/<flow>/runs/<run>/run.json        version, params, trigger, start
    flows/<flow>/runs/<run>/ops/<op>.json   status, tries, error summary, metric, check
    flows/<flow>/runs/<run>/airflow.json    Airflow's run and task states (`slipstream sync`)

The local runner writes the whole run into `run.json`, final. For a run seen through its
tasks, readers merge the op files over the header, then Airflow's word on the run and on
every task whose Airflow try is as new as its op file (a killed task writes no file), and
derive what is still missing. The web UI merges the same way (`slipstream-ui`'s index).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slipstream import _constants
from slipstream._native import Store, flow_run_op_path, flow_run_path
from slipstream._task import TaskRecord
from slipstream.errors import ArtifactNotFound

RUN_FORMAT = 1
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
        store.put_object(path, dump(new_record(spec, run_id, params, trigger)))


def op_state(op: Mapping[str, Any], record: TaskRecord, retries_left: bool) -> dict[str, Any]:
    """What an op's attempt leaves in the run index."""
    failed = record["status"] == "failed"
    error = record["error"]
    return {
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
    store.put_object(flow_run_op_path(flow, run_id, op), dump(state))


def merged(store: Store, record: dict[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    """The run record with the op files of its tasks merged in, and what they leave open
    derived: ops below a failure are `upstream_failed`, and a run whose ops have all ended
    has a final status."""
    if record["status"] != "running":
        return record
    run_dir = flow_run_path(record["flow"], record["run_id"]).removesuffix("run.json")
    airflow: dict[str, Any] | None = None
    for path in store.list(run_dir):
        rest = path[len(run_dir) :]
        if rest == "airflow.json":
            airflow = json.loads(store.get_object(path))
        name = rest.removeprefix("ops/").removesuffix(".json")
        if rest.startswith("ops/") and name in record["ops"]:
            state = json.loads(store.get_object(path))
            record["ops"][name].update(state)
            if state.get("metric") is not None:
                record["metrics"][name] = state["metric"]
            if state.get("check") is not None:
                record["checks"][name] = state["check"]
    states = record["ops"]
    for name, task in (airflow or {}).get("tasks", {}).items():
        if name in states and task["try_number"] >= states[name].get("tries", 0):
            states[name]["status"] = _AIRFLOW_STATES.get(task["state"], task["state"])
            states[name]["tries"] = task["try_number"]
        if name in states:
            states[name]["airflow_tries"] = task["tries"]
    ops = {op["name"]: op for op in spec["ops"]}
    for name, op in ops.items():  # dependency order
        blocked = [
            u for u in op["upstream"] if states[u]["status"] in ("failed", "upstream_failed")
        ]
        if states[name]["status"] == "pending" and blocked:
            states[name].update(status="upstream_failed", blocked_by=blocked)
    statuses = {s["status"] for s in states.values()}
    run_state = (airflow or {}).get("state")
    if run_state in ("success", "failed", "queued"):
        record["status"] = run_state
    elif statuses <= set(FINAL):
        record["status"] = "success" if statuses == {"success"} else "failed"
    if airflow and airflow.get("end_date"):
        record["ended_at"] = airflow["end_date"]
    return record


# Airflow task-instance states as op statuses (None: not scheduled yet).
_AIRFLOW_STATES: dict[str | None, str] = {
    None: "pending",
    "scheduled": "queued",
    "queued": "queued",
    "deferred": "queued",
    "restarting": "queued",
    "up_for_reschedule": "queued",
    "removed": "skipped",
}


def dump(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, indent=1).encode()
