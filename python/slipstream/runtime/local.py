"""Runs a published flow version here, op by op, as Airflow would run its tasks.

Each try goes through the one op runner (`runtime.runner.run_try`) with the op prefix of
the version and the run id, so keys, manifests, try records and op state files are exactly
those of an Airflow run. What is the harness's own: the run id is claimed (`claim_run`),
retries follow at once, a corrupt input's producer runs again in the same run, and the
run's summary replaces its header when the last op has ended (or the run is interrupted).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slipstream._native import Store
from slipstream.errors import Terminated
from slipstream.history import run_index
from slipstream.history.reader import History, Run
from slipstream.records.files import load_spec
from slipstream.records.runs import new_record, read_op_state
from slipstream.records.types import ErrorSummary, FlowSpec, OpSpec, Runner, RunRecord
from slipstream.runtime import alerts
from slipstream.runtime.alerts import Alert
from slipstream.runtime.cache import Policy
from slipstream.runtime.claim import claim_run
from slipstream.runtime.context import RunContext, stand_in
from slipstream.runtime.execute import resolve_params
from slipstream.runtime.runner import Outcome, Task, finish, run_try


def run_version(
    store: Store,
    flow: str,
    version: str,
    *,
    params: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    cache: bool = True,
    resume: str | None = None,
    overwrite: bool = False,
    context: RunContext | Mapping[str, Any] | None = None,
    on_alert: Callable[[Alert], Any] | None = None,
) -> Run:
    """Runs version `version` of `flow` and returns the recorded run. Ops reuse the outputs
    of earlier runs with the same cache key unless `cache` is off; with `resume`, the
    outputs of that run are reused wherever they are still valid for the current code.
    `context`: what `ss.context()` answers in the ops (`runtime.context.stand_in`);
    `on_alert`: called with each alert (a failed check, a metric outside its bounds).
    A `run_id` is claimed atomically: `RunIdTaken` if a run of that id exists or is being
    run, unless `overwrite` and it has finished."""
    spec = load_spec(store, flow, version)
    policy = Policy(enabled=cache)
    if resume is not None:
        resumed = History(store).run(flow, resume)
        policy = Policy(cache, resume, {n: o.state for n, o in resumed.ops.items()})
    values = resolve_params(spec, params or {})
    started = datetime.now(UTC)
    run_id = run_id or f"manual__{started.isoformat()}"
    served = stand_in(run_id, started, context)
    header = new_record(spec, run_id, values, trigger="local").replace(
        started_at=started.isoformat(), runner=_runner()
    )
    run_index.mark_active(store, flow, run_id)  # first: a run is never in neither
    claim_run(store, header, overwrite=overwrite)
    ops = {op.name: op for op in spec.ops}
    status: dict[str, str] = {}  # each op's status as its last try left it
    try:
        with _sigterm_interrupts():
            for op in spec.ops:
                status[op.name] = "running"
                if any(status.get(u) != "success" for u in op.upstream):
                    continue  # below a failure: the run's merge says `upstream_failed`
                task = Task(store, spec, op, run_id, values, policy, context=served)
                outcome = _tries(task, 1)
                if outcome.failed and outcome.corrupt:
                    healed = _heal(task, outcome.corrupt, ops)
                    status.update(healed)
                    if set(healed.values()) == {"success"}:
                        outcome = _tries(task, outcome.state.tries + 1)
                status[op.name] = outcome.state.status
                alerts.call(on_alert, alerts.of(spec, op, outcome.record, run_id))
    except BaseException as exc:
        _end(store, spec, header, reached=set(status), interrupt=exc)
        if isinstance(exc, Terminated):
            _terminate()  # recorded: now end as SIGTERM would have
        raise
    run = _end(store, spec, header, reached=set(ops))
    if run.status != "success":
        print(run.summary(), file=sys.stderr)
        run.summary_shown = True
    return run


def _tries(task: Task, first: int) -> Outcome:
    """Tries `task`'s op until it succeeds or its retries are spent (a failed check, or
    inputs no retry can give, is not retried); `first`: the number of the first try."""
    last = first + task.op.retries
    for try_number in range(first, last + 1):
        outcome = run_try(task, try_number, retries_left=try_number < last)
        if not outcome.failed or outcome.final:
            break
    return outcome


def _heal(task: Task, corrupt: list[str], ops: Mapping[str, OpSpec]) -> dict[str, str]:
    """When `task`'s op failed reading corrupt outputs (a cache hit's above all: a hit checks
    the size of a large payload, not its bytes): their cache entries are gone (see
    `run_try`), so their producers run again in this run, that the op can be tried once
    more. Returns the status each producer ended with."""
    healed = {}
    for name in corrupt:
        print(
            f"slipstream: the output of op {name!r} that op {task.name!r} reads is corrupt: "
            f"the cache entry naming it is removed and {name!r} runs again",
            file=sys.stderr,
        )
        producer = replace(task, op=ops[name], policy=Policy())
        state = read_op_state(task.store, task.flow, task.run_id, name)
        healed[name] = _tries(producer, (state.tries if state else 0) + 1).state.status
    return healed


def _end(
    store: Store,
    spec: FlowSpec,
    header: RunRecord,
    *,
    reached: set[str],
    interrupt: BaseException | None = None,
) -> Run:
    """The run's summary, merged from its op files, written in place of its header. When an
    interrupt ended it (Ctrl-C, SIGTERM), the op it stopped `failed` with it (its retries
    are not run) and the ops the run did not reach are `skipped`."""
    record = History(store).run(header.flow, header.run_id).record  # merged, as read
    stopped = ("pending", "queued", "running", "up_for_retry")
    ops = dict(record.ops)
    for name, state in ops.items():
        if name not in reached or (interrupt is None and state.status in stopped):
            ops[name] = state.replace(status="skipped", blocked_by=())
        elif interrupt is not None and state.status in stopped:
            what = ErrorSummary(type=type(interrupt).__name__, message=str(interrupt))
            ops[name] = state.replace(status="failed", error=state.error or what)
    statuses = {state.status for state in ops.values()}
    record = record.replace(
        ops=ops,
        status="success" if statuses <= {"success"} else "failed",
        ended_at=datetime.now(UTC).isoformat(),
    )
    finish(store, record)
    return Run(store, record, spec)


def _runner() -> Runner:
    """This process, as readers tell whether it is still going (see `Runner` in the Rust
    core): host and pid, and on Linux the boot, pid namespace and start time."""
    found: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError, IndexError):
        found["boot_id"] = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        found["pid_namespace"] = os.readlink("/proc/self/ns/pid")
        stat = Path("/proc/self/stat").read_text()
        found["started"] = int(stat.rsplit(")", 1)[1].split()[19])
    return Runner(host=socket.gethostname(), pid=os.getpid(), **found)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises `Terminated` in the run, as Ctrl-C raises KeyboardInterrupt, so that
    the op running and the run are recorded before the process ends; only where nobody
    else handles SIGTERM (the main thread, the default handler)."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def terminated(signum: int, frame: Any) -> None:
        raise Terminated("the process received SIGTERM")

    signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _terminate() -> None:
    """Ends the process as the SIGTERM it received would have (exit status 143)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
