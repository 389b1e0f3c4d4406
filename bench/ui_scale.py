"""UI at scale: render time and store requests of the flows page, the runs list (first and
last page, and filtered), a run page, an op page, a metric's page (its history across every
run) and a comparison of two runs for a 50-op flow with 10,000 runs, served by
`slipstream ui`, on the local folder and on S3 (moto on loopback).
Run `make bench`.

One run is real (the local runner executes the 50 ops); the others are copies of its record
under new run ids, which is what the pages read, and the run index is written from those
records as `slipstream reindex` writes it. Shapes:

- runs recorded whole by the local runner (`run.json` only), with the run index, on the local
  folder and on S3;
- the same without the index (removed), so every view reads every run record (local folder
  only: on S3 that is one request per run, per view);
- runs seen through Airflow tasks (a header, one file per op and a synced `airflow.json`
  each), with the run index, on the local folder: `SLIPSTREAM_BENCH_AIRFLOW_RUNS` of them
  (1,000: 52,000 objects), as the index makes the list views independent of the shape.

Requests are counted by the store's client (each retry too); a local folder sends none. The
first view of a page by a fresh server reads the index segments; later views read only the
listings (segments never change, the server keeps those it read).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
RUNS = int(os.environ.get("SLIPSTREAM_BENCH_RUNS", 10_000))
REPEATS = int(os.environ.get("SLIPSTREAM_BENCH_REPEATS", 5))
AIRFLOW_RUNS = int(os.environ.get("SLIPSTREAM_BENCH_AIRFLOW_RUNS", 1000))
PAGE = 50  # runs per page of the runs list

VIEWS = [
    ("flows", "flows"),
    ("runs list", "runs_list"),
    ("last page", "last_page"),
    ("filtered", "filtered"),
    ("run", "run_page"),
    ("op", "op_page"),
    ("metric", "metric_page"),
    ("compare", "compare"),
]


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


def copies(record: dict[str, Any], runs: int) -> list[dict[str, Any]]:
    """`runs` records of the flow: the real one, then copies with their own ids, starts and
    metric values (explicit times: the order is the same on any day)."""
    made = [record]
    for i in range(1, runs):
        day, hour = divmod(i, 24)
        started = f"2026-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T{hour:02d}:00:00+00:00"
        copy = dict(record, run_id=f"run-{i:05d}", started_at=started,
                    ended_at=started.replace(":00:00+", ":05:00+"))  # fmt: skip
        copy["metrics"] = dict(record["metrics"], total=float(i))
        made.append(copy)
    return made


def populate(store_url: str, shape: str, runs: int) -> str:
    """A store with `runs` runs of the flow, indexed; returns one run id."""
    import slipstream as ss
    from slipstream._native import (
        flow_run_airflow_path,
        flow_run_op_path,
        flow_run_path,
        index_rebuild,
        index_segments,
    )

    store = ss.Store(store_url)
    run = build_flow().run(store, run_id="run-00000")
    record = json.loads(store.get_object(flow_run_path("scale", run.run_id)))
    records = copies(record, runs)
    batch: list[tuple[str, bytes]] = []
    for copy in records[1:]:
        run_id = copy["run_id"]
        header = copy
        if shape == "airflow":
            header = dict(copy, status="running", ended_at=None, trigger="airflow")
            header["ops"] = {n: dict(s, status="pending", tries=0) for n, s in copy["ops"].items()}
            for name, state in copy["ops"].items():
                batch.append((flow_run_op_path("scale", run_id, name), json.dumps(state).encode()))
            tasks = {n: {"state": "success", "try_number": 1, "tries": []} for n in copy["ops"]}
            synced = {"format": 1, "run_id": run_id, "state": "success",
                      "end_date": copy["ended_at"], "tasks": tasks}  # fmt: skip
            batch.append((flow_run_airflow_path("scale", run_id), json.dumps(synced).encode()))
        batch.append((flow_run_path("scale", run_id), json.dumps(header).encode()))
        if len(batch) >= 2000:
            store.put_objects(batch)
            batch = []
    store.put_objects(batch)
    if shape == "airflow":  # as readers merge them: what `reindex` would index
        records = [dict(r, trigger="airflow") for r in records]
    replaced = index_segments(store, "scale")
    index_rebuild(store, "scale", [json.dumps(r).encode() for r in records], replaced)
    return run.run_id


def view(server_url: str, path: str, store: Any) -> tuple[float, int | None]:
    """Seconds and store requests of one view."""
    before = store.requests()
    start = time.perf_counter()
    with urllib.request.urlopen(server_url + path, timeout=600) as response:
        body = response.read()
        assert response.status == 200 and body
    elapsed = time.perf_counter() - start
    after = store.requests()
    return elapsed, (after - before if after is not None and before is not None else None)


def measure(store_url: str, run_id: str, runs: int) -> dict[str, Any]:
    """First view (fresh server) and median of REPEATS later views of each page."""
    import slipstream as ss
    from slipstream._native import UiServer

    run_url = f"/flows/scale/runs/{run_id}"
    paths = {
        "flows": "/",
        "runs_list": "/flows/scale",
        # the runs of one week of June: a filter reads the same index, then keeps a few
        "filtered": "/flows/scale?status=success&from=2026-06-01&to=2026-06-07",
        "last_page": f"/flows/scale?page={(runs + PAGE - 1) // PAGE}",
        "run_page": run_url,
        "op_page": f"{run_url}/ops/step_{OPS - 2}",
        "metric_page": f"{run_url}/ops/total",
        # the real run and a copy: every output's manifest and frame preview of both
        "compare": f"/flows/scale/compare?a={run_id}&b=run-00001",
    }
    results: dict[str, Any] = {}
    for key, path in paths.items():
        store = ss.Store(store_url)
        server = UiServer(store, "127.0.0.1", 0)
        try:
            first_s, first_requests = view(server.url, path, store)
            later = [view(server.url, path, store) for _ in range(REPEATS)]
        finally:
            server.stop()
        results[key] = {
            "first_s": first_s,
            "first_requests": first_requests,
            "s": statistics.median(t for t, _ in later),
            "requests": max((n for _, n in later), default=None)
            if later[0][1] is not None
            else None,
        }
    return results


def report(results: dict[str, Any]) -> None:
    print(f"UI with {RUNS} runs of a {OPS}-op flow ({AIRFLOW_RUNS} Airflow-shaped; ms, first "
          f"view of a fresh server / median of {REPEATS} later views; store requests in "
          f"brackets):")  # fmt: skip
    print(f"  {'':16}" + "".join(f"{name:>22}" for name, _ in VIEWS))
    for target, r in results.items():
        if not isinstance(r, dict):
            continue
        cells = []
        for _, key in VIEWS:
            v = r[key]
            text = f"{v['first_s'] * 1000:.0f}/{v['s'] * 1000:.0f}"
            if v["requests"] is not None:
                text += f" [{v['first_requests']}/{v['requests']}]"
            cells.append(f"{text:>22}")
        print(f"  {target:16}" + "".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "ui_scale.json"))
    args = parser.parse_args()
    import boto3

    from tests.support.servers import moto_server

    results: dict[str, Any] = {"ops": OPS, "runs": RUNS, "airflow_runs": AIRFLOW_RUNS}
    with tempfile.TemporaryDirectory() as tmp, moto_server() as endpoint:
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench",
                          AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")  # fmt: skip
        url = (Path(tmp) / "local").as_uri()
        run_id = populate(url, "local", RUNS)
        results["folder"] = measure(url, run_id, RUNS)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
        s3_run = populate("s3://bench/ui", "local", RUNS)
        results["S3"] = measure("s3://bench/ui", s3_run, RUNS)
        shutil.rmtree(Path(tmp) / "local" / "flows" / "scale" / "index")
        results["folder, no index"] = measure(url, run_id, RUNS)
        shutil.rmtree(Path(tmp) / "local")
        url = (Path(tmp) / "airflow").as_uri()
        run_id = populate(url, "airflow", AIRFLOW_RUNS)
        results["Airflow-shaped"] = measure(url, run_id, AIRFLOW_RUNS)
    report(results)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
