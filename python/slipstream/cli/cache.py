"""`slipstream cache explain FLOW OP [--run RUN]`: what an op's cache key is made of, part by
part, and which parts changed since the op's key in the run before (why it ran again)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from slipstream.cli.exit_codes import ExitCode
from slipstream.cli.lookup import NotFound, find_op, find_run


def add_command(commands: Any, store_option: Callable[[argparse.ArgumentParser], None]) -> None:
    cache = commands.add_parser("cache", help="the cache: why an op was reused or ran again")
    actions = cache.add_subparsers(dest="cache_command", required=True)
    explain = actions.add_parser(
        "explain",
        help="the parts of an op's cache key, and what changed since the run before",
        description="Prints what the cache key of an op in a run is the hash of (its code and "
        "the user modules it imports or its code_version, inputs, arguments, environment, "
        "installed packages, image) and which of those parts changed since the newest earlier "
        "run of the op with another key.",
    )
    store_option(explain)
    explain.add_argument("flow")
    explain.add_argument("op")
    explain.add_argument("--run", default="latest", help="run id or prefix (default: latest)")
    explain.add_argument("--json", action="store_true", help="print JSON")
    explain.set_defaults(handler=_explain)


def _explain(history: Any, args: argparse.Namespace) -> int:
    run = find_run(history, args.flow, args.run)
    op = find_op(run, args.op)
    digest = op.state.cache_key
    if digest is None:
        raise NotFound(
            f"op {args.op!r} in run {run.run_id!r} has no cache key: it failed, or an input "
            "or argument could not be keyed, so it could not be reused"
        )
    parts = _parts(history, args.flow, args.op, digest)
    before = _key_before(history, run, args.op, digest)
    changed = None
    if before is not None:
        earlier = _parts(history, args.flow, args.op, before[1])
        if parts is not None and earlier is not None:
            changed = sorted(_differing(parts, earlier))
    if args.json:
        print(json.dumps({
            "flow": args.flow, "op": args.op, "run_id": run.run_id, "key": digest,
            "parts": parts, "before": before and {"run_id": before[0], "key": before[1]},
            "changed": changed,
        }, indent=1))  # fmt: skip
        return ExitCode.OK
    print(f"op {args.op!r} of flow {args.flow!r}, run {run.run_id}: cache key {digest}")
    if op.cached_from is not None:
        print(f"  reused the outputs of run {op.cached_from}")
    if parts is None:
        print("  its parts are not recorded: no cache entry of this key (caching is off for "
              "this op, or the entry was written before entries kept their parts)")  # fmt: skip
    else:
        for path, value in _flatten(parts):
            print(f"  {path}: {value}")
    if before is None:
        print("no earlier run of this op had another key")
    elif changed is None:
        print(f"key differs from run {before[0]}'s; its parts are not recorded")
    else:
        print(f"changed since run {before[0]}: {', '.join(changed) or 'nothing recorded'}")
    return ExitCode.OK


def _parts(history: Any, flow: str, op: str, digest: str) -> dict[str, Any] | None:
    from slipstream._native import cache_entry_path
    from slipstream.errors import ArtifactNotFound
    from slipstream.records import files
    from slipstream.records.types import CacheEntry

    try:
        entry = files.read(history.store, cache_entry_path(flow, op, digest), CacheEntry)
    except ArtifactNotFound:
        return None
    parts: dict[str, Any] | None = entry.parts
    return parts


def _key_before(history: Any, run: Any, op: str, digest: str) -> tuple[str, str] | None:
    """The newest run older than `run` whose `op` has a cache key other than `digest`."""
    runs = history.runs(run.flow)  # newest first
    ids = [r.run_id for r in runs]
    for earlier in runs[ids.index(run.run_id) + 1 :]:
        key = earlier.ops[op].state.cache_key if op in earlier.ops else None
        if key is not None and key != digest:
            return earlier.run_id, key
    return None


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for name in sorted(value):
            yield from _flatten(value[name], f"{path}.{name}" if path else str(name))
    else:
        yield path, json.dumps(value) if not isinstance(value, str) else value


def _differing(a: Mapping[str, Any], b: Mapping[str, Any]) -> Iterator[str]:
    left, right = dict(_flatten(a)), dict(_flatten(b))
    for path in sorted(set(left) | set(right)):
        if left.get(path) != right.get(path):
            yield path
