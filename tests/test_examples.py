"""The README's quickstart runs as `make demo` runs it, and leaves a readable run behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import slipstream as ss

ROOT = Path(__file__).resolve().parent.parent


def test_quickstart_runs_and_records_its_run(tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    env = dict(os.environ, SLIPSTREAM_STORE=store)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert ": success" in proc.stdout
    (run,) = ss.open(store).runs("churn")
    assert run.status == "success" and run.params == {"cut": 0.25}
    assert set(run.checks) == {"features_finite", "churn_rate_plausible"}
    assert 0.5 < run.metrics["accuracy"] <= 1.0
    preds = run["predict"]
    assert list(preds.columns) == ["tenure", "spend", "churned", "score", "predicted"]
    assert run.version.spec["schedule"] == "@daily"
