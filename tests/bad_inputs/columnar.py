"""polars and pyarrow frames and streams, and PIL images."""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from tests.bad_inputs.support import (
    Refused,
    _column,
    _image,
    _opened,
    _pattern,
    _polars_numbers,
)

CASES: dict[str, tuple[Callable[[], Any], Refused | None]] = {
    # polars
    "polars frame": (lambda: pl.DataFrame({"a": [1, None], "b": ["x", "y"]}), None),
    "polars all-null column": (lambda: pl.DataFrame({"a": [None, None]}), None),
    "polars object": (
        lambda: pl.DataFrame({"a": [object()]}, schema={"a": pl.Object}),
        Refused('column "a" of type Object holds Python objects'),
    ),
    "polars Int128": (
        lambda: pl.DataFrame({"a": [1]}, schema={"a": pl.Int128}),
        Refused("128-bit"),
    ),
    "polars Int128 in a struct": (
        lambda: pl.DataFrame({"s": [{"x": 1}]}, schema={"s": pl.Struct({"x": pl.Int128})}),
        Refused("column \"s\" of type Struct({'x': Int128}) holds 128-bit integers"),
    ),
    "polars UInt128 in an array": (
        lambda: pl.DataFrame({"a": [[1, 2]]}, schema={"a": pl.Array(pl.UInt128, 2)}),
        Refused('column "a" of type Array(UInt128'),
    ),
    "polars list of nulls": (lambda: pl.DataFrame({"l": [[None], []]}), None),
    "polars struct with a null field": (lambda: pl.DataFrame({"s": [{"x": None, "y": 1}]}), None),
    "polars struct": (lambda: pl.DataFrame({"s": [{"a": 1}, {"a": 2}]}), None),
    "polars struct without fields": (
        lambda: pl.DataFrame({"s": [{}]}),
        Refused("structs with no fields cannot be stored"),
    ),
    "polars list of categoricals": (
        lambda: pl.DataFrame({"l": [["a", "b"]]}, schema={"l": pl.List(pl.Categorical)}),
        Refused("categoricals inside a list or struct"),
    ),
    "polars struct of an enum": (
        lambda: pl.DataFrame(
            {"s": [{"e": "x"}]}, schema={"s": pl.Struct({"e": pl.Enum(["x", "y"])})}
        ),
        Refused("categoricals inside a list or struct"),
    ),
    "polars lazy list of categoricals": (
        lambda: pl.LazyFrame({"l": [["a", "b"]]}, schema={"l": pl.List(pl.Categorical)}),
        None,
    ),
    "polars list": (lambda: pl.DataFrame({"l": [[1, 2], []]}), None),
    "polars series": (lambda: pl.Series("a", [1, 2]), Refused("to_frame")),
    "polars lazy frame": (lambda: pl.LazyFrame({"a": [1], "n": [None]}).select(pl.all()), None),
    "polars lazy object": (
        lambda: pl.LazyFrame({"a": [object()]}, schema={"a": pl.Object}),
        Refused('column "a" of type Object holds Python objects'),
    ),
    "arrow reader": (
        lambda: pa.RecordBatchReader.from_batches(
            pa.schema([("a", pa.int64())]), [pa.record_batch({"a": [1, 2]})] * 2
        ),
        None,
    ),
    "arrow dataset": (lambda: ds.dataset(pa.table({"a": [1]})), Refused("dataset.to_table()")),
    "polars every numeric dtype": (lambda: _polars_numbers(), None),
    "polars Float16": (lambda: pl.DataFrame({"f": [1.5, None]}, schema={"f": pl.Float16}), None),
    "polars Date": (lambda: pl.DataFrame({"d": [datetime.date(2026, 1, 1), None]}), None),
    **{
        f"polars Datetime({unit}, tz)": (
            lambda unit=unit: pl.DataFrame(
                {"t": [datetime.datetime(2026, 1, 1), None]},
                schema={"t": pl.Datetime(unit, "Asia/Tokyo")},
            ),
            None,
        )
        for unit in ["ms", "us", "ns"]
    },
    "polars Duration": (
        lambda: pl.DataFrame(
            {"d": [datetime.timedelta(seconds=1), None]}, schema={"d": pl.Duration("ns")}
        ),
        None,
    ),
    "polars Time": (lambda: pl.DataFrame({"t": [datetime.time(1, 2, 3, 4), None]}), None),
    "polars Categorical": (
        lambda: pl.DataFrame({"c": ["b", "a", None]}, schema={"c": pl.Categorical}),
        None,
    ),
    "polars Enum": (
        lambda: pl.DataFrame({"e": ["b", "a"]}, schema={"e": pl.Enum(["b", "c", "a"])}),
        None,
    ),
    "polars Decimal": (
        lambda: pl.DataFrame(
            {"d": [decimal.Decimal("1.50"), None]}, schema={"d": pl.Decimal(10, 2)}
        ),
        None,
    ),
    "polars list of struct": (
        lambda: pl.DataFrame({"l": [[{"a": 1, "b": [1.5]}], [], None]}),
        None,
    ),
    "polars struct of struct": (lambda: pl.DataFrame({"s": [{"a": {"b": 1}}, None]}), None),
    "polars list of lists": (lambda: pl.DataFrame({"l": [[[1], []], None]}), None),
    "polars Array": (
        lambda: pl.DataFrame({"a": [[1, 2], None]}, schema={"a": pl.Array(pl.Int32, 2)}),
        None,
    ),
    "polars Binary": (lambda: pl.DataFrame({"b": [b"\x00\xff", b"", None]}), None),
    "polars String": (lambda: pl.DataFrame({"s": ["é\x00🚀", "", None]}), None),
    "polars NaN": (lambda: pl.DataFrame({"f": [math.nan, -0.0, None]}), None),
    "polars zero columns": (lambda: pl.DataFrame(), None),
    "polars zero rows": (lambda: pl.DataFrame(schema={"a": pl.Int8, "b": pl.String}), None),
    "polars Null with zero rows": (lambda: pl.DataFrame(schema={"n": pl.Null}), None),
    "polars chunked": (
        lambda: pl.concat([pl.DataFrame({"a": [1]}), pl.DataFrame({"a": [2]})], rechunk=False),
        None,
    ),
    "polars Decimal(38, 0)": (
        lambda: pl.DataFrame({"d": [decimal.Decimal("1" * 38)]}, schema={"d": pl.Decimal(38, 0)}),
        None,
    ),
    "polars negative Duration": (
        lambda: pl.DataFrame({"t": [datetime.timedelta(days=-1)]}, schema={"t": pl.Duration("ms")}),
        None,
    ),
    "polars list of Null": (
        lambda: pl.DataFrame({"a": [None]}, schema={"a": pl.List(pl.Null)}),
        None,
    ),
    "polars lazy Categorical": (
        lambda: pl.LazyFrame({"c": ["b", "a"]}, schema={"c": pl.Categorical}),
        None,
    ),
    "polars lazy Enum": (
        lambda: pl.LazyFrame({"c": ["b", "a"]}, schema={"c": pl.Enum(["c", "b", "a"])}),
        None,
    ),
    "polars lazy Array": (
        lambda: pl.LazyFrame({"l": [[1.5, None]]}, schema={"l": pl.Array(pl.Float64, 2)}),
        None,
    ),
    "polars empty lazy frame": (lambda: pl.LazyFrame(), None),
    "polars lazy zero rows": (lambda: pl.LazyFrame(schema={"a": pl.Int64}), None),
    "polars lazy Int128": (
        lambda: pl.LazyFrame({"a": [1]}, schema={"a": pl.Int128}),
        Refused("128-bit"),
    ),
    # pyarrow
    "arrow dictionary of nulls only": (
        lambda: pa.table({"d": pa.array([None, None], pa.string()).dictionary_encode()}),
        Refused("column 'd' is a dictionary column with no values"),
    ),
    "arrow table": (lambda: pa.table({"a": [1, 2]}), None),
    "arrow empty table": (lambda: pa.table({"a": pa.array([], pa.int64())}), None),
    "arrow dictionary": (lambda: pa.table({"d": pa.array(["a", "b"]).dictionary_encode()}), None),
    "arrow decimal": (lambda: pa.table({"d": pa.array([1], pa.decimal128(10, 2))}), None),
    "arrow array": (lambda: pa.array([1, 2]), Refused("pa.table")),
    "arrow chunked array": (lambda: pa.chunked_array([[1], [2]]), Refused("pa.table")),
    "arrow decimal256": (
        lambda: _column(pa.array([decimal.Decimal("1.5"), None], pa.decimal256(40, 2))),
        None,
    ),
    "arrow decimal32": (
        lambda: _column(pa.array([decimal.Decimal("1.5")], pa.decimal32(5, 2))),
        None,
    ),
    "arrow large_string": (lambda: _column(pa.array(["a", None], pa.large_string())), None),
    "arrow large_binary": (lambda: _column(pa.array([b"a", None], pa.large_binary())), None),
    "arrow string_view": (lambda: _column(pa.array(["a" * 20, None], pa.string_view())), None),
    "arrow binary_view": (lambda: _column(pa.array([b"a", None], pa.binary_view())), None),
    "arrow fixed_size_binary": (lambda: _column(pa.array([b"abc", None], pa.binary(3))), None),
    "arrow fixed_size_list": (
        lambda: _column(pa.array([[1, 2], None], pa.list_(pa.int32(), 2))),
        None,
    ),
    "arrow large_list": (lambda: _column(pa.array([[1], None], pa.large_list(pa.int8()))), None),
    "arrow list_view": (lambda: _column(pa.array([[1], None], pa.list_view(pa.int8()))), None),
    "arrow map": (
        lambda: _column(pa.array([[("a", 1)], None, []], pa.map_(pa.string(), pa.int64()))),
        None,
    ),
    "arrow dictionary of ints": (
        lambda: _column(
            pa.DictionaryArray.from_arrays(pa.array([1, 0, None], pa.int8()), pa.array([10, 20]))
        ),
        Refused("column 'a' is dictionary-encoded with int64 values"),
    ),
    "arrow ordered dictionary": (
        lambda: _column(
            pa.DictionaryArray.from_arrays(
                pa.array([1, 0], pa.int16()), pa.array(["b", "a"]), ordered=True
            )
        ),
        None,
    ),
    **{
        f"arrow timestamp({unit}, tz)": (
            lambda unit=unit: _column(
                pa.array([0, None], pa.timestamp(unit, tz="America/New_York"))
            ),
            None,
        )
        for unit in ["s", "ms", "us", "ns"]
    },
    "arrow timestamp without tz": (lambda: _column(pa.array([0, None], pa.timestamp("s"))), None),
    **{
        f"arrow duration({unit})": (
            lambda unit=unit: _column(pa.array([-1, None], pa.duration(unit))),
            None,
        )
        for unit in ["s", "ms", "us", "ns"]
    },
    "arrow date32": (lambda: _column(pa.array([0, None], pa.date32())), None),
    "arrow date64": (lambda: _column(pa.array([86_400_000, None], pa.date64())), None),
    "arrow time32": (lambda: _column(pa.array([1, None], pa.time32("ms"))), None),
    "arrow time64": (lambda: _column(pa.array([1, None], pa.time64("ns"))), None),
    "arrow float16": (lambda: _column(pa.array([np.float16(1.5), None], pa.float16())), None),
    "arrow uint64 max": (lambda: _column(pa.array([2**64 - 1, None], pa.uint64())), None),
    "arrow null column": (lambda: _column(pa.nulls(3)), None),
    "arrow not-null field": (
        lambda: pa.table({"a": [1]}, schema=pa.schema([pa.field("a", pa.int64(), nullable=False)])),
        None,
    ),
    "arrow metadata": (
        lambda: pa.table({"a": [1]}).replace_schema_metadata({"who": "me"}),
        None,
    ),
    "arrow zero columns": (lambda: pa.table({}), None),
    "arrow chunked table": (lambda: pa.concat_tables([pa.table({"a": [1]})] * 3), None),
    "arrow nested struct of list": (
        lambda: _column(pa.array([{"a": {"l": [1, None]}}, None])),
        None,
    ),
    "arrow empty struct": (
        lambda: _column(pa.array([{}, None], pa.struct([]))),
        Refused('column "a" of type Struct(): structs with no fields cannot be stored'),
    ),
    "arrow dense union": (
        lambda: _column(
            pa.UnionArray.from_dense(
                pa.array([0, 1], pa.int8()),
                pa.array([0, 0], pa.int32()),
                [pa.array([1]), pa.array(["a"])],
            )
        ),
        Refused("union"),
    ),
    "arrow sparse union": (
        lambda: _column(
            pa.UnionArray.from_sparse(
                pa.array([0, 1], pa.int8()), [pa.array([1, 2]), pa.array(["a", "b"])]
            )
        ),
        Refused("union"),
    ),
    "arrow month_day_nano_interval": (
        lambda: _column(pa.array([(1, 2, 3)], pa.month_day_nano_interval())),
        Refused("month-day"),
    ),
    "arrow run_end_encoded": (
        lambda: _column(pc.run_end_encode(pa.array([1, 1, 2]))),
        Refused("run-end"),
    ),
    "arrow dictionary of dates": (
        lambda: _column(
            pa.DictionaryArray.from_arrays(
                pa.array([1, 0], pa.int8()),
                pa.array([datetime.date(2026, 1, 1), datetime.date(2025, 1, 1)]),
            )
        ),
        Refused("is dictionary-encoded with date32[day] values"),
    ),
    "arrow dictionary of binary": (
        lambda: _column(
            pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int8()), pa.array([b"a", b"b"]))
        ),
        Refused("is dictionary-encoded with binary values"),
    ),
    "arrow dictionary with unused strings": (
        lambda: _column(
            pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int8()), pa.array(["a", "b", "c"]))
        ),
        None,
    ),
    "arrow dictionary of large_string": (
        lambda: _column(
            pa.DictionaryArray.from_arrays(
                pa.array([1, 0], pa.int8()), pa.array(["a", "b"], pa.large_string())
            )
        ),
        None,
    ),
    "arrow dictionary of string_view": (
        lambda: _column(
            pa.DictionaryArray.from_arrays(
                pa.array([1, 0], pa.int8()), pa.array(["a", "b"], pa.string_view())
            )
        ),
        None,
    ),
    "arrow dictionary with uint32 indices": (
        lambda: _column(
            pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.uint32()), pa.array(["a", "b", "c"]))
        ),
        None,
    ),
    "arrow empty dictionary with no rows": (
        lambda: _column(
            pa.DictionaryArray.from_arrays(pa.array([], pa.int8()), pa.array([], pa.string()))
        ),
        None,
    ),
    "arrow dictionary in a list": (
        lambda: _column(
            pa.ListArray.from_arrays(
                pa.array([0, 2]),
                pa.DictionaryArray.from_arrays(
                    pa.array([1, 0], pa.int8()), pa.array(["a", "b", "c"])
                ),
            )
        ),
        Refused("column 'a' holds dictionary-encoded values"),
    ),
    "arrow dictionary in a struct": (
        lambda: _column(
            pa.StructArray.from_arrays(
                [pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int8()), pa.array(["a", "b"]))],
                ["d"],
            )
        ),
        Refused("column 'a' holds dictionary-encoded values"),
    ),
    "arrow empty struct in a list": (
        lambda: _column(pa.array([[{}]], pa.list_(pa.struct([])))),
        Refused("structs with no fields cannot be stored"),
    ),
    "arrow map with sorted keys": (
        lambda: _column(pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64(), keys_sorted=True))),
        Refused("holds maps with sorted keys"),
    ),
    "arrow reader with a dictionary of ints": (
        lambda: pa.RecordBatchReader.from_batches(
            pa.schema([("d", pa.dictionary(pa.int8(), pa.int64()))]), []
        ),
        Refused("column 'd' is dictionary-encoded"),
    ),
    "arrow bool8": (
        lambda: _column(pa.ExtensionArray.from_storage(pa.bool8(), pa.array([1, 0], pa.int8()))),
        None,
    ),
    "arrow fixed_shape_tensor": (
        lambda: _column(
            pa.FixedShapeTensorArray.from_numpy_ndarray(np.ones((2, 2, 2), np.float32))
        ),
        None,
    ),
    "arrow field metadata": (
        lambda: pa.table({"a": [1]}).cast(
            pa.schema([pa.field("a", pa.int64(), metadata={"unit": "m"})])
        ),
        None,
    ),
    "arrow duplicate column names": (
        lambda: pa.table([pa.array([1]), pa.array(["x"])], names=["a", "a"]),
        None,
    ),
    "arrow empty column name": (lambda: pa.table({"": [1], "a.b": [2]}), None),
    "arrow list of null": (lambda: _column(pa.array([None, [None]], pa.list_(pa.null()))), None),
    "arrow non-nullable list items": (
        lambda: _column(pa.array([[1]], pa.list_(pa.field("item", pa.int64(), nullable=False)))),
        None,
    ),
    "arrow decimal256(76, 0)": (
        lambda: _column(pa.array([decimal.Decimal("9" * 76)], pa.decimal256(76, 0))),
        None,
    ),
    "arrow large_list_view": (
        lambda: _column(pa.array([[1], None], pa.large_list_view(pa.int8()))),
        None,
    ),
    "arrow timestamp with an offset": (
        lambda: _column(pa.array([datetime.datetime(2026, 1, 1)], pa.timestamp("us", tz="+05:30"))),
        None,
    ),
    "arrow sliced table": (lambda: pa.table({"a": pa.array(range(10))}).slice(3, 4), None),
    "arrow uuid": (lambda: _column(pa.array([uuid.UUID(int=1).bytes], pa.uuid())), None),
    "arrow json": (lambda: _column(pa.array(['{"a": 1}'], pa.json_())), None),
    "arrow record batch": (lambda: pa.record_batch({"a": [1, 2], "b": ["x", None]}), None),
    "arrow empty record batch": (lambda: pa.record_batch({"a": pa.array([], pa.int64())}), None),
    "arrow empty reader": (
        lambda: pa.RecordBatchReader.from_batches(pa.schema([("a", pa.int64())]), []),
        None,
    ),
    "arrow reader with a union": (
        lambda: pa.RecordBatchReader.from_batches(
            pa.schema([("u", pa.sparse_union([pa.field("i", pa.int64())]))]), []
        ),
        Refused("union"),
    ),
    # PIL
    "image L": (lambda: _image("L"), None),
    "image RGB": (lambda: _image("RGB"), None),
    "image RGBA": (lambda: _image("RGBA"), None),
    "image 1": (lambda: _image("1"), None),
    "image I;16": (lambda: _image("I;16"), None),
    "image P": (lambda: _image("P"), Refused("mode")),
    "image 0x0": (lambda: _image("RGB", (0, 0)), Refused("no pixels")),
    "image CMYK": (lambda: _image("CMYK"), Refused("mode")),
    "image I": (lambda: _image("I"), Refused("mode")),
    "image F": (lambda: _image("F"), Refused("mode")),
    "image I;16B": (lambda: _image("I;16B"), Refused("mode")),
    "image LA": (lambda: _pattern("LA"), None),
    "image La": (lambda: _image("La"), Refused("mode")),
    "image RGBa": (lambda: _image("RGBa"), Refused("mode")),
    "image PA": (lambda: _image("PA"), Refused("mode")),
    "image RGBX": (lambda: _image("RGBX"), Refused("mode")),
    "image YCbCr": (lambda: _image("YCbCr"), Refused("mode")),
    "image HSV": (lambda: _image("HSV"), Refused("mode")),
    "image LAB": (lambda: _image("LAB"), Refused("mode")),
    "image L pattern": (lambda: _pattern("L"), None),
    "image RGB pattern": (lambda: _pattern("RGB"), None),
    "image RGBA pattern": (lambda: _pattern("RGBA"), None),
    "image I;16 pattern": (lambda: _pattern("I;16"), None),
    "image 1x10000": (lambda: _pattern("RGB", (1, 10000)), None),
    "image 10000x1": (lambda: _pattern("L", (10000, 1)), None),
    "image 1-bit 7x3": (lambda: _pattern("1", (7, 3)), None),
    "image 1-bit 9x2": (lambda: _pattern("1", (9, 2)), None),
    "image 1-bit 1x1": (lambda: _pattern("1", (1, 1)), None),
    "image 0 wide": (lambda: _image("L", (0, 5)), Refused("no pixels")),
    "image opened from PNG": (lambda: _opened(_pattern("RGBA")), None),
}
