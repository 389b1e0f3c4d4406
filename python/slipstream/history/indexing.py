"""The writes of the run index that read runs first: a run that ended (the local runner,
the Airflow task that finds its run over, `sync`) and a rebuild from every run record
(`slipstream reindex`, or the first run to end in a flow without an index). The index itself
is in `run_index`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slipstream._native import (
    Store,
    classify_run_file,
    flow_run_dir,
    index_active,
    index_mark_active,
    index_now,
    index_rebuild,
    index_record,
    index_segments,
)
from slipstream.history.reader import History
from slipstream.history.run_index import OPEN, best_effort, escaped
from slipstream.records.runs import read_op_state


def record_ended(store: Store, flow: str, runs: Iterable[Mapping[str, Any]]) -> None:
    """Indexes `runs` (records of ended runs, as readers merge them) and removes their
    markers (best effort). A flow without an index yet gets one, built from its records."""
    runs = list(runs)
    if not runs:
        return
    with best_effort("index the run", flow, runs[0]["run_id"] if len(runs) == 1 else None):
        if not index_record(store, flow, [json.dumps(r).encode() for r in runs]):
            reindex(store, flow)


def index_if_over(
    store: Store, spec: Mapping[str, Any], run_id: str, state: Mapping[str, Any], op: str
) -> None:
    """What the Airflow task of op `op` does once it has written the op's state (`state`):
    if the run may be over, it is read merged, and indexed if it is. It may be over when no
    op of the version is left that could still run: every op has a state file, or each of
    the first ops without one has an upstream op that failed (so nothing below it runs).
    Best effort: `slipstream sync` indexes the runs Airflow says are over that are still
    marked."""
    flow = spec["flow"]
    with best_effort("index the run", flow, run_id):
        run_dir = flow_run_dir(flow, run_id)
        found = (classify_run_file(p[len(run_dir) :]) for p in store.list(run_dir))
        have = {f[1] for f in found if f is not None and f[0] == "op_state"}
        statuses = {op: state["status"]}

        def blocks(name: str) -> bool:
            if name not in statuses:
                read = read_op_state(store, flow, run_id, name)
                statuses[name] = read["status"] if read else "pending"
            return statuses[name] in ("failed", "upstream_failed")

        for missing in (o for o in spec["ops"] if o["name"] not in have):
            upstream = missing["upstream"]
            if all(u in have for u in upstream) and not any(blocks(u) for u in upstream):
                return  # it can still run: the run is not over
        run = History(store).run(flow, run_id)
        if run.status not in OPEN:
            record_ended(store, flow, [run.record])


@dataclass(frozen=True)
class Reindexed:
    flow: str
    ended: int
    open: int
    replaced: int
    #: Runs left out because their record (or their version's spec) cannot be read:
    #: `{run_id, error}` each (see `History.unreadable`).
    skipped: list[dict[str, Any]] = field(default_factory=list)


def reindex(store: Store, flow: str) -> Reindexed:
    """Rebuilds `flow`'s index from its run records: every ended run in one new segment,
    replacing those there were before; a marker for each run not over that lacks one."""
    # Both before the records are read: a run that ends or is deleted meanwhile keeps the
    # later segment that says so (see `rebuild` in the store's run index).
    now = index_now()
    replaced = index_segments(store, flow)
    marked = set(index_active(store, flow))
    runs, skipped = History(store).read_runs(flow)
    ended = [r.record for r in runs if r.status not in OPEN]
    still_open = [r for r in runs if r.status in OPEN]
    for run_id in [r.run_id for r in still_open] + [r["run_id"] for r in skipped]:
        # Runs not over, and those that cannot be read: readers read both from their
        # records (the latter show as unreadable, with their reason, until repaired).
        if escaped(flow, run_id) not in marked:
            index_mark_active(store, flow, run_id)
    index_rebuild(store, flow, [json.dumps(r).encode() for r in ended], replaced, now)
    return Reindexed(flow, len(ended), len(still_open), len(replaced), skipped)
