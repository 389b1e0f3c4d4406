"""The writes of the run index that read runs first: a run that ended (the one op runner's
`finish`, `sync`) and a rebuild from every run record
(`slipstream reindex`, or the first run to end in a flow without an index). The index itself
is in `run_index`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from slipstream._native import (
    Store,
    index_active,
    index_mark_active,
    index_now,
    index_rebuild,
    index_record,
    index_segments,
)
from slipstream.history.reader import History
from slipstream.history.run_index import OPEN, best_effort, escaped
from slipstream.records.types import RunRecord, UnreadableRun


def record_ended(store: Store, flow: str, runs: Iterable[RunRecord]) -> None:
    """Indexes `runs` (records of ended runs, as readers merge them) and removes their
    markers (best effort). A flow without an index yet gets one, built from its records."""
    runs = list(runs)
    if not runs:
        return
    with best_effort("index the run", flow, runs[0].run_id if len(runs) == 1 else None):
        if not index_record(store, flow, [r.to_json() for r in runs]):
            reindex(store, flow)


@dataclass(frozen=True)
class Reindexed:
    flow: str
    ended: int
    open: int
    replaced: int
    #: Runs left out because their record (or their version's spec) cannot be read, with
    #: why (see `History.unreadable`).
    skipped: list[UnreadableRun] = field(default_factory=list)


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
    for run_id in [r.run_id for r in still_open] + [r.run_id for r in skipped]:
        # Runs not over, and those that cannot be read: readers read both from their
        # records (the latter show as unreadable, with their reason, until repaired).
        if escaped(flow, run_id) not in marked:
            index_mark_active(store, flow, run_id)
    index_rebuild(store, flow, [r.to_json() for r in ended], replaced, now)
    return Reindexed(flow, len(ended), len(still_open), len(replaced), skipped)
