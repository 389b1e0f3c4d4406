"""Lazy inputs: a parameter hinted `polars.LazyFrame`, `pyarrow.dataset.Dataset` or
`pyarrow.RecordBatchReader` gets a scan of a verified copy of the stored Parquet, removed
when the op ends; on the local store and on S3, in runs and in replays."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
import slipstream as ss
from slipstream.errors import CorruptArtifact
from slipstream.runtime.lazy import LazyInputs

ROWS = 10_000


@ss.op
def events() -> pd.DataFrame:
    return pd.DataFrame({"id": range(ROWS), "kind": ["click", "view"] * (ROWS // 2)})


@ss.op
def clicks(frame: pl.LazyFrame) -> int:
    assert isinstance(frame, pl.LazyFrame), type(frame)
    return int(frame.filter(pl.col("kind") == "click").select(pl.len()).collect().item())


@ss.op
def rows(dataset: ds.Dataset) -> int:
    assert isinstance(dataset, ds.Dataset), type(dataset)
    return int(dataset.count_rows(filter=ds.field("id") < 100))


@ss.op
def streamed(reader: pa.RecordBatchReader) -> int:
    assert isinstance(reader, pa.RecordBatchReader), type(reader)
    return sum(batch.num_rows for batch in reader)


def lazy_flow() -> ss.Flow:
    frame = events()
    return ss.Flow("lazy", outputs=[clicks(frame), rows(frame), streamed(frame)])


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.mark.parametrize("where", ["local", "s3"])
def test_lazy_hints_get_scans_of_the_stored_parquet(
    where: str, tmp_path: Path, temp_folder: Path, request: pytest.FixtureRequest
) -> None:
    if where == "s3":
        from tests.conftest import make_bucket

        url = f"s3://{make_bucket(request.getfixturevalue('s3_endpoint'))}/lazy"
    else:
        url = (tmp_path / "store").as_uri()
    flow = lazy_flow()
    assert flow.spec().ops[1].convert == {"frame": "polars-lazy"}
    run = flow.run(url)
    assert run.status == "success"
    assert run["clicks"] == ROWS // 2 and run["rows"] == 100 and run["streamed"] == ROWS
    assert list(temp_folder.iterdir()) == [], "the copies are removed when the op ends"

    replayed = run.ops["clicks"].inputs()  # a replay wraps the loaded frame
    assert isinstance(replayed["frame"], pl.LazyFrame)
    assert clicks.local(**replayed) == ROWS // 2


def test_a_corrupt_payload_is_refused_before_any_scan(tmp_path: Path, temp_folder: Path) -> None:
    store = ss.Store((tmp_path / "store").as_uri())
    key = ss.ArtifactKey("p", "r")
    store.put(key, pd.DataFrame({"a": range(1_000)}))
    payload = next((tmp_path / "store").rglob("payload-*.parquet"))
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0xFF
    payload.write_bytes(bytes(data))
    with LazyInputs() as lazy, pytest.raises(CorruptArtifact, match="checksum"):
        lazy.load(store, key, "polars-lazy", allow_pickle=False)
    assert list(temp_folder.iterdir()) == []


def test_a_lazy_hint_on_a_value_reads_the_value(tmp_path: Path) -> None:
    store = ss.Store((tmp_path / "store").as_uri())
    key = ss.ArtifactKey("p", "r")
    store.put(key, [1, 2, 3])
    with LazyInputs() as lazy:
        assert lazy.load(store, key, "arrow-reader", allow_pickle=False) == [1, 2, 3]


def test_datasets_are_never_stored_even_as_pickles(tmp_path: Path) -> None:
    """A scan points at a copy removed when its op ends: storing it would store a dangling
    path, so it is refused with the way out, pickling allowed or not. (A polars LazyFrame is
    a query polars runs: it is streamed into the store, see test_streamed_outputs.)"""
    from slipstream.errors import UnsupportedType

    store = ss.Store((tmp_path / "store").as_uri())
    with pytest.raises(UnsupportedType, match=r"dataset\.to_table\(\)"):
        store.put(ss.ArtifactKey("p", "r"), ds.dataset(pa.table({"a": [1]})), allow_pickle=True)
