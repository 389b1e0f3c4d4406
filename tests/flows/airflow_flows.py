"""Flows for the Airflow tests, in an importable module as a team's flows would be: Airflow's
task processes import them by module path (the tests put the repository on PYTHONPATH)."""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import slipstream as ss

from tests.flows.airflow2_flows import flaky  # needs no pandas: Airflow 2's tasks run it too


@ss.op
def source(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(rows), "value": np.linspace(0, 1, rows)})


@ss.op
def scaled(frame: pd.DataFrame, scale: float) -> pd.DataFrame:
    return frame.assign(value=frame["value"] * scale)


@ss.op
def explode(frame: pd.DataFrame) -> int:
    print(f"exploding on {len(frame)} rows")
    raise ValueError("the value column is not what it was")


@ss.op
def after_explode(count: int) -> int:
    return count + 1


@ss.op
def numbers() -> list[int]:
    return [3, 1, 2]


@ss.op
def consume(values: list[int]) -> int:
    return sum(values)


@ss.check
def has_rows(frame: pd.DataFrame) -> bool:
    return len(frame) > 0


@ss.check
def sorted_numbers(values: list[int]) -> bool:
    return values == sorted(values)


@ss.check(severity="warning")
def all_small(frame: pd.DataFrame) -> pd.Series:
    return frame["value"] < 0.5


@ss.metric
def total_value(frame: pd.DataFrame) -> float:
    return float(frame["value"].sum())


def semantics(marker_dir: str | None = None) -> ss.Flow:
    """Failures, error and warning checks, a metric, a param (and a flaky op)."""
    rows = source(20)
    has_rows(rows)
    all_small(rows)
    total_value(rows)
    values = numbers()
    sorted_numbers(values)
    outputs = [
        scaled(rows, ss.param("scale", default=2.0)),
        after_explode(explode(rows)),
        consume(values),
    ]
    if marker_dir is not None:
        outputs.append(flaky(marker_dir))
    return ss.Flow("semantics", outputs=outputs, description="how failures look")


@ss.op
def grow(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame, frame])


def evolving(version: int) -> ss.Flow:
    """Version 1: source → scaled. Version 2 adds an op."""
    out = scaled(source(5), 1.0)
    if version == 2:
        out = grow(out)
    return ss.Flow("evolving", outputs=[out])


@ss.op
def wait_for(marker_dir: str, name: str) -> str:
    """Holds its task running until `<marker_dir>/<name>` exists (at most two minutes)."""
    path = os.path.join(marker_dir, name)
    deadline = time.monotonic() + 120
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.2)
    return name


def gated(marker_dir: str) -> ss.Flow:
    """One op that runs until a file named by the `gate` param appears."""
    return ss.Flow("gated", outputs=[wait_for(marker_dir, ss.param("gate", default="open"))])


@ss.op
def make() -> list[int]:
    return [1, 2, 3]


@ss.op
def use_broken(values: list[int]) -> int:
    raise ValueError(f"cannot use {len(values)} values yet")


@ss.op
def use_fixed(values: list[int]) -> int:
    return sum(values) * 10


@ss.op(outputs=("evens", "odds"))
def make_split() -> tuple[list[int], list[int]]:
    return [2], [1, 3]


def fixable(fixed: bool) -> ss.Flow:
    """`make -> use`, where `use` fails until it is fixed: the fix-and-clear loop."""
    use = (use_fixed if fixed else use_broken).named("use")
    return ss.Flow("fixable", outputs=[use(make())])


def retained() -> ss.Flow:
    """`make`, keeping the outputs of its newest run only."""
    return ss.Flow("retained", outputs=[make()], retention=ss.Retention(keep_last=1))


def renamed() -> ss.Flow:
    """`fixable` after `make` was changed to have other outputs than `out`."""
    return ss.Flow("fixable", outputs=[use_fixed.named("use")(make_split.named("make")()[0])])


@ss.op
def halve(total: int) -> float:
    return total / 2


def grown() -> ss.Flow:
    """`fixable` fixed, with an op `halve` added after `use`."""
    return ss.Flow("fixable", outputs=[halve(use_fixed.named("use")(make()))])


@ss.op
def echo(value: float, ceiling: float) -> float:
    return min(value, ceiling)


def hostile() -> ss.Flow:
    """A flow whose description and params a DAG file must quote with care."""
    description = 'Reads r"C:\\Users\\data" and \\N{BULLET}, """quoted""" and ends in \\'
    return ss.Flow("hostile", outputs=[echo(ss.param("value", default=float("nan")),
                                            ss.param("ceiling", default=float("inf")))],
                   description=description)  # fmt: skip
