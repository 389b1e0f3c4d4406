"""The one op runner: one try of one op in one run, as the local harness, the Airflow task
(python mode) and the container entrypoint (kubernetes mode) all run it.

A try reads top to bottom here:

1. the op's function is loaded (a function that cannot load fails the try, recorded);
2. its inputs are read where this run's producers wrote them (their op files say which
   version and prefix, or which earlier run they reused): a producer that ran an older
   version without the output this op reads fails the try before any input is read;
3. the op's state file says `running`;
4. the attempt (`execute.attempt_or_reuse`): a cache hit, or the call, its outputs and its
   try record;
5. the op's state file says how the try ended; the producers of a corrupt input are found
   and their cache entries removed.

What differs between the modes is passed in: where params, the try number and the run id
come from (`Task`), whether a retry follows (`retries_left`), and what the caller makes of
the `Outcome` (the local harness retries and heals, Airflow raises or returns a summary).

A run's own records: its header (`run.json`, created once when the run starts), one state
file per op (written by that op's try only: parallel tries never write one object), and the
run's summary, which replaces the header once, when the run is over (`end_if_over`, or the
local harness's `finish`). A try that starts in a run that was over (a cleared task)
reopens it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from slipstream._native import Store, classify_run_file, flow_run_dir, flow_run_path, record_path
from slipstream.errors import ArtifactNotFound, SlipstreamError, UpstreamMismatch
from slipstream.history import indexing
from slipstream.history.reader import History
from slipstream.history.run_index import OPEN, best_effort
from slipstream.records import files, runs
from slipstream.records.types import FlowSpec, OpSpec, OpState, RunRecord, TryRecord
from slipstream.runtime import cache, execute
from slipstream.runtime.context import RunContext, stand_in


@dataclass(frozen=True)
class Task:
    """One op of one run of a published version, with everything its tries need."""

    store: Store
    spec: FlowSpec
    op: OpSpec
    run_id: str
    #: The run's params, resolved (`execute.resolve_params`).
    params: Mapping[str, Any]
    policy: cache.Policy = field(default_factory=cache.Policy)
    #: The run's triggering asset events by Asset URI (`runtime.upstream`).
    events: Mapping[str, list[dict[str, Any]]] | None = None
    #: What `ss.context()` answers in the op (its try number is each try's); None: a
    #: stand-in, the run starting now.
    context: RunContext | None = None

    @property
    def flow(self) -> str:
        return self.spec.flow

    @property
    def name(self) -> str:
        return self.op.name


@dataclass(frozen=True)
class Outcome:
    """How one try ended: its record, the op state written for it, its cache key."""

    record: TryRecord
    state: OpState
    #: Why no retry can succeed: a producer ran a version without the output this op reads.
    mismatch: UpstreamMismatch | None
    #: The producers whose outputs this try found corrupt; their cache entries are removed.
    corrupt: list[str]

    @property
    def failed(self) -> bool:
        return self.record.status == "failed"

    @property
    def final(self) -> bool:
        """No retry follows (the op's state says `failed`, not `up_for_retry`): a failed
        check, inputs no version gives, or corrupt inputs."""
        return self.failed and self.state.status == "failed"


def run_try(task: Task, try_number: int, *, retries_left: bool) -> Outcome:
    """Runs try `try_number` of `task`'s op and records it (see the module's docstring);
    `retries_left`: whether a failure is followed by another try (`up_for_retry`).
    Interrupts (a timeout, a kill, Ctrl-C) are recorded, then raised again."""
    store, spec, op = task.store, task.spec, task.op
    fn = execute.load_function(op)
    upstream = {
        src.op: runs.read_op_state(store, task.flow, task.run_id, src.op)
        for src in op.inputs.values()
    }
    written_by = {name: runs.outputs_at(s, task.run_id) for name, s in upstream.items() if s}
    ops = {o.name: o for o in spec.ops}
    inputs, constants = execute.op_arguments(op, ops, task.run_id, task.params, written_by)
    mismatch = runs.missing_upstream_outputs(store, spec, op, upstream)
    if mismatch is not None:  # recorded as this try's failure, before any input is read
        fn, inputs = execute.failing(op, mismatch), {}
    version = spec.version
    previous = runs.read_op_state(store, task.flow, task.run_id, task.name)
    running = runs.running_state(op, version, try_number, previous, _now())
    runs.write_op_state(store, task.flow, task.run_id, task.name, running)
    context = task.context or stand_in(task.run_id, datetime.now(UTC), None)
    context = replace(context, try_number=try_number, task_id=context.task_id or task.name)
    try:
        record, cache_key = execute.attempt_or_reuse(
            fn, spec, op, inputs, constants, task.run_id, try_number, store,
            task.policy, task.events, context,
        )  # fmt: skip
    except BaseException:  # a timeout or a kill: run_op recorded it, the op's state follows
        with contextlib.suppress(Exception):
            path = record_path(op.prefix, task.run_id, try_number)
            interrupted = files.read(store, path, TryRecord)
            state = runs.op_state(op, interrupted, retries_left, version, running)
            runs.write_op_state(store, task.flow, task.run_id, task.name, state)
        raise
    error = record.error
    corrupt: list[str] = []
    if error and error.type == "slipstream.errors.CorruptArtifact":
        corrupt = cache.evict_corrupt_inputs(store, task.flow, op, inputs, upstream)
    # No retry follows a failed check, inputs no version gives, or corrupt inputs (their
    # producers must run again first): the op's state says `failed`, not `up_for_retry`.
    final = mismatch is not None or bool(error and error.phase == "check") or bool(corrupt)
    state = runs.op_state(op, record, retries_left and not final, version, running, cache_key)
    runs.write_op_state(store, task.flow, task.run_id, task.name, state)
    return Outcome(record, state, mismatch, corrupt)


def open_run(
    store: Store, spec: FlowSpec, run_id: str, params: Mapping[str, Any], trigger: str
) -> None:
    """What a task does first in its run (Airflow and the container entrypoint): the run is
    marked active in the index, its header created unless a task already did, and a run
    that was over (a task cleared after it ended) is reopened, so that readers merge its op
    files again."""
    from slipstream.history import run_index

    run_index.mark_active(store, spec.flow, run_id)  # first: a run is never in neither
    path = flow_run_path(spec.flow, run_id)
    record = runs.new_record(spec, run_id, params, trigger)
    if store.create_object(path, files.dump(record, path)):
        return
    _reopen(store, spec.flow, run_id)


def _reopen(store: Store, flow: str, run_id: str) -> None:
    """Best effort: a header that cannot be read is the readers' to show, not the task's
    to fail on."""
    try:
        runs.reopen(store, flow, run_id)
    except ArtifactNotFound:
        pass
    except SlipstreamError as exc:
        print(f"slipstream: run {run_id!r} of flow {flow!r} not reopened: {exc}", file=sys.stderr)


def end_if_over(task: Task) -> None:
    """What a task does once its op's state is written: if no op of the run is left that
    could still run, the run is read merged and, if it is over, its summary replaces the
    header and the run is indexed. It may be over when every op has a state file, or each of
    the first ops without one has a producer that failed (so nothing below it runs). Best
    effort: `slipstream sync` ends the runs Airflow says are over."""
    store, flow, run_id = task.store, task.flow, task.run_id
    with best_effort("end the run", flow, run_id):
        run_dir = flow_run_dir(flow, run_id)
        found = (classify_run_file(p[len(run_dir) :]) for p in store.list(run_dir))
        have = {f[1] for f in found if f is not None and f[0] == "op_state"}
        statuses: dict[str, str] = {}

        def blocks(name: str) -> bool:
            if name not in statuses:
                read = runs.read_op_state(store, flow, run_id, name)
                statuses[name] = read.status if read else "pending"
            return statuses[name] in ("failed", "upstream_failed")

        for missing in (o for o in task.spec.ops if o.name not in have):
            upstream = missing.upstream
            if all(u in have for u in upstream) and not any(blocks(u) for u in upstream):
                return  # it can still run: the run is not over
        # A task cleared meanwhile may have reopened the run: merged from its files again.
        _reopen(store, flow, run_id)
        run = History(store).run(flow, run_id)
        if run.status not in OPEN:
            finish(store, run.record)


def finish(store: Store, record: RunRecord) -> None:
    """Writes a run's summary (its record as readers merge it, now over) in place of its
    header, and indexes it."""
    runs.write_run(store, record)
    indexing.record_ended(store, record.flow, [record])


def _now() -> str:
    return datetime.now(UTC).isoformat()
