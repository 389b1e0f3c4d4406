"""A run's records: a header, created once when the run starts, one state file per op,
written only by that op's tries (as each starts and ends), so that parallel tasks never
write one object, and the run's summary, which replaces the header once the run is over.

    flows/<flow>/runs/<run>/run.json        version, params, trigger, start; then the summary
    flows/<flow>/runs/<run>/ops/<op>.json   status, tries, error summary, metric, check
    flows/<flow>/runs/<run>/airflow.json    Airflow's run and task states (`slipstream sync`)

Every mode writes them alike (`runtime.runner`). A run that is not over is read merged by
the Rust core's `merge_run`, the one merge the web UI uses too: op files over the header,
then Airflow's word on the run and on every task whose Airflow try is as new as its op file
(a killed task leaves its file `running`), then what is still open is derived.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slipstream._native import (
    Store,
    flow_run_airflow_path,
    flow_run_dir,
    flow_run_op_path,
    flow_run_path,
    merge_run_files,
    version_spec_path,
)
from slipstream.errors import ArtifactNotFound, SlipstreamError, UpstreamMismatch
from slipstream.records import files
from slipstream.records.types import (
    AirflowRun,
    Attempt,
    ErrorSummary,
    FlowSpec,
    OpSpec,
    OpState,
    OutputsAt,
    RunRecord,
    TryRecord,
)
from slipstream.spec import constants as _constants

#: A run in these states is not over: readers merge its files.
OPEN = ("running", "queued")

_log = logging.getLogger("slipstream")


def new_record(spec: FlowSpec, run_id: str, params: Mapping[str, Any], trigger: str) -> RunRecord:
    """The header of a run of version `spec`: every op `pending`."""
    record = RunRecord(
        flow=spec.flow,
        version=spec.version,
        run_id=run_id,
        trigger=trigger,
        status="running",
        params={k: _constants.encode(v, k) for k, v in params.items()},
        started_at=datetime.now(UTC).isoformat(),
        ended_at=None,
        ops={
            op.name: OpState(status="pending", kind=op.kind, prefix=op.prefix, tries=0)
            for op in spec.ops
        },
        metrics={},
        checks={},
    )
    return files.stamped(record)


def op_state(
    op: OpSpec,
    record: TryRecord,
    retries_left: bool,
    version: str,
    previous: OpState | None = None,
    cache_key: str | None = None,
) -> OpState:
    """What an op's try leaves in the run's record: its outcome, and the tries so far with the
    version each ran (`previous` is the op's state before this try, whichever version wrote
    it: a task cleared after a recompile runs a newer version than the tries before it)."""
    failed = record.status == "failed"
    error = record.error
    running = running_state(op, version, record.try_number, previous, record.started_at)
    state = running.replace(
        status="up_for_retry" if failed and retries_left else record.status,
        ended_at=record.ended_at,
        error=ErrorSummary(type=error.type, message=error.message) if error else None,
        metric=record.metric,
        check=record.check,
        cache_key=cache_key if record.status == "success" else None,
        cached_from=record.cached_from,
    )
    return files.stamped(state)


def running_state(
    op: OpSpec,
    version: str,
    try_number: int,
    previous: OpState | None,
    now: str,
) -> OpState:
    """The op's state while try `try_number` runs (`previous`: its state before the try,
    whichever version wrote it: a task cleared after a recompile runs a newer version than
    the tries before it)."""
    earlier = [a for a in previous.attempts if a.try_number < try_number] if previous else []
    state = OpState(
        status="running",
        kind=op.kind,
        prefix=op.prefix,
        tries=try_number,
        started_at=(previous and previous.started_at) or now,
        version=version,
        code_hash=op.function.code_hash,
        attempts=(*earlier, attempt(op, version, try_number)),
    )
    return files.stamped(state)


def outputs_at(state: OpState, run_id: str) -> OutputsAt:
    """Where an op's outputs are for run `run_id`: in the run it reused them from, else its
    own."""
    return state.cached_from or OutputsAt(run_id=run_id, prefix=state.prefix)


def attempt(op: OpSpec, version: str, try_number: int) -> Attempt:
    """One try in an op state's `attempts`: the version it ran and where its record is."""
    return Attempt(
        try_number=try_number,
        version=version,
        prefix=op.prefix,
        code_hash=op.function.code_hash,
    )


def write_op_state(store: Store, flow: str, run_id: str, op: str, state: OpState) -> None:
    files.write(store, flow_run_op_path(flow, run_id, op), state)


def read_op_state(store: Store, flow: str, run_id: str, op: str) -> OpState | None:
    """The state op `op`'s task last wrote in this run, if it wrote one."""
    try:
        return files.read(store, flow_run_op_path(flow, run_id, op), OpState)
    except ArtifactNotFound:
        return None


def missing_upstream_outputs(
    store: Store,
    spec: FlowSpec,
    op: OpSpec,
    upstream: Mapping[str, OpState | None],
) -> UpstreamMismatch | None:
    """Why `op` of version `spec` cannot read its inputs in this run, if an upstream op ran
    an older version (`upstream`: its states) that has no such output: renamed or removed."""
    for arg, src in op.inputs.items():
        state = upstream.get(src.op)
        ran = state.version if state else None
        if not ran or ran == spec.version:
            continue
        older = {o.name: o for o in files.load_spec(store, spec.flow, ran).ops}
        outputs = older[src.op].outputs if src.op in older else ()
        if src.output not in outputs:
            return UpstreamMismatch(
                f"op {op.name!r} of version {spec.version} reads output "
                f"{src.output!r} of {src.op!r} (argument {arg!r}), but in this run "
                f"{src.op!r} ran version {ran}, whose outputs are "
                f"{', '.join(outputs) or 'none'}: version {spec.version} renamed or removed "
                f"it. Clear {src.op!r} too, so that it runs version {spec.version}"
            )
    return None


def fold_airflow(store: Store, flow: str, run_id: str) -> bool:
    """After `slipstream sync` wrote Airflow's word on a run whose summary is written: a run
    Airflow runs again (queued again, or a task on a newer try than the summary knows: it
    was cleared) is reopened, so that readers merge its files and Airflow's word again;
    else the summary takes Airflow's end and every task's tries (what the merge adds to a
    run that is over). Best effort: True if `run.json` was rewritten."""
    path = flow_run_path(flow, run_id)
    try:
        data = store.get_object(path)
        record = files.parse(data, path, RunRecord)
        if record.status in OPEN:
            return False  # readers merge Airflow's word in themselves
        airflow_data = store.get_object(flow_run_airflow_path(flow, run_id))
        airflow = files.parse(airflow_data, flow_run_airflow_path(flow, run_id), AirflowRun)
        tries = {name: state.tries for name, state in record.ops.items()}
        cleared = any(t.try_number > tries.get(n, 0) for n, t in airflow.tasks.items())
        if airflow.state == "queued" or cleared:
            return reopen(store, flow, run_id)
        spec = store.get_object(version_spec_path(flow, record.version))
        run_dir = flow_run_dir(flow, run_id)
        merged = merge_run_files(data, spec, [], airflow_data, run_dir, lambda _: None)
        folded = files.parse(merged.encode(), path, RunRecord)
    except SlipstreamError as exc:  # a record that cannot be read is the readers' to show
        _log.warning("run %r of flow %r: Airflow's word not folded into it: %s", run_id, flow, exc)
        return False
    if folded == record:
        return False
    write_run(store, folded)
    return True


def reopen(store: Store, flow: str, run_id: str) -> bool:
    """Puts a run that is over back to `running` (a task of it was cleared), so that readers
    merge its files again. Every field is kept as it was read, those of a newer release too;
    only `status` and `ended_at` change. True if it was over."""
    path = flow_run_path(flow, run_id)
    data = store.get_object(path)
    if files.parse(data, path, RunRecord).status in OPEN:
        return False
    raw = json.loads(data)  # as written, with the fields of a newer release
    raw.update(status="running", ended_at=None)
    store.put_object(path, json.dumps(raw, indent=1).encode())
    return True


def write_run(store: Store, record: RunRecord) -> None:
    """Writes a whole run record (a summary, merged by the Rust core), checked first, in the
    format its content needs (a header an older release wrote may say an older one)."""
    path = flow_run_path(record.flow, record.run_id)
    files.write(store, path, files.stamped(record))
