"""Outputs as Airflow Assets: their URIs, the `extra` of the events a task emits, and the
artifact a triggering event names.

Every output of a flow is the Asset `slipstream://<flow>/<op>/<output>` (flow and op names
are `[A-Za-z0-9_-]`, output names Python identifiers, so the URI needs no escaping). When a
task succeeds it sets the `extra` of its outlets' events (format `EVENT_FORMAT`):

    {"slipstream": 1, "flow", "op", "output", "run_id", "version", "store",
     "prefix", "stored_run_id", "manifest", "type", "rows", "bytes", "checksum"}

`prefix` and `stored_run_id` locate the artifact (`ops/<prefix>/<stored_run_id>/<output>`):
the run's own, or an earlier run's whose output this run reused. A flow scheduled on the
Asset reads exactly that artifact (`slipstream.runtime.upstream`).

This module imports nothing of Airflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slipstream._native import ArtifactKey
from slipstream.spec.assets import EVENT_FORMAT, parse_asset_uri


def event_extra(
    store: str, flow: str, version: str, op: str, run_id: str, output: str, out: Mapping[str, Any]
) -> dict[str, Any]:
    """The `extra` of the event of one output (`out`: its entry in the task's summary)."""
    return {
        "slipstream": EVENT_FORMAT,
        "flow": flow,
        "op": op,
        "output": output,
        "run_id": run_id,
        "version": version,
        "store": store,
        "prefix": out["prefix"],
        "stored_run_id": out["stored_run_id"],
        "manifest": ArtifactKey(out["prefix"], out["stored_run_id"], output).manifest_path,
        **{k: out.get(k) for k in ("type", "rows", "bytes", "checksum")},
    }


def emit(context: Mapping[str, Any], store: str, flow: str, version: str, op: str,
         run_id: str, summary: Mapping[str, Mapping[str, Any]]) -> None:  # fmt: skip
    """Sets the `extra` of each outlet event of this task that names one of its outputs
    (outlets of other Assets, added by hand, are left as they are)."""
    events = context.get("outlet_events")
    task = context.get("task")
    if events is None or task is None:
        return
    for outlet in getattr(task, "outlets", None) or []:
        name = parse_asset_uri(str(getattr(outlet, "uri", "")))
        if name is None or (name.flow, name.op) != (flow, op) or name.output not in summary:
            continue
        extra = event_extra(store, flow, version, op, run_id, name.output, summary[name.output])
        events[outlet].extra = extra


def triggering_events(accessor: Any) -> dict[str, list[dict[str, Any]]]:
    """The triggering events of a DAG run by Asset URI, oldest first, as plain dicts: `extra`
    plus where the event came from (`source_dag_id`, `source_run_id`, `timestamp`). Airflow 3
    keys its accessor by Asset, Airflow 2 by URI."""
    if not accessor:
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    for key, events in accessor.items():
        uri = key if isinstance(key, str) else str(getattr(key, "uri", ""))
        if parse_asset_uri(uri) is None:
            continue
        found[uri] = sorted((_event(e) for e in events), key=lambda e: e["timestamp"] or "")
    return found


def _event(event: Any) -> dict[str, Any]:
    timestamp = getattr(event, "timestamp", None)
    if isinstance(timestamp, datetime):
        timestamp = timestamp.isoformat()
    return {
        "extra": dict(getattr(event, "extra", None) or {}),
        "source_dag_id": getattr(event, "source_dag_id", None),
        "source_run_id": getattr(event, "source_run_id", None),
        "timestamp": timestamp,
    }
