"""The run index as slipstream's writers keep it: a summary of every ended run in a few
immutable segments (`flows/<flow>/index/`), and a marker for each run not over or not yet
indexed (`flows/<flow>/active/`), so that the runs list, a page of it and a metric's history
cost a bounded number of requests, however many runs the flow has.

Writers: the local runner (a marker at start, the run at its end), each Airflow task (a
marker), the Airflow task that finds its run over, `slipstream sync` (any run Airflow says is
over and still marked), `gc` (compaction) and `delete`. The index is derived data:
`slipstream reindex FLOW` rebuilds it from the run records, and a failure to write it never
fails a run: the run stays marked, and readers read it from its records.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from slipstream._native import (
    Store,
    classify_run_file,
    flow_run_dir,
    index_active,
    index_compact,
    index_mark_active,
    index_read,
    index_rebuild,
    index_record,
    index_segments,
    run_summary,
    runs_dir,
)
from slipstream.errors import SlipstreamError

_log = logging.getLogger("slipstream")

#: Statuses of a run that is not over (readers show these from its records).
OPEN = ("running", "queued")


@contextlib.contextmanager
def _best_effort(what: str, flow: str, run_id: str | None = None) -> Iterator[None]:
    """Logs a failure to keep the index instead of raising it."""
    try:
        yield
    except (SlipstreamError, OSError, ValueError) as exc:
        run = f" run {run_id!r} of" if run_id else ""
        _log.warning("could not %s for%s flow %r (%s): readers read it from its records; "
                     "`slipstream reindex %s` rebuilds the index", what, run, flow, exc, flow)  # fmt: skip


def mark_active(store: Store, flow: str, run_id: str) -> None:
    """Marks the run as not over (best effort)."""
    with _best_effort("mark the run active", flow, run_id):
        index_mark_active(store, flow, run_id)


def record_ended(store: Store, flow: str, runs: Iterable[Mapping[str, Any]]) -> None:
    """Indexes `runs` (records of ended runs, as readers merge them) and removes their
    markers (best effort). A flow without an index yet gets one, built from its records."""
    runs = list(runs)
    if not runs:
        return
    with _best_effort("index the run", flow, runs[0]["run_id"] if len(runs) == 1 else None):
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
    from slipstream.history.reader import History
    from slipstream.records.runs import read_op_state

    flow = spec["flow"]
    with _best_effort("index the run", flow, run_id):
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


def reindex(store: Store, flow: str) -> Reindexed:
    """Rebuilds `flow`'s index from its run records: every ended run in one new segment,
    replacing those there were before; a marker for each run not over that lacks one."""
    from slipstream.history.reader import History

    replaced = index_segments(store, flow)  # before the records are read: see rebuild
    marked = set(index_active(store, flow))
    runs = History(store).runs(flow)
    ended = [r.record for r in runs if r.status not in OPEN]
    still_open = [r for r in runs if r.status in OPEN]
    for run in still_open:
        if _escaped(flow, run.run_id) not in marked:
            index_mark_active(store, flow, run.run_id)
    index_rebuild(store, flow, [json.dumps(r).encode() for r in ended], replaced)
    return Reindexed(flow, len(ended), len(still_open), len(replaced))


def compact(store: Store, flow: str) -> None:
    """Replaces the segments of `flow`'s index by one (best effort)."""
    with _best_effort("compact the run index", flow):
        index_compact(store, flow)


def marked(store: Store, flow: str) -> set[str]:
    """Run folders (escaped run ids) of `flow` marked as not over or not indexed."""
    return set(index_active(store, flow))


def is_marked(active: set[str], flow: str, run_id: str) -> bool:
    return _escaped(flow, run_id) in active


def summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the index keeps of a run (its record as readers merge it)."""
    found: dict[str, Any] = json.loads(run_summary(json.dumps(record).encode()))
    return found


def summaries(store: Store, flow: str) -> tuple[list[dict[str, Any]], list[str]] | None:
    """`(ended runs, run folders still marked)` from the index, or None when it has none that
    can be trusted (readers then read every run record)."""
    state, runs, active = index_read(store, flow)
    if state != "ready" or runs is None:
        if state == "unreadable":
            _log.warning("the run index of flow %r is not used: %s; rebuild it with "
                         "`slipstream reindex %s`", flow, runs, flow)  # fmt: skip
        return None
    return json.loads(runs), active


def _escaped(flow: str, run_id: str) -> str:
    """A run's folder name: its run id escaped (or hashed, if very long)."""
    return flow_run_dir(flow, run_id)[len(runs_dir(flow)) + 1 :].rstrip("/")
