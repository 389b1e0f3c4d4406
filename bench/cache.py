"""Caching benchmark: a flow with one slow op run twice unchanged (the second run reuses every
output), a change to one op's code (only it and its descendants run again), and the cost of
a cache hit per op against running a trivial op, on the local folder and on S3 (moto on
loopback). Timings are reported as ratios, never asserted. Run `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLOW_SECONDS = float(os.environ.get("SLIPSTREAM_BENCH_SLOW_SECONDS", 2.0))
TRIVIAL_OPS = int(os.environ.get("SLIPSTREAM_BENCH_OPS", 20))

# Written to a file and run in a fresh process per run, as a user's script would be: a
# slow op, its consumers, and a chain of trivial ops for the per-op costs.
SCRIPT = """
import json, sys, time
import slipstream as ss

@ss.op
def slow() -> list[int]:
    time.sleep({slow})
    return list(range(1000))

@ss.op
def step(values: list[int], k: int) -> list[int]:
    return [v + {change} for v in values]

def build():
    out = slow()
    for k in range({ops}):
        out = step.named(f"step_{{k}}")(out, k)
    return ss.Flow("bench_cache", outputs=[out])

started = time.perf_counter()
run = build().run(sys.argv[1], run_id=sys.argv[2], cache=sys.argv[3] == "cache")
seconds = time.perf_counter() - started
cached = sum(o.cached_from is not None for o in run.ops.values())
print(json.dumps({{"seconds": seconds, "ops": len(run.ops), "cached": cached}}))
"""


def run_flow(script: Path, store: str, run_id: str, cache: bool, change: int = 0) -> Any:
    script.write_text(
        textwrap.dedent(SCRIPT.format(slow=SLOW_SECONDS, ops=TRIVIAL_OPS, change=change))
    )
    proc = subprocess.run(
        [sys.executable, str(script), store, run_id, "cache" if cache else "no-cache"],
        capture_output=True, text=True, env=os.environ,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def measure(store: str, work: Path) -> dict[str, Any]:
    script = work / "bench_cache_flow.py"
    first = run_flow(script, store, "first", cache=True)
    again = run_flow(script, store, "again", cache=True)
    changed = run_flow(script, store, "changed", cache=True, change=1)
    uncached = run_flow(script, store, "uncached", cache=False, change=1)
    # Per op: the trivial ops of the unchanged rerun (hits) and of the uncached run
    # (trivial work), the slow op left out of both.
    hit_ms = (again["seconds"] / again["ops"]) * 1000
    run_ms = (uncached["seconds"] - SLOW_SECONDS) / (uncached["ops"] - 1) * 1000
    return {
        "first_s": first["seconds"],
        "rerun_s": again["seconds"],
        "rerun_ratio": again["seconds"] / first["seconds"],
        "rerun_cached": f"{again['cached']}/{again['ops']}",
        "changed_ran": changed["ops"] - changed["cached"],
        "hit_ms_per_op": hit_ms,
        "trivial_run_ms_per_op": run_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    import boto3

    from tests.support.servers import moto_server

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, moto_server() as endpoint:
        os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench",
                          AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="us-east-1")  # fmt: skip
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="bench")
        results["local"] = measure(Path(tmp, "store").as_uri(), Path(tmp))
        results["s3"] = measure("s3://bench/cache", Path(tmp))
    print(f"caching: a {TRIVIAL_OPS + 1}-op flow with one {SLOW_SECONDS:.0f} s op, "
          "each run in a fresh process\n")  # fmt: skip
    print(f"{'store':6} {'first run':>10} {'rerun':>8} {'rerun/first':>12} {'cached':>8} "
          f"{'ran after step changed':>23} {'hit ms/op':>10} {'trivial op ms':>14}")  # fmt: skip
    for target, r in results.items():
        print(f"{target:6} {r['first_s']:9.2f}s {r['rerun_s']:7.2f}s {r['rerun_ratio']:11.2f}x "
              f"{r['rerun_cached']:>8} {r['changed_ran']:>23} {r['hit_ms_per_op']:10.1f} "
              f"{r['trivial_run_ms_per_op']:14.1f}")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
