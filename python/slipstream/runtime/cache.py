"""Reusing outputs: an op whose code, inputs, arguments and environment match an earlier
successful run of it does not run again; its try points at that run's outputs.

The cache key is a SHA-256 of what an output is made from: the op's code hash (the function
and the helpers captured with it), what it is (kind, severity, outputs, pickling,
conversions), the checksum and type of every input, its constants and params, the Python
and library versions of the version (slipstream's included, so codec changes count) and the
manifest format. The index, `flows/<flow>/cache/<op>/<key>.json`, names the run whose
outputs the key made. A hit reads the entry, and one manifest and one HEAD per output (so
that a payload that is gone is never pointed at: the op runs instead), and writes the try
record and the op state: no payload is copied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slipstream._native import ArtifactKey, Store, cache_entry_path
from slipstream.errors import ArtifactNotFound, SlipstreamError
from slipstream.records import files
from slipstream.records.types import TryRecord
from slipstream.spec import constants as _constants

CACHE_FORMAT = 1
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class Policy:
    """Whether ops may reuse earlier outputs in this run, and the run being resumed, whose
    outputs are reused wherever the key still matches (`resumed`: op name -> its state)."""

    enabled: bool = True
    resumed_run: str | None = None
    resumed: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def allows(self, spec: Mapping[str, Any], op: Mapping[str, Any]) -> bool:
        return self.enabled and spec.get("cache", True) and op.get("cache", True)


def key(
    store: Store,
    spec: Mapping[str, Any],
    op: Mapping[str, Any],
    inputs: Mapping[str, ArtifactKey],
    arguments: Mapping[str, Any],
) -> str | None:
    """The cache key of `op` on these inputs and arguments; None when an input cannot be read
    or an argument has no stable form (the op then simply runs)."""
    try:
        manifests = {arg: store.manifest(k) for arg, k in inputs.items()}
        encoded = {arg: _constants.encode(v, arg) for arg, v in arguments.items()}
    except (SlipstreamError, TypeError, ValueError):
        return None
    content = {
        "format": CACHE_FORMAT,
        "manifest_format": MANIFEST_FORMAT,
        "code_hash": op["function"]["code_hash"],
        "op": {k: op[k] for k in ("kind", "severity", "outputs", "allow_pickle", "convert")},
        "inputs": {
            arg: [m["checksum"], m["type"], m["flavor"], m["python_type"]]
            for arg, m in manifests.items()
        },
        "arguments": encoded,
        "environment": spec["environment"],
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def find(
    store: Store, spec: Mapping[str, Any], op: Mapping[str, Any], cache_key: str, policy: Policy
) -> dict[str, Any] | None:
    """The entry of an earlier run whose outputs this op can reuse: the resumed run's when its
    key matches, else the cache index's (when caching is allowed); only if every output it
    names is still stored."""
    entry: dict[str, Any]
    resumed = policy.resumed.get(op["name"])
    if policy.resumed_run and resumed and resumed.get("cache_key") == cache_key:
        at: dict[str, str] = resumed.get("cached_from") or {
            "run_id": policy.resumed_run,
            "prefix": resumed["prefix"],
        }
        entry = {"at": at, "metric": resumed.get("metric"), "check": resumed.get("check")}
    elif policy.allows(spec, op):
        try:
            entry = files.read(
                store, cache_entry_path(spec["flow"], op["name"], cache_key), "cache"
            )
        except ArtifactNotFound:
            return None
    else:
        return None
    where = entry["at"]
    manifests = {}
    for out in op["outputs"]:
        try:
            manifest = store.stored_manifest(ArtifactKey(where["prefix"], where["run_id"], out))
        except SlipstreamError:  # unreadable: run the op instead
            return None
        if manifest is None:  # its payload is gone (expired, deleted): run the op instead
            return None
        manifests[out] = manifest
    entry["manifests"] = manifests
    return entry


def remember(
    store: Store, spec: Mapping[str, Any], op: Mapping[str, Any], cache_key: str, record: TryRecord
) -> None:
    """Adds a successful try's outputs to the cache index under its key."""
    if record["status"] != "success":
        return
    entry = {
        "format": CACHE_FORMAT,
        "key": cache_key,
        "op": op["name"],
        "at": {"run_id": record["run_id"], "prefix": record["op_prefix"]},
        "version": spec["version"],
        "outputs": {name: m["checksum"] for name, m in record["outputs"].items()},
        "metric": record["metric"],
        "check": record["check"],
        "written_at": record["ended_at"],
    }
    files.write(store, cache_entry_path(spec["flow"], op["name"], cache_key), "cache", entry)
