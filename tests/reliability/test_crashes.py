"""The crash suite: puts of large artifacts killed (SIGKILL) at many points. No reader ever
sees a partial artifact, the next put succeeds, and it leaves nothing behind: no temporary
file, no payload that no manifest points at."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import slipstream as ss
from slipstream.records.types import CacheEntry

from tests.conftest import make_bucket

WRITER = """
import sys
import numpy as np
import slipstream as ss

from tests.conftest import make_bucket
store = ss.Store(sys.argv[1])
key = ss.ArtifactKey("crash", "run-1")
print("ready", flush=True)
for i in range(1_000_000):
    store.put(key, np.full(4_000_000, i, dtype=np.int64))  # 32 MB, a new payload each time
"""


def _output_dir(root: Path) -> Path:
    (manifest,) = root.rglob("manifest.json")
    return manifest.parent


def test_killed_puts_never_show_a_partial_artifact_nor_leave_garbage(tmp_path: Path) -> None:
    root = tmp_path / "store"
    url = str(root)
    key = ss.ArtifactKey("crash", "run-1")
    store = ss.Store(url)
    store.put(key, np.zeros(4_000_000, dtype=np.int64))
    rng = random.Random(20261128)  # the same points every run
    kills = 0
    while kills < 30:
        writer = subprocess.Popen([sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE,
                                  text=True)  # fmt: skip
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.4))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        kills += 1
        value = store.get(key)  # whole, of one put: never a mix, never a partial array
        assert value.shape == (4_000_000,) and value.min() == value.max()
    leftovers = {p.name for p in _output_dir(root).iterdir()}
    store.put(key, np.ones(4_000_000, dtype=np.int64))  # the next put cleans up after them
    kept = sorted(p.name for p in _output_dir(root).iterdir())
    manifest = store.manifest(key)
    assert kept == sorted(["manifest.json", manifest["payload"]]), (kept, leftovers)
    assert int(store.get(key)[0]) == 1


def test_a_put_on_s3_clears_what_killed_puts_left(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("SLIPSTREAM_S3_PART_SIZE_MB", "5")  # outputs of 6 MB go up in parts
    bucket = make_bucket(s3_endpoint)
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    store = ss.Store(f"s3://{bucket}/p")
    key = ss.ArtifactKey("crash", "run-1")
    folder = f"{key.run_dir}/outputs/out"
    # a put killed during its multipart upload, another between its payload and manifest
    s3.create_multipart_upload(Bucket=bucket, Key=f"p/{folder}/payload-dead.bin")
    store.put_object(f"{folder}/payload-0badc0de.bin", b"partial")
    time.sleep(1.1)  # S3 dates uploads to the second: these began before the next put
    data = random.Random(3).randbytes(6_000_000)
    manifest = store.put(key, data)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    kept = sorted(path.rsplit("/", 1)[1] for path in store.list(f"{folder}/"))
    assert kept == sorted(["manifest.json", manifest["payload"]])
    assert store.get(key) == data


RUNNER = """
import sys
import numpy as np
import pyarrow as pa
import slipstream as ss

@ss.op
def table(i: int) -> pa.RecordBatchReader:  # streamed: written as it is read
    batch = pa.record_batch({"i": np.full(500_000, i, dtype=np.int64)})
    return pa.RecordBatchReader.from_batches(batch.schema, [batch] * 8)

@ss.op
def blob(i: int) -> bytes:
    return bytes([i % 256]) * 6_000_000

@ss.op
def total(t: pa.Table, b: bytes) -> int:
    return int(pa.compute.sum(t["i"]).as_py()) + len(b)

print("ready", flush=True)
for i in range(1_000_000):
    # A new param each run: every op writes its outputs, cache entries and the run index.
    param = ss.param("i", default=0)
    flow = ss.Flow("crashing", outputs=[total(table(param), blob(param))])
    flow.run(sys.argv[1], run_id=f"{sys.argv[2]}-{i}", params={"i": i % 3})
"""


def test_killed_runs_never_show_a_partial_read_and_gc_reclaims_what_they_left(
    tmp_path: Path,
) -> None:
    """Runs killed at random points: mid-stream, mid-put, while writing cache entries and the
    run index. Every output a record names reads whole, every record and cache entry reads,
    the history lists every run, and `gc --orphans` leaves no temporary file and no payload
    that no manifest names."""
    import json
    from datetime import UTC, datetime, timedelta

    from slipstream.history import orphans
    from slipstream.records import files

    url = str(tmp_path / "store")
    root = tmp_path / "store"
    rng = random.Random(20261206)
    env = {**__import__("os").environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    script = tmp_path / "crashing.py"
    script.write_text(RUNNER)
    for kill in range(16):
        runner = subprocess.Popen([sys.executable, str(script), url, f"k{kill}"], env=env,
                                  stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert runner.stdout is not None and runner.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.2, 2.5))
        runner.send_signal(signal.SIGKILL)
        runner.wait()

    history = ss.open(url)
    runs = history.runs("crashing")
    assert runs and history.unreadable("crashing") == []
    assert {s.run_id for s in history.summaries("crashing")} == {r.run_id for r in runs}
    read = 0
    for run in runs:
        for name, op in run.ops.items():
            if op.status == "success":
                value = run[name]  # whole, or an error: never a partial value
                read += 1
                if name == "blob":
                    assert len(value) == 6_000_000 and len(set(value)) == 1
    assert read > 0
    for entry in root.glob("flows/crashing/cache/*/*.json"):
        files.read(ss.Store(url), str(entry.relative_to(root)), CacheEntry)
    for record in root.glob("flows/crashing/runs/*/run.json"):
        json.loads(record.read_text())  # written whole

    later = datetime.now(UTC) + timedelta(days=2)
    store = ss.Store(url)
    found = orphans.find(store, later)
    orphans.remove(store, found, later)
    assert not [p for p in root.rglob(".tmp-*")], "temporary files are reclaimed"
    for manifest in root.glob("ops/*/*/outputs/*/manifest.json"):
        payloads = {p.name for p in manifest.parent.glob("payload-*")}
        assert payloads == {json.loads(manifest.read_text())["payload"]}, manifest.parent
    for folder in root.glob("ops/*/*/outputs/*"):
        assert (folder / "manifest.json").exists() or not list(folder.glob("payload-*"))
    again = ss.open(url).runs("crashing")
    assert [r.run_id for r in again] == [r.run_id for r in runs]
