"""Ops of an importable module for the runner tests: an op that looks at its own run while
it runs, and a short chain with a metric."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import slipstream as ss
from slipstream._native import flow_run_path


@ss.op
def peek() -> str:
    """What the run's records say while this op runs: its own status, the run's status, and
    the raw header (`PEEK_STORE` and `PEEK_RUN` name them)."""
    store, run_id = os.environ["PEEK_STORE"], os.environ["PEEK_RUN"]
    run = ss.open(store).run("peeking", run_id)
    header = json.loads(ss.Store(store).get_object(flow_run_path("peeking", run_id)))
    return json.dumps({"op": run.ops["peek"].status, "run": run.status, "header": header})


@ss.op
def after_peek(seen: str) -> int:
    return len(seen)


def peeking() -> ss.Flow:
    return ss.Flow("peeking", outputs=[after_peek(peek())])


@ss.op
def start() -> list[int]:
    return [1, 2, 3]


@ss.op
def maybe_fail(values: list[int]) -> list[int]:
    if os.environ.get("CHAIN_FAILS"):
        raise ValueError("told to fail")
    return [v * 10 for v in values]


@ss.metric
def total(values: list[int]) -> int:
    return sum(values)


def chain() -> ss.Flow:
    return ss.Flow("chain", outputs=[total(maybe_fail(start()))])


@ss.op
def hang() -> int:
    """Says it started (`HANG_MARK` names the file), then waits to be killed."""
    Path(os.environ["HANG_MARK"]).write_text("started")
    time.sleep(120)
    return 1


def hanging() -> ss.Flow:
    return ss.Flow("hanging", outputs=[hang()])


@ss.op(retries=2)
def interrupted() -> int:
    raise KeyboardInterrupt


def stopping() -> ss.Flow:
    return ss.Flow("stopping", outputs=[interrupted()])


@ss.check
def all_positive(values: list[int]) -> bool:
    return all(v > 0 for v in values) and not os.environ.get("CHECK_FAILS")


def checked() -> ss.Flow:
    values = start()
    return ss.Flow("checked", outputs=[total(values), all_positive(values)])
