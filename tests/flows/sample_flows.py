"""Ops of an importable module, used by the flow tests: a multi-branch flow in which frames
of the three libraries, an image, a numpy array and a dict flow between ops."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import slipstream as ss
from PIL import Image


@ss.op
def customers(rows: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "tenure": rng.integers(1, 60, rows),
            "spend": rng.normal(80, 20, rows).round(2),
            "plan": pd.Categorical(rng.choice(["basic", "pro"], rows)),
        }
    )


@ss.op
def to_polars(frame: pd.DataFrame) -> pl.DataFrame:
    return pl.from_pandas(frame)


@ss.op
def summary(frame: pl.DataFrame) -> pa.Table:
    out = frame.group_by("plan").agg(pl.col("spend").mean().alias("mean_spend")).sort("plan")
    return out.to_arrow()


@ss.op
def as_pandas(table: pd.DataFrame) -> dict[str, Any]:
    """Receives a pyarrow table, converted by its type hint."""
    return {"type": type(table).__name__, "plans": tuple(table["plan"].astype(str))}


@ss.op(outputs=("matrix", "picture"))
def render(frame: pd.DataFrame, scale: float) -> tuple[np.ndarray, Image.Image]:
    matrix = frame[["tenure", "spend"]].to_numpy(dtype="float64") * scale
    picture = Image.fromarray((np.arange(64, dtype=np.uint8).reshape(8, 8) * 4), mode="L")
    return matrix, picture


@ss.op
def describe(matrix: np.ndarray, picture: Image.Image, stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "shape": matrix.shape,
        "dtype": str(matrix.dtype),
        "mode": picture.mode,
        "size": picture.size,
        "stats_type": stats["type"],
    }


@ss.op
def explode(frame: pd.DataFrame) -> int:
    print("about to fail on", len(frame), "rows")
    raise ValueError("spend column has gone missing")


@ss.op
def after_explode(value: int) -> int:
    return value + 1


@ss.metric
def mean_spend(frame: pd.DataFrame) -> float:
    return float(frame["spend"].mean())


@ss.check
def ids_unique(frame: pd.DataFrame) -> bool:
    return bool(frame["id"].is_unique)


@ss.check(severity="warning")
def spend_positive(frame: pd.DataFrame) -> pd.Series:
    return frame["spend"] > 100  # fails on purpose: most customers spend less


def build(*, with_failure: bool = False) -> ss.Flow:
    scale = ss.param("scale", default=2.0)
    rows = customers(50)
    polars_rows = to_polars(rows)
    table = summary(polars_rows)
    stats = as_pandas(table)
    matrix, picture = render(rows, scale)
    result = describe(matrix, picture, stats)
    outputs = [result]
    if with_failure:
        outputs.append(after_explode(explode(rows)))
    mean_spend(rows)
    ids_unique(rows)
    spend_positive(rows)
    return ss.Flow("sample", outputs=outputs, description="every type between ops")


@ss.metric
def undefined_mean(frame: pd.DataFrame) -> float:
    return float(frame["spend"].iloc[:0].mean())  # the mean of no rows: nan


def nan_metric_flow() -> ss.Flow:
    rows = customers(5)
    undefined_mean(rows)
    return ss.Flow("nan_metric", outputs=[rows])
