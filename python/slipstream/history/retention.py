"""Retention: deleting the payloads of old runs while keeping their records.

`plan` selects the runs a policy expires and what of theirs can go; `collect` deletes it.
A run's records stay (its structure, states, logs, metrics, checks, manifests and try
records); only payloads and previews go, and an expiry marker per op and run
(`ops/<prefix>/<run>/expired.json`) makes reads say "expired by retention on <date>"
(`ArtifactExpired`) instead of calling the artifact corrupt.

Never deleted: anything of a run that is not over (queued or running), a pinned run's
payloads (`slipstream pin`), and payloads a kept run uses (an op it reused from the cache or
from the run it resumed points at another run's outputs). The markers are written before any
payload is deleted, and a cache lookup takes a marked op as a miss; after a grace period the
runs are read again, so a run that started reusing outputs meanwhile keeps them, and so does
a run pinned or started again meanwhile. An Airflow run whose finished tasks are cleared
reads as over until a task or `slipstream sync` records it again: run gc where sync runs.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from slipstream._native import (
    ArtifactKey,
    Store,
    flow_run_dir,
    flow_run_path,
    runs_dir,
    versions_dir,
)
from slipstream.errors import ArtifactNotFound
from slipstream.history import run_index
from slipstream.history.reader import History, Run
from slipstream.records import files
from slipstream.records.runs import outputs_at
from slipstream.records.types import Expiry, Pin, RetentionPolicy

PIN_FILE = "pinned.json"
# Runs that are not over: nothing of theirs is touched.
_ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class Retention:
    """Which runs' payloads expire: those beyond the newest `keep_last` runs and (when both
    are given) older than `older_than_days`. A run's age counts from its end (its start if it
    has no end)."""

    keep_last: int | None = None
    older_than_days: float | None = None

    def __post_init__(self) -> None:
        if self.keep_last is None and self.older_than_days is None:
            raise ValueError("a retention policy needs keep_last, older_than_days or both")
        if self.keep_last is not None and self.keep_last < 0:
            raise ValueError(f"keep_last must be 0 or more, not {self.keep_last}")
        if self.older_than_days is not None and self.older_than_days < 0:
            raise ValueError(f"older_than_days must be 0 or more, not {self.older_than_days}")

    def describe(self) -> str:
        parts = []
        if self.keep_last is not None:
            parts.append(f"keep the last {self.keep_last} runs")
        if self.older_than_days is not None:
            parts.append(f"expire runs older than {self.older_than_days:g} days")
        return ", ".join(parts)

    def selects(self, position: int, run: Run, now: datetime) -> bool:
        """Whether the run at `position` (0: the newest) expires under this policy."""
        if self.keep_last is not None and position < self.keep_last:
            return False
        if self.older_than_days is not None:
            ended = datetime.fromisoformat(run.ended_at or run.started_at)
            return now - ended > timedelta(days=self.older_than_days)
        return True


def policy_path(flow: str) -> str:
    """`flows/<flow>/retention.json`: the policy the flow declares, as last published."""
    return versions_dir(flow).rsplit("/", 1)[0] + "/retention.json"


def declared(store: Store, flow: str) -> Retention | None:
    """The retention policy `flow` declares (`ss.Flow(..., retention=...)`), if any."""
    try:
        record = files.read(store, policy_path(flow), RetentionPolicy)
    except ArtifactNotFound:
        return None
    return Retention(keep_last=record.keep_last, older_than_days=record.older_than_days)


def declare(store: Store, flow: str, version: str, policy: Retention | None) -> None:
    """Records the policy of `flow` as published in `version` (removes it when None); writes
    nothing when it is already so."""
    if declared(store, flow) == policy:
        return
    if policy is None:
        store.delete_objects([policy_path(flow)])
        return
    files.write(store, policy_path(flow), RetentionPolicy(
        flow=flow, keep_last=policy.keep_last,
        older_than_days=policy.older_than_days, version=version,
    ))  # fmt: skip


@dataclass
class Target:
    """What of one op's outputs in one run is deleted."""

    run_id: str
    op: str
    prefix: str
    paths: list[str]
    bytes: int


@dataclass
class Plan:
    """What `collect` deletes for one flow, and why the rest stays."""

    flow: str
    policy: Retention
    expired: list[str] = field(default_factory=list)  # run ids whose payloads go
    pinned: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    # run id → the kept runs that use some of its outputs (those outputs stay)
    used_by: dict[str, list[str]] = field(default_factory=dict)
    # the other flows that read outputs of this one (`ss.upstream`), found once per plan
    readers: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.targets)

    @property
    def files(self) -> int:
        return sum(len(t.paths) for t in self.targets)


def plan(store: Store, flow: str, policy: Retention, now: datetime) -> Plan:
    """What `policy` expires in `flow` at `now`; nothing is changed."""
    runs = History(store).runs(flow)  # newest first
    pins = pinned(store, flow)
    result = Plan(flow, policy)
    kept: list[Run] = []
    for position, run in enumerate(runs):
        if run.status in _ACTIVE:
            result.active.append(run.run_id)
            kept.append(run)
        elif run.run_id in pins:
            result.pinned.append(run.run_id)
            kept.append(run)
        elif policy.selects(position, run, now):
            result.expired.append(run.run_id)
        else:
            kept.append(run)
    result.readers = _reader_flows(store, flow)
    used = _references(kept, _reader_runs(store, flow, result.readers))
    by_id = {run.run_id: run for run in runs}
    candidates = []
    for run_id in result.expired:
        for op, prefix in _own_outputs(by_id[run_id]):
            users = used.get((prefix, run_id))
            if users:
                result.used_by[run_id] = sorted(set(result.used_by.get(run_id, [])) | users)
            else:
                candidates.append((run_id, op, prefix))
    files = _deletable_files(store, {prefix for _, _, prefix in candidates})
    for run_id, op, prefix in candidates:
        found = files.get(ArtifactKey(prefix, run_id).run_dir, [])
        if found:
            size = sum(n for _, n in found)
            result.targets.append(Target(run_id, op, prefix, [p for p, _ in found], size))
    return result


# How long `collect` waits between marking outputs expired and reading the runs again: a run
# that found an output before it was marked records that it uses it within this time.
GRACE_SECONDS = 10.0


def apply(
    store: Store,
    flow: str,
    policy: Retention,
    now: datetime,
    grace: float = GRACE_SECONDS,
    dry_run: bool = False,
) -> Plan:
    """`gc` of one flow: what `policy` selects, deleted unless `dry_run` (`collect`), then
    the flow's run index compacted."""
    planned = plan(store, flow, policy, now)
    if dry_run:
        return planned
    done = collect(store, planned, now, grace)
    run_index.compact(store, flow)
    return done


def collect(store: Store, plan: Plan, now: datetime, grace: float = GRACE_SECONDS) -> Plan:
    """Deletes what `plan` selected: marks each op's outputs expired, waits `grace` seconds,
    reads the runs again — spares what a run started using meanwhile, runs that are no
    longer over (an Airflow task cleared) and runs pinned meanwhile — then deletes the rest.
    Returns what was deleted."""
    if not plan.targets:
        return plan
    reason = plan.policy.describe()
    store.put_objects([
        (_marker(t), files.dump(Expiry(
            flow=plan.flow, run_id=t.run_id, expired_at=timestamp(now), reason=reason,
        ), _marker(t)))
        for t in plan.targets
    ])  # fmt: skip
    time.sleep(grace)
    runs = History(store).runs(plan.flow)
    pins = pinned(store, plan.flow)
    spared = {r.run_id for r in runs if r.status in _ACTIVE or r.run_id in pins}
    expiring = set(plan.expired) - spared
    readers = _reader_runs(store, plan.flow, plan.readers)
    used = _references((r for r in runs if r.run_id not in expiring), readers)
    deleted = []
    for target in plan.targets:
        users = used.get((target.prefix, target.run_id), set()) - {target.run_id}
        if target.run_id in spared or users:
            store.delete_objects([_marker(target)])  # rare: one at a time
            if users:
                known = set(plan.used_by.get(target.run_id, []))
                plan.used_by[target.run_id] = sorted(known | users)
            continue
        deleted.append(target)
    store.delete_objects([p for t in deleted for p in t.paths])
    plan.targets = deleted
    plan.expired = [r for r in plan.expired if r in expiring]
    return plan


def timestamp(at: datetime) -> str:
    """`at` as manifests write times (`2026-11-28T08:22:28.576Z`), so the two compare."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _marker(target: Target) -> str:
    return ArtifactKey(target.prefix, target.run_id).expiry_path


@dataclass
class Deletion:
    """Everything of one run: its records and what its ops wrote."""

    flow: str
    run_id: str
    paths: list[str]
    bytes: int


class Refused(Exception):
    """A run that must not be deleted: it is not over, or kept runs use its outputs."""


def deletion(store: Store, run: Run) -> Deletion:
    """What deleting `run` removes; `Refused` while it is not over or while another run uses
    its outputs (named)."""
    if run.status in _ACTIVE:
        raise Refused(f"run {run.run_id} of {run.flow} is {run.status}: wait until it ends")
    others = [r for r in History(store).runs(run.flow) if r.run_id != run.run_id]
    used = _references(others)
    users = sorted({u for op, p in _own_outputs(run) for u in used.get((p, run.run_id), ())})
    if users:
        raise Refused(
            f"runs {', '.join(users)} of {run.flow} use outputs of run {run.run_id} (they "
            f"reused them from the cache or resumed it): delete those runs first"
        )
    read = _references([], _reader_runs(store, run.flow, _reader_flows(store, run.flow)))
    readers = sorted({u for op, p in _own_outputs(run) for u in read.get((p, run.run_id), ())})
    if readers:
        raise Refused(
            f"{', '.join(readers)} read outputs of run {run.run_id} of {run.flow} "
            f"(ss.upstream): delete those runs, or let their own gc expire them, first"
        )
    if run.run_id in pinned(store, run.flow):
        raise Refused(f"run {run.run_id} of {run.flow} is pinned: unpin it first")
    listed = []
    for prefix in sorted({p for _, p in _own_outputs(run)}):
        listed += store.list_details(ArtifactKey(prefix, run.run_id).run_dir + "/")
    records = store.list_details(flow_run_dir(run.flow, run.run_id))
    header = flow_run_path(run.flow, run.run_id)
    # The header goes last: until then the run is listed, and a delete interrupted part of
    # the way is finished by running it again.
    ordered = [p for p, _, _ in listed] + [p for p, _, _ in records if p != header] + [header]
    size = sum(n for _, n, _ in listed) + sum(n for _, n, _ in records)
    return Deletion(run.flow, run.run_id, ordered, size)


def delete(store: Store, planned: Deletion) -> None:
    """Deletes what `deletion` listed, the run's header last, just after the run index
    records the deletion (an interrupted delete leaves the header, to run it again)."""
    from slipstream._native import index_forget

    store.delete_objects(planned.paths[:-1])
    index_forget(store, planned.flow, planned.run_id)
    store.delete_objects(planned.paths[-1:])


def pinned(store: Store, flow: str) -> set[str]:
    """Run ids of the pinned runs of `flow`."""
    found = set()
    for path in store.list(runs_dir(flow) + "/"):
        if path.endswith("/" + PIN_FILE):
            found.add(files.read(store, path, Pin).run_id)
    return found


def pin(store: Store, run: Run, note: str, now: datetime) -> None:
    """Protects `run` from retention."""
    files.write(store, flow_run_dir(run.flow, run.run_id) + PIN_FILE, Pin(
        flow=run.flow, run_id=run.run_id, pinned_at=now.isoformat(timespec="seconds"), note=note,
    ))  # fmt: skip


def unpin(store: Store, run: Run) -> bool:
    """Removes `run`'s protection; False if it was not pinned."""
    path = flow_run_dir(run.flow, run.run_id) + PIN_FILE
    try:
        store.get_object(path)
    except ArtifactNotFound:
        return False
    store.delete_objects([path])
    return True


def _references(
    runs: Iterable[Run], readers: Iterable[Run] = ()
) -> dict[tuple[str, str], set[str]]:
    """(prefix, run id) of the outputs each run uses → the runs using them; with the runs of
    other flows reading them (`readers`), named `<flow> run <run id>`."""
    used: dict[tuple[str, str], set[str]] = {}
    for run in runs:
        for op in run.ops.values():
            if op.state.prefix:
                at = outputs_at(op.state, run.run_id)
                used.setdefault((at.prefix, at.run_id), set()).add(run.run_id)
    for run in readers:
        for op in run.ops.values():
            if op.state.cached_from and op.state.cached_from.flow:
                at = op.state.cached_from
                used.setdefault((at.prefix, at.run_id), set()).add(f"{run.flow} run {run.run_id}")
    return used


def _reader_flows(store: Store, flow: str) -> list[str]:
    """The other flows with a version reading outputs of `flow` through `ss.upstream`."""
    history = History(store)
    return [
        other
        for other in history.flows()
        if other != flow
        and any(
            op.source is not None and op.source.flow == flow
            for version in history.versions(other)
            for op in version.spec.ops
        )
    ]


def _reader_runs(store: Store, flow: str, readers: Iterable[str]) -> list[Run]:
    """The runs of the flows `readers` whose `upstream` ops read outputs of `flow`, while
    their own outputs are stored: a run whose outputs its flow's retention expired no longer
    holds what it read."""
    history = History(store)
    return [
        run
        for other in readers
        for run in history.runs(other)
        if any(
            op.state.cached_from and op.state.cached_from.flow == flow for op in run.ops.values()
        )
        and not _expired(store, run)
    ]


def _expired(store: Store, run: Run) -> bool:
    """Whether retention expired the outputs of `run` (a marker beside any of them)."""
    for _, prefix in _own_outputs(run):
        try:
            store.get_object(ArtifactKey(prefix, run.run_id).expiry_path)
        except ArtifactNotFound:
            continue
        return True
    return False


def _own_outputs(run: Run) -> Sequence[tuple[str, str]]:
    """(op, prefix) of every place the ops of `run` wrote under this run's id: the prefix of
    each version that ran it (a task cleared after a recompile ran another version's). An op
    that reused outputs wrote only its try record there."""
    found = []
    for name, op in run.ops.items():
        prefixes = {a.prefix for a in op.state.attempts if a.prefix}
        if op.state.prefix:
            prefixes.add(op.state.prefix)
        found += [(name, p) for p in sorted(prefixes)]
    return found


def _deletable_files(store: Store, prefixes: Iterable[str]) -> dict[str, list[tuple[str, int]]]:
    """The payloads and previews under each prefix, by run folder (`ops/<prefix>/<run>`): one
    listing per op prefix, whatever the number of runs."""
    found: dict[str, list[tuple[str, int]]] = {}
    for prefix in sorted(prefixes):
        for path, size, _ in store.list_details(f"ops/{prefix}/"):
            head, sep, _ = path.partition("/outputs/")
            if sep and _deletable(path):
                found.setdefault(head, []).append((path, size))
    return found


def _deletable(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name.startswith("payload-") or name == "preview.json"


def describe(plan: Plan, dry_run: bool) -> Iterator[str]:
    """Lines saying what was (or would be) deleted, for the command line."""
    verb = "would delete" if dry_run else "deleted"
    by_run: dict[str, list[Target]] = {}
    for target in plan.targets:
        by_run.setdefault(target.run_id, []).append(target)
    for run_id, targets in by_run.items():
        size = sum(t.bytes for t in targets)
        files_ = sum(len(t.paths) for t in targets)
        yield f"  {run_id}: {verb} {files_} files of {len(targets)} ops, {_size(size)}"
    for run_id, users in plan.used_by.items():
        yield f"  {run_id}: some outputs kept, used by {', '.join(sorted(set(users)))}"
    yield (
        f"{plan.flow}: {verb} {plan.files} files, {_size(plan.bytes)} freed, of "
        f"{len(plan.expired)} runs ({plan.policy.describe()}; kept: "
        f"{len(plan.pinned)} pinned, {len(plan.active)} not over)"
    )


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
