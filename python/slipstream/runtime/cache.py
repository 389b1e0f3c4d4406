"""Reusing outputs: an op whose code, inputs, arguments and environment match an earlier
successful run of it does not run again; its try points at that run's outputs.

The cache key is a SHA-256 of what an output is made from (`parts`, which `slipstream cache
explain` shows):

- `code`: the op's code hash (the function and the helpers of its module it uses) and the
  file hash of every user module its code imports, transitively (`runtime.fingerprint`); or,
  where the op says `code_version=...`, that string instead of both;
- `op`: what it is (kind, severity, outputs, pickling, conversions);
- `inputs`: the checksum and type of every input; `arguments`: its constants and params;
- `environment`: the Python and library versions of the version, `packages`: every
  distribution installed where it runs, `image`: its container image and digest;
- the key and manifest formats.

The index, `flows/<flow>/cache/<op>/<key>.json`, names the run whose outputs the key made
and their checksums. A hit trusts an entry only if it was written for this key and op and
every output it names is stored as it was: the manifest's checksum is the entry's, the
payload has the manifest's size, and a payload of at most `VERIFY_BYTES` is read and its
checksum checked. A larger payload found corrupt when it is read removes the entry
(`evict_corrupt_inputs`, `history.reader.evict_cache_entry`): the local runner then runs its
producer again, an Airflow task says which task to clear, and a later run heals what a
reader found. A hit writes the try record and the
op state: no payload is copied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from slipstream._native import FORMATS, ArtifactKey, Store, cache_entry_path
from slipstream.errors import ArtifactNotFound, CorruptArtifact, SlipstreamError
from slipstream.history.reader import evict_cache_entry
from slipstream.records import files
from slipstream.records.types import (
    CacheEntry,
    FlowSpec,
    OpSpec,
    OpState,
    OutputsAt,
    TryRecord,
)
from slipstream.runtime import fingerprint
from slipstream.runtime.attempt import Reused
from slipstream.spec import constants as _constants

# Cached payloads up to this size are read and checked on every hit: a few milliseconds.
VERIFY_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Policy:
    """Whether ops may reuse earlier outputs in this run, and the run being resumed, whose
    outputs are reused wherever the key still matches (`resumed`: op name -> its state)."""

    enabled: bool = True
    resumed_run: str | None = None
    resumed: Mapping[str, OpState] = field(default_factory=dict)

    def allows(self, spec: FlowSpec, op: OpSpec) -> bool:
        return self.enabled and spec.cache and op.cache


@dataclass(frozen=True)
class Key:
    """A cache key and the parts it is the hash of."""

    digest: str
    parts: dict[str, Any]


def key(
    store: Store,
    spec: FlowSpec,
    op: OpSpec,
    inputs: Mapping[str, ArtifactKey],
    arguments: Mapping[str, Any],
    fn: Any = None,
) -> Key | None:
    """The cache key of `op` (whose loaded function is `fn`) on these inputs and arguments;
    None when an input cannot be read or an argument has no stable form (the op then simply
    runs)."""
    try:
        manifests = {arg: files.manifest(store.manifest(k)) for arg, k in inputs.items()}
        encoded = {arg: _constants.encode(v, arg) for arg, v in arguments.items()}
    except (SlipstreamError, TypeError, ValueError):
        return None
    try:
        code = code_part(op, fn)
    except Exception:  # noqa: BLE001 — locating a module ran user code that failed: no key
        return None
    parts = {
        # The key's parts change with the entries' format (2: user modules, packages,
        # image) and with the manifests' (checksums and types as they spell them).
        "format": FORMATS["cache"],
        "manifest_format": FORMATS["manifest"],
        "code": code,
        "op": {
            "kind": op.kind,
            "severity": op.severity,
            "outputs": list(op.outputs),
            "allow_pickle": op.allow_pickle,
            "convert": op.convert,
        },
        "inputs": {
            arg: [m.checksum, m.type, m.flavor, m.python_type] for arg, m in manifests.items()
        },
        "arguments": encoded,
        "environment": msgspec.to_builtins(spec.environment),
        "packages": fingerprint.packages(),
        "image": fingerprint.image(op),
    }
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return Key(hashlib.sha256(canonical.encode()).hexdigest(), parts)


def code_part(op: OpSpec, fn: Any) -> dict[str, Any]:
    """The op's code as the key sees it: its `code_version` where it gives one, else its
    code hash and the user modules it imports."""
    if op.code_version is not None:
        return {"code_version": op.code_version}
    function = op.function
    return {"hash": function.code_hash, "modules": fingerprint.user_modules(function, fn)}


def find(store: Store, spec: FlowSpec, op: OpSpec, cache_key: Key, policy: Policy) -> Reused | None:
    """The outputs of an earlier run this op can reuse: the resumed run's when its key
    matches, else those the cache index names (when caching is allowed); only if the entry
    was written for this key and op and every output it names is stored as it was."""
    checksums: Mapping[str, str] | None = None  # as the entry says they were written
    resumed = policy.resumed.get(op.name)
    if policy.resumed_run and resumed and resumed.cache_key == cache_key.digest:
        at = resumed.cached_from or OutputsAt(run_id=policy.resumed_run, prefix=resumed.prefix)
        metric, check = resumed.metric, resumed.check
    elif policy.allows(spec, op):
        try:
            entry = files.read(store, entry_path(spec, op, cache_key.digest), CacheEntry)
        except ArtifactNotFound:
            return None
        except SlipstreamError:  # unreadable or of another format: recompute, and replace it
            return None
        if entry.key != cache_key.digest or entry.op != op.name:
            return None  # an entry copied or edited from another key: not this one's
        at, metric, check, checksums = entry.at, entry.metric, entry.check, entry.outputs
    else:
        return None
    manifests = {}
    for out in op.outputs:
        key = ArtifactKey(at.prefix, at.run_id, out)
        try:
            stored = store.stored_manifest(key)
            if stored is None:  # its payload is gone (expired, deleted): run the op instead
                return None
            manifest = files.manifest(stored)
            if checksums is not None and checksums.get(out) != manifest.checksum:
                return None  # not the output the entry was written for
            if manifest.bytes <= VERIFY_BYTES:
                store.verify(key)
        except SlipstreamError:  # unreadable or corrupt: run the op instead
            return None
        manifests[out] = manifest
    return Reused(at, manifests, metric, check)


def entry_path(spec: FlowSpec, op: OpSpec, digest: str) -> str:
    return str(cache_entry_path(spec.flow, op.name, digest))


def remember(store: Store, spec: FlowSpec, op: OpSpec, cache_key: Key, record: TryRecord) -> None:
    """Adds a successful try's outputs to the cache index under its key."""
    if record.status != "success":
        return
    entry = CacheEntry(
        key=cache_key.digest,
        op=op.name,
        at=OutputsAt(run_id=record.run_id, prefix=record.op_prefix),
        version=spec.version,
        outputs={name: m.checksum for name, m in record.outputs.items()},
        metric=record.metric,
        check=record.check,
        written_at=record.ended_at,
        parts=cache_key.parts,
    )
    files.write(store, entry_path(spec, op, cache_key.digest), entry)


def evict_corrupt_inputs(
    store: Store,
    flow: str,
    op: OpSpec,
    inputs: Mapping[str, ArtifactKey],
    producers: Mapping[str, OpState | None],
) -> list[str]:
    """After `op` failed with `CorruptArtifact`: the ops among its producers (`producers`:
    op name -> its state in this run) whose output it reads is corrupt. The cache entries
    naming those outputs are removed, so that no run reuses them again; the caller runs the
    producers again (or says to)."""
    corrupt = []
    for arg, source in op.inputs.items():
        state = producers.get(source.op)
        if arg not in inputs or source.op in corrupt:
            continue
        try:
            store.verify(inputs[arg])
            continue
        except CorruptArtifact:
            corrupt.append(source.op)
        if state and state.cache_key:
            evict_cache_entry(store, flow, source.op, state.cache_key, inputs[arg])
    return corrupt
