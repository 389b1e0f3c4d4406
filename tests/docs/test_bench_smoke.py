"""The benchmarks keep working: small runs print full tables. (Timings are reported by
`make bench`, never asserted.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_bench(script: str, out: Path, **env: str) -> tuple[str, Any]:
    """Runs `bench/<script>` small, with its results written to `out`."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--out", str(out)],
        env=dict(os.environ, **env), capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, json.loads(out.read_text())


def test_handoff_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    small = {"SLIPSTREAM_BENCH_ROWS": "5000", "SLIPSTREAM_BENCH_SMALL_REPEATS": "3",
             "SLIPSTREAM_BENCH_SCALING": "2000,8000"}  # fmt: skip
    stdout, results = run_bench("handoff.py", tmp_path / "h.json", **small)
    rows = [line for line in stdout.splitlines() if line.startswith(("local ", "s3 "))]
    assert len(rows) == 6, stdout
    assert all(line.rstrip().endswith("x") for line in rows)
    assert len(results["frames"]) == 6
    assert all(r["put_extra_rss_bytes"] >= 0 and r["get_extra_rss_bytes"] >= 0
               for r in results["frames"])  # fmt: skip
    assert "1,000-row frame  slipstream" in stdout and len(results["small_ms"]) == 4
    assert "8,000 rows" in stdout and len(results["scaling"]) == 4


def test_extract_benchmark_runs_end_to_end(tmp_path: Path, postgres: object) -> None:
    stdout, results = run_bench("extract.py", tmp_path / "e.json", SLIPSTREAM_BENCH_ROWS="2000")
    assert "pandas.read_sql + psycopg" in stdout and "1.00x" in stdout
    assert len(results["results"]) == 4


def test_airflow_overhead_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    small = {"SLIPSTREAM_BENCH_TASKS": "2", "SLIPSTREAM_BENCH_REPEATS": "1",
             "SLIPSTREAM_BENCH_GROUP_OPS": "3"}  # fmt: skip
    stdout, results = run_bench("airflow_overhead.py", tmp_path / "a.json", **small)
    assert "per task over a bare PythonOperator" in stdout
    assert "a flow group of 3 ops parses in" in stdout
    assert set(results["parse"]) == {
        "overhead_empty", "overhead_bare", "overhead_slipstream", "overhead_group",
        "overhead_bare_group",
    }  # fmt: skip


def test_ui_scale_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    stdout, results = run_bench(
        "ui_scale.py", tmp_path / "u.json",
        SLIPSTREAM_BENCH_RUNS="120", SLIPSTREAM_BENCH_OPS="12", SLIPSTREAM_BENCH_REPEATS="1",
        SLIPSTREAM_BENCH_AIRFLOW_RUNS="60",
    )  # fmt: skip
    assert "UI with 120 runs of a 12-op flow (60 Airflow-shaped" in stdout
    targets = ["folder", "folder, no index", "Airflow-shaped", "S3"]
    views = {"flows", "runs_list", "last_page", "filtered", "run_page", "op_page",
             "metric_page", "compare"}  # fmt: skip
    for target in targets:
        assert set(results[target]) == views, target
    s3 = results["S3"]
    # with the index, a later view of the runs list lists the index and the markers (and
    # the versions): no run record is read, however many runs there are
    assert s3["runs_list"]["requests"] <= 4 and s3["last_page"]["requests"] <= 4, s3
    assert s3["filtered"]["requests"] <= 4, s3
    assert s3["runs_list"]["first_requests"] <= 10, s3
    assert results["folder"]["runs_list"]["requests"] is None  # a folder sends none


def test_cache_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    small = {"SLIPSTREAM_BENCH_SLOW_SECONDS": "0.5", "SLIPSTREAM_BENCH_OPS": "3"}
    stdout, results = run_bench("cache.py", tmp_path / "c.json", **small)
    assert "caching: a 4-op flow" in stdout
    for target in ("local", "s3"):
        assert results[target]["rerun_cached"] == "4/4"  # an unchanged rerun runs nothing
        assert results[target]["changed_ran"] == 3  # the changed op's three uses, not `slow`


def test_streaming_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    stdout, results = run_bench(
        "streaming.py", tmp_path / "s.json", SLIPSTREAM_BENCH_STREAM_GIB="0.01"
    )
    assert "streamed handoff: 167,772 rows, 10 MiB uncompressed" in stdout, stdout
    for target in ("local", "s3"):
        ops = results[target]["ops"]
        assert set(ops) == {"produce", "consume"}
        assert all(op["peak_rss_bytes"] > 0 for op in ops.values())


def test_gc_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    small = {"SLIPSTREAM_BENCH_GC_RUNS": "6", "SLIPSTREAM_BENCH_GC_S3_RUNS": "5",
             "SLIPSTREAM_BENCH_GC_KEEP": "2", "SLIPSTREAM_BENCH_OPS": "4"}  # fmt: skip
    stdout, results = run_bench("gc.py", tmp_path / "g.json", **small)
    assert "gc of 6 runs of a 3-op flow, keeping the last 2 (local)" in stdout
    assert results["local"]["expired_runs"] == 4 and results["local"]["freed_bytes"] > 0
    assert results["local"]["kept_outputs_read"] == 2 * 3
    assert results["s3"]["expired_runs"] == 3 and results["s3"]["kept_outputs_read"] == 2 * 3
    assert results["s3"]["requests"] > 0 and results["local"]["requests"] is None
