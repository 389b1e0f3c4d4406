"""Streamed outputs: an op returning a `pyarrow.RecordBatchReader` or a `polars.LazyFrame`
has it encoded into Parquet as its batches are read and uploaded as it is encoded (S3
multipart parts, or a temporary file renamed at the end). A stream that fails or a process
killed mid-stream leaves the output's previous artifact readable and nothing half-written
that a reader could take for data; the next put removes what was left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import slipstream as ss
from slipstream.runtime import preview as _preview

from tests.conftest import make_bucket

ROWS = 30_000
SCHEMA = pa.schema([("id", pa.int64()), ("kind", pa.dictionary(pa.int32(), pa.string()))])


def batches(rows: int, size: int = 1_000) -> Iterator[pa.RecordBatch]:
    for start in range(0, rows, size):
        ids = pa.array(range(start, min(start + size, rows)), pa.int64())
        kinds = pa.array(["click" if i % 3 else "view" for i in range(len(ids))])
        yield pa.record_batch([ids, kinds.dictionary_encode()], schema=SCHEMA)


@ss.op
def events() -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(SCHEMA, batches(ROWS))


@ss.op
def doubled(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.with_columns(twice=pl.col("id") * 2).filter(pl.col("kind") == "click")


@ss.op
def total(frame: pl.DataFrame) -> int:
    return int(frame["twice"].sum())


def streamed_flow() -> ss.Flow:
    return ss.Flow("streamed", outputs=[total(doubled(events()))])


def test_streamed_outputs_flow_through_a_run(store: ss.Store) -> None:
    run = streamed_flow().run(store.url)
    assert run.status == "success"
    clicks = [i for i in range(ROWS) if i % 1_000 % 3]
    assert run["total"] == 2 * sum(clicks)

    manifest = store.manifest(run.key("events"))
    assert (manifest["rows"], manifest["flavor"]) == (ROWS, "pyarrow.RecordBatchReader")
    assert manifest["payload"].startswith("payload-s"), "named before its checksum is known"
    lazy = store.manifest(run.key("doubled"))
    assert (lazy["rows"], lazy["flavor"]) == (len(clicks), "polars.LazyFrame")
    assert [c["name"] for c in lazy["schema"]] == ["id", "kind", "twice"]

    back = run["doubled"]  # the type that was stored: a LazyFrame, over the loaded frame
    assert isinstance(back, pl.LazyFrame)
    assert back.collect()["twice"].to_list() == [2 * i for i in clicks]
    reader = run["events"]
    assert isinstance(reader, pa.RecordBatchReader)
    table = reader.read_all()
    assert table.column("id").to_pylist() == list(range(ROWS))
    assert table.schema.field("kind").type == SCHEMA.field("kind").type


def test_a_streamed_output_is_previewed_from_its_first_rows(
    local_store: ss.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_preview, "STREAMED_ROWS", 2_500)
    run = streamed_flow().run(local_store.url)
    key = run.key("events")
    preview = json.loads(local_store.get_object(key.preview_path))
    assert (preview["kind"], preview["rows"], preview["profiled_rows"]) == ("frame", ROWS, 2_500)
    assert preview["head"]["rows"][:2] == [[0, "view"], [1, "click"]]
    ids = next(c for c in preview["profile"] if c["name"] == "id")
    assert (ids["min"], ids["max"]) == (0, 2_499), "the profile covers the rows kept"


def readings() -> Iterator[pa.RecordBatch]:
    yield from batches(2_000)
    raise ValueError("sensor 7 sent garbage")


@ss.op
def broken() -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(SCHEMA, readings())


def test_an_op_whose_stream_raises_fails_at_the_users_line(local_store: ss.Store) -> None:
    run = ss.Flow("broken_stream", outputs=[broken()]).run(local_store.url)
    assert run.status == "failed"
    error = run.ops["broken"].error
    assert error is not None
    assert (error.type, error.message) == ("ValueError", "sensor 7 sent garbage")
    assert any(f.function == "readings" for f in error.frames), error.frames


def test_readers_of_every_kind_are_streamed(local_store: ss.Store) -> None:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, SCHEMA) as writer:
        for batch in batches(3_000):
            writer.write_batch(batch)
    reader = pa.ipc.open_stream(sink.getvalue())  # a subclass of RecordBatchReader
    key = ss.ArtifactKey("streams", "run-1")
    manifest = local_store.put(key, reader)
    assert manifest["payload"].startswith("payload-s") and manifest["rows"] == 3_000
    assert manifest["flavor"] == "pyarrow.RecordBatchReader"


@pytest.mark.parametrize("where", ["local", "s3"])
def test_a_stream_that_fails_keeps_the_previous_artifact(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("SLIPSTREAM_S3_PART_SIZE_MB", "5")
    url = _url(where, tmp_path, request)
    store = ss.Store(url)
    key = ss.ArtifactKey("streams", "run-1")
    store.put(key, pa.RecordBatchReader.from_batches(SCHEMA, batches(2_000)))
    before = store.manifest(key)
    noise = _noise(2_500_000)  # ~19 MiB: the upload is in parts when the source fails

    def failing() -> Iterator[pa.RecordBatch]:
        yield from noise.to_batches(max_chunksize=250_000)
        raise ConnectionResetError("the source went away")

    with pytest.raises(ConnectionResetError, match="the source went away") as caught:
        store.put(key, pa.RecordBatchReader.from_batches(noise.schema, failing()))
    frames = [f.name for f in traceback.extract_tb(caught.value.__traceback__)]
    assert "failing" in frames, "the source's own exception, with its traceback"
    assert store.manifest(key) == before
    assert store.get(key).read_all().num_rows == 2_000
    folder = f"{key.manifest_path.rsplit('/', 1)[0]}/"
    assert sorted(store.list(folder)) == sorted([key.manifest_path, f"{folder}{before['payload']}"])
    assert not _partial(where, url, key), "no temporary file, no open upload is left"


def test_a_stream_of_many_parts_is_one_multipart_upload(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLIPSTREAM_S3_PART_SIZE_MB", "5")
    bucket = make_bucket(s3_endpoint)
    store = ss.Store(f"s3://{bucket}/p")
    key = ss.ArtifactKey("streams", "run-1")
    table = _noise(1_800_000)  # ~14 MiB of Parquet: three parts of 5 MiB
    manifest = store.put(key, pa.RecordBatchReader.from_batches(table.schema, table.to_batches()))
    assert manifest["bytes"] > 10 * 2**20
    folder = key.manifest_path.rsplit("/", 1)[0]
    head = boto3.client("s3").head_object(Bucket=bucket, Key=f"p/{folder}/{manifest['payload']}")
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # three parts
    assert head["ContentLength"] == manifest["bytes"]
    assert store.get(key).read_all().equals(table)

    small = store.put(key, pa.RecordBatchReader.from_batches(SCHEMA, batches(10)))
    assert small["bytes"] < 5 * 2**20  # one PUT
    assert store.get(key).read_all().num_rows == 10


def _noise(rows: int) -> pa.Table:
    """Values that do not compress, so that the payload's size is known in advance."""
    generator = np.random.default_rng(7)
    return pa.table({"x": generator.random(rows)})


KILLED_PRODUCER = """
import sys, time
from pathlib import Path
import numpy as np, pyarrow as pa, slipstream as ss

store, marker = ss.Store(sys.argv[1]), Path(sys.argv[2])
generator = np.random.default_rng(1)

def endless():
    for i in range(64):
        yield pa.record_batch({"x": generator.random(256 * 1024)})
    marker.write_text("sent")
    time.sleep(3600)  # killed here, mid-stream

schema = pa.schema([("x", pa.float64())])
store.put(ss.ArtifactKey("streams", "run-1"), pa.RecordBatchReader.from_batches(schema, endless()))
"""


@pytest.mark.parametrize("where", ["local", "s3"])
def test_a_process_killed_mid_stream_leaves_nothing_readable(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("SLIPSTREAM_S3_PART_SIZE_MB", "5")
    url = _url(where, tmp_path, request)
    store = ss.Store(url)
    key = ss.ArtifactKey("streams", "run-1")
    store.put(key, pd.DataFrame({"x": [1.0, 2.0]}))
    before = store.manifest(key)

    marker = tmp_path / "sent"
    script = tmp_path / "producer.py"
    script.write_text(textwrap.dedent(KILLED_PRODUCER))
    producer = subprocess.Popen([sys.executable, str(script), url, str(marker)], env=os.environ)
    try:
        deadline = time.monotonic() + 120
        while not (marker.exists() and _partial(where, url, key)):
            assert producer.poll() is None, "the producer ended before it was killed"
            assert time.monotonic() < deadline, "no partial payload appeared"
            time.sleep(0.2)
    finally:
        producer.send_signal(signal.SIGKILL)
        producer.wait()

    assert store.manifest(key) == before, "the previous artifact is still the output"
    assert store.get(key)["x"].tolist() == [1.0, 2.0]
    assert _partial(where, url, key), "the killed put left its partial payload behind"

    table = _noise(1_000_000)  # a multipart-sized put sweeps what the killed one left
    store.put(key, pa.RecordBatchReader.from_batches(table.schema, table.to_batches()))
    assert not _partial(where, url, key)
    assert store.get(key).read_all().equals(table)


def _url(where: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if where == "s3":
        return f"s3://{make_bucket(request.getfixturevalue('s3_endpoint'))}/p"
    return (tmp_path / "store").as_uri()


def _partial(where: str, url: str, key: ss.ArtifactKey) -> bool:
    """Whether a put left a partial payload: a temporary file, or an open multipart upload."""
    folder = key.manifest_path.rsplit("/", 1)[0]
    if where == "local":
        found = Path(url.removeprefix("file://"), folder)
        return found.exists() and any(p.name.startswith(".tmp-") for p in found.iterdir())
    bucket = url.removeprefix("s3://").split("/")[0]
    listed: dict[str, Any] = boto3.client("s3").list_multipart_uploads(
        Bucket=bucket, Prefix=f"p/{folder}/"
    )
    return bool(listed.get("Uploads"))
