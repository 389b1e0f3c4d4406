"""The serving commands of `slipstream`: `ui` serves the web UI over a store, `sync` copies
run states from Airflow's REST API into the store.

Exit codes: 0 done (or stopped with Ctrl-C / SIGTERM), 2 bad command line (including a
host beyond loopback without a token), 4 the store cannot be opened or the port cannot be
bound, 5 Airflow cannot be reached (or answers what sync cannot use), 6 Airflow refused
the credentials.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any


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
    parser.add_argument("--airflow", required=required,
                        help="Airflow's base URL, e.g. http://127.0.0.1:8080")  # fmt: skip
    parser.add_argument("--username", default=env("SLIPSTREAM_AIRFLOW_USERNAME"),
                        help="Airflow user ($SLIPSTREAM_AIRFLOW_USERNAME)")  # fmt: skip
    parser.add_argument("--password", default=env("SLIPSTREAM_AIRFLOW_PASSWORD"),
                        help="its password ($SLIPSTREAM_AIRFLOW_PASSWORD)")  # fmt: skip
    parser.add_argument("--airflow-token", default=env("SLIPSTREAM_AIRFLOW_TOKEN"),
                        help="an Airflow 3 JWT ($SLIPSTREAM_AIRFLOW_TOKEN)")  # fmt: skip
    parser.add_argument("--api", choices=("auto", "v1", "v2"), default="auto",
                        help="v2 (Airflow 3), v1 (Airflow 2), auto (default)")  # fmt: skip


def _client(args: argparse.Namespace) -> Any:
    from slipstream._sync import AirflowClient

    return AirflowClient(args.airflow, username=args.username, password=args.password,
                         token=args.airflow_token, api=args.api)  # fmt: skip


def _sync(args: argparse.Namespace) -> int:
    from slipstream import _sync
    from slipstream._native import Store
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
        return 0
    except _sync.AirflowRefused as exc:
        print(f"slipstream sync: {exc}", file=sys.stderr)
        return 6
    except _sync.AirflowError as exc:
        print(f"slipstream sync: {exc}", file=sys.stderr)
        return 5
    except SlipstreamError as exc:
        print(f"slipstream sync: {exc}", file=sys.stderr)
        return 4
    return 0


def _ui(args: argparse.Namespace) -> int:
    from slipstream._native import Store, UiServer
    from slipstream.errors import SlipstreamError

    try:
        store = Store(args.store)
        server = UiServer(store, args.host, args.port, args.token, args.airflow)
    except ValueError as exc:
        print(f"slipstream ui: {exc}", file=sys.stderr)
        return 2
    except (OSError, SlipstreamError) as exc:
        print(f"slipstream ui: {exc}", file=sys.stderr)
        return 4
    print(f"slipstream ui: serving {store.url} at {server.url}", flush=True)
    if args.airflow and (args.username or args.airflow_token):
        from slipstream import _sync

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
    return 0
