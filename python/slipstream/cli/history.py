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

import msgspec

from slipstream.cli import get as _get
from slipstream.cli.exit_codes import ExitCode
from slipstream.cli.lookup import Ambiguous, NotFound, find_op, find_run
from slipstream.records.types import (
    CheckResult,
    ErrorRecord,
    ErrorSummary,
    FlowSpec,
    Manifest,
    OpSpec,
    RunSummary,
    UnreadableRun,
)


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
    get = command("get", "write an output to a file: Parquet, PNG, .npy, JSON or as stored",
                  _get.get, json_flag=False)  # fmt: skip
    _get.add_arguments(get)
    diff = command("diff", "what changed between two versions, or two runs, of a flow", _diff)
    diff.add_argument("flow")
    diff.add_argument("a", help="a version (id, prefix, latest), else a run")
    diff.add_argument("b", help="a version, else a run (id, prefix, latest, latest-failed…)")


def run(args: argparse.Namespace) -> int:
    """Runs a reading command with its exit code."""
    import slipstream as ss
    from slipstream.errors import AmbiguousName, ArtifactNotFound, SlipstreamError

    try:
        return int(args.handler(ss.open(args.store), args))
    except (Ambiguous, AmbiguousName) as exc:
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
        runs = history.summaries(name)
        rows.append({
            "flow": name,
            "versions": len(history.versions(name)),
            "runs": len(runs),
            "last_run": runs[0].run_id if runs else None,
            "last_status": _run_row(runs[0])["status"] if runs else None,
        })  # fmt: skip
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        _table(rows, ["flow", "versions", "runs", "last_status", "last_run"])
    return 0


def _runs(history: Any, args: argparse.Namespace) -> int:
    rows = [_run_row(r) for r in history.summaries(args.flow)[: args.limit]]
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        _table(rows, ["run_id", "status", "trigger", "version", "started_at", "seconds",
                      "failed_checks"])  # fmt: skip
    for row in rows:  # shown among the others; why each cannot be read, on stderr
        if row["status"] == "unreadable":
            print(f"slipstream: run {row['run_id']} cannot be read: {row['error']}",
                  file=sys.stderr)  # fmt: skip
    return 0


def _show(history: Any, args: argparse.Namespace) -> int:
    run = find_run(history, args.flow, args.run_id)
    if args.op is None:
        return _show_run(run, args.json)
    op = find_op(run, args.op)
    record = op.record
    tries = op.tries
    data = {"op": op.name, "status": op.status, "prefix": op.prefix, "version": op.version,
            "cached_from": op.cached_from,
            "tries": op.state.tries,
            "try_versions": {t.try_number: t.version or run.version.id for t in tries},
            "code": op.code, "outputs": record.outputs if record else {},
            "check": run.checks.get(op.name), "metric": run.metrics.get(op.name),
            "error": record.error if record else None,
            "expired": _expiry(run, op)}  # fmt: skip
    if args.json:
        print(_json(data))
        return 0
    tries_text = "1 try" if data["tries"] == 1 else f"{data['tries']} tries"
    print(f"op {op.name}: {op.status} after {tries_text} (prefix {op.prefix})")
    spec = op.spec
    print(f"  defined at {_short(spec.function.file)}:{spec.function.line}, "
          f"called at {spec.defined_at}")  # fmt: skip
    source = spec.source
    if op.cached_from is not None and source:
        print(f"  reads {source.output} of op {source.op} of flow {source.flow}: "
              f"the artifact of its run {op.cached_from}")  # fmt: skip
    elif op.cached_from is not None:
        print(f"  did not run: reused the outputs of run {op.cached_from}")
    if len(set(data["try_versions"].values()) | {run.version.id}) > 1:
        for n, ran in data["try_versions"].items():
            error = next(t.error for t in tries if t.try_number == n)
            outcome = f"failed: {_error_text(error)}" if error else "succeeded"
            print(f"  try {n} ran version {ran}: {outcome}")
    if data["expired"]:
        expired = data["expired"]
        print(f"  outputs expired by retention on {expired.expired_at} ({expired.reason}): "
              "their payloads are deleted, their records kept")  # fmt: skip
    for name, manifest in data["outputs"].items():
        print(f"  output {name}: {_manifest_text(manifest)}")
    if data["metric"] is not None:
        print(f"  metric: {data['metric']}")
    if data["check"] is not None:
        print(f"  check: {_check_text(data['check'])}")
    if data["error"]:
        print(f"\n{_traceback(data['error'])}")
    print(f"\ncode of version {op.version}:\n{data['code']}")
    return 0


def _expiry(run: Any, op: Any) -> Any:
    """Retention's marker on the op's outputs in this run, if `slipstream gc` expired them."""
    from slipstream._native import ArtifactKey
    from slipstream.errors import ArtifactNotFound
    from slipstream.records import files
    from slipstream.records.runs import outputs_at
    from slipstream.records.types import Expiry

    if not op.state.prefix:
        return None
    at = outputs_at(op.state, run.run_id)
    try:
        return files.read(run.store, ArtifactKey(at.prefix, at.run_id).expiry_path, Expiry)
    except ArtifactNotFound:
        return None


def _show_run(run: Any, as_json: bool) -> int:
    from slipstream.history.run_index import summary

    data = {**_run_row(summary(run.record)), "params": run.params, "metrics": run.metrics,
            "checks": run.checks, "ops": {n: o.state for n, o in run.ops.items()}}  # fmt: skip
    if as_json:
        print(_json(data))
        return 0
    for key in ("run_id", "status", "trigger", "version", "started_at", "seconds"):
        if data[key] is not None:
            print(f"{key:12} {data[key]}")
    if run.params:
        print(f"{'params':12} {json.dumps(run.params, default=str)}")
    if run.metrics:
        print(f"{'metrics':12} {json.dumps(run.metrics)}")
    for name, check in run.checks.items():
        print(f"{'check':12} {name}: {_check_text(check)}")
    print()
    rows = [{"op": n, "status": o.status, "tries": o.state.tries,
             "version": o.version, "error": _error_text(o.state.error)}
            for n, o in run.ops.items()]  # fmt: skip
    # Ops that ran another version than the run started with (cleared after a recompile)
    mixed = any(row["version"] != run.version.id for row in rows)
    _table(rows, ["op", "status", "tries", *(["version"] if mixed else []), "error"])
    if run.status in ("failed", "interrupted"):
        print(f"\n{run.summary()}")
    return 0


def _error_text(error: ErrorRecord | ErrorSummary | None) -> str:
    """`KeyError: 'qty'`: the exception's type (without its module) and message."""
    if not error:
        return ""
    kind = error.type.rsplit(".", 1)[-1]
    return f"{kind}: {error.message}" if error.message else kind


def _check_text(check: CheckResult) -> str:
    verdict = "passed" if check.passed else "FAILED"
    return f"{verdict} ({check.severity}), {check.failed} of {check.total} values false"


def _manifest_text(manifest: Manifest) -> str:
    parts = [f"{manifest.type} {manifest.flavor}".strip()]
    if manifest.rows is not None:
        parts.append(f"{manifest.rows} rows")
    parts.append(f"{manifest.bytes} bytes")
    return ", ".join(parts)


def _traceback(error: ErrorRecord) -> str:
    """The stored traceback, or the error alone when no frame of the user's code was in it."""
    lines = error.traceback.splitlines()
    if lines[:1] == ["Traceback (most recent call last):"] and not error.frames:
        lines = lines[1:]
    return "\n".join(lines) or _error_text(error)


def _short(path: str) -> str:
    try:
        relative = str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path
    return relative


def _logs(history: Any, args: argparse.Namespace) -> int:
    op = find_op(find_run(history, args.flow, args.run_id), args.op)
    tries = op.tries
    if not tries:
        raise NotFound(f"op {op.name!r} has not run in {args.run_id!r}")
    number = args.try_number or len(tries)
    if not 1 <= number <= len(tries):
        raise NotFound(f"op {op.name!r} has tries 1..{len(tries)}, not {number}")
    record = tries[number - 1]
    sys.stdout.write(record.stdout)
    sys.stdout.write(record.stderr)
    return 0


def _diff(history: Any, args: argparse.Namespace) -> int:
    """Two versions: their structural diff and code. Otherwise two runs, compared as the
    web UI's comparison page shows them."""
    from slipstream.errors import AmbiguousName, ArtifactNotFound

    try:
        a = history.version(args.flow, args.a).spec
        b = history.version(args.flow, args.b).spec
    except AmbiguousName:
        raise  # the start of several versions: say so, rather than try runs
    except (ArtifactNotFound, NotFound, ValueError):  # not versions: runs
        return _compare_runs(history, args)
    return _version_diff(a, b, args)


def _compare_runs(history: Any, args: argparse.Namespace) -> int:
    from slipstream._native import compare_runs

    text = compare_runs(history.store, args.flow, args.a, args.b)
    if args.json:
        print(text)
        return 0
    c = json.loads(text)
    for side in ("a", "b"):
        run = c[side]
        took = "" if run["seconds"] is None else f", {run['seconds']:.2f} s"
        print(f"{side.upper()}  {run['run_id']}  {run['status']}, version {run['version']}, "
              f"{run['trigger']}{took}")  # fmt: skip
    lines = [f"param    {p['name']}: {p['a']} -> {p['b']}" for p in c["params"] if p["changed"]]
    if c["versions"] is not None:
        for key, items in c["versions"].items():
            lines += [f"version  {key.replace('_', ' ')}: {item}" for item in items]
    for op in c["ops"]:
        a, b = ((op[s] or {}).get("status", "absent") for s in ("a", "b"))
        if a != b:
            lines.append(f"op       {op['name']}: {a} -> {b}")
    for m in c["metrics"]:
        change = "" if m["change"] is None else f" ({m['change']:+g})"
        if m["a"] != m["b"]:
            lines.append(f"metric   {m['name']}: {m['a']} -> {m['b']}{change}")
    for check in c["checks"]:
        if check["changed"]:
            verdict = [_verdict(check[s]) for s in ("a", "b")]
            lines.append(f"check    {check['name']}: {verdict[0]} -> {verdict[1]}")
    for out in c["outputs"]:
        if out["changed"]:
            rows = [(out[s] or {}).get("rows") for s in ("a", "b")]
            more = f", rows {rows[0]} -> {rows[1]}" if rows[0] != rows[1] else ""
            lines.append(f"output   {out['op']}.{out['output']}: {', '.join(out['changed'])}"
                         f"{more}")  # fmt: skip
    print("\n".join(lines) if lines else "the two runs did the same")
    return 0


def _verdict(check: dict[str, Any] | None) -> str:
    if check is None:
        return "did not run"
    word = "passed" if check["passed"] else f"failed ({check['severity']})"
    return f"{word}, {check['failed']} of {check['total']} false"


def _version_diff(a: FlowSpec, b: FlowSpec, args: argparse.Namespace) -> int:
    from slipstream._native import version_diff

    changes = json.loads(version_diff(a.to_json(), b.to_json()))
    ops_a = {op.name: op for op in a.ops}
    ops_b = {op.name: op for op in b.ops}
    changed = changes["code_changed"]
    code_diffs = {n: _code_diff(ops_a[n], ops_b[n], a.version, b.version) for n in changed}
    if args.json:
        print(json.dumps({**changes, "code_diffs": code_diffs}, indent=1))
        return 0
    if not any(changes.values()):
        print(f"{a.version} and {b.version} define the same flow")
    for key, items in changes.items():
        for item in items:
            print(f"{key.replace('_', ' '):15} {item}")
    for name, text in code_diffs.items():
        print(f"\n{text}" if text else f"\nop {name}: the helpers it uses changed")
    return 0


def _code_diff(a: OpSpec, b: OpSpec, version_a: str, version_b: str) -> str:
    """A unified diff of an op's code in two versions: its captured module when it has one
    (the function and the helpers it uses), else its own source. The line diff the web UI's
    version diff draws (`slipstream._native.code_diff`)."""
    from slipstream._native import code_diff

    def code(op: OpSpec) -> str:
        return op.function.module_source or op.function.source

    name = a.name
    return code_diff(code(a), code(b), f"{name} ({version_a})", f"{name} ({version_b})")


def _run_row(run: RunSummary | UnreadableRun) -> dict[str, Any]:
    """A row of `slipstream runs`: a run's summary (`History.summaries`), or a run that
    cannot be read, with why."""
    if isinstance(run, UnreadableRun):
        return {"run_id": run.run_id, "status": run.status, "trigger": None, "version": None,
                "started_at": run.started_at, "seconds": None, "failed_checks": "",
                "error": run.reason}  # fmt: skip
    seconds = None
    if run.ended_at:
        took = datetime.fromisoformat(run.ended_at) - datetime.fromisoformat(run.started_at)
        seconds = round(took.total_seconds(), 2)
    failed = sorted(n for n, c in run.checks.items() if not c.passed)
    return {"run_id": run.run_id, "status": run.status, "trigger": run.trigger,
            "version": run.version, "started_at": run.started_at, "seconds": seconds,
            "failed_checks": ", ".join(failed)}  # fmt: skip


def _json(data: Any) -> str:
    """`data`, records in it included, as indented JSON (what JSON cannot hold as text)."""
    return json.dumps(msgspec.to_builtins(data, enc_hook=str), indent=1, default=str)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    text = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(c), *(len(t[i]) for t in text)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for t in text:
        print("  ".join(v.ljust(w) for v, w in zip(t, widths, strict=True)).rstrip())
