"""Quickstart: a small churn model as a slipstream flow, run here on the embedded store.

python examples/quickstart.py            # or: make demo
"""

import numpy as np
import pandas as pd
import slipstream as ss


@ss.op
def customers(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    tenure = rng.integers(1, 72, rows)
    churned = rng.random(rows) < 1 / (1 + np.exp((tenure - 12) / 6))
    return pd.DataFrame({"tenure": tenure, "spend": rng.normal(70, 30, rows), "churned": churned})


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
    return float((preds["predicted"] == preds["churned"]).mean())


@ss.check
def features_finite(x: np.ndarray) -> np.ndarray:
    return np.isfinite(x)


@ss.check(severity="warning")
def churn_rate_plausible(preds: pd.DataFrame) -> bool:
    return bool(0.02 < preds["predicted"].mean() < 0.5)


df = customers(5_000)
x = featurize(df)
features_finite(x)
preds = predict(x, train(x, df), df, ss.param("cut", default=0.3))
accuracy(preds)
churn_rate_plausible(preds)
flow = ss.Flow("churn", outputs=[preds], schedule="@daily", description="Who will churn?")


if __name__ == "__main__":
    store = ss.default_store()
    run = flow.run(store, params={"cut": 0.25})
    print(f"run {run.run_id} of churn@{run.version.id}: {run.status}")
    for name, op in run.ops.items():
        print(f"  {name:22} {op.status}")
    print("metrics:", run.metrics)
    print("checks: ", {name: c["passed"] for name, c in run.checks.items()})
    print(run[preds].head(3))

    history = ss.open(store)
    print(
        f"\n{store}: flows {history.flows()}, "
        f"{len(history.versions('churn'))} version(s), {len(history.runs('churn'))} run(s)"
    )
