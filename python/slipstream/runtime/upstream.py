"""Inputs from other flows: an op of kind `upstream` (`ss.upstream(flow, op)`) stands for an
output of another flow in the same store. It runs no code: its try takes that output as a
cached op takes an earlier run's (the try record's and op state's `cached_from`, with the
other flow's name), so the ops reading it find it where it is stored, and the run records
exactly which artifact it read.

Which artifact: in an Airflow run triggered by the output's Asset, the one the newest
triggering event from a slipstream task names (its `extra`, see `slipstream.airflow.assets`;
an event created by hand in Airflow names none); elsewhere (a local run, a manual trigger)
the output of the upstream flow's newest successful run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slipstream._native import ArtifactKey, Store
from slipstream.errors import ArtifactNotFound, SlipstreamError
from slipstream.records import files
from slipstream.records.types import FlowOutput, OpSpec, OutputsAt, RunSummary
from slipstream.runtime.attempt import Reused
from slipstream.spec.assets import EVENT_FORMAT, asset_uri


class UpstreamUnavailable(SlipstreamError):
    """The other flow's output an `upstream` op stands for cannot be found or read."""


def locate(store: Store, op: OpSpec, events: Mapping[str, list[dict[str, Any]]] | None) -> Reused:
    """The artifact an `upstream` op stands for, as an earlier run's outputs are handed to
    `run_op` (`reuse`): called inside its try, so a failure to find it is the try's."""
    source = op.source
    if source is None:
        raise UpstreamUnavailable(f"op {op.name!r} of kind upstream names no other flow's output")
    named = (events or {}).get(_uri(source)) or []
    ours = [e for e in named if "slipstream" in e["extra"]]  # not one created by hand
    if ours:
        return from_event(store, source, ours[-1]["extra"])  # oldest first: the newest
    return newest(store, source)


def from_event(store: Store, source: FlowOutput, extra: Mapping[str, Any]) -> Reused:
    """The artifact an asset event's `extra` names, checked against it."""
    what = _uri(source)
    if extra.get("slipstream") != EVENT_FORMAT:
        raise UpstreamUnavailable(
            f"the asset event of {what} has no slipstream extra of format {EVENT_FORMAT} "
            f"(it has {dict(extra)!r:.200}): it was not emitted by a slipstream task of this "
            "release; trigger the upstream flow again"
        )
    if extra.get("store") != store.url:
        raise UpstreamUnavailable(
            f"the asset event of {what} names an artifact in {extra.get('store')}, but this "
            f"flow runs on {store.url}: flows scheduled on each other's outputs share a store"
        )
    at = OutputsAt(flow=source.flow, run_id=extra["stored_run_id"], prefix=extra["prefix"])
    entry = _entry(store, source, at, f"run {extra['run_id']!r} (its asset event)")
    stored = entry.manifests[source.output]
    if extra.get("checksum") and stored.checksum != extra["checksum"]:
        raise UpstreamUnavailable(
            f"{what} of run {extra['run_id']!r}: the stored artifact's checksum "
            f"{stored.checksum} is not the {extra['checksum']} its asset event names"
        )
    return entry


def newest(store: Store, source: FlowOutput) -> Reused:
    """The output of the upstream flow's newest successful run."""
    from slipstream.history.reader import History
    from slipstream.records.runs import outputs_at

    history = History(store)
    what = _uri(source)
    try:
        summaries = history.summaries(source.flow)
    except ArtifactNotFound as exc:
        raise UpstreamUnavailable(f"{what}: {exc}; run flow {source.flow!r} first") from None
    for summary in summaries:  # newest first
        if not isinstance(summary, RunSummary) or summary.status != "success":
            continue
        run = history.run(source.flow, summary.run_id)
        state = run.ops[source.op].state if source.op in run.ops else None
        if not state or state.status != "success":
            continue
        at = outputs_at(state, run.run_id).replace(flow=source.flow)
        return _entry(store, source, at, f"run {run.run_id!r} (its newest successful run)")
    raise UpstreamUnavailable(
        f"{what}: flow {source.flow!r} has no successful run in {store.url} whose op "
        f"{source.op!r} succeeded; run it first"
    )


def _entry(store: Store, source: FlowOutput, at: OutputsAt, which: str) -> Reused:
    key = ArtifactKey(at.prefix, at.run_id, source.output)
    manifest = store.stored_manifest(key)
    if manifest is None:
        raise UpstreamUnavailable(
            f"{_uri(source)} of {which} is no longer "
            f"stored (deleted or expired: {key.manifest_path}); run flow "
            f"{source.flow!r} again"
        )
    return Reused(at, {source.output: files.manifest(manifest)})


def _uri(source: FlowOutput) -> str:
    return asset_uri(source.flow, source.op, source.output)
