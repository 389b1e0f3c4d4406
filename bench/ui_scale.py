"""UI at scale: render time of the runs list (first and last page), of a run page, of an
op page and of a metric's page (its history across every run) for a 50-op flow with 1,000
runs, served by `slipstream ui` from a local store. Run `make bench`.

One run is real (the local runner executes the 50 ops); the others are copies of its
record under new run ids, which is what the pages read. Two shapes are measured: runs
recorded whole by the local runner (`run.json` only), and runs seen through Airflow tasks
(a header, one file per op and a synced `airflow.json` each), which the pages must merge.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPS = int(os.environ.get("SLIPSTREAM_BENCH_OPS", 50))
RUNS = int(os.environ.get("SLIPSTREAM_BENCH_RUNS", 1000))
REPEATS = int(os.environ.get("SLIPSTREAM_BENCH_REPEATS", 5))


def build_flow() -> Any:
    import slipstream as ss

    @ss.op
    def seed() -> int:
        return 1

    @ss.op
    def step(a: int, b: int) -> int:
        return a + b

    @ss.metric
    def total(value: int) -> float:
        return float(value)

    nodes = [seed(), seed.named("seed_2")()]
    while len(nodes) < OPS - 1:
        nodes.append(step.named(f"step_{len(nodes)}")(nodes[-1], nodes[len(nodes) // 2]))
    total(nodes[-1])
    return ss.Flow("scale", outputs=[nodes[-1]])


def populate(root: Path, shape: str) -> tuple[str, str]:
    """A store with RUNS runs of the flow; returns its URL and one run id."""
    store = (root / shape).as_uri()
    run = build_flow().run(store, run_id="run-0000")
    base = root / shape / "flows" / "scale" / "runs"
    record = json.loads((base / "run-0000" / "run.json").read_text())
    for i in range(1, RUNS):
        run_id = f"run-{i:04d}"
        folder = base / run_id
        (folder / "ops").mkdir(parents=True)
        copy = dict(
            record, run_id=run_id, started_at=f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00"
        )
        if shape == "airflow":
            ops = copy["ops"]
            copy = dict(copy, status="running", ended_at=None, trigger="airflow")
            copy["ops"] = {
                name: dict(state, status="pending", tries=0) for name, state in ops.items()
            }
            for name, state in ops.items():
                (folder / "ops" / f"{name}.json").write_text(json.dumps(state))
            tasks = {n: {"state": "success", "try_number": 1, "tries": []} for n in ops}
            synced = {"format": 1, "run_id": run_id, "state": "success",
                      "end_date": "2026-11-30T00:00:00Z", "tasks": tasks}  # fmt: skip
            (folder / "airflow.json").write_text(json.dumps(synced))
        (folder / "run.json").write_text(json.dumps(copy))
    return store, run.run_id


def timed(url: str) -> float:
    """Best-of-REPEATS seconds for one page, after a warm-up request."""
    samples = []
    for _ in range(REPEATS + 1):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=300) as response:
            body = response.read()
            assert response.status == 200 and body
        samples.append(time.perf_counter() - start)
    return statistics.median(samples[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "ui_scale.json"))
    args = parser.parse_args()
    import slipstream as ss
    from slipstream._native import UiServer

    results: dict[str, Any] = {"ops": OPS, "runs": RUNS}
    with tempfile.TemporaryDirectory() as tmp:
        for shape in ("local", "airflow"):
            store, run_id = populate(Path(tmp), shape)
            server = UiServer(ss.Store(store), "127.0.0.1", 0)
            try:
                run_url = f"{server.url}/flows/scale/runs/{run_id}"
                results[shape] = {
                    "runs_list_s": timed(f"{server.url}/flows/scale"),
                    "runs_list_last_page_s": timed(
                        f"{server.url}/flows/scale?page={(RUNS + 49) // 50}"
                    ),
                    "run_page_s": timed(run_url),
                    "op_page_s": timed(f"{run_url}/ops/step_{OPS - 2}"),
                    "metric_page_s": timed(f"{run_url}/ops/total"),
                }
            finally:
                server.stop()
    print(f"UI with {RUNS} runs of a {OPS}-op flow (median of {REPEATS}):")
    pages = [
        ("runs list", "runs_list_s"),
        ("last page", "runs_list_last_page_s"),
        ("run", "run_page_s"),
        ("op", "op_page_s"),
        ("metric", "metric_page_s"),
    ]
    print(f"  {'ms':8}" + "".join(f"{name:>11}" for name, _ in pages))
    for shape in ("local", "airflow"):
        r = results[shape]
        print(f"  {shape:8}" + "".join(f"{r[key] * 1000:11.1f}" for _, key in pages))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
