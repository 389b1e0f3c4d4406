"""The `slipstream` command.

    slipstream task --flow F --version V --op O --run-id R [--try-number N] ...
    slipstream flows | runs FLOW | show FLOW RUN [OP] | logs FLOW RUN OP | diff FLOW A B
    slipstream replay FLOW RUN OP [--pdb] [--stored-code] [-o DIR]
    slipstream publish FLOW_FILE --into DAGS_FOLDER [--store URL] [--flow NAME]
    slipstream ui [--host H] [--port P] [--token T] [--airflow URL]
    slipstream sync --airflow URL [--interval N]
    slipstream gc FLOW|--all-flows [--keep-last N] [--older-than DAYS] [--dry-run]
    slipstream pin FLOW RUN [--note TEXT] | unpin FLOW RUN
    slipstream cache explain FLOW OP [--run RUN]
    slipstream doctor [--json]

`task` runs one attempt of one op of a published flow version, exactly as an Airflow task
does; it is the command of the Kubernetes pods that `flow.to_airflow(mode="kubernetes")`
writes. Every command's exit codes are in one table: `slipstream.cli.exit_codes`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from slipstream.cli.exit_codes import ExitCode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="slipstream", description="slipstream: data-aware Airflow"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    task = commands.add_parser(
        "task",
        help="run one attempt of one op of a published flow version",
        description="Runs one attempt of one op of a published flow version, as an Airflow "
        "task does: inputs from the store, outputs and the try record to it.",
    )
    task.add_argument("--store", default=os.environ.get("SLIPSTREAM_STORE"),
                      help="store URL (default: $SLIPSTREAM_STORE)")  # fmt: skip
    task.add_argument("--flow", required=True)
    task.add_argument("--version", required=True, help="published version id")
    task.add_argument("--op", required=True, help="op name (the Airflow task id)")
    task.add_argument("--run-id", required=True, help="Airflow's run id")
    task.add_argument("--try-number", type=int, default=1)
    task.add_argument("--max-tries", type=int, default=0, help="Airflow's max_tries (retries)")
    task.add_argument("--prefix", help="the op prefix the DAG file expects (checked)")
    task.add_argument("--conf", default="{}", help="the run's conf as JSON (overrides params)")
    task.add_argument("--param-json", action="append", default=[], metavar="NAME=JSON",
                      help="a flow group's param (repeatable)")  # fmt: skip
    task.add_argument("--param-xcom", action="append", default=[], metavar="NAME=JSON",
                      help="a flow group's param from an XCom, which must not be null")  # fmt: skip
    task.add_argument("--airflow-context", metavar="JSON",
                      help="what ss.context() answers: logical_date, data_interval_start, "
                      "data_interval_end, partition_key, dag_id, task_id (JSON)")  # fmt: skip
    task.add_argument("--group-params", action="store_true",
                      help="params from --param-json only, not the conf")  # fmt: skip
    from slipstream.cli import cache as _cli_cache
    from slipstream.cli import doctor as _cli_doctor
    from slipstream.cli import history as _cli_history
    from slipstream.cli import lifecycle as _cli_lifecycle
    from slipstream.cli import publish as _cli_publish
    from slipstream.cli import replay as _cli_replay
    from slipstream.cli import serve as _cli_serve

    _cli_history.add_commands(commands, _store_option)
    _cli_cache.add_command(commands, _store_option)
    _cli_doctor.add_command(commands, _store_option)
    _cli_lifecycle.add_commands(commands, _store_option)
    _cli_publish.add_command(commands, _store_option)
    _cli_replay.add_command(commands, _store_option)
    _cli_serve.add_commands(commands, _store_option)
    args = parser.parse_args(argv)
    if args.command == "task":
        return _task(parser, args)
    if args.command in ("ui", "sync", "publish"):
        return int(args.handler(args))
    return _cli_history.run(args)


def _group_params(plain: list[str], pulled: list[str]) -> dict[str, Any]:
    """A flow group's params from `--param-json NAME=JSON` and `--param-xcom NAME=JSON` (an
    XCom the task has none of renders as null: an error, as in python mode)."""
    from slipstream.errors import ParamError

    given: dict[str, Any] = {}
    for item, xcom in [(i, False) for i in plain] + [(i, True) for i in pulled]:
        name, sep, value = item.partition("=")
        if not sep:
            raise ParamError(f"a param is NAME=JSON, not {item!r}")
        try:
            given[name] = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ParamError(f"param {name!r} is not JSON ({exc}): {value[:80]!r}") from None
        if xcom and given[name] is None:
            raise ParamError(
                f"param {name!r} takes an XCom this DAG run has none of: did its task return "
                "a value (or push that key)?"
            )
    return given


def _airflow_context(args: argparse.Namespace, conf: dict[str, Any]) -> Any:
    """What `ss.context()` answers in a pod: the run `--airflow-context` describes."""
    from datetime import datetime

    from slipstream.errors import SlipstreamError
    from slipstream.runtime.context import RunContext

    if not args.airflow_context:
        return None
    try:
        found = json.loads(args.airflow_context)
        dates = {k: datetime.fromisoformat(found[k]) if found.get(k) else None
                 for k in ("logical_date", "data_interval_start", "data_interval_end")}  # fmt: skip
    except (ValueError, TypeError, KeyError) as exc:
        raise SlipstreamError(f"--airflow-context is not what Airflow renders: {exc}") from None
    return RunContext(
        run_id=args.run_id, try_number=args.try_number, conf=conf, in_airflow=True,
        partition_key=found.get("partition_key"), dag_id=found.get("dag_id"),
        task_id=found.get("task_id"), **dates,
    )  # fmt: skip


def _store_option(parser: argparse.ArgumentParser) -> None:
    from slipstream.history.reader import default_store

    parser.add_argument(
        "--store", default=default_store(),
        help="store URL (default: $SLIPSTREAM_STORE, else ~/.slipstream/store)",
    )  # fmt: skip


def _task(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from slipstream.airflow import OpFailed, caching, run_task
    from slipstream.errors import CheckFailed, SlipstreamError

    if not args.store:
        parser.error("no store: pass --store or set SLIPSTREAM_STORE")
    try:
        conf: Any = json.loads(args.conf or "{}")
    except json.JSONDecodeError as exc:
        parser.error(f"--conf is not JSON: {exc}")
    if not isinstance(conf, dict):
        parser.error("--conf must be a JSON object")
    try:
        given = _group_params(args.param_json, args.param_xcom)
        context = _airflow_context(args, conf)
        summary = run_task(
            args.store, args.flow, args.version, args.op, run_id=args.run_id,
            try_number=args.try_number, params=given if args.group_params else conf,
            params_given=args.group_params, max_tries=args.max_tries, prefix=args.prefix,
            cache=caching(conf), context=context,
        )  # fmt: skip
    except (OpFailed, CheckFailed) as exc:
        print(f"slipstream: {exc}", file=sys.stderr)
        return ExitCode.OP_FAILED
    except SlipstreamError as exc:
        print(f"slipstream: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except Exception as exc:  # AirflowFailException: a failed check, or a try never to retry
        if isinstance(exc.__cause__, CheckFailed | OpFailed):
            print(f"slipstream: {exc}", file=sys.stderr)
            return ExitCode.OP_FAILED
        raise
    print(json.dumps(summary))
    return ExitCode.OK
