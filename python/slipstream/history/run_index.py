"""The run index: a summary of every ended run in a few immutable segments
(`flows/<flow>/index/`), and a marker for each run not over or not yet indexed
(`flows/<flow>/active/`), so that the runs list, a page of it and a metric's history cost a
bounded number of requests, however many runs the flow has. Its reads and its small writes
live here; the writes that read runs first (a run's end, a rebuild) in `indexing`.

Writers: the local runner (a marker at start, the run at its end), each Airflow task (a
marker), the Airflow task that finds its run over, `slipstream sync` (any run Airflow says is
over and still marked), `gc` (compaction) and `delete`. The index is derived data:
`slipstream reindex FLOW` rebuilds it from the run records, and a failure to write it never
fails a run: a run is marked before its record is written and unmarked only once indexed, so
readers read it from its records until then.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from slipstream._native import (
    Store,
    flow_run_dir,
    index_active,
    index_compact,
    index_deleted,
    index_mark_active,
    index_read,
    run_summary,
    runs_dir,
)
from slipstream.records import files, runs
from slipstream.records.types import RunRecord, RunSummary

_log = logging.getLogger("slipstream")

#: Statuses of a run that is not over (readers show these from its records).
OPEN = runs.OPEN


@contextlib.contextmanager
def best_effort(what: str, flow: str, run_id: str | None = None) -> Iterator[None]:
    """Logs a failure to keep the index instead of raising it."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - derived data: never fails the run it is about
        run = f" run {run_id!r} of" if run_id else ""
        _log.warning("could not %s for%s flow %r (%s): readers read it from its records; "
                     "`slipstream reindex %s` rebuilds the index",
                     what, run, flow, exc, flow)  # fmt: skip


def mark_active(store: Store, flow: str, run_id: str) -> None:
    """Marks the run as not over (best effort)."""
    with best_effort("mark the run active", flow, run_id):
        index_mark_active(store, flow, run_id)


def compact(store: Store, flow: str) -> None:
    """Replaces the segments of `flow`'s index by one (best effort)."""
    with best_effort("compact the run index", flow):
        index_compact(store, flow)


def marked(store: Store, flow: str) -> set[str]:
    """Run folders (escaped run ids) of `flow` marked as not over or not indexed."""
    return set(index_active(store, flow))


def deleted(store: Store, flow: str) -> set[str]:
    """Run ids of `flow` that `slipstream delete` removed and that were not indexed again
    since (an index that cannot be read says none, with a warning)."""
    try:
        return set(index_deleted(store, flow))
    except Exception as exc:  # noqa: BLE001 - derived data: its loss must not stop a reader
        _log.warning("the run index of flow %r cannot say which runs were deleted (%s); "
                     "rebuild it with `slipstream reindex %s`", flow, exc, flow)  # fmt: skip
        return set()


def is_marked(active: set[str], flow: str, run_id: str) -> bool:
    return escaped(flow, run_id) in active


def summary(record: RunRecord) -> RunSummary:
    """What the index keeps of a run (its record as readers merge it)."""
    return files.from_core(run_summary(record.to_json()), RunSummary)


def summaries(store: Store, flow: str) -> tuple[list[RunSummary], list[str]] | None:
    """`(ended runs, run folders still marked)` as the index says, or None when it has none
    that can be trusted: what the index holds, for inspection (readers list runs through
    `History.summaries`, the UI's reader)."""
    state, runs, active = index_read(store, flow)
    if state != "ready" or runs is None:
        if state == "unreadable":
            _log.warning("the run index of flow %r is not used: %s; rebuild it with "
                         "`slipstream reindex %s`", flow, runs, flow)  # fmt: skip
        return None
    return files.from_core(runs, list[RunSummary]), active


def escaped(flow: str, run_id: str) -> str:
    """A run's folder name: its run id escaped (or hashed, if very long)."""
    return flow_run_dir(flow, run_id)[len(runs_dir(flow)) + 1 :].rstrip("/")
