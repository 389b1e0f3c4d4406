"""The bad-input catalogue: values and calls a user may hand slipstream, each of which either
comes back exactly as it went in or is refused with a `SlipstreamError` naming the output or
what to pass instead. Never a value that comes back different, never a raw library error."""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import pathlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
import slipstream as ss
from PIL import Image
from slipstream.errors import SlipstreamError


@dataclass
class Refused:
    """The put is refused with an error of this type whose message holds `says`."""

    says: str
    kind: type[Exception] = SlipstreamError


class Colour(enum.IntEnum):
    RED = 1


def _deep(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def _image(mode: str, size: tuple[int, int] = (3, 2)) -> Image.Image:
    return Image.new(mode, size)


CASES: dict[str, tuple[Callable[[], Any], Refused | None]] = {
    # values: trees of builtins
    "none": (lambda: None, None),
    "huge int": (lambda: 2**200, None),
    "negative zero": (lambda: -0.0, None),
    "nan": (lambda: math.nan, None),
    "minus inf": (lambda: -math.inf, None),
    "empty string": (lambda: "", None),
    "nul in string": (lambda: "a\x00b", None),
    "astral string": (lambda: "🚀" * 1000, None),
    "lone surrogate": (lambda: "a\ud800b", Refused("surrogate")),
    "bytes with every value": (lambda: bytes(range(256)), None),
    "bytearray": (lambda: bytearray(b"xy"), None),
    "nested 200": (lambda: _deep(200), None),
    "nested 5000": (lambda: _deep(5000), Refused("nested deeper than")),
    "dict of mixed keys": (lambda: {1: "a", "1": "b", (1, 2): None}, None),
    "tuple in list": (lambda: [(1, 2), (3,)], None),
    "set": (lambda: {1, 2}, Refused('"out"')),
    "frozenset": (lambda: frozenset({1}), Refused('"out"')),
    "complex": (lambda: 1 + 2j, Refused('"out"')),
    "object": (lambda: object(), Refused('"out"')),
    "function": (lambda: len, Refused('"out"')),
    "generator": (lambda: (i for i in range(3)), Refused('"out"')),
    "set inside a list": (lambda: [1, {2}], Refused("value[1]")),
    "empty dict": (lambda: {}, None),
    "decimal": (lambda: decimal.Decimal("1.5"), Refused('"out"')),
    "datetime": (lambda: datetime.datetime(2026, 1, 1), Refused('"out"')),
    "path": (lambda: pathlib.Path("/tmp"), Refused('"out"')),
    "range": (lambda: range(3), Refused('"out"')),
    "enum member": (lambda: Colour.RED, Refused('"out"')),
    "memoryview": (lambda: memoryview(b"ab"), Refused('"out"')),
    # numpy
    "int8 array": (lambda: np.arange(-5, 5, dtype=np.int8), None),
    "uint64 max": (lambda: np.array([2**64 - 1], dtype=np.uint64), None),
    "float16": (lambda: np.array([1.5, np.nan], dtype=np.float16), None),
    "complex128": (lambda: np.array([1 + 2j]), None),
    "bool array": (lambda: np.array([True, False]), None),
    "datetime64": (lambda: np.array(["2026-01-01", "NaT"], dtype="datetime64[ns]"), None),
    "timedelta64": (lambda: np.array([1, 2], dtype="timedelta64[s]"), None),
    "unicode U": (lambda: np.array(["a", "ßü"]), None),
    "bytes S": (lambda: np.array([b"a", b"bc"]), None),
    "0-d array": (lambda: np.array(3.5), None),
    "empty 2-d": (lambda: np.empty((0, 3)), None),
    "fortran order": (lambda: np.asfortranarray(np.arange(6).reshape(2, 3)), None),
    "numpy scalar": (lambda: np.float32(2.5), None),
    "object array": (lambda: np.array([1, "a"], dtype=object), Refused("object")),
    "structured array": (lambda: np.zeros(2, dtype=[("a", "i4")]), Refused("structured")),
    "StringDType": (
        lambda: np.array(["a", "bb"], dtype=np.dtypes.StringDType()),
        Refused("StringDType"),
    ),
    "masked array": (lambda: np.ma.masked_array([1, 2], mask=[0, 1]), Refused("asarray")),
    "matrix": (lambda: np.asmatrix([[1, 2]]), Refused("asarray")),
    # pandas
    "empty frame": (lambda: pd.DataFrame(), None),
    "int labels": (lambda: pd.DataFrame({0: [1], 1: [2]}), None),
    "mixed labels": (lambda: pd.DataFrame({0: [1], "0": [2]}), Refused("collide")),
    "mixed label types": (lambda: pd.DataFrame({0: [1], "a": [2]}), Refused("mix types")),
    "duplicate labels": (lambda: pd.DataFrame([[1, 2]], columns=["a", "a"]), Refused("collide")),
    "nullable Int64": (lambda: pd.DataFrame({"a": pd.array([1, None], dtype="Int64")}), None),
    "string dtype": (lambda: pd.DataFrame({"a": pd.array(["x", None], dtype="string")}), None),
    "tz datetimes": (
        lambda: pd.DataFrame({"t": pd.date_range("2026-01-01", periods=2, tz="Asia/Tokyo")}),
        None,
    ),
    "categorical": (lambda: pd.DataFrame({"c": pd.Categorical(["a", "b", "a"])}), None),
    "named index": (
        lambda: pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", "y"], name="k")),
        None,
    ),
    "multiindex rows": (
        lambda: pd.DataFrame(
            {"a": [1, 2]}, index=pd.MultiIndex.from_tuples([("x", 1), ("y", 2)], names=["k", "n"])
        ),
        None,
    ),
    "object dicts and ints": (lambda: pd.DataFrame({"x": [{"a": 1}, 3]}), Refused("column 'x'")),
    "object huge int": (lambda: pd.DataFrame({"x": [2**70, 1]}), Refused("column 'x'")),
    "series": (lambda: pd.Series([1, 2], name="s"), Refused("to_frame")),
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
    # pyarrow
    "arrow table": (lambda: pa.table({"a": [1, 2]}), None),
    "arrow empty table": (lambda: pa.table({"a": pa.array([], pa.int64())}), None),
    "arrow dictionary": (lambda: pa.table({"d": pa.array(["a", "b"]).dictionary_encode()}), None),
    "arrow decimal": (lambda: pa.table({"d": pa.array([1], pa.decimal128(10, 2))}), None),
    "arrow array": (lambda: pa.array([1, 2]), Refused("pa.table")),
    "arrow chunked array": (lambda: pa.chunked_array([[1], [2]]), Refused("pa.table")),
    # PIL
    "image L": (lambda: _image("L"), None),
    "image RGB": (lambda: _image("RGB"), None),
    "image RGBA": (lambda: _image("RGBA"), None),
    "image 1": (lambda: _image("1"), None),
    "image I;16": (lambda: _image("I;16"), None),
    "image P": (lambda: _image("P"), Refused("mode")),
    "image 0x0": (lambda: _image("RGB", (0, 0)), Refused("no pixels")),
    "image CMYK": (lambda: _image("CMYK"), Refused("mode")),
}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and str(a) == str(b))
    if isinstance(a, np.ndarray | np.generic):
        return bool(
            type(a) is type(b)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fcmM")
            and (
                not isinstance(a, np.ndarray)
                or a.flags.f_contiguous == b.flags.f_contiguous
                or a.ndim < 2
            )
        )
    if isinstance(a, pd.DataFrame):
        return (
            isinstance(b, pd.DataFrame)
            and a.equals(b)
            and list(a.columns) == list(b.columns)
            and [type(c) for c in a.columns] == [type(c) for c in b.columns]
            and a.index.equals(b.index)
            and list(a.dtypes) == list(b.dtypes)
        )
    if isinstance(a, pl.DataFrame):
        return isinstance(b, pl.DataFrame) and a.equals(b) and a.schema == b.schema
    if isinstance(a, pa.Table):
        return isinstance(b, pa.Table) and a.equals(b)
    if isinstance(a, pa.RecordBatchReader):
        return isinstance(b, pa.RecordBatchReader) and a.read_all().equals(b.read_all())
    if isinstance(a, pl.LazyFrame):
        return isinstance(b, pl.LazyFrame) and _same(a.collect(), b.collect())
    if isinstance(a, Image.Image):
        return (
            isinstance(b, Image.Image)
            and a.mode == b.mode
            and a.size == b.size
            and a.tobytes() == b.tobytes()
        )
    if isinstance(a, bytearray):
        return bytes(a) == b
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("name", list(CASES))
def test_each_value_comes_back_exactly_or_is_refused_by_name(
    name: str, local_store: ss.Store
) -> None:
    make, refused = CASES[name]
    key = ss.ArtifactKey("catalogue", "run-1")
    if refused is None:
        local_store.put(key, make())
        assert _same(make(), local_store.get(key)), name
        return
    with pytest.raises(refused.kind) as caught:
        local_store.put(key, make())
    assert refused.says in str(caught.value), str(caught.value)
    assert not local_store.exists(key), "nothing is stored by a refused put"


def test_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 80


def test_bad_calls_are_refused_with_what_to_pass(local_store: ss.Store, tmp_path: Any) -> None:
    from slipstream.errors import ParamError

    from tests import first_hour_flows as flows

    url = (tmp_path / "calls").as_uri()
    with pytest.raises(ParamError, match="params are a mapping"):
        flows.typed().run(url, params=["min_quantity", 2])  # type: ignore[arg-type]
    with pytest.raises(ParamError, match="param 'label' is"):
        flows.typed().run(url, params={"label": object()})
    with pytest.raises(ValueError, match="try_number must be 1 or more"):
        ss.run_op(lambda: 1, store=local_store, op_prefix="p", run_id="r", try_number=-1)
    with pytest.raises(ValueError, match="try_number must be 1 or more"):
        local_store.put(ss.ArtifactKey("p", "r"), 1, try_number=0)
