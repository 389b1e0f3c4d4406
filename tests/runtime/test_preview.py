"""Previews and profiles written with every output: their contents for each type, their caps,
and that a value that cannot be previewed still stores."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import slipstream as ss
from PIL import Image
from slipstream.runtime import preview as _preview
from slipstream.runtime.attempt import run_op


def stored_preview(store: ss.Store, value: Any, prefix: str = "p1") -> dict[str, Any]:
    record = run_op(lambda: value, store=store, op_prefix=prefix, run_id="manual__1")
    assert record.status == "success", record.error
    return json.loads(store.get_object(ss.ArtifactKey(prefix, "manual__1").preview_path))  # type: ignore[no-any-return]


def test_frame_preview_has_first_rows_and_a_profile_per_column(store: ss.Store) -> None:
    frame = pd.DataFrame(
        {
            "x": [float(i) for i in range(100)] + [None],
            "city": ["Oslo", "Lima"] * 50 + [None],
            "day": pd.date_range("2026-01-01", periods=101),
            "<script>alert(1)</script>": [True] * 101,
        }
    )
    p = stored_preview(store, frame)
    assert p["kind"] == "frame" and p["rows"] == 101 and p["columns"] == 4
    assert p["head"]["columns"] == list(frame.columns)
    assert len(p["head"]["rows"]) == _preview.ROWS
    assert p["head"]["rows"][1][:2] == [1.0, "Lima"]
    x, city, day, flag = p["profile"]
    assert (x["type"], x["nulls"], x["min"], x["max"], x["mean"]) == ("Float64", 1, 0.0, 99.0, 49.5)
    assert sum(x["histogram"]["counts"]) == 100 and len(x["histogram"]["edges"]) == 11
    assert x["histogram"]["counts"] == [10] * 10
    assert (x["distinct"], x["distinct_exact"]) == (100, True), "counted: nulls are no value"
    assert (city["distinct"], city["distinct_exact"]) == (2, True)
    assert (city["type"], city["nulls"], city["min"], city["max"]) == ("String", 1, "Lima", "Oslo")
    assert "histogram" not in city
    assert day["min"].startswith("2026-01-01") and day["max"].startswith("2026-04-11")
    assert flag["name"] == "<script>alert(1)</script>" and flag["nulls"] == 0


def test_beyond_the_exact_limit_distinct_values_are_estimated_never_above_the_values(
    local_store: ss.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_preview, "EXACT_DISTINCT", 10)
    frame = pl.DataFrame({"id": list(range(1674)), "half": [None, 1.5] * 837})
    ids, half = stored_preview(local_store, frame)["profile"]
    assert not ids.get("distinct_exact") and 1600 <= ids["distinct"] <= 1674
    assert (half["nulls"], half["distinct"], half.get("distinct_exact", False)) == (837, 1, False)


def test_frame_previews_are_capped_whatever_the_size(local_store: ss.Store) -> None:
    wide = pl.DataFrame({f"c{i}": ["y" * 1000] * 50 for i in range(_preview.COLUMNS + 5)})
    p = stored_preview(local_store, wide)
    assert p["columns"] == _preview.COLUMNS + 5 and p["columns_shown"] == _preview.COLUMNS
    assert len(p["head"]["columns"]) == len(p["profile"]) == _preview.COLUMNS
    cell = p["head"]["rows"][0][0]
    assert len(cell) == _preview.CELL and cell.endswith("…")


def test_arrow_frames_nan_and_constant_columns(local_store: ss.Store) -> None:
    table = pa.table({"v": [1.5, float("nan"), 1.5, float("inf")], "k": [7, 7, 7, 7]})
    p = stored_preview(local_store, table)
    v, k = p["profile"]
    assert p["head"]["rows"][1][0] == "nan"  # JSON has no NaN: shown as text
    assert (v["min"], v["max"], v["mean"]) == (1.5, 1.5, 1.5)  # non-finite values left out
    assert k["histogram"] == {"edges": [7.0, 7.0], "counts": [4]}


def test_image_preview_is_a_capped_thumbnail(local_store: ss.Store) -> None:
    image = Image.new("RGB", (1200, 300), (200, 10, 10))
    p = stored_preview(local_store, image)
    assert (p["kind"], p["width"], p["height"], p["mode"]) == ("image", 1200, 300, "RGB")
    thumb = Image.open(io.BytesIO(base64.b64decode(p["thumbnail"])))
    assert thumb.format == "PNG" and thumb.size == (_preview.THUMBNAIL, 64)
    assert thumb.getpixel((5, 5)) == (200, 10, 10)


def test_values_arrays_and_bytes(local_store: ss.Store) -> None:
    assert stored_preview(local_store, 0.93, "n")["value"] == 0.93
    text = stored_preview(local_store, "ab" * 5000, "t")
    assert text["kind"] == "text" and text["length"] == 10000 and text["truncated"]
    assert len(text["text"]) == _preview.TEXT
    tree = stored_preview(local_store, {"model": "ridge", "coef": [1, 2]}, "j")
    assert tree["kind"] == "json" and json.loads(tree["text"]) == {"model": "ridge", "coef": [1, 2]}
    array = stored_preview(local_store, np.arange(12, dtype=np.int32).reshape(3, 4), "a")
    assert (array["kind"], array["shape"], array["dtype"]) == ("array", [3, 4], "int32")
    assert "[ 8  9 10 11]" in array["text"]
    raw = stored_preview(local_store, b"\x00\xffab", "b")
    assert (raw["kind"], raw["length"], raw["hex"]) == ("bytes", 4, "00 ff 61 62")


def test_a_consumed_stream_is_previewed_from_what_was_stored(local_store: ss.Store) -> None:
    reader = pa.RecordBatchReader.from_batches(
        pa.schema([("a", pa.int64())]), [pa.record_batch({"a": [1, 2]})]
    )
    p = stored_preview(local_store, reader)
    assert (p["kind"], p["rows"], p["head"]["rows"]) == ("frame", 2, [[1], [2]])


def test_a_value_that_cannot_be_previewed_still_stores(
    local_store: ss.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(value: Any) -> dict[str, Any]:
        raise ValueError("profile failed")

    monkeypatch.setattr(_preview, "_frame", broken)
    p = stored_preview(local_store, pd.DataFrame({"a": [1]}))
    assert p == {"format": 2, "kind": "none", "reason": "no preview: ValueError: profile failed"}
    assert local_store.get(ss.ArtifactKey("p1", "manual__1"))["a"].tolist() == [1]


@pytest.mark.parametrize("value", [float("nan"), {"k": float("inf")}])
def test_previews_are_strict_json(local_store: ss.Store, value: Any) -> None:
    p = stored_preview(local_store, value)
    json.dumps(p, allow_nan=False)
