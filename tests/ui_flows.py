"""A flow for the web UI tests: every preview kind, a failing op, a metric and checks, and a
column whose name and values are HTML that must be shown as text."""

from __future__ import annotations

import pandas as pd
import slipstream as ss

from tests import sample_flows as s

HOSTILE = "<script>alert(1)</script>"


@ss.op
def hostile(frame: pd.DataFrame) -> pd.DataFrame:
    print(f"<b>not bold</b> from {len(frame)} rows")
    return pd.DataFrame({HOSTILE: ["<img src=x onerror=alert(2)>", "fine"], "n": [1, 2]})


def build() -> ss.Flow:
    rows = s.customers(50)
    matrix, picture = s.render(rows, ss.param("scale", default=2.0))
    stats = s.as_pandas(s.summary(s.to_polars(rows)))
    described = s.describe(matrix, picture, stats)
    failed = s.after_explode(s.explode(rows))
    s.mean_spend(rows)
    s.ids_unique(rows)
    s.spend_positive(rows)
    return ss.Flow(
        "ui", outputs=[described, failed, hostile(rows)], description="what the UI shows"
    )
