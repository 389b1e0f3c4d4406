"""The serving commands of `slipstream`: `ui` serves the web UI over a store, `sync` copies
run states from Airflow's REST API into the store.

Exit codes: `slipstream.cli.exit_codes` (a host beyond loopback without a token is a bad
command line; a port that cannot be bound is reported like a store that cannot be opened).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

from slipstream.cli.exit_codes import ExitCode


def add_commands(commands: Any, store_option: Callable[[argparse.ArgumentParser], None]) -> None:
    ui = commands.add_parser(
        "ui",
        help="serve the web UI over a store",
        description="Serves the web UI over a store: flows, runs, and every op's code, logs, "
        "stack traces, output previews, metric history and checks. It reads only the store.",
    )
    store_option(ui)
    ui.add_argument("--host", default="127.0.0.1",
                    help="address to bind (default 127.0.0.1; others need --token)")  # fmt: skip
    ui.add_argument("--port", type=int, default=8040, help="port (default 8040; 0: any free)")
    ui.add_argument("--token", default=os.environ.get("SLIPSTREAM_UI_TOKEN"),
                    help="token all requests must carry ($SLIPSTREAM_UI_TOKEN)")  # fmt: skip
    ui.add_argument("--interval", type=float, default=30.0,
                    help="with --airflow: seconds between syncs (default 30)")  # fmt: skip
    ui.add_argument("--frame-ancestors", nargs="+", metavar="ORIGIN",
                    default=os.environ.get("SLIPSTREAM_UI_FRAME_ANCESTORS", "").split() or None,
                    help="the origins that may show the UI in a frame, e.g. Airflow's for its "
                    "slipstream tabs; replaces the default, --airflow's origin (none without "
                    "--airflow; 'none': no framing at all; $SLIPSTREAM_UI_FRAME_ANCESTORS, "
                    "space-separated)")  # fmt: skip
    _airflow_options(ui, required=False)
    ui.set_defaults(handler=_ui)

    sync = commands.add_parser(
        "sync",
        help="copy run and task states from Airflow's REST API into the store",
        description="Reads the runs and task instances (with every try) of the DAGs tagged "
        "slipstream from Airflow 3 (/api/v2) or 2 (/api/v1) and writes them into the store's "
        "run index. Writing only what changed, it can run as often as wanted.",
    )
    store_option(sync)
    _airflow_options(sync, required=True)
    sync.add_argument("--interval", type=float,
                      help="sync every N seconds until stopped (default: once)")  # fmt: skip
    sync.set_defaults(handler=_sync)


def _airflow_options(parser: argparse.ArgumentParser, required: bool) -> None:
    env = os.environ.get
    url = env("SLIPSTREAM_AIRFLOW_URL")
    parser.add_argument("--airflow", required=required and not url, default=url,
                        help="Airflow's base URL, e.g. http://127.0.0.1:8080 "
                        "($SLIPSTREAM_AIRFLOW_URL)")  # fmt: skip
    parser.add_argument("--username", default=env("SLIPSTREAM_AIRFLOW_USERNAME"),
                        help="Airflow user ($SLIPSTREAM_AIRFLOW_USERNAME)")  # fmt: skip
    parser.add_argument("--password", default=env("SLIPSTREAM_AIRFLOW_PASSWORD"),
                        help="its password ($SLIPSTREAM_AIRFLOW_PASSWORD)")  # fmt: skip
    parser.add_argument("--airflow-token", default=env("SLIPSTREAM_AIRFLOW_TOKEN"),
                        help="an Airflow 3 JWT ($SLIPSTREAM_AIRFLOW_TOKEN)")  # fmt: skip
    parser.add_argument("--api", choices=("auto", "v1", "v2"), default="auto",
                        help="v2 (Airflow 3), v1 (Airflow 2), auto (default)")  # fmt: skip


def _client(args: argparse.Namespace) -> Any:
    from slipstream.airflow.sync import AirflowClient

    return AirflowClient(args.airflow, username=args.username, password=args.password,
                         token=args.airflow_token, api=args.api)  # fmt: skip


def _sync(args: argparse.Namespace) -> int:
    from slipstream._native import Store
    from slipstream.airflow import sync as _sync
    from slipstream.errors import SlipstreamError

    try:
        store = Store(args.store)
        if args.interval:
            _sync.sync_forever(lambda: _client(args), store, args.interval)
        client = _client(args)
        try:
            _sync.report(_sync.sync_once(client, store))
        finally:
            client.close()
    except KeyboardInterrupt:
        return ExitCode.OK
    except _sync.AirflowRefused as exc:
        print(f"slipstream sync: {exc}", file=sys.stderr)
        return ExitCode.AIRFLOW_REFUSED
    except _sync.AirflowError as exc:
        print(f"slipstream sync: {exc}", file=sys.stderr)
        return ExitCode.AIRFLOW_UNREACHABLE
    except SlipstreamError as exc:
        print(f"slipstream sync: {exc}", file=sys.stderr)
        return ExitCode.STORE_ERROR
    return ExitCode.OK


def _frame_ancestors(args: argparse.Namespace) -> list[str]:
    """The origins that may frame the UI: as given, else Airflow's (its slipstream tabs)."""
    if args.frame_ancestors is not None:
        return [] if args.frame_ancestors == ["none"] else list(args.frame_ancestors)
    if not args.airflow:
        return []
    parts = urllib.parse.urlsplit(args.airflow)
    if not parts.scheme or not parts.hostname:
        return []
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return [f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")]


def _ui(args: argparse.Namespace) -> int:
    from slipstream._native import Store, UiServer
    from slipstream.errors import SlipstreamError

    try:
        store = Store(args.store)
        server = UiServer(store, args.host, args.port, args.token, args.airflow,
                          _frame_ancestors(args))  # fmt: skip
    except ValueError as exc:
        print(f"slipstream ui: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except (OSError, SlipstreamError) as exc:
        print(f"slipstream ui: {exc}", file=sys.stderr)
        return ExitCode.STORE_ERROR
    print(f"slipstream ui: serving {store.url} at {server.url}", flush=True)
    if args.airflow and (args.username or args.airflow_token):
        from slipstream.airflow import sync as _sync

        threading.Thread(
            target=_sync.sync_forever, args=(lambda: _client(args), store, args.interval),
            name="slipstream-sync", daemon=True,
        ).start()  # fmt: skip
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    server.stop()
    return ExitCode.OK
