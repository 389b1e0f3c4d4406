"""Retention at scale: `gc --keep-last 100` over 1,000 runs of a 50-op flow on the local store,
and over 200 runs on S3 (moto on loopback) with the requests it sends counted (one real run,
the others copies of its records and outputs under new run ids, each output's manifest
rewritten for its run), timed for the plan and the deletion, with the bytes freed; afterwards
every output of every kept run is read back, size and checksum verified. Run `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = int(os.environ.get("SLIPSTREAM_BENCH_GC_RUNS", 1000))
KEEP = int(os.environ.get("SLIPSTREAM_BENCH_GC_KEEP", 100))
# On S3 (moto), fewer runs: every object is uploaded first, and moto answers in milliseconds.
S3_RUNS = int(os.environ.get("SLIPSTREAM_BENCH_GC_S3_RUNS", 200))


def populate(root: Path, count: int) -> str:
    """A local store with `count` runs of the bench flow, each with its own outputs."""
    from bench.ui_scale import build_flow

    url = root.as_uri()
    run = build_flow().run(url, run_id="run-0000", cache=False)
    runs = root / "flows" / "scale" / "runs"
    record = json.loads((runs / "run-0000" / "run.json").read_text())
    prefixes = [state["prefix"] for state in record["ops"].values()]
    for i in range(1, count):
        run_id = f"run-{i:04d}"
        for prefix in prefixes:
            source, target = root / "ops" / prefix / run.run_id, root / "ops" / prefix / run_id
            shutil.copytree(source, target)
            for manifest in target.glob("outputs/*/manifest.json"):
                data = json.loads(manifest.read_text())
                manifest.write_text(json.dumps(dict(data, run_id=run_id)))
        copy = dict(record, run_id=run_id,
                    started_at=f"2026-{1 + i // 700:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00")  # fmt: skip
        (runs / run_id).mkdir(parents=True)
        (runs / run_id / "run.json").write_text(json.dumps(copy))
    return url


def measure(url: str, runs: int) -> dict[str, Any]:
    """gc --keep-last KEEP over the store at `url`, then every kept output read back."""
    import slipstream as ss
    from slipstream.history import retention

    store, now = ss.Store(url), datetime.now(UTC)
    requests = store.requests()
    started = time.perf_counter()
    planned = retention.plan(store, "scale", retention.Retention(keep_last=KEEP), now)
    plan_s = time.perf_counter() - started
    started = time.perf_counter()
    done = retention.collect(store, planned, now, grace=0)
    collect_s = time.perf_counter() - started
    after = store.requests()
    started = time.perf_counter()
    kept = [r for r in ss.open(url).runs("scale") if r.run_id not in set(done.expired)]
    read = 0
    for run in kept:
        for name, op in run.ops.items():
            for output in op.spec.outputs:
                store.get(run.key(name, output))  # verified: size and checksum
                read += 1
    verify_s = time.perf_counter() - started
    return {
        "runs": runs, "keep_last": KEEP, "expired_runs": len(done.expired),
        "deleted_files": done.files, "freed_bytes": done.bytes, "plan_s": plan_s,
        "collect_s": collect_s, "kept_outputs_read": read, "verify_s": verify_s,
        "ops": len(kept[0].ops) if kept else 0,
        "requests": after - requests if after is not None and requests is not None else None,
    }  # fmt: skip


def upload(root: Path, url: str) -> None:
    """Every file of the local store at `root` into the store at `url`, at the same paths."""
    import slipstream as ss

    store = ss.Store(url)
    batch: list[tuple[str, bytes]] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        batch.append((str(path.relative_to(root)), path.read_bytes()))
        if len(batch) >= 1000:
            store.put_objects(batch)
            batch = []
    store.put_objects(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "gc.json"))
    args = parser.parse_args()
    import boto3

    from tests.support.servers import moto_server

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, moto_server() as endpoint:
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench",
                          AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")  # fmt: skip
        local = Path(tmp) / "local"
        results["local"] = measure(populate(local, RUNS), RUNS)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
        source = Path(tmp) / "for-s3"
        populate(source, S3_RUNS)
        upload(source, "s3://bench/gc")
        results["s3"] = measure("s3://bench/gc", S3_RUNS)
    for target, r in results.items():
        print(f"gc of {r['runs']} runs of a {r['ops']}-op flow, keeping the last {KEEP} "
              f"({target}):")  # fmt: skip
        requests = f", {r['requests']:,} requests" if r["requests"] is not None else ""
        print(f"  plan {r['plan_s']:.1f} s, delete {r['collect_s']:.1f} s{requests}: "
              f"{r['deleted_files']:,} files of {r['expired_runs']} runs, "
              f"{r['freed_bytes'] / 2**20:.1f} MiB freed")  # fmt: skip
        print(f"  then every output of the kept runs read back verified: "
              f"{r['kept_outputs_read']:,} outputs in {r['verify_s']:.1f} s")  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
