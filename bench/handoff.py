"""Handoff benchmark: put a 2,000,000-row pandas frame and get it back, through the local
store and through S3 on loopback, with slipstream and with what a user would hand-write
(pyarrow.parquet + boto3, pickle + boto3), on the same data and server, in one run.

S3 is moto (Python: multipart, but slow under load) and, when `SLIPSTREAM_S3S_FS` names its
binary (`make bench` builds it), s3s-fs (Rust, fast). s3s-fs fails multipart uploads of
keys longer than ~123 bytes, which slipstream's are: there, every payload goes in one PUT
and comes back in one GET (`SLIPSTREAM_S3_PART_SIZE_MB=1024`), as boto3's `put_object` does.

Each approach runs in a fresh process so that its peak RSS is its own. Run `make bench`.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = int(os.environ.get("SLIPSTREAM_BENCH_ROWS", 2_000_000))
# Sizes of the scaling run (local folder): the cost per row should stay flat.
SCALING = [
    int(n)
    for n in os.environ.get("SLIPSTREAM_BENCH_SCALING", "1000000,4000000,16000000").split(",")
]
APPROACHES = ["slipstream", "pyarrow+boto3", "pickle+boto3"]
REPEATS = 2


def make_frame(rows: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(42)
    words = np.array(["late", "refund", "upgrade", "churn", "happy", "ticket", "call", "email"])
    picks = rng.integers(0, len(words), size=(rows, 3))
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "amount": rng.normal(100, 25, rows),
            "segment": pd.Categorical.from_codes(
                rng.integers(0, 12, rows), [f"segment-{i}" for i in range(12)]
            ),
            "note": [f"{a} {b} {c} #{i}" for i, (a, b, c) in enumerate(words[picks].tolist())],
            "at": pd.date_range("2026-01-01", periods=rows, freq="s", tz="America/Chicago"),
        }
    )


def peak_reset() -> None:
    from slipstream.runtime import memory as _memory

    _memory.reset_peak()


def rss_now() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def run_one(approach: str, target: str, endpoint: str | None, bucket: str | None) -> dict[str, Any]:
    """Runs in a child process: build the frame, then time put and get `REPEATS` times."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import slipstream as ss
    from slipstream.runtime import memory as _memory

    df = make_frame(ROWS)
    frame_bytes = int(df.memory_usage(deep=True).sum())
    workdir = Path(tempfile.mkdtemp(prefix="slipstream-bench-"))
    s3 = None
    if target != "local":
        import boto3

        s3 = boto3.client("s3", endpoint_url=endpoint)

    # Opened once, as a task would: the timings are of the handoff, not of configuration.
    store = ss.Store(f"file://{workdir}" if target == "local" else f"s3://{bucket}/bench")

    def put_get(i: int, phases: _PhasePeaks) -> tuple[float, float, int, Any]:
        name = f"{approach}-{i}"
        phases.start("put")
        t0 = time.perf_counter()
        if approach == "slipstream":
            key = ss.ArtifactKey("bench", name)
            stored = store.put(key, df)["bytes"]
            t1 = phases.split()
            back = store.get(key)
        elif approach == "pyarrow+boto3":
            table = pa.Table.from_pandas(df)
            if s3:
                buf = io.BytesIO()
                pq.write_table(table, buf)
                stored = buf.tell()
                s3.put_object(Bucket=bucket, Key=name, Body=buf.getvalue())
                del buf, table
                t1 = phases.split()
                body = s3.get_object(Bucket=bucket, Key=name)["Body"].read()
                back = pq.read_table(pa.BufferReader(body)).to_pandas()
            else:
                path = workdir / f"{name}.parquet"
                pq.write_table(table, path)
                stored = path.stat().st_size
                del table
                t1 = phases.split()
                back = pq.read_table(path).to_pandas()
        else:
            data = pickle.dumps(df, protocol=5)
            stored = len(data)
            if s3:
                s3.put_object(Bucket=bucket, Key=name, Body=data)
                del data
                t1 = phases.split()
                back = pickle.loads(s3.get_object(Bucket=bucket, Key=name)["Body"].read())
            else:
                path = workdir / f"{name}.pickle"
                path.write_bytes(data)
                del data
                t1 = phases.split()
                back = pickle.loads(path.read_bytes())
        t2 = time.perf_counter()
        phases.stop()
        return phases.put_ended - t0, t2 - t1, stored, back

    runs = []
    peaks = {"put": 0, "get": 0}
    for i in range(REPEATS):
        phases = _PhasePeaks(_memory)
        put_s, get_s, stored, back = put_get(i, phases)
        for phase, extra in phases.extra.items():
            peaks[phase] = max(peaks[phase], extra)
        runs.append((put_s + get_s, put_s, get_s, stored))
        assert back.shape == df.shape and back["id"].iloc[-1] == ROWS - 1
        del back
    total, put_s, get_s, stored = min(runs)
    return {
        "approach": approach,
        "target": target,
        "put_s": put_s,
        "get_s": get_s,
        "total_s": total,
        "stored_bytes": stored,
        "frame_bytes": frame_bytes,
        "peak_extra_rss_bytes": max(peaks.values()),
        "put_extra_rss_bytes": peaks["put"],
        "get_extra_rss_bytes": peaks["get"],
    }


class _PhasePeaks:
    """Peak RSS above the RSS at the start of each phase (put, get) of one repetition."""

    def __init__(self, memory: Any) -> None:
        self.memory = memory
        self.extra: dict[str, int] = {}
        self._phase: str | None = None
        self._start = 0
        self.put_ended = 0.0

    def start(self, phase: str) -> None:
        self.stop()
        gc.collect()
        self._phase, self._start = phase, rss_now()
        self.memory.reset_peak()

    def split(self) -> float:
        """Ends the put phase and starts the get phase; returns when the get's clock starts."""
        self.put_ended = time.perf_counter()
        self.start("get")
        return time.perf_counter()

    def stop(self) -> None:
        if self._phase is not None:
            self.extra[self._phase] = max(0, self.memory.peak_rss_bytes() - self._start)
            self._phase = None


SMALL_REPEATS = int(os.environ.get("SLIPSTREAM_BENCH_SMALL_REPEATS", 50))


def run_small(endpoint: str, bucket: str) -> dict[str, Any]:
    """Runs in a child process: ms per put + get of small artifacts on S3 (a value, a
    1,000-row frame), slipstream against boto3 by hand, medians of `SMALL_REPEATS`."""
    import statistics

    import boto3
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    import slipstream as ss

    s3 = boto3.client("s3", endpoint_url=endpoint)
    store = ss.Store(f"s3://{bucket}/small")
    value = {"accuracy": 0.93, "labels": ["churn", "stay"], "n": 1000}
    frame = make_frame(1_000)

    def by_hand(name: str, obj: Any) -> None:
        if isinstance(obj, pd.DataFrame):
            buf = io.BytesIO()
            pq.write_table(pa.Table.from_pandas(obj), buf)
            s3.put_object(Bucket=bucket, Key=name, Body=buf.getvalue())
            body = s3.get_object(Bucket=bucket, Key=name)["Body"].read()
            pq.read_table(pa.BufferReader(body)).to_pandas()
        else:
            s3.put_object(Bucket=bucket, Key=name, Body=pickle.dumps(obj))
            pickle.loads(s3.get_object(Bucket=bucket, Key=name)["Body"].read())

    def slipstream(name: str, obj: Any) -> None:
        key = ss.ArtifactKey("small", name)
        store.put(key, obj)
        store.get(key)

    out: dict[str, Any] = {}
    for kind, obj in [("value", value), ("1,000-row frame", frame)]:
        for approach, fn in [("slipstream", slipstream), ("boto3 by hand", by_hand)]:
            fn(f"warm-{approach}", obj)
            times = []
            for i in range(SMALL_REPEATS):
                t = time.perf_counter()
                fn(f"{approach}-{i}", obj)
                times.append(time.perf_counter() - t)
            out[f"{kind}|{approach}"] = statistics.median(times) * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--small", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--target", default="local")
    parser.add_argument("--endpoint")
    parser.add_argument("--bucket")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "handoff.json")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.target, args.endpoint, args.bucket)))
        return
    if args.small:
        print(json.dumps(run_small(args.endpoint, args.bucket)))
        return

    import boto3

    from tests.support.servers import moto_server

    results = []
    with moto_server() as endpoint:
        env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench",
                   AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")  # fmt: skip
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="bench", aws_secret_access_key="bench").create_bucket(Bucket="bench")  # fmt: skip
        for target in ["local", "s3"]:
            for approach in APPROACHES:
                cmd = [sys.executable, __file__, "--one", approach, "--target", target,
                       "--endpoint", endpoint, "--bucket", "bench"]  # fmt: skip
                out = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if out.returncode != 0:
                    sys.exit(f"{target} {approach} failed:\n{out.stderr}")
                results.append(json.loads(out.stdout.strip().splitlines()[-1]))
                r = results[-1]
                print(f"  measured {target:5} {approach:14} {r['total_s']:.2f} s", file=sys.stderr)
        results += measure_s3s_fs()
        cmd = [sys.executable, __file__, "--small", "--endpoint", endpoint, "--bucket", "bench"]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"small artifacts failed:\n{out.stderr}")
        small = json.loads(out.stdout.strip().splitlines()[-1])
        scaling = []
        for rows in SCALING:
            for approach in ("slipstream", "pyarrow+boto3"):
                cmd = [sys.executable, __file__, "--one", approach, "--target", "local"]
                out = subprocess.run(cmd, env=dict(env, SLIPSTREAM_BENCH_ROWS=str(rows)),
                                     capture_output=True, text=True)  # fmt: skip
                if out.returncode != 0:
                    sys.exit(f"scaling {rows} {approach} failed:\n{out.stderr}")
                scaling.append({"rows": rows, **json.loads(out.stdout.strip().splitlines()[-1])})
                print(f"  measured {rows:>11,} rows {approach}", file=sys.stderr)
    report(results)
    report_small(small)
    report_scaling(scaling)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"frames": results, "small_ms": small, "scaling": scaling}, indent=2)
    )


def measure_s3s_fs() -> list[dict[str, Any]]:
    """Every approach through s3s-fs, each payload in one PUT; none without its binary."""
    binary = os.environ.get("SLIPSTREAM_S3S_FS")
    if not binary:
        print(
            "  s3s-fs: SLIPSTREAM_S3S_FS is not set (make bench sets it); skipped", file=sys.stderr
        )
        return []
    import boto3

    from tests.support.servers import s3s_fs_server

    results = []
    with tempfile.TemporaryDirectory() as root, s3s_fs_server(binary, Path(root), "bench", "bench") as endpoint:  # fmt: skip
        env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench",
                   AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1",
                   SLIPSTREAM_S3_PART_SIZE_MB="1024")  # fmt: skip
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="bench", aws_secret_access_key="bench").create_bucket(Bucket="bench")  # fmt: skip
        for approach in APPROACHES:
            cmd = [sys.executable, __file__, "--one", approach, "--target", "s3s-fs",
                   "--endpoint", endpoint, "--bucket", "bench"]  # fmt: skip
            out = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"s3s-fs {approach} failed:\n{out.stderr}")
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(
                f"  measured s3s-fs {approach:14} {results[-1]['total_s']:.2f} s", file=sys.stderr
            )
    return results


def report_scaling(scaling: list[dict[str, Any]]) -> None:
    print("\nscaling on the local folder: put + get, time per row and peak RSS per frame\n")
    mine = [r for r in scaling if r["approach"] == "slipstream"]
    first = mine[0]["total_s"] / mine[0]["rows"]
    for r in mine:
        base = next(x for x in scaling if x["rows"] == r["rows"] and x is not r)
        per_row = r["total_s"] / r["rows"]
        print(f"{r['rows']:>11,} rows  {r['total_s']:7.2f} s  {per_row * 1e9:6.0f} ns/row "
              f"({per_row / first:4.2f}x the smallest)  vs pyarrow {r['total_s'] / base['total_s']:4.2f}x  "
              f"put peak {r['put_extra_rss_bytes'] / r['frame_bytes']:4.2f}x  "
              f"get peak {r['get_extra_rss_bytes'] / r['frame_bytes']:4.2f}x the frame")  # fmt: skip


def report_small(small: dict[str, float]) -> None:
    print(f"\nsmall artifacts on S3 (moto): ms per put + get, median of {SMALL_REPEATS}\n")
    for kind in ("value", "1,000-row frame"):
        mine, theirs = small[f"{kind}|slipstream"], small[f"{kind}|boto3 by hand"]
        print(f"{kind:16} slipstream {mine:6.1f} ms   boto3 by hand {theirs:6.1f} ms   "
              f"{mine / theirs:5.2f}x")  # fmt: skip


def report(results: list[dict[str, Any]]) -> None:
    mb = 1024 * 1024
    frame = results[0]["frame_bytes"]
    print(f"\nhandoff: {ROWS:,} rows, pandas frame of {frame / mb:.0f} MiB in memory; "
          f"put + get, best of {REPEATS}; s3 is moto on loopback, s3s-fs one PUT per payload\n")  # fmt: skip
    header = (f"{'target':7} {'approach':14} {'put s':>7} {'get s':>7} {'total s':>8} "
              f"{'MiB/s':>7} {'stored MiB':>10} {'put+ MiB':>8} {'get+ MiB':>8} {'RSS/frame':>9} {'time vs pyarrow':>15}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for r in results:
        label = (
            r["approach"].replace("+boto3", " (file)") if r["target"] == "local" else r["approach"]
        )
        base = next(
            x for x in results if x["target"] == r["target"] and x["approach"] == "pyarrow+boto3"
        )
        print(
            f"{r['target']:7} {label:14} {r['put_s']:7.2f} {r['get_s']:7.2f} {r['total_s']:8.2f} "
            f"{2 * frame / mb / r['total_s']:7.0f} {r['stored_bytes'] / mb:10.1f} "
            f"{r['put_extra_rss_bytes'] / mb:8.0f} {r['get_extra_rss_bytes'] / mb:8.0f} "
            f"{r['peak_extra_rss_bytes'] / frame:9.2f} "
            f"{r['total_s'] / base['total_s']:14.2f}x"
        )


if __name__ == "__main__":
    main()
