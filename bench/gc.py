"""Retention at scale: `gc --keep-last 100` over 1,000 runs of a 50-op flow on the local store
(one real run, the others copies of its records and outputs under new run ids, each output's
manifest rewritten for its run), timed for the plan and the deletion, with the bytes freed;
afterwards every output of every kept run is read back, size and checksum verified.
Run `make bench`.
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


def populate(root: Path) -> str:
    """A local store with RUNS runs of the bench flow, each with its own outputs."""
    from bench.ui_scale import build_flow

    url = root.as_uri()
    run = build_flow().run(url, run_id="run-0000", cache=False)
    runs = root / "flows" / "scale" / "runs"
    record = json.loads((runs / "run-0000" / "run.json").read_text())
    prefixes = [state["prefix"] for state in record["ops"].values()]
    for i in range(1, RUNS):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "gc.json"))
    args = parser.parse_args()
    import slipstream as ss
    from slipstream.history import retention

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        url = populate(Path(tmp) / "store")
        populate_s = time.perf_counter() - started
        store, now = ss.Store(url), datetime.now(UTC)
        started = time.perf_counter()
        planned = retention.plan(store, "scale", retention.Retention(keep_last=KEEP), now)
        plan_s = time.perf_counter() - started
        started = time.perf_counter()
        done = retention.collect(store, planned, now, grace=0)
        collect_s = time.perf_counter() - started
        started = time.perf_counter()
        kept = [r for r in ss.open(url).runs("scale") if r.run_id not in set(done.expired)]
        read = 0
        for run in kept:
            for name, op in run.ops.items():
                for output in op.spec["outputs"]:
                    store.get(run.key(name, output))  # verified: size and checksum
                    read += 1
        verify_s = time.perf_counter() - started
    results: dict[str, Any] = {
        "runs": RUNS, "keep_last": KEEP, "expired_runs": len(done.expired),
        "deleted_files": done.files, "freed_bytes": done.bytes, "populate_s": populate_s,
        "plan_s": plan_s, "collect_s": collect_s, "kept_outputs_read": read, "verify_s": verify_s,
    }  # fmt: skip
    print(
        f"gc of {RUNS} runs of a {len(kept[0].ops) if kept else 0}-op flow, keeping the last {KEEP}:"
    )
    print(f"  plan {plan_s:.1f} s, delete {collect_s:.1f} s: {done.files:,} files of "
          f"{len(done.expired)} runs, {done.bytes / 2**20:.1f} MiB freed")  # fmt: skip
    print(f"  then every output of the {len(kept)} kept runs read back verified: {read:,} "
          f"outputs in {verify_s:.1f} s")  # fmt: skip
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
