"""Quickstart: the canonical ML pipeline as a slipstream flow, run here on the embedded
store: extract customers from a warehouse, featurize, train, predict, a metric and two
checks, publish the predictions back to the warehouse.

    python examples/quickstart.py                        # or: make demo
    python examples/quickstart.py --to-airflow DAGS_DIR  # write the Airflow DAG file

The warehouse is an embedded SQLite file that this script seeds; point
$SLIPSTREAM_WAREHOUSE at `postgresql://user@host/db` to use a server instead.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import slipstream as ss

WAREHOUSE = os.environ.get("SLIPSTREAM_WAREHOUSE") or (
    f"sqlite:///{Path.home() / '.slipstream' / 'warehouse.db'}"
)


@ss.op
def featurize(df: pd.DataFrame) -> np.ndarray:
    return np.column_stack([np.ones(len(df)), df["tenure"] / 72, df["spend"] / 100])


@ss.op
def train(x: np.ndarray, df: pd.DataFrame) -> np.ndarray:
    return np.linalg.lstsq(x, df["churned"].to_numpy(float), rcond=None)[0]


@ss.op
def predict(x: np.ndarray, weights: np.ndarray, df: pd.DataFrame, cut: float) -> pd.DataFrame:
    return df.assign(score=x @ weights, predicted=x @ weights > cut)


@ss.metric
def accuracy(preds: pd.DataFrame) -> float:
    return float((preds["predicted"] == preds["churned"].astype(bool)).mean())


@ss.check
def features_finite(x: np.ndarray) -> np.ndarray:
    return np.isfinite(x)


@ss.check(severity="warning")
def churn_rate_plausible(preds: pd.DataFrame) -> bool:
    return bool(0.02 < preds["predicted"].mean() < 0.5)


customers = ss.sql(
    WAREHOUSE, "SELECT id, tenure, spend, churned FROM customers WHERE region = ?",
    name="customers", params=[ss.param("region", default="emea")], flavor="pandas",
)  # fmt: skip
x = featurize(customers)
features_finite(x)
preds = predict(x, train(x, customers), customers, ss.param("cut", default=0.3))
accuracy(preds)
churn_rate_plausible(preds)
published = ss.save(preds, WAREHOUSE, table="churn_predictions", mode="replace")
flow = ss.Flow("churn", outputs=[published], schedule="@daily", description="Who will churn?")


def seed_warehouse(uri: str, rows: int = 5_000) -> None:
    """Creates the `customers` table the flow extracts from."""
    import adbc_driver_sqlite.dbapi as sqlite
    import pyarrow as pa

    path = Path(uri.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    tenure = rng.integers(1, 72, rows)
    churned = rng.random(rows) < 1 / (1 + np.exp((tenure - 12) / 6))
    table = pa.table({
        "id": np.arange(rows), "region": rng.choice(["emea", "amer", "apac"], rows),
        "tenure": tenure, "spend": rng.normal(70, 30, rows).round(2), "churned": churned,
    })  # fmt: skip
    with sqlite.connect(str(path)) as conn, conn.cursor() as cursor:
        cursor.adbc_ingest("customers", table, mode="replace")
        conn.commit()


if __name__ == "__main__":
    import sys

    if WAREHOUSE.startswith("sqlite:///"):
        seed_warehouse(WAREHOUSE)
    store = ss.default_store()
    if sys.argv[1:2] == ["--to-airflow"]:  # compile for Airflow instead of running here
        print(flow.to_airflow(sys.argv[2], store=store))
        sys.exit(0)
    run = flow.run(store, params={"cut": 0.25})
    print(f"run {run.run_id} of churn@{run.version.id}: {run.status}")
    for name, op in run.ops.items():
        print(f"  {name:22} {op.status}")
    print("metrics:", run.metrics)
    print("checks: ", {name: c.passed for name, c in run.checks.items()})
    print("published:", run[published])
    print(run[preds].head(3))

    history = ss.open(store)
    print(
        f"\n{store}: flows {history.flows()}, "
        f"{len(history.versions('churn'))} version(s), {len(history.runs('churn'))} run(s)"
    )
