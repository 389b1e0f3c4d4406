"""Flows of the first-hour tests: an op calling another, dicts of frames, typed params and a
warning check."""

from __future__ import annotations

import pandas as pd
import slipstream as ss


@ss.op
def start() -> int:
    return 3


@ss.op
def double(x: int) -> int:
    return x * 2


@ss.op
def quadruple(x: int) -> int:
    return double(double(x))  # another op, called as a plain function


def calling() -> ss.Flow:
    return ss.Flow("calling", outputs=[quadruple(start())])


def _frames() -> dict[str, pd.DataFrame]:
    frame = pd.DataFrame({"a": [1, 2, 3]})
    return {"train": frame.iloc[:2], "test": frame.iloc[2:]}


@ss.op
def frames() -> dict[str, pd.DataFrame]:
    return _frames()


@ss.op(outputs=("train", "test"))
def split() -> dict[str, pd.DataFrame]:
    return _frames()


def unsplit() -> ss.Flow:
    return ss.Flow("unsplit", outputs=[frames()])


def splitting() -> ss.Flow:
    return ss.Flow("splitting", outputs=[*split()])


@ss.op
def settings(min_quantity: int, ratio: float, strict: bool, label: str) -> dict[str, str]:
    return {k: type(v).__name__ for k, v in locals().items()}


def typed() -> ss.Flow:
    return ss.Flow("typed", outputs=[settings(
        ss.param("min_quantity", default=1), ss.param("ratio", default=0.5),
        ss.param("strict", default=False), ss.param("label", default="x"),
    )])  # fmt: skip


@ss.check(severity="warning")
def never(x: int) -> bool:
    return x < 0


def warned() -> ss.Flow:
    value = start()
    never(value)
    return ss.Flow("warned", outputs=[value])
