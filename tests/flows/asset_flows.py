"""Two flows, the second built on the first's data: `report` is scheduled on the Asset of
`churn`'s `predict` output and reads it through `ss.upstream`
(tests/airflow/test_airflow_assets.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import slipstream as ss


@ss.op
def customers(rows: int) -> pd.DataFrame:
    """Customers with how long they have been with us."""
    if rows < 0:
        raise ValueError(f"rows must be 0 or more, not {rows}")
    return pd.DataFrame({"id": np.arange(rows), "months": np.arange(rows) % 24})


@ss.op
def predict(frame: pd.DataFrame) -> pd.DataFrame:
    """The churn risk of every customer: newer ones leave more often."""
    return frame.assign(risk=1.0 / (1.0 + frame["months"]))


@ss.op
def summarize(predictions: pd.DataFrame) -> dict[str, float]:
    """How many customers the report covers and how many are at risk."""
    return {"rows": float(len(predictions)), "at_risk": float((predictions["risk"] > 0.2).sum())}


def churn() -> ss.Flow:
    return ss.Flow("churn", outputs=[predict(customers(ss.param("rows", 40)))])


def report(upstream: ss.Flow | None = None) -> ss.Flow:
    source = upstream or churn()
    return ss.Flow(
        "report",
        outputs=[summarize(ss.upstream(source, "predict"))],
        schedule=[source.asset("predict")],
        description="The weekly churn report, built on every new churn prediction.",
    )
