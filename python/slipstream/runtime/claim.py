"""Claiming a run id: the first record of a local run is created only if its id is free, so
that of two processes starting one run id at once exactly one runs it."""

from __future__ import annotations

import sys

from slipstream._native import Store, flow_run_dir, flow_run_path
from slipstream.errors import CorruptArtifact, RunIdTaken
from slipstream.history import retention
from slipstream.history.reader import History
from slipstream.records import files
from slipstream.records.types import RunRecord


def claim_run(store: Store, record: RunRecord, *, overwrite: bool = False) -> None:
    """Writes the first record of a new local run, only if its run id is free: created
    atomically (`link(2)` on a local store, `If-None-Match` on S3), so that of two processes
    starting one run id at once exactly one runs it. With `overwrite`, a run that has ended
    under that id is deleted first (as `slipstream delete` would: refused while other runs
    use its outputs, or it is pinned), then the id is claimed again. `RunIdTaken` otherwise."""
    path = flow_run_path(record.flow, record.run_id)
    data = files.dump(record, path)
    if not store.exclusive_creates():
        _warn_not_exclusive(store)
    if store.create_object(path, data):
        return
    where = f"run {record.run_id!r} of flow {record.flow!r} in {store.url}"
    try:
        existing = History(store).run(record.flow, record.run_id)  # as readers see it
    except CorruptArtifact as exc:
        if not overwrite:
            raise RunIdTaken(
                f"{where} exists but cannot be read ({exc}): give this run another run_id, "
                "or pass overwrite=True to replace it"
            ) from None
        # every file of the run, its op files too: they would join the new run's merge
        store.delete_objects(store.list(flow_run_dir(record.flow, record.run_id)))
    else:
        if existing.status in ("running", "queued"):
            raise RunIdTaken(
                f"{where} is being run by another process ({_runner_text(existing.record)}); "
                "give this run another run_id, or wait for that one to end"
            )
        if not overwrite:
            raise RunIdTaken(
                f"{where} already exists ({existing.status}, started "
                f"{existing.record.started_at or '?'}): give this run another run_id, "
                "or pass overwrite=True to replace it"
            )
        try:
            retention.delete(store, retention.deletion(store, existing))
        except retention.Refused as exc:
            raise RunIdTaken(f"{where} cannot be overwritten: {exc}") from None
    if not store.create_object(path, data):
        raise RunIdTaken(f"{where} was claimed by another process while it was being replaced")


def _runner_text(record: RunRecord) -> str:
    runner = record.runner
    return f"pid {runner.pid} on {runner.host}" if runner else "pid ? on ?"


_WARNED_NOT_EXCLUSIVE: set[str] = set()


def _warn_not_exclusive(store: Store) -> None:
    if store.url in _WARNED_NOT_EXCLUSIVE:
        return
    _WARNED_NOT_EXCLUSIVE.add(store.url)
    print(
        f"slipstream: the server of {store.url} does not honour conditional writes "
        "(If-None-Match), so a run id is claimed by looking first: two runs started at the "
        "same moment with the same run_id are not told apart on this store",
        file=sys.stderr,
    )
