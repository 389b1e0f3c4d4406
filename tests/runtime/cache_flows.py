"""Flows for the caching tests: every op counts its calls, so a test can tell which ran."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import slipstream as ss

CALLS: Counter[str] = Counter()


@ss.op
def source(n: int) -> pd.DataFrame:
    CALLS["source"] += 1
    return pd.DataFrame({"x": range(n)})


@ss.op(cache=False)
def uncached_source(n: int) -> pd.DataFrame:
    CALLS["uncached_source"] += 1
    return pd.DataFrame({"x": range(n)})


@ss.op
def double(frame: pd.DataFrame) -> pd.DataFrame:
    CALLS["double"] += 1
    return frame.assign(x=frame["x"] * 2)


@ss.metric
def total(frame: pd.DataFrame) -> int:
    CALLS["total"] += 1
    return int(frame["x"].sum())


def chain(*, uncached: bool = False, cache: bool = True) -> ss.Flow:
    """source(n) -> double, with a metric on double's output."""
    rows = (uncached_source if uncached else source)(ss.param("n", default=3))
    doubled = double(rows)
    total(doubled)
    return ss.Flow("cached", outputs=[doubled], cache=cache)


def twins() -> ss.Flow:
    """Two ops of one function on one input: each reuses only its own outputs."""
    rows = source(3)
    return ss.Flow("twins", outputs=[double(rows), double.named("again")(rows)])
