"""Frames of pandas, polars and pyarrow round-trip as the same library's type, with schema,
nullability, dictionaries, time zones, nested types, empty and zero-column frames intact."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import slipstream as ss
from slipstream.errors import UnsupportedType


def roundtrip(store: ss.Store, value: object, output: str = "out") -> object:
    key = ss.ArtifactKey("frames", "manual__2026-11-23T18:50:11.286216+00:00", output)
    manifest = store.put(key, value)
    assert manifest["type"] == "frame" and manifest["codec"] == "parquet"
    assert store.manifest(key) == manifest
    return store.get(key)


def rich_pandas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": np.arange(5, dtype="int64"),
            "score": [0.5, np.nan, 1.5, np.inf, -0.0],
            "maybe": pd.array([1, None, 3, None, 5], dtype="Int64"),
            "city": pd.Categorical(["paris", "oslo", "paris", None, "lima"]),
            "at": pd.date_range("2026-11-23", periods=5, freq="h", tz="America/New_York"),
            "text": ["a", "ü", "", None, "long " * 20],
            "flag": [True, False, True, False, True],
        },
        index=pd.Index(["r1", "r2", "r3", "r4", "r5"], name="row"),
    )


def test_pandas_keeps_dtypes_index_and_values(store: ss.Store) -> None:
    df = rich_pandas()
    back = roundtrip(store, df)
    assert isinstance(back, pd.DataFrame)
    pd.testing.assert_frame_equal(back, df)
    assert isinstance(back["city"].dtype, pd.CategoricalDtype)
    assert str(back["at"].dtype.tz) == "America/New_York"


def test_categories_keep_order_unused_values_and_orderedness(store: ss.Store) -> None:
    df = pd.DataFrame(
        {
            "size": pd.Categorical(["m", "s", "m"], categories=["xl", "s", "m", "l"], ordered=True),
            "color": pd.Categorical(["red", None, "blue"], categories=["red", "green", "blue"]),
        }
    )
    back = roundtrip(store, df)
    pd.testing.assert_frame_equal(back, df)
    assert back["size"].cat.categories.tolist() == ["xl", "s", "m", "l"]
    assert back["size"].cat.ordered


def test_pandas_empty_and_zero_column_frames(local_store: ss.Store) -> None:
    empty = rich_pandas().iloc[0:0]
    back = roundtrip(local_store, empty, "empty")
    # pandas exports an empty frame as a stream of zero batches, which carries no
    # dictionary: the column stays categorical but its category list cannot be known.
    pd.testing.assert_frame_equal(back, empty, check_categorical=False)
    assert isinstance(back["city"].dtype, pd.CategoricalDtype)
    no_columns = pd.DataFrame(index=range(3))
    back = roundtrip(local_store, no_columns, "nocols")
    assert isinstance(back, pd.DataFrame)
    assert back.shape == (3, 0)


def test_manifest_describes_the_frame(local_store: ss.Store) -> None:
    key = ss.ArtifactKey("frames", "r1")
    manifest = local_store.put(key, rich_pandas())
    assert manifest["flavor"] == "pandas.DataFrame"
    assert manifest["python_type"] == "pandas.DataFrame"
    assert manifest["rows"] == 5
    names = [c["name"] for c in manifest["schema"]]
    assert names[:3] == ["id", "score", "maybe"]
    city = next(c for c in manifest["schema"] if c["name"] == "city")
    assert city["type"].startswith("Dictionary")
    assert {"python", "slipstream", "pandas", "pyarrow"} <= set(manifest["libraries"])
    assert manifest["bytes"] > 0 and manifest["checksum"].startswith("crc32c:")
    assert manifest["payload"].endswith(".parquet")


def nested_arrow() -> pa.Table:
    schema = pa.schema(
        [
            pa.field("id", pa.int32(), nullable=False),
            pa.field("tags", pa.list_(pa.string())),
            pa.field("point", pa.struct([("x", pa.float64()), ("y", pa.float64())])),
            pa.field("kind", pa.dictionary(pa.int16(), pa.string())),
            pa.field("at", pa.timestamp("ns", tz="Asia/Kolkata")),
            pa.field("day", pa.date32()),
            pa.field("amount", pa.decimal128(10, 2)),
        ],
        metadata={"origin": "test"},
    )
    return pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "tags": [["a", "b"], [], None],
            "point": [{"x": 1.0, "y": 2.0}, None, {"x": -1.0, "y": None}],
            "kind": pa.array(["u", "v", "u"])
            .dictionary_encode()
            .cast(pa.dictionary(pa.int16(), pa.string())),
            "at": pa.array([0, 10**18, None], pa.timestamp("ns", tz="Asia/Kolkata")),
            "day": [dt.date(2026, 11, 23), None, dt.date(1970, 1, 1)],
            "amount": pa.array([Decimal("1.25"), Decimal("-2.00"), None], pa.decimal128(10, 2)),
        },
        schema=schema,
    )


def test_pyarrow_table_keeps_schema_exactly(store: ss.Store) -> None:
    table = nested_arrow()
    back = roundtrip(store, table)
    assert isinstance(back, pa.Table)
    assert back.schema.equals(table.schema, check_metadata=True)
    assert back.equals(table)
    assert back.schema.field("id").nullable is False


def test_pyarrow_batch_and_reader_come_back_as_such(local_store: ss.Store) -> None:
    table = nested_arrow()
    batch = table.to_batches()[0]
    back = roundtrip(local_store, batch, "batch")
    assert isinstance(back, pa.RecordBatch)
    assert back.equals(batch)

    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1))
    back_reader = roundtrip(local_store, reader, "reader")
    assert isinstance(back_reader, pa.RecordBatchReader)
    assert back_reader.read_all().equals(table)


def test_pyarrow_empty_and_zero_column_tables(local_store: ss.Store) -> None:
    empty = nested_arrow().slice(0, 0)
    back = roundtrip(local_store, empty, "empty")
    assert back.num_rows == 0 and back.schema.equals(empty.schema)
    no_columns = pa.table({"a": [1, 2, 3, 4]}).drop_columns(["a"])
    back = roundtrip(local_store, no_columns, "nocols")
    assert (back.num_rows, back.num_columns) == (4, 0)


def rich_polars() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": pl.Series([1, 2, None], dtype=pl.Int64),
            "cat": pl.Series(["a", "b", "a"], dtype=pl.Categorical),
            "at": pl.Series(
                [dt.datetime(2026, 11, 23, 18, 50), None, dt.datetime(2000, 1, 1)],
                dtype=pl.Datetime("us", time_zone="Europe/Berlin"),
            ),
            "nums": [[1, 2], [], None],
            "obj": [{"k": 1, "v": "x"}, None, {"k": 3, "v": None}],
            "f": [1.5, float("nan"), None],
        }
    )


def test_polars_keeps_dtypes(store: ss.Store) -> None:
    df = rich_polars()
    back = roundtrip(store, df)
    assert isinstance(back, pl.DataFrame)
    assert back.schema == df.schema
    assert back.equals(df)


def test_polars_empty_and_zero_column_frames(local_store: ss.Store) -> None:
    empty = rich_polars().clear()
    back = roundtrip(local_store, empty, "empty")
    assert back.schema == empty.schema and back.height == 0
    back = roundtrip(local_store, pl.DataFrame(), "nocols")
    assert isinstance(back, pl.DataFrame) and back.shape == (0, 0)


@pytest.mark.parametrize("rows", [1, 300_000])
def test_large_frames_span_row_groups_in_order(store: ss.Store, rows: int) -> None:
    table = pa.table({"i": np.arange(rows), "s": pa.array([f"v{i % 97}" for i in range(rows)])})
    back = roundtrip(store, table, f"rows{rows}")
    assert back.equals(table)


# What a frame holds comes back exactly as it was, or is refused when it is stored: never
# changed on the way (labels, dtypes, None against NaN, category order, encodings).


def test_bool_column_labels_come_back_as_they_were(local_store: ss.Store) -> None:
    df = pd.DataFrame({True: [1], False: [2]})
    back = roundtrip(local_store, df)
    pd.testing.assert_frame_equal(back, df, check_dtype=True, check_exact=True)
    assert back.columns.tolist() == [True, False]
    assert back.columns.dtype == bool
    assert back[False].tolist() == [2]
    one = pd.DataFrame({False: ["x"]})
    pd.testing.assert_frame_equal(roundtrip(local_store, one, "one"), one)
    nullable = pd.DataFrame([[1, 2]], columns=pd.Index([False, True], dtype="boolean"))
    pd.testing.assert_frame_equal(roundtrip(local_store, nullable, "nullable"), nullable)


def test_object_columns_keep_none_and_their_dtype(local_store: ss.Store) -> None:
    df = pd.DataFrame(
        {
            "a": pd.Series(["x", None], dtype=object),
            "none": pd.Series([None, None], dtype=object),
            "ints": pd.Series([1, None], dtype=object),
            "text": ["x", None],  # str dtype (pandas 3): NaN is its missing value
        }
    )
    df.index = pd.Index(["i", None], dtype=object, name="key")
    df.columns = pd.Index(df.columns.tolist(), dtype=object)
    back = roundtrip(local_store, df)
    pd.testing.assert_frame_equal(back, df, check_dtype=True, check_exact=True)
    for column in ("a", "none", "ints"):
        assert back[column].dtype == object
    assert back["a"].tolist() == ["x", None] and isinstance(back["a"].iloc[1], type(None))
    assert isinstance(back["none"].iloc[0], type(None)) and isinstance(
        back["none"].iloc[1], type(None)
    )
    assert back["ints"].tolist() == [1, None] and type(back["ints"].iloc[0]) is int
    assert back["text"].dtype == df["text"].dtype and back["text"].isna().tolist() == [False, True]
    assert back.index.dtype == object and back.index.tolist() == ["i", None]
    assert back.columns.dtype == object


def test_string_categories_keep_their_order_and_orderedness(local_store: ss.Store) -> None:
    df = pd.DataFrame(
        {
            "ordered": pd.Categorical(["b", "a", "b"], categories=["b", "a"], ordered=True),
            "unordered": pd.Categorical(["a", "c", None], categories=["c", "b", "a"]),
        }
    )
    back = roundtrip(local_store, df)
    pd.testing.assert_frame_equal(back, df, check_dtype=True, check_categorical=True)
    assert back["ordered"].cat.categories.tolist() == ["b", "a"] and back["ordered"].cat.ordered
    assert back["unordered"].cat.categories.tolist() == ["c", "b", "a"]
    assert not back["unordered"].cat.ordered


def test_categories_parquet_would_reorder_are_refused(local_store: ss.Store) -> None:
    df = pd.DataFrame({"level": pd.Categorical([3, 1], categories=[1, 2, 3], ordered=True)})
    with pytest.raises(UnsupportedType, match=r"column 'level'.*categories.*str"):
        local_store.put(ss.ArtifactKey("frames", "r", "level"), df)


def arrow_of(series: pd.Series) -> pa.Array:
    array = pa.array(series.array)  # an ArrowDtype column's own Arrow data
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def test_arrow_dtype_columns_come_back_with_their_arrow_type(local_store: ss.Store) -> None:
    runs = pa.compute.run_end_encode(pa.array([1, 1, None, 2]))
    df = pd.DataFrame(
        {
            "runs": pd.arrays.ArrowExtensionArray(runs),
            "short": pd.arrays.ArrowExtensionArray(
                pa.compute.run_end_encode(pa.array(["a", "a", "b", None]), run_end_type=pa.int16())
            ),
            "tags": pd.arrays.ArrowExtensionArray(pa.array([["a"], [], None, ["b", "c"]])),
            "point": pd.arrays.ArrowExtensionArray(pa.array([{"x": 1}, None, {"x": 2}, {"x": 3}])),
            "n": pd.array([1, None, 3, 4], dtype="int64[pyarrow]"),
            "kind": pd.arrays.ArrowExtensionArray(
                pa.array(["u", None, "v", "u"]).dictionary_encode()
            ),
        }
    )
    encoded = ["runs", "short"]  # pandas' assert_frame_equal cannot compare these
    for name, frame in [("all", df), ("empty", df.iloc[0:0])]:
        back = roundtrip(local_store, frame, name)
        assert back.columns.tolist() == frame.columns.tolist()
        pd.testing.assert_frame_equal(
            back.drop(columns=encoded), frame.drop(columns=encoded), check_exact=True
        )
        for column in encoded:
            assert back[column].dtype == frame[column].dtype
            assert arrow_of(back[column]).equals(arrow_of(frame[column]))
    assert back["runs"].dtype == pd.ArrowDtype(pa.run_end_encoded(pa.int32(), pa.int64()))
    assert back["short"].dtype == pd.ArrowDtype(pa.run_end_encoded(pa.int16(), pa.string()))


def run_end_table() -> pa.Table:
    return pa.table({"id": [1, 2, 3], "r": pa.compute.run_end_encode(pa.array([7, 7, 8]))})


def test_run_end_encoded_arrow_columns_are_refused(local_store: ss.Store) -> None:
    with pytest.raises(UnsupportedType, match=r"column 'r' is run-end encoded.*run_end_decode"):
        local_store.put(ss.ArtifactKey("frames", "r", "table"), run_end_table())


def test_run_end_encoded_streams_are_refused(local_store: ss.Store) -> None:
    table = run_end_table()
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    with pytest.raises(UnsupportedType, match=r"column 'r' is run-end encoded.*run_end_decode"):
        local_store.put(ss.ArtifactKey("frames", "r", "reader"), reader)


def interval_table() -> pa.Table:
    mdn = pa.month_day_nano_interval()
    return pa.table({"every": pa.array([pa.MonthDayNano([1, 2, 3]), None], mdn)})


@pytest.mark.parametrize("kind", ["table", "batch", "pandas"])
def test_month_day_nano_intervals_are_refused(local_store: ss.Store, kind: str) -> None:
    table = interval_table()
    value = {
        "table": table,
        "batch": table.to_batches()[0],
        "pandas": table.to_pandas(types_mapper=pd.ArrowDtype),
    }[kind]
    with pytest.raises(
        UnsupportedType,
        match=r"column \"every\" of type Interval\(MonthDayNano\): month-day-nanosecond",
    ):
        local_store.put(ss.ArtifactKey("frames", "r", kind), value)


def test_complex_columns_are_refused(local_store: ss.Store) -> None:
    df = pd.DataFrame({"id": [1, 2], "z": np.array([1 + 2j, 3j])})
    with pytest.raises(UnsupportedType, match=r"column 'z'.*complex128.*real.*imag"):
        local_store.put(ss.ArtifactKey("frames", "r", "z"), df)


def test_what_cannot_be_stored_exactly_is_named() -> None:
    """The reasons the native store gives when it refuses a frame."""
    from slipstream.values.refusals import refusal

    assert refusal(rich_pandas()) is None and refusal(nested_arrow()) is None
    assert refusal(rich_polars()) is None
    complex_frame = pd.DataFrame({"z": np.array([1j], dtype=np.complex64)})
    assert "column 'z' holds complex numbers (complex64)" in (refusal(complex_frame) or "")
    levels = pd.DataFrame({"level": pd.Categorical([3, 1], categories=[1, 2, 3])})
    assert "column 'level' is a categorical of int64 categories" in (refusal(levels) or "")
    assert "column 'r' is run-end encoded" in (refusal(run_end_table()) or "")
    assert "column 'r' is run-end encoded" in (refusal(run_end_table().to_batches()[0]) or "")
    nested = pa.table({"l": pa.array([[pa.MonthDayNano([1, 2, 3])]])})
    assert refusal(nested) is None  # refused by the native codec, which names its type
    arrow_dtyped = pd.DataFrame({"r": pd.arrays.ArrowExtensionArray(run_end_table()["r"])})
    assert refusal(arrow_dtyped) is None  # pandas records the type: it comes back encoded
