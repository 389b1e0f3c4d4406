"""The benchmarks keep working: small runs print full tables. (Timings are reported by
`make bench`, never asserted.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_handoff_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    env = dict(os.environ, SLIPSTREAM_BENCH_ROWS="5000")
    out = tmp_path / "handoff.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "handoff.py"), "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith(("local ", "s3 "))]
    assert len(rows) == 6, proc.stdout
    assert all(line.rstrip().endswith("x") for line in rows)
    assert len(json.loads(out.read_text())) == 6


def test_extract_benchmark_runs_end_to_end(tmp_path: Path, postgres: object) -> None:
    env = dict(os.environ, SLIPSTREAM_BENCH_ROWS="2000")
    out = tmp_path / "extract.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "extract.py"), "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "pandas.read_sql + psycopg" in proc.stdout and "1.00x" in proc.stdout
    assert len(json.loads(out.read_text())["results"]) == 4


def test_airflow_overhead_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    env = dict(os.environ, SLIPSTREAM_BENCH_TASKS="2", SLIPSTREAM_BENCH_REPEATS="1")
    out = tmp_path / "airflow_overhead.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "airflow_overhead.py"), "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "per task over a bare PythonOperator" in proc.stdout
    assert set(json.loads(out.read_text())["parse"]) == {
        "overhead_empty", "overhead_bare", "overhead_slipstream",
    }  # fmt: skip
