"""Reading what a store holds: flows, their versions and runs, and every stored artifact.

>>> history = ss.open("file:///tmp/slip")
>>> history.flows()
['churn']
>>> run = history.runs("churn")[0]          # newest first
>>> run.status, run.metrics, run.ops["predict"].logs
>>> run["predict"]                            # the stored value of an op's output
"""

from __future__ import annotations

import difflib
import logging
import os
import site
import sysconfig
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import msgspec

from slipstream._native import (
    ArtifactKey,
    Store,
    cache_entry_path,
    classify_flow_file,
    list_runs,
    read_run,
    record_path,
    versions_dir,
)
from slipstream._native import read_runs as _read_runs
from slipstream.errors import (
    AmbiguousName,
    ArtifactNotFound,
    CorruptArtifact,
    RunFailed,
    SlipstreamError,
)
from slipstream.records import files
from slipstream.records.files import load_spec
from slipstream.records.runs import outputs_at
from slipstream.records.types import (
    CacheEntry,
    CheckResult,
    ErrorRecord,
    ErrorSummary,
    FlowSpec,
    OpSpec,
    OpState,
    OutputsAt,
    RunRecord,
    RunSummary,
    StackFrame,
    TryRecord,
    UnreadableRun,
)
from slipstream.spec import constants as _constants
from slipstream.values.frames import to_flavor

_log = logging.getLogger("slipstream")


def _is(path: str, kind: str) -> bool:
    found = classify_flow_file(path)
    return found is not None and found[0] == kind


class Handle(Protocol):
    """What calling an op in a flow returns (`Artifact`, `Outcome`): an output of a node."""

    @property
    def node(self) -> Any: ...

    @property
    def output(self) -> str: ...


def default_store() -> str:
    """`$SLIPSTREAM_STORE`, else the embedded default `file://~/.slipstream/store`."""
    return (
        os.environ.get("SLIPSTREAM_STORE") or Path.home().joinpath(".slipstream", "store").as_uri()
    )


def open(store: Store | str | None = None) -> History:
    """What the store at `store` (a URL, a local path or a `Store`; default: the default
    store, `default_store()`) holds."""
    if isinstance(store, Store):
        return History(store)
    return History(Store(store or default_store()))


def _newest_first(timestamp: str | None, name: str) -> tuple[datetime, str]:
    """Sort key: the instant a UTC timestamp names (Airflow's `Z` and our `+00:00` alike),
    then the name, so that equal or missing timestamps still give one order."""
    try:
        at = datetime.fromisoformat(timestamp or "")
    except ValueError:
        return datetime.min.replace(tzinfo=UTC), name
    return (at if at.tzinfo else at.replace(tzinfo=UTC)), name


class History:
    """Flows, versions and runs in one store, newest first."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def flows(self) -> list[str]:
        """Names of the flows with at least one published version."""
        found = (classify_flow_file(p) for p in self.store.list("flows/"))
        return sorted({f[1] for f in found if f is not None and f[0] == "spec"})

    def __repr__(self) -> str:
        return f"<History {self.store.url}>"

    def _known(self, flow: str) -> None:
        """Raises `ArtifactNotFound`, naming the flows there are, unless `flow` has a
        published version: a mistyped name is an error, not a flow without runs."""
        if any(_is(p, "spec") for p in self.store.list(versions_dir(flow) + "/")):
            return
        flows = self.flows()
        near = difflib.get_close_matches(flow, flows, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ArtifactNotFound(
            f"no flow {flow!r} in {self.store.url} (its flows: "
            f"{', '.join(flows) or 'none yet'}){hint}"
        )

    def versions(self, flow: str) -> list[Version]:
        """Every published version of `flow`, newest first."""
        paths = [p for p in self.store.list(versions_dir(flow) + "/") if _is(p, "spec")]
        if not paths:
            self._known(flow)
        found = [Version(files.read(self.store, p, FlowSpec)) for p in paths]
        return sorted(found, key=lambda v: _newest_first(v.published_at, v.id), reverse=True)

    def version(self, flow: str, version: str) -> Version:
        """A published version by its id, a unique prefix of it, or `latest` (the newest)."""
        try:
            return Version(load_spec(self.store, flow, version))
        except (ArtifactNotFound, ValueError):
            self._known(flow)
            if version == "latest":
                return self.versions(flow)[0]
            paths = self.store.list(versions_dir(flow) + "/")
            ids = [f[2] for f in map(classify_flow_file, paths) if f and f[0] == "spec" and f[2]]
            return Version(load_spec(self.store, flow, _unique(flow, "version", version, ids)))

    def runs(self, flow: str) -> list[Run]:
        """Every readable run of `flow`, newest first (`unreadable` names the others)."""
        return self.read_runs(flow)[0]

    def unreadable(self, flow: str) -> list[UnreadableRun]:
        """The runs of `flow` whose record, or the spec of whose version, cannot be read,
        with why, so that one damaged file is shown as such while every other run reads."""
        return self.read_runs(flow)[1]

    def read_runs(self, flow: str) -> tuple[list[Run], list[UnreadableRun]]:
        """`(runs, unreadable)` in one pass: every run of `flow` read whole (merged while
        not over), newest first, by the one reader the web UI uses (`read_runs`), and the
        runs whose records cannot be read, as `unreadable` lists them."""
        found = files.from_core(_read_runs(self.store, flow), _ReadRuns)
        if not found.runs and not found.unreadable:
            self._known(flow)
        runs = [Run(self.store, record, found.specs[record.version]) for record in found.runs]
        return runs, list(found.unreadable)

    def run(self, flow: str, run_id: str) -> Run:
        """A run by its id, a unique prefix of it, or `latest`, `latest-failed`,
        `latest-success` (the newest run, or the newest with that status), read by the one
        reader the web UI reads it with too (`slipstream._native.read_run`): its summary once
        it is over, else its records merged. `latest…`: among the runs the runs list shows
        (ended runs as the run index says, the others as their records say; unreadable ones
        never), those of that status (`latest-failed`: failed or interrupted), the newest by
        start compared as instants, then the greater run id."""
        try:
            record, spec = read_run(self.store, flow, run_id)
        except ArtifactNotFound as exc:
            self._known(flow)  # a mistyped flow: the flows there are, and the nearest
            raise ArtifactNotFound(f"{exc} in {self.store.url}") from None
        return Run(self.store, files.from_core(record, RunRecord), files.from_core(spec, FlowSpec))

    def summaries(self, flow: str) -> list[RunSummary | UnreadableRun]:
        """What the runs list shows of every run of `flow`, in the web UI's order and from
        its reader (`list_runs`): from the run index where the flow has one, the runs not over
        read from their records; else from every run record. Unreadable runs whose start is
        not known come first, so that a short list shows them."""
        listed, damaged = list_runs(self.store, flow)
        if damaged is not None:
            _log.warning("%s", damaged)
        rows = files.from_core(listed, list[_Row])
        if not rows:
            self._known(flow)
        return [shown for row in rows if (shown := row.run or row.unreadable) is not None]

    def metric_history(self, flow: str, metric: str) -> list[tuple[str, float | int]]:
        """`(run id, value)` of a metric in every run that recorded it, oldest first."""
        return [
            (r.run_id, r.metrics[metric])
            for r in reversed(self.summaries(flow))
            if isinstance(r, RunSummary) and metric in r.metrics
        ]


def _unique(flow: str, what: str, given: str, ids: list[str]) -> str:
    """The one id that starts with `given`."""
    matches = sorted(i for i in ids if given and i.startswith(given))
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise AmbiguousName(
            f"{given!r} is the start of {len(matches)} {what}s of flow {flow!r}: {shown}; "
            "give more of it"
        )
    hint = " (or latest, latest-failed, latest-success)" if what == "run" else " (or latest)"
    raise ArtifactNotFound(
        f"flow {flow!r} has no {what} {given!r}, nor one starting with it; give an id or a "
        f"unique start of one{hint}"
    )


class Version:
    """A published flow version: its spec and its ops' code."""

    def __init__(self, spec: FlowSpec) -> None:
        self.spec = spec
        self.id = spec.version
        self.flow = spec.flow
        self.published_at = spec.published_at or ""

    @cached_property
    def ops(self) -> dict[str, OpSpec]:
        """The op specs by name, in dependency order."""
        return {op.name: op for op in self.spec.ops}

    def code(self, op: str) -> str:
        """The source of an op as it was in this version."""
        return self.ops[op].function.source

    def __repr__(self) -> str:
        return f"<Version {self.flow}@{self.id} published {self.published_at}>"


class Run:
    """One run of a flow: its state, the version it ran, and access to what it stored."""

    def __init__(self, store: Store, record: RunRecord, spec: FlowSpec) -> None:
        self.store = store
        self.record = record
        self.version = Version(spec)
        self.flow = record.flow
        self.run_id = record.run_id
        self.status: str = record.status
        self.started_at = record.started_at
        self.ended_at = record.ended_at
        self.params = {k: _constants.decode(v) for k, v in record.params.items()}
        self.metrics: dict[str, float | int] = dict(record.metrics)
        self.checks: dict[str, CheckResult] = dict(record.checks)
        self.ops = {name: OpRun(self, name, state) for name, state in record.ops.items()}
        #: Whether `summary()` was printed already (by `flow.run`).
        self.summary_shown = False

    def key(self, target: Handle | str, output: str | None = None) -> ArtifactKey:
        """The key of an output: by handle (`run.key(preds)`), by op name (`"predict"`,
        output `out`), by `"op.output"`, or by op name and output."""
        name, out = self._locate(target, output)
        at = outputs_at(self.ops[name].state, self.run_id)
        return ArtifactKey(at.prefix, at.run_id, out)

    def __getitem__(self, target: Handle | str) -> Any:
        """The stored value of an output of this run."""
        name, out = self._locate(target, None)
        allow_pickle = self.ops[name].spec.allow_pickle
        key = self.key(name, out)
        try:
            return self.store.get(key, allow_pickle=allow_pickle)
        except CorruptArtifact as exc:
            digest = self.ops[name].state.cache_key
            if not digest or not evict_cache_entry(self.store, self.flow, name, digest, key):
                raise
            raise CorruptArtifact(
                f"{exc}. The cache entry that names this output is removed, so that the next "
                "run of the flow computes it again"
            ) from exc

    def _locate(self, target: Handle | str, output: str | None) -> tuple[str, str]:
        if not isinstance(target, str):
            name, out = target.node.name, target.output
        else:
            name, _, out = target.partition(".")
            out = output or out or "out"
        if name not in self.ops:
            raise KeyError(
                f"flow {self.flow!r} version {self.version.id} has no op {name!r} "
                f"(its ops: {', '.join(self.ops)})"
            )
        return name, out

    def summary(self) -> str:
        """What went wrong, short: each failed op with its exception and the line of the
        user's code that raised it, and the ops that did not run because of it."""
        lines = [f"run {self.run_id} of flow {self.flow!r}: {self.status}"]
        blocked = []
        for name, op in self.ops.items():
            if op.status == "upstream_failed":
                blocked.append(name)
            elif op.status == "failed":
                lines.append(f"  op {name!r} failed: {op.failure()}")
            elif (check := self.checks.get(name)) and not check.passed:
                lines.append(f"  check {name!r} ({check.severity}) failed: "
                             f"{check.failed} of {check.total} values false")  # fmt: skip
        if blocked:
            lines.append(f"  not run (an upstream op failed): {', '.join(blocked)}")
        return "\n".join(lines)

    def raise_for_status(self) -> Run:
        """Raises `RunFailed` (its message is `summary()`) unless the run succeeded, so
        that a script ending in `flow.run(...).raise_for_status()` exits non-zero on failure;
        returns the run otherwise."""
        if self.status != "success":
            if self.summary_shown:  # printed by flow.run already: not twice
                raise RunFailed(f"run {self.run_id} of flow {self.flow!r}: {self.status} "
                                "(the summary above)")  # fmt: skip
            raise RunFailed(self.summary())
        return self

    def __repr__(self) -> str:
        failed = [n for n, o in self.ops.items() if o.status == "failed"]
        more = f", failed: {', '.join(failed)}" if failed else ""
        return f"<Run {self.flow} {self.run_id}: {self.status}{more}>"


class OpRun:
    """One op in one run: its state, and the records of its tries."""

    def __init__(self, run: Run, name: str, state: OpState) -> None:
        self.run = run
        self.name = name
        self.state = state
        self.status = state.status
        self.prefix = state.prefix
        #: The run whose outputs this op reused instead of running (None: it ran).
        self.cached_from = state.cached_from.run_id if state.cached_from else None

    @cached_property
    def tries(self) -> list[TryRecord]:
        """The record of every try that left one, first to last (a try still running, or
        killed from outside, has none)."""
        return list(self._records())

    def _records(self) -> Iterator[TryRecord]:
        # Tries that ran another version than the last are under that version's prefix.
        prefixes = {a.try_number: a.prefix for a in self.state.attempts}
        for n in range(1, self.state.tries + 1):
            path = record_path(prefixes.get(n, self.prefix), self.run.run_id, n)
            try:
                yield files.read(self.run.store, path, TryRecord)
            except ArtifactNotFound:
                continue

    @property
    def version(self) -> str:
        """The flow version whose code the last try ran: the run's own, unless the task was
        cleared and run again after a recompile."""
        return self.state.version or self.run.version.id

    @property
    def spec(self) -> OpSpec:
        """The op as its version defines it (the version its last try ran)."""
        if self.version != self.run.version.id:
            return Version(load_spec(self.run.store, self.run.flow, self.version)).ops[self.name]
        if self.name in self.run.version.ops:
            return self.run.version.ops[self.name]
        # An op only a version the run moved to has (a task cleared after a recompile), not
        # run yet: as the versions other ops ran define it.
        ran = {o.state.version for o in self.run.ops.values() if o.state.version}
        for version in sorted(ran - {self.run.version.id}):
            ops = Version(load_spec(self.run.store, self.run.flow, version)).ops
            if self.name in ops:
                return ops[self.name]
        raise KeyError(f"no version of flow {self.run.flow!r} this run ran has op {self.name!r}")

    @property
    def code(self) -> str:
        """The source of the function the last try ran, from its version."""
        return self.spec.function.source

    def inputs(self) -> dict[str, Any]:
        """The arguments the op's function received in its last try: artifacts read back
        and converted as the op asks, params and constants filled in. With the function
        (`op.local(**run.ops["x"].inputs())`) that replays the op on the same data."""
        record = self.record
        if record is None:
            raise ArtifactNotFound(
                f"op {self.name!r} has not run in run {self.run.run_id!r} of "
                f"{self.run.flow!r}: there are no inputs to replay"
            )
        op = self.spec
        args: dict[str, Any] = {}
        for arg, key in record.inputs.items():
            value = self.run.store.get(
                ArtifactKey(key.op_prefix, key.run_id, key.output),
                allow_pickle=op.allow_pickle,
            )
            library = op.convert.get(arg)
            args[arg] = to_flavor(value, library) if library else value
        params = dict(self.run.params)
        if self.version != self.run.version.id:  # a param the newer version added: its default
            declared = load_spec(self.run.store, self.run.flow, self.version).params
            for name, entry in declared.items():
                if name not in params and not entry.required:
                    params[name] = _constants.decode(entry.default)
        args.update({arg: _constants.decode(v, params) for arg, v in op.constants.items()})
        args.update({arg: params[name] for arg, name in op.params.items()})
        return args

    @property
    def record(self) -> TryRecord | None:
        """The record of the last try (None if the op never ran)."""
        return self.tries[-1] if self.tries else None

    @property
    def logs(self) -> str:
        """What the last try printed: stdout, then stderr."""
        record = self.record
        return "" if record is None else record.stdout + record.stderr

    @property
    def error(self) -> ErrorRecord | None:
        """Why the last try failed: type, message, and the stack trace of the user's code."""
        record = self.record
        return None if record is None else record.error

    def failure(self) -> str:
        """`Type: message (file:line: code)`: why the last try failed, at the innermost line
        of the user's own code; "" if it did not fail."""
        error: ErrorRecord | ErrorSummary | None = self.error or self.state.error
        if not error:
            return ""
        text = f"{error.type.rsplit('.', 1)[-1]}: {error.message}"
        frame = user_frame(error.frames) if isinstance(error, ErrorRecord) else None
        if frame is not None:
            code = f": {frame.code}" if frame.code else ""
            text += f"\n    at {frame.file}:{frame.line}{code}"
        return text

    def __repr__(self) -> str:
        return f"<OpRun {self.name}: {self.status}>"


def user_frame(frames: Sequence[StackFrame]) -> StackFrame | None:
    """The innermost frame of the user's own code: not of an installed library or Python."""
    library = (*site.getsitepackages(), site.getusersitepackages(), sysconfig.get_path("stdlib"))
    library += ("<frozen",)
    own = [f for f in frames if not f.file.startswith(library)]
    chosen = own or frames
    return chosen[-1] if chosen else None


class _Row(msgspec.Struct, frozen=True):
    """A row of the runs list as the Rust reader gives it: `{"run": ...}` or
    `{"unreadable": ...}`."""

    run: RunSummary | None = None
    unreadable: UnreadableRun | None = None


class _ReadRuns(msgspec.Struct, frozen=True):
    """Every run of a flow as the Rust reader gives them (`read_runs`)."""

    runs: list[RunRecord]
    specs: dict[str, FlowSpec]
    unreadable: list[UnreadableRun]


def evict_cache_entry(store: Store, flow: str, op: str, digest: str, output: ArtifactKey) -> bool:
    """Removes the cache entry of `op`'s key `digest` if it names the run and prefix of
    `output`, found corrupt by a reader: no run may reuse it again (an entry of that key
    written since, naming other outputs, is kept). True when it was removed."""
    path = cache_entry_path(flow, op, digest)
    named = OutputsAt(prefix=output.op_prefix, run_id=output.run_id)
    try:
        if files.read(store, path, CacheEntry).at != named:
            return False
    except ArtifactNotFound:
        return False
    except SlipstreamError:  # unreadable: of no use to anyone
        pass
    store.delete_objects([path])
    return True
