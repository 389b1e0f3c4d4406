"""The commands that change what the store keeps: `gc` (retention), `pin`, `unpin`, `delete`,
and `reindex` (the run index).

    slipstream gc FLOW --keep-last 30 [--older-than 90] [--dry-run]
    slipstream gc --all-flows --older-than 90
    slipstream gc --orphans [--min-age HOURS] [--dry-run]
    slipstream pin FLOW RUN [--note TEXT]  /  slipstream unpin FLOW RUN
    slipstream delete FLOW RUN [--yes]
    slipstream reindex FLOW|--all-flows

Exit codes: `slipstream.cli.exit_codes`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any


def add_commands(commands: Any, store_option: Callable[[argparse.ArgumentParser], None]) -> None:
    gc = commands.add_parser(
        "gc",
        help="delete the payloads of old runs, keeping their records",
        description="Deletes the payloads and previews of the runs a retention policy "
        "selects; their records (states, logs, metrics, checks, manifests) stay, and their "
        "outputs read as expired. Never touched: runs not over, pinned runs, and outputs a "
        "kept run uses (cache hits, resumed runs).",
    )
    store_option(gc)
    gc.add_argument("flow", nargs="?", help="the flow (or --all-flows)")
    gc.add_argument("--all-flows", action="store_true", help="apply the policy to every flow")
    gc.add_argument("--keep-last", type=int, metavar="N",
                    help="keep the newest N runs (default: the flow's own policy)")  # fmt: skip
    gc.add_argument("--older-than", type=float, metavar="DAYS",
                    help="expire only runs that ended more than DAYS ago")  # fmt: skip
    gc.add_argument("--orphans", action="store_true",
                    help="remove what crashes left: temporary files, open uploads, payloads no "
                    "manifest names, run folders without a header")  # fmt: skip
    gc.add_argument("--min-age", type=float, default=24.0, metavar="HOURS",
                    help="with --orphans: only what is older (default 24, at least 1; more "
                    "than the longest put)")  # fmt: skip
    gc.add_argument("--grace", type=float, default=10.0, metavar="SECONDS",
                    help="wait between marking outputs expired and deleting them, for runs "
                    "that were starting to reuse them (default 10)")  # fmt: skip
    gc.add_argument("--dry-run", action="store_true", help="print what would go; delete nothing")
    gc.add_argument("--json", action="store_true", help="print JSON")
    gc.set_defaults(handler=_gc, parser=gc)
    for name, help, handler in [
        ("pin", "protect a run from gc", _pin),
        ("unpin", "let gc expire a pinned run again", _unpin),
    ]:
        parser = commands.add_parser(name, help=help, description=help)
        store_option(parser)
        parser.add_argument("flow")
        parser.add_argument("run_id", help="a run id, a unique prefix of one, or latest")
        if name == "pin":
            parser.add_argument("--note", default="", help="why it is kept")
        parser.set_defaults(handler=handler)
    delete = commands.add_parser(
        "delete",
        help="remove a run completely, its records too",
        description="Removes a run completely: its records and everything its ops wrote. "
        "Refused while the run is not over, or while other runs use its outputs.",
    )
    store_option(delete)
    delete.add_argument("flow")
    delete.add_argument("run_id", help="a run id, a unique prefix of one, or latest")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler=_delete)
    reindex = commands.add_parser(
        "reindex",
        help="rebuild a flow's run index from its run records",
        description="Rebuilds the run index (what the runs list and metric history read) "
        "from every run record of the flow. Needed only if the index was lost or damaged: "
        "the runs list then says so.",
    )
    store_option(reindex)
    reindex.add_argument("flow", nargs="?", help="the flow (or --all-flows)")
    reindex.add_argument("--all-flows", action="store_true", help="rebuild every flow's index")
    reindex.set_defaults(handler=_reindex, parser=reindex)


def _gc(history: Any, args: argparse.Namespace) -> int:
    from slipstream.history import retention

    if args.orphans:
        return _orphans(history, args)
    if bool(args.flow) == bool(args.all_flows):
        args.parser.error("name a flow, or pass --all-flows")
    given = None
    if args.keep_last is not None or args.older_than is not None:
        given = retention.Retention(keep_last=args.keep_last, older_than_days=args.older_than)
    now = datetime.now(UTC)
    flows = history.flows() if args.all_flows else [args.flow]
    plans = []
    for flow in flows:
        policy = given or retention.declared(history.store, flow)
        if policy is None:
            if not args.all_flows:
                args.parser.error(
                    f"flow {flow!r} declares no retention: pass --keep-last and/or "
                    f"--older-than, or give it ss.Flow(..., retention=ss.Retention(...))"
                )
            if not args.json:
                print(f"{flow}: no retention policy declared, nothing to do")
            continue
        plan = retention.apply(history.store, flow, policy, now, args.grace, args.dry_run)
        plans.append(plan)
        if not args.json:
            for line in retention.describe(plan, args.dry_run):
                print(line)
    if args.json:
        print(json.dumps([_summary(p, args.dry_run) for p in plans], indent=1))
    return 0


def _reindex(history: Any, args: argparse.Namespace) -> int:
    from slipstream.history import indexing

    if bool(args.flow) == bool(args.all_flows):
        args.parser.error("name a flow, or pass --all-flows")
    for flow in history.flows() if args.all_flows else [args.flow]:
        done = indexing.reindex(history.store, flow)
        print(f"{flow}: indexed {done.ended} ended run(s); {done.open} not over "
              f"(read from their records until they end); replaced {done.replaced} "
              f"segment(s)")  # fmt: skip
        for run in done.skipped:
            print(f"slipstream: {flow}: skipped run {run.run_id}, which cannot be read: "
                  f"{run.reason}", file=sys.stderr)  # fmt: skip
    return 0


def _orphans(history: Any, args: argparse.Namespace) -> int:
    from slipstream.history import orphans

    if args.min_age < 1:
        args.parser.error("--min-age must be 1 hour or more: a put or a run in flight is younger")
    now, min_age = datetime.now(UTC), timedelta(hours=args.min_age)
    found = orphans.find(history.store, now, min_age)
    if not args.dry_run:
        orphans.remove(history.store, found, now, min_age)
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, "leftovers": [p for p, _ in found.leftovers],
                          "payloads": [p for p, _ in found.payloads],
                          "run_files": [p for p, _ in found.run_folders],
                          "bytes": found.bytes,
                          "young": {"count": found.young[0], "bytes": found.young[1]}},
                         indent=1))  # fmt: skip
    else:
        print("\n".join(orphans.describe(found, args.dry_run)))
    return 0


def _summary(plan: Any, dry_run: bool) -> dict[str, Any]:
    return {
        "flow": plan.flow,
        "dry_run": dry_run,
        "policy": plan.policy.describe(),
        "expired_runs": plan.expired,
        "pinned_runs": plan.pinned,
        "runs_not_over": plan.active,
        "kept_for": plan.used_by,
        "files": plan.files,
        "bytes": plan.bytes,
    }


def _pin(history: Any, args: argparse.Namespace) -> int:
    from slipstream.history import retention

    run = history.run(args.flow, args.run_id)
    retention.pin(history.store, run, args.note, datetime.now(UTC))
    print(f"pinned run {run.run_id} of {run.flow}: gc keeps its payloads")
    return 0


def _unpin(history: Any, args: argparse.Namespace) -> int:
    from slipstream.history import retention

    run = history.run(args.flow, args.run_id)
    if retention.unpin(history.store, run):
        print(f"unpinned run {run.run_id} of {run.flow}")
    else:
        print(f"run {run.run_id} of {run.flow} was not pinned")
    return 0


def _delete(history: Any, args: argparse.Namespace) -> int:
    from slipstream.cli.exit_codes import ExitCode
    from slipstream.history import retention

    run = history.run(args.flow, args.run_id)
    try:
        planned = retention.deletion(history.store, run)
    except retention.Refused as exc:
        print(f"slipstream: {exc}", file=sys.stderr)
        return ExitCode.REFUSED
    what = f"run {run.run_id} of {run.flow} ({len(planned.paths)} files, {planned.bytes:,} bytes)"
    if not args.yes:
        if not sys.stdin.isatty():
            print(f"slipstream: deleting {what} needs --yes (no terminal to ask)", file=sys.stderr)
            return ExitCode.REFUSED
        if input(f"delete {what}, records too? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return ExitCode.REFUSED
    retention.delete(history.store, planned)
    print(f"deleted {what}")
    return ExitCode.OK
