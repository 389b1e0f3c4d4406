"""The README's quickstart runs as `make demo` runs it, and leaves a readable run behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import slipstream as ss

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_runs_and_records_its_run(tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    warehouse = f"sqlite:///{tmp_path / 'warehouse.db'}"
    env = dict(os.environ, SLIPSTREAM_STORE=store, SLIPSTREAM_WAREHOUSE=warehouse)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert ": success" in proc.stdout
    (run,) = ss.open(store).runs("churn")
    assert run.status == "success" and run.params == {"region": "emea", "cut": 0.25}
    assert set(run.checks) == {"features_finite", "churn_rate_plausible"}
    assert 0.5 < run.metrics["accuracy"] <= 1.0
    preds = run["predict"]
    assert list(preds.columns) == ["id", "tenure", "spend", "churned", "score", "predicted"]
    assert run.version.spec.schedule == "@daily"
    assert run["save_churn_predictions"]["rows"] == len(preds) > 0
    # the predictions are in the warehouse
    import adbc_driver_sqlite.dbapi as sqlite

    with sqlite.connect(str(tmp_path / "warehouse.db")) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM churn_predictions")
        assert cursor.fetchone() == (len(preds),)
