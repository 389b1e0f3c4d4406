"""The reading commands of `slipstream`: flows, runs, show, logs, get, diff. They read only
the store (`--store`, default $SLIPSTREAM_STORE or the embedded default store).

Exit codes: `slipstream.cli.exit_codes`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from slipstream.cli.exit_codes import ExitCode

#: `get` draws a progress bar (on a terminal) for payloads from this size on.
PROGRESS_FROM_BYTES = 4 * 1024 * 1024


class NotFound(Exception):
    """What the command line names does not exist."""


class Ambiguous(Exception):
    """The command line leaves a choice open that it must make."""


def add_commands(commands: Any, store_option: Callable[[argparse.ArgumentParser], None]) -> None:
    def command(name: str, help: str, handler: Callable[[Any, argparse.Namespace], int],
                json_flag: bool = True) -> argparse.ArgumentParser:  # fmt: skip
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help, description=help)
        store_option(parser)
        if json_flag:
            parser.add_argument("--json", action="store_true", help="print JSON")
        parser.set_defaults(handler=handler)
        return parser

    command("flows", "list the flows of the store", _flows)
    runs = command("runs", "list the runs of a flow, newest first", _runs)
    runs.add_argument("flow")
    runs.add_argument("--limit", type=int, default=50)
    show = command("show", "show a run, or one op of it", _show)
    show.add_argument("flow")
    show.add_argument("run_id")
    show.add_argument("op", nargs="?")
    logs = command("logs", "print what an op printed in a run", _logs, json_flag=False)
    logs.add_argument("flow")
    logs.add_argument("run_id")
    logs.add_argument("op")
    logs.add_argument("--try", dest="try_number", type=int, help="try number (default: last)")
    get = command("get", "download an output as stored (Parquet, PNG, bincode...), verified",
                  _get, json_flag=False)  # fmt: skip
    get.add_argument("flow")
    get.add_argument("run_id")
    get.add_argument("op")
    get.add_argument("output", nargs="?", help="which output (default: the op's only one)")
    get.add_argument(
        "-o",
        dest="path",
        type=Path,
        metavar="FILE",
        help="file or folder to write to (default: <op>[.<output>].<ext> here)",
    )
    get.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")
    diff = command("diff", "what changed between two versions of a flow", _diff)
    diff.add_argument("flow")
    diff.add_argument("version_a")
    diff.add_argument("version_b")


def run(args: argparse.Namespace) -> int:
    """Runs a reading command with its exit code."""
    import slipstream as ss
    from slipstream.errors import ArtifactNotFound, SlipstreamError

    try:
        return int(args.handler(ss.open(args.store), args))
    except Ambiguous as exc:
        return _fail(exc, ExitCode.USAGE)
    except (NotFound, ArtifactNotFound) as exc:
        return _fail(exc, ExitCode.NOT_FOUND)
    except SlipstreamError as exc:  # unreachable, refused, corrupt, of a newer format
        return _fail(exc, ExitCode.STORE_ERROR)
    except ValueError as exc:  # a name no flow, run or op can have
        return _fail(exc, ExitCode.USAGE)
    except OSError as exc:  # after ArtifactNotFound, which is a FileNotFoundError too
        return _fail(exc, ExitCode.FILE_ERROR)


def _fail(exc: Exception, code: ExitCode) -> int:
    # `KeyError` quotes its message in str(); every other exception is shown whole.
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    print(f"slipstream: {message}", file=sys.stderr)
    return code


def _flows(history: Any, args: argparse.Namespace) -> int:
    rows = []
    for name in history.flows():
        runs = history.runs(name)
        rows.append({
            "flow": name,
            "versions": len(history.versions(name)),
            "runs": len(runs),
            "last_run": runs[0].run_id if runs else None,
            "last_status": runs[0].status if runs else None,
        })  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        _table(rows, ["flow", "versions", "runs", "last_status", "last_run"])
    return 0


def _runs(history: Any, args: argparse.Namespace) -> int:
    if args.flow not in history.flows():
        raise NotFound(f"no flow {args.flow!r} in {history.store.url}")
    rows = [_run_row(r) for r in history.runs(args.flow)[: args.limit]]
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        _table(rows, ["run_id", "status", "trigger", "version", "started_at", "seconds",
                      "failed_checks"])  # fmt: skip
    return 0


def _show(history: Any, args: argparse.Namespace) -> int:
    run = find_run(history, args.flow, args.run_id)
    if args.op is None:
        data = {**_run_row(run), "params": run.params, "metrics": run.metrics,
                "checks": run.checks, "ops": {n: o.state for n, o in run.ops.items()}}  # fmt: skip
        if args.json:
            print(json.dumps(data, indent=1, default=str))
            return 0
        for key in ("run_id", "status", "trigger", "version", "started_at", "seconds"):
            print(f"{key:12} {data[key]}")
        print(f"{'params':12} {json.dumps(run.params, default=str)}")
        print(f"{'metrics':12} {json.dumps(run.metrics)}")
        print()
        rows = [{"op": n, "status": o.status, "tries": o.state.get("tries", 0),
                 "version": o.version, "error": (o.state.get("error") or {}).get("message", "")}
                for n, o in run.ops.items()]  # fmt: skip
        # Ops that ran another version than the run started with (cleared after a recompile)
        mixed = any(row["version"] != run.version.id for row in rows)
        _table(rows, ["op", "status", "tries", *(["version"] if mixed else []), "error"])
        return 0
    op = find_op(run, args.op)
    record = op.record
    tries = op.tries
    data = {"op": op.name, "status": op.status, "prefix": op.prefix, "version": op.version,
            "cached_from": op.cached_from,
            "tries": int(op.state.get("tries", 0)),
            "try_versions": {t["try_number"]: t.get("version") or run.version.id for t in tries},
            "code": op.code, "outputs": record["outputs"] if record else {},
            "error": record["error"] if record else None}  # fmt: skip
    if args.json:
        print(json.dumps(data, indent=1, default=str))
        return 0
    print(f"op {op.name}: {op.status} after {data['tries']} tries (prefix {op.prefix})")
    if op.cached_from is not None:
        print(f"  did not run: reused the outputs of run {op.cached_from}")
    if len(set(data["try_versions"].values()) | {run.version.id}) > 1:
        for n, ran in data["try_versions"].items():
            error = next(t["error"] for t in tries if t["try_number"] == n)
            outcome = f"failed: {error['type']}: {error['message']}" if error else "succeeded"
            print(f"  try {n} ran version {ran}: {outcome}")
    for name, manifest in data["outputs"].items():
        print(f"  output {name}: {manifest.get('type')} {manifest.get('flavor')}, "
              f"{manifest.get('rows')} rows, {manifest.get('bytes')} bytes")  # fmt: skip
    if data["error"]:
        print(f"\n{data['error']['traceback']}")
    print(f"\ncode of version {op.version}:\n{data['code']}")
    return 0


def _logs(history: Any, args: argparse.Namespace) -> int:
    op = find_op(find_run(history, args.flow, args.run_id), args.op)
    tries = op.tries
    if not tries:
        raise NotFound(f"op {op.name!r} has not run in {args.run_id!r}")
    number = args.try_number or len(tries)
    if not 1 <= number <= len(tries):
        raise NotFound(f"op {op.name!r} has tries 1..{len(tries)}, not {number}")
    record = tries[number - 1]
    sys.stdout.write(record["stdout"])
    sys.stdout.write(record["stderr"])
    return 0


def _get(history: Any, args: argparse.Namespace) -> int:
    from slipstream.errors import ArtifactNotFound

    run = find_run(history, args.flow, args.run_id)
    op = find_op(run, args.op)
    outputs = list(op.spec["outputs"])  # of the version its last try ran
    output = args.output or (outputs[0] if len(outputs) == 1 else None)
    if output is None:
        raise Ambiguous(f"op {op.name!r} has outputs {', '.join(outputs)}: name the one to get")
    if output not in outputs:
        raise NotFound(f"op {op.name!r} has no output {output!r} (its outputs: "
                       f"{', '.join(outputs)})")  # fmt: skip
    key = run.key(op.name, output)
    try:
        manifest = history.store.manifest(key)
    except ArtifactNotFound:
        if op.status == "success":
            raise
        raise NotFound(f"op {op.name!r} has status {op.status} in run {run.run_id!r}: it stored no "
                       f"{output!r}; see `slipstream show {run.flow} {run.run_id} "
                       f"{op.name}`") from None  # fmt: skip
    extension = manifest["payload"].rpartition(".")[2]
    name = f"{op.name}.{extension}" if output == "out" else f"{op.name}.{output}.{extension}"
    path = args.path or Path(name)
    if path.is_dir():
        path = path / name
    progress = not args.quiet and manifest["bytes"] >= PROGRESS_FROM_BYTES
    manifest = history.store.download(key, path, progress=progress)
    if not args.quiet:
        rows = f", {manifest['rows']} rows" if manifest.get("rows") is not None else ""
        print(f"{path}: {manifest['type']} {manifest['flavor']}{rows}, {manifest['bytes']} "
              f"bytes of {manifest['codec']}, {manifest['checksum']} verified")  # fmt: skip
    return 0


def _diff(history: Any, args: argparse.Namespace) -> int:
    a = history.version(args.flow, args.version_a).spec
    b = history.version(args.flow, args.version_b).spec
    ops_a = {op["name"]: op for op in a["ops"]}
    ops_b = {op["name"]: op for op in b["ops"]}
    edges_a = {(u, op["name"]) for op in a["ops"] for u in op["upstream"]}
    edges_b = {(u, op["name"]) for op in b["ops"] for u in op["upstream"]}
    changes = {
        "ops_added": sorted(set(ops_b) - set(ops_a)),
        "ops_removed": sorted(set(ops_a) - set(ops_b)),
        "code_changed": sorted(
            n
            for n in set(ops_a) & set(ops_b)
            if ops_a[n]["function"]["code_hash"] != ops_b[n]["function"]["code_hash"]
        ),
        "edges_added": sorted(f"{u} -> {d}" for u, d in edges_b - edges_a),
        "edges_removed": sorted(f"{u} -> {d}" for u, d in edges_a - edges_b),
        "params_changed": sorted(
            k
            for k in set(a["params"]) | set(b["params"])
            if a["params"].get(k) != b["params"].get(k)
        ),
    }
    if args.json:
        print(json.dumps(changes, indent=1))
        return 0
    if not any(changes.values()):
        print(f"{args.version_a} and {args.version_b} define the same flow")
    for key, items in changes.items():
        for item in items:
            print(f"{key.replace('_', ' '):15} {item}")
    return 0


def find_run(history: Any, flow: str, run_id: str) -> Any:
    if flow not in history.flows():
        raise NotFound(f"no flow {flow!r} in {history.store.url}")
    return history.run(flow, run_id)  # ArtifactNotFound when it has no such run


def find_op(run: Any, name: str) -> Any:
    if name not in run.ops:
        raise NotFound(f"run {run.run_id!r} of {run.flow!r} has no op {name!r} "
                       f"(its ops: {', '.join(run.ops)})")  # fmt: skip
    return run.ops[name]


def _run_row(run: Any) -> dict[str, Any]:
    seconds = None
    if run.ended_at:
        seconds = round((datetime.fromisoformat(run.ended_at)
                         - datetime.fromisoformat(run.started_at)).total_seconds(), 2)  # fmt: skip
    failed = sorted(n for n, c in run.checks.items() if not c["passed"])
    return {"run_id": run.run_id, "status": run.status, "trigger": run.record.get("trigger"),
            "version": run.version.id, "started_at": run.started_at, "seconds": seconds,
            "failed_checks": ", ".join(failed)}  # fmt: skip


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    text = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in text)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for t in text:
        print("  ".join(v.ljust(w) for v, w in zip(t, widths, strict=True)).rstrip())
