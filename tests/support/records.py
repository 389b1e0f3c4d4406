"""Records rewritten with explicit times, so that tests ordering runs or versions never depend
on the clock (two runs started a few milliseconds apart may carry equal or reversed times)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import slipstream as ss
from slipstream._native import flow_run_path, version_spec_path
from slipstream.history import indexing, run_index
from slipstream.records import files
from slipstream.records.types import RunRecord


def date_run(store_url: str, flow: str, run_id: str, started_at: str) -> None:
    """Gives the finished run `run_id` of `flow` the start `started_at` and an end 1 s later,
    in its record and in the run index."""
    store = ss.Store(store_url)
    path = flow_run_path(flow, run_id)
    record = json.loads(store.get_object(path))
    ended_at = (datetime.fromisoformat(started_at) + timedelta(seconds=1)).isoformat()
    record.update(started_at=started_at, ended_at=ended_at)
    store.put_object(path, json.dumps(record, indent=1).encode())
    if record["status"] not in run_index.OPEN:
        indexing.record_ended(store, flow, [files.parse(store.get_object(path), path, RunRecord)])


def date_version(store_url: str, flow: str, version: str, published_at: str) -> None:
    """Gives the published `version` of `flow` the publish time `published_at`."""
    store = ss.Store(store_url)
    path = version_spec_path(flow, version)
    spec = json.loads(store.get_object(path))
    spec["published_at"] = published_at
    store.put_object(path, json.dumps(spec, indent=1).encode())
