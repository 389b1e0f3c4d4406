"""The long-running commands of `slipstream`: `ui` serves the web UI over a store.

Exit codes: 0 stopped with Ctrl-C or SIGTERM, 2 bad command line (including a host beyond
loopback without a token), 4 the store cannot be opened or the port cannot be bound.
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
    ui.add_argument("--airflow", help="Airflow's base URL, for links to its runs")
    ui.set_defaults(handler=_ui)


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
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0
