"""Larger than memory: an op returns a `pyarrow.RecordBatchReader` of ~2 GiB (uncompressed)
and the next op, whose parameter is hinted `polars.LazyFrame`, aggregates a scan of it. The
frame is never whole in memory: it is encoded and stored as its batches are made, and read
by polars' streaming engine. Reports each op's time and peak RSS (from its try record),
through the local folder and through S3 on loopback (moto). Run `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import slipstream as ss

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GIB = float(os.environ.get("SLIPSTREAM_BENCH_STREAM_GIB", "2"))
BATCH_ROWS = 1_000_000
COLUMNS = 8  # of 8 bytes each
ROWS = int(GIB * 2**30) // (8 * COLUMNS)


def schema() -> pa.Schema:
    return pa.schema(
        [("id", pa.int64()), ("segment", pa.int64()), ("amount", pa.float64())]
        + [(f"f{i}", pa.float64()) for i in range(COLUMNS - 3)]
    )


def batches() -> Iterator[pa.RecordBatch]:
    rng = np.random.default_rng(3)
    for start in range(0, ROWS, BATCH_ROWS):
        n = min(BATCH_ROWS, ROWS - start)
        columns = [np.arange(start, start + n), rng.integers(0, 50, n), rng.normal(100, 25, n)]
        columns += [np.round(rng.random(n), 3) for _ in range(COLUMNS - 3)]
        yield pa.record_batch(columns, schema=schema())


@ss.op
def produce() -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(schema(), batches())


@ss.op
def consume(frame: pl.LazyFrame) -> dict[str, float]:
    totals = (
        frame.group_by("segment").agg(pl.col("amount").sum(), pl.len()).collect(engine="streaming")
    )
    return {"rows": float(totals["len"].sum()), "amount": float(totals["amount"].sum())}


def run_one(url: str) -> dict[str, Any]:
    flow = ss.Flow("streaming", outputs=[consume(produce())])
    started = time.perf_counter()
    run = flow.run(url)
    total = time.perf_counter() - started
    run.raise_for_status()
    assert run["consume"]["rows"] == ROWS, run["consume"]
    store = ss.Store(url)
    manifest = store.manifest(run.key("produce"))
    ops = {}
    for name in ("produce", "consume"):
        record = run.ops[name].record
        assert record is not None
        ops[name] = {
            "seconds": record.duration_seconds,
            "peak_rss_bytes": record.peak_rss_bytes,
        }
    return {
        "rows": ROWS,
        "uncompressed_bytes": ROWS * 8 * COLUMNS,
        "stored_bytes": manifest["bytes"],
        "total_s": total,
        "ops": ops,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "streaming.json")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return

    import boto3

    from tests.support.servers import moto_server

    results = {}
    with tempfile.TemporaryDirectory() as folder, moto_server() as endpoint:
        env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench",
                   AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")  # fmt: skip
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="bench", aws_secret_access_key="bench").create_bucket(Bucket="bench")  # fmt: skip
        for target, url in [("local", Path(folder).as_uri()), ("s3", "s3://bench/streaming")]:
            out = subprocess.run([sys.executable, __file__, "--one", url], env=env,
                                 capture_output=True, text=True)  # fmt: skip
            if out.returncode != 0:
                sys.exit(f"{target} failed:\n{out.stderr}")
            results[target] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"  measured {target}", file=sys.stderr)
    report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))


def report(results: dict[str, dict[str, Any]]) -> None:
    mib = 2**20
    first = next(iter(results.values()))
    print(f"\nstreamed handoff: {first['rows']:,} rows, {first['uncompressed_bytes'] / mib:,.0f} MiB "
          f"uncompressed, stored in {first['stored_bytes'] / mib:,.0f} MiB of Parquet\n")  # fmt: skip
    print(f"{'target':6} {'op':8} {'seconds':>8} {'peak RSS MiB':>13}")
    for target, r in results.items():
        for name, op in r["ops"].items():
            print(f"{target:6} {name:8} {op['seconds']:8.1f} {op['peak_rss_bytes'] / mib:13.0f}")


if __name__ == "__main__":
    main()
