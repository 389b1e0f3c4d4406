"""The bad-input catalogue: values and calls a user may hand slipstream, each of which either
comes back exactly as it went in or is refused with a `SlipstreamError` naming the output or
what to pass instead. Never a value that comes back different, never a raw library error."""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import io
import math
import pathlib
import struct
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
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


class Name(str):
    pass


Point = collections.namedtuple("Point", "x y")


def _deep(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def _image(mode: str, size: tuple[int, int] = (3, 2)) -> Image.Image:
    return Image.new(mode, size)


#: Every unit numpy's datetime64 and timedelta64 take.
_UNITS = ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"]


def _deep_dict(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = {"a": value}
    return value


def _cyclic_list() -> Any:
    value: list[Any] = []
    value.append(value)
    return value


def _cyclic_dict() -> Any:
    value: dict[str, Any] = {}
    value["self"] = value
    return value


def _shared() -> Any:
    inner = [1]
    return [inner, inner]


def _f64(bits: int) -> float:
    return struct.unpack("<d", struct.pack("<Q", bits))[0]  # type: ignore[no-any-return]


def _extremes(kind: str) -> Any:
    info = np.iinfo(kind)
    return np.array([info.min, 0, info.max], dtype=kind)


def _times(kind: str, unit: str) -> Any:
    """Zero, a value and NaT (the smallest int64) of `kind` (M8, m8) in `unit`."""
    return np.array([0, 123, np.iinfo(np.int64).min], dtype=np.int64).view(f"{kind}[{unit}]")


def _read_only(array: Any) -> Any:
    array.flags.writeable = False
    return array


def _named_columns(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns.name = "cols"
    return frame


def _with_attrs(frame: pd.DataFrame) -> pd.DataFrame:
    frame.attrs["source"] = "sensor"
    return frame


def _arrow_column(array: Any) -> pd.DataFrame:
    """A pandas frame of one `ArrowDtype` column."""
    return pd.DataFrame({"a": pd.arrays.ArrowExtensionArray(array)})


def _column(array: Any) -> pa.Table:
    return pa.table({"a": array})


def _polars_numbers() -> pl.DataFrame:
    kinds = [pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64]
    columns = {}
    for kind in kinds:
        info = np.iinfo(str(kind).lower())
        columns[str(kind)] = pl.Series([info.min, info.max, None], dtype=kind)
    columns["Float32"] = pl.Series([1.5, math.nan, None], dtype=pl.Float32)
    columns["Float64"] = pl.Series([5e-324, -0.0, None], dtype=pl.Float64)
    columns["Boolean"] = pl.Series([True, False, None], dtype=pl.Boolean)
    return pl.DataFrame(columns)


def _pattern(mode: str, size: tuple[int, int] = (5, 3)) -> Image.Image:
    """An image of `mode` whose pixels are not all alike."""
    length = len(Image.new(mode, size).tobytes())
    return Image.frombytes(mode, size, bytes(i * 37 % 256 for i in range(length)))


def _opened(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return Image.open(io.BytesIO(buffer.getvalue()))


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
    "bools and ints": (lambda: [True, False, 1, 0], None),
    "int 2**63-1": (lambda: 2**63 - 1, None),
    "int 2**63": (lambda: 2**63, None),
    "int 2**64": (lambda: 2**64, None),
    "int -2**63": (lambda: -(2**63), None),
    "int -2**63-1": (lambda: -(2**63) - 1, None),
    "int 2**1024": (lambda: 2**1024, None),
    "int 10**5000": (lambda: 10**5000, None),
    "list of edge ints": (
        lambda: [2**63 - 1, 2**63, 2**64, -(2**63), -(2**63) - 1, 2**1024, -(10**5000)],
        None,
    ),
    "subnormal float": (lambda: 5e-324, None),
    "max float": (lambda: sys.float_info.max, None),
    "negative nan": (lambda: -math.nan, None),
    "nan payload": (lambda: _f64(0x7FF8_0000_DEAD_BEEF), None),
    "float that looks like an int": (lambda: 1.0, None),
    "edge floats in a list": (lambda: [0.0, -0.0, math.inf, math.nan, 5e-324, -1e308], None),
    "very long string": (lambda: "ab" * 5_000_000, None),
    "every control char": (lambda: "".join(map(chr, [*range(32), *range(127, 160)])), None),
    "unicode edges": (lambda: "\ufeff\u200b\U0010ffff\ufffe\u2028", None),
    "dict with a None key": (lambda: {None: 1}, None),
    "dict with bool keys": (lambda: {True: "t", False: "f"}, None),
    "dict where 1 and True collide": (lambda: dict([(1, "int"), (True, "bool")]), None),
    "dict with float keys": (lambda: {1.5: "a", -0.0: "b", math.inf: "c"}, None),
    "dict with a nan key": (lambda: {math.nan: 1}, None),
    "dict with bytes and tuple keys": (lambda: {b"k": 1, (1, (2, "x")): [1], (): None}, None),
    "dict order": (lambda: {"b": 1, "a": 2, "c": 3}, None),
    "nested dicts 200": (lambda: _deep_dict(200), None),
    "nested dicts 1000": (lambda: _deep_dict(1000), Refused("nested deeper than")),
    "nested 1000": (lambda: _deep(1000), Refused("nested deeper than")),
    "cyclic list": (lambda: _cyclic_list(), Refused("cyclic")),
    "cyclic dict": (lambda: _cyclic_dict(), Refused("cyclic")),
    "tuples of tuples": (lambda: ((1, 2), ((3,), ()), ("a", (None,))), None),
    "empty tuple": (lambda: (), None),
    "empty list": (lambda: [], None),
    "empty bytes": (lambda: b"", None),
    "empty bytearray": (lambda: bytearray(), None),
    "shared sublist": (lambda: _shared(), None),
    "str subclass": (lambda: Name("x"), Refused('"out"')),
    "OrderedDict": (lambda: collections.OrderedDict(a=1), Refused('"out"')),
    "defaultdict": (lambda: collections.defaultdict(list), Refused('"out"')),
    "namedtuple": (lambda: Point(1, 2), Refused('"out"')),
    "set as a dict value": (lambda: {"k": {1}}, Refused("value['k']")),
    "frozenset as a dict key": (lambda: {frozenset(): 1}, Refused("value")),
    "numpy scalar in a list": (lambda: [np.int64(1)], Refused("value[0]")),
    "frame in a list": (lambda: [pd.DataFrame()], Refused("value[0]")),
    "ellipsis": (lambda: ..., Refused('"out"')),
    "type object": (lambda: int, Refused('"out"')),
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
    **{
        f"{kind} extremes": (lambda kind=kind: _extremes(kind), None)
        for kind in ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
    },
    "float32 nan payloads": (
        lambda: np.array([0x7FC0_0001, 0xFFC0_0000, 0x7F80_0001], dtype=np.uint32).view(np.float32),
        None,
    ),
    "float64 nan payloads": (
        lambda: np.array([0x7FF8_0000_0000_0001, 0xFFF8_0000_0000_0000], dtype=np.uint64).view(
            np.float64
        ),
        None,
    ),
    "float32 edges": (
        lambda: np.array([1e-45, -0.0, np.finfo(np.float32).max, -np.inf], dtype=np.float32),
        None,
    ),
    "float64 edges": (lambda: np.array([5e-324, -0.0, np.finfo(np.float64).max, np.inf]), None),
    "complex64": (lambda: np.array([1 + 2j, complex(np.nan, -0.0)], dtype=np.complex64), None),
    "longdouble": (lambda: np.array([1.5, -0.0], dtype=np.longdouble), None),
    **{f"datetime64[{unit}]": (lambda unit=unit: _times("M8", unit), None) for unit in _UNITS},
    **{f"timedelta64[{unit}]": (lambda unit=unit: _times("m8", unit), None) for unit in _UNITS},
    "datetime64 without a unit": (lambda: np.array(["NaT"], dtype="datetime64"), None),
    "datetime64[5s]": (lambda: np.array([0, 3], dtype="datetime64[5s]"), None),
    "NaT scalar": (lambda: np.datetime64("NaT", "ns"), None),
    "big-endian int32": (lambda: np.arange(3, dtype=">i4"), None),
    "big-endian uint16": (lambda: np.array([1, 65535], dtype=">u2"), None),
    "big-endian float64": (lambda: np.array([1.5, np.nan], dtype=">f8"), None),
    "big-endian complex128": (lambda: np.array([1 + 2j], dtype=">c16"), None),
    "big-endian datetime64": (lambda: np.array([0, 1], dtype=">M8[ns]"), None),
    "big-endian unicode": (lambda: np.array(["ab", "ü"], dtype=">U2"), None),
    "step slice": (lambda: np.arange(10)[::3], None),
    "reversed": (lambda: np.arange(5)[::-1], None),
    "2-d column slice": (lambda: np.arange(12).reshape(3, 4)[:, 1::2], None),
    "transposed": (lambda: np.arange(6).reshape(2, 3).T, None),
    "3-d": (lambda: np.arange(24, dtype=np.int16).reshape(2, 3, 4), None),
    "3-d fortran": (lambda: np.asfortranarray(np.arange(24.0).reshape(2, 3, 4)), None),
    "3-d strided": (lambda: np.arange(24).reshape(2, 3, 4).transpose(2, 0, 1)[::2], None),
    "zero-size middle dim": (lambda: np.zeros((3, 0, 2), dtype=np.float32), None),
    "empty uint8": (lambda: np.array([], dtype=np.uint8), None),
    "broadcast": (lambda: np.broadcast_to(np.arange(3), (4, 3)), None),
    "read-only": (lambda: _read_only(np.arange(3)), None),
    "bool 0-d": (lambda: np.array(True), None),
    "bool scalar": (lambda: np.bool_(False), None),
    "int64 scalar max": (lambda: np.int64(2**63 - 1), None),
    "uint64 scalar max": (lambda: np.uint64(2**64 - 1), None),
    "float64 scalar": (lambda: np.float64(-0.0), None),
    "str_ scalar": (lambda: np.str_("héllo"), None),
    "bytes_ scalar": (lambda: np.bytes_(b"a\x00b"), None),
    "void scalar": (lambda: np.void(b"ab"), Refused("structured")),
    "recarray": (lambda: np.rec.array([(1,)], dtype=[("a", "i4")]), Refused("asarray")),
    # pandas
    "categorical of missing values only": (
        lambda: pd.DataFrame({"c": pd.Categorical([None], categories=["a"])}),
        Refused("column 'c' is a categorical column with no values"),
    ),
    "categorical with no categories": (
        lambda: pd.DataFrame({"c": pd.Categorical([None, None], categories=[])}),
        Refused("column 'c' is a categorical column with no values"),
    ),
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
    "bool labels": (lambda: pd.DataFrame({True: [1], False: [2]}), None),
    "float labels": (lambda: pd.DataFrame({1.5: [1], 2.5: [2]}), None),
    "None label": (lambda: pd.DataFrame({None: [1]}), None),
    "tuple labels": (
        lambda: pd.DataFrame([[1, 2]], columns=pd.Index([(1, 2), (3, 4)], tupleize_cols=False)),
        Refused("column labels are of type tuple"),
    ),
    "object with None": (lambda: pd.DataFrame({"x": pd.Series(["a", None], dtype=object)}), None),
    "object all None": (lambda: pd.DataFrame({"x": [None, None]}), None),
    "object ints with None": (
        lambda: pd.DataFrame({"x": pd.Series([1, None], dtype=object)}),
        None,
    ),
    "object floats with None": (
        lambda: pd.DataFrame({"x": pd.Series([1.5, None], dtype=object)}),
        None,
    ),
    "object bools with None": (
        lambda: pd.DataFrame({"x": pd.Series([True, None], dtype=object)}),
        None,
    ),
    "object bytes": (lambda: pd.DataFrame({"x": pd.Series([b"a", None], dtype=object)}), None),
    "object str and int": (
        lambda: pd.DataFrame({"x": pd.Series(["a", 1], dtype=object)}),
        Refused("column 'x'"),
    ),
    "object decimals": (lambda: pd.DataFrame({"x": [decimal.Decimal("1.5"), None]}), None),
    "object dates": (lambda: pd.DataFrame({"x": [datetime.date(2026, 1, 1), None]}), None),
    "pd.NA in object": (
        lambda: pd.DataFrame({"x": pd.Series([pd.NA, "a"], dtype=object)}),
        Refused("column 'x' holds <NA> (at position 0), which would come back as None"),
    ),
    "str dtype with nan": (lambda: pd.DataFrame({"s": ["a", None]}), None),
    "pyarrow string dtype": (
        lambda: pd.DataFrame({"s": pd.array(["a", None], dtype=pd.StringDtype("pyarrow"))}),
        None,
    ),
    "nullable boolean": (
        lambda: pd.DataFrame({"b": pd.array([True, None], dtype="boolean")}),
        None,
    ),
    "nullable Float64": (lambda: pd.DataFrame({"f": pd.array([1.5, None], dtype="Float64")}), None),
    "nullable UInt64 max": (
        lambda: pd.DataFrame({"u": pd.array([2**64 - 1, None], dtype="UInt64")}),
        None,
    ),
    "categorical unsorted": (
        lambda: pd.DataFrame({"c": pd.Categorical(["b", "a"], categories=["b", "c", "a"])}),
        None,
    ),
    "categorical unsorted ordered": (
        lambda: pd.DataFrame(
            {"c": pd.Categorical(["b", "a"], categories=["b", "c", "a"], ordered=True)}
        ),
        None,
    ),
    "categorical with nulls": (lambda: pd.DataFrame({"c": pd.Categorical(["a", None])}), None),
    "categorical of ints": (
        lambda: pd.DataFrame({"c": pd.Categorical([2, 1])}),
        Refused("categories"),
    ),
    "categorical of floats": (
        lambda: pd.DataFrame({"c": pd.Categorical([2.5, 1.0])}),
        Refused("categories"),
    ),
    "complex128 column": (lambda: pd.DataFrame({"z": [1 + 2j]}), Refused("complex")),
    "complex64 column": (
        lambda: pd.DataFrame({"z": np.array([1j], dtype=np.complex64)}),
        Refused("complex"),
    ),
    "period": (lambda: pd.DataFrame({"p": pd.period_range("2026-01", periods=2, freq="M")}), None),
    "interval": (lambda: pd.DataFrame({"i": pd.interval_range(0, 2)}), None),
    "timedelta": (lambda: pd.DataFrame({"d": pd.to_timedelta([1, None], unit="s")}), None),
    "datetime64[s] column": (
        lambda: pd.DataFrame({"t": np.array(["2026-01-01", "NaT"], dtype="M8[s]")}),
        None,
    ),
    "sparse": (
        lambda: pd.DataFrame({"s": pd.arrays.SparseArray([0, 0, 1])}),
        Refused("column 's'"),
    ),
    "float nan and -0": (lambda: pd.DataFrame({"f": [np.nan, -0.0, np.inf]}), None),
    "multiindex columns": (
        lambda: pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])),
        None,
    ),
    "tz index": (
        lambda: pd.DataFrame(
            {"a": [1, 2]}, index=pd.date_range("2026-01-01", periods=2, tz="Europe/Paris", name="t")
        ),
        None,
    ),
    "int index": (lambda: pd.DataFrame({"a": [1, 2]}, index=[3, 1]), None),
    "float index": (lambda: pd.DataFrame({"a": [1, 2]}, index=[0.5, np.nan]), None),
    "stepped range index": (
        lambda: pd.DataFrame({"a": [1, 2]}, index=pd.RangeIndex(10, 0, -7)),
        None,
    ),
    "categorical index": (
        lambda: pd.DataFrame({"a": [1, 2]}, index=pd.CategoricalIndex(["b", "a"])),
        None,
    ),
    "duplicate index": (lambda: pd.DataFrame({"a": [1, 2]}, index=["x", "x"]), None),
    "named columns": (lambda: _named_columns(pd.DataFrame({"a": [1]})), None),
    "empty frame with columns": (lambda: pd.DataFrame(columns=["a", "b"]), None),
    "frame with 0 rows": (
        lambda: pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype="str")}),
        None,
    ),
    "frame with 0 columns and 3 rows": (lambda: pd.DataFrame(index=range(3)), None),
    "frame with 0 columns and a text index": (lambda: pd.DataFrame(index=["a", "b"]), None),
    "column named like the index": (
        lambda: pd.DataFrame({"k": [1]}, index=pd.Index(["x"], name="k")),
        None,
    ),
    "column named __index_level_0__": (
        lambda: pd.DataFrame({"__index_level_0__": [1, 2]}, index=["x", "y"]),
        None,
    ),
    "ArrowDtype list": (
        lambda: _arrow_column(pa.array([[1, 2], None], pa.list_(pa.int64()))),
        None,
    ),
    "ArrowDtype struct": (
        lambda: _arrow_column(pa.array([{"a": 1}, None], pa.struct([("a", pa.int64())]))),
        None,
    ),
    "ArrowDtype run_end_encoded": (
        lambda: _arrow_column(pc.run_end_encode(pa.array([1, 1, 2]))),
        None,
    ),
    "ArrowDtype string": (lambda: _arrow_column(pa.array(["a", None])), None),
    "ArrowDtype timestamp tz": (
        lambda: _arrow_column(pa.array([0, None], pa.timestamp("ms", tz="Asia/Tokyo"))),
        None,
    ),
    "object str with nan": (
        lambda: pd.DataFrame({"x": pd.Series(["a", np.nan], dtype=object)}),
        Refused("column 'x' holds nan (at position 1), which would come back as None"),
    ),
    "object all nan": (
        lambda: pd.DataFrame({"x": pd.Series([np.nan, np.nan], dtype=object)}),
        Refused("use None for missing values"),
    ),
    "object date with NaT": (
        lambda: pd.DataFrame({"x": pd.Series([datetime.date(2026, 1, 1), pd.NaT], dtype=object)}),
        Refused("column 'x' holds NaT"),
    ),
    "object Decimal NaN": (
        lambda: pd.DataFrame({"x": pd.Series([decimal.Decimal("NaN")], dtype=object)}),
        Refused("column 'x' holds Decimal('NaN')"),
    ),
    "object decimals of two scales": (
        lambda: pd.DataFrame({"x": [decimal.Decimal("1.5"), decimal.Decimal("2.25")]}),
        Refused("would come back as Decimal('1.50')"),
    ),
    "object tuples": (
        lambda: pd.DataFrame({"x": pd.Series([(1, 2), (3,)], dtype=object)}),
        Refused("column 'x' holds (1, 2)"),
    ),
    "object lists": (
        lambda: pd.DataFrame({"x": pd.Series([[1, 2], None], dtype=object)}),
        Refused("pd.arrays.ArrowExtensionArray"),
    ),
    "object numpy arrays": (
        lambda: pd.DataFrame({"x": pd.Series([np.array([1, 2], dtype=np.int32), None])}),
        None,
    ),
    "object dicts with other keys": (
        lambda: pd.DataFrame({"x": pd.Series([{"a": 1}, {"b": 2}], dtype=object)}),
        Refused("column 'x' holds {'a': 1}"),
    ),
    "object empty dicts": (
        lambda: pd.DataFrame({"x": pd.Series([{}, None], dtype=object)}),
        Refused("column 'x' holds empty dicts"),
    ),
    "object numpy scalars": (
        lambda: pd.DataFrame({"x": pd.Series([np.int64(1), 2], dtype=object)}),
        Refused("column 'x' holds np.int64(1)"),
    ),
    "object ints and floats": (
        lambda: pd.DataFrame({"x": pd.Series([1, 2.5], dtype=object)}),
        Refused("would come back as 1.0"),
    ),
    "object str and bytes": (
        lambda: pd.DataFrame({"x": pd.Series(["a", b"b"], dtype=object)}),
        Refused("column 'x' holds 'a'"),
    ),
    "object Timestamps": (
        lambda: pd.DataFrame({"x": pd.Series([pd.Timestamp("2026-01-01")], dtype=object)}),
        Refused("column 'x' holds Timestamp"),
    ),
    "object datetimes": (
        lambda: pd.DataFrame({"x": pd.Series([datetime.datetime(2026, 1, 1), None], dtype=object)}),
        None,
    ),
    "object times and timedeltas": (
        lambda: pd.DataFrame(
            {
                "t": pd.Series([datetime.time(1, 2), None], dtype=object),
                "d": pd.Series([datetime.timedelta(1), None], dtype=object),
            }
        ),
        None,
    ),
    "object index with nan": (
        lambda: pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", np.nan], dtype=object)),
        Refused("the index holds nan"),
    ),
    "object index of tuples": (
        lambda: pd.DataFrame({"a": [1]}, index=pd.Index([(1, 2)], tupleize_cols=False)),
        Refused("the index holds (1, 2)"),
    ),
    "object index with None": (
        lambda: pd.DataFrame({"a": [1, 2]}, index=pd.Index([1.5, None], dtype=object)),
        None,
    ),
    "object index of dates": (
        lambda: pd.DataFrame({"a": [1]}, index=pd.Index([datetime.date(2026, 1, 1)], dtype=object)),
        None,
    ),
    "index named 0": (
        lambda: pd.DataFrame({"a": [1]}, index=pd.Index(["x"], name=0)),
        Refused("its index is named 0, which would come back as the text '0'"),
    ),
    "multiindex rows named 0": (
        lambda: pd.DataFrame(
            {"a": [1]}, index=pd.MultiIndex.from_tuples([("x", 1)], names=[0, None])
        ),
        Refused("its index is named 0"),
    ),
    "range index named 0": (lambda: pd.DataFrame({"a": [1]}, index=pd.RangeIndex(1, name=0)), None),
    "multiindex rows with nan": (
        lambda: pd.DataFrame(
            {"a": [1, 2]}, index=pd.MultiIndex.from_tuples([("x", np.nan), ("y", 2.5)])
        ),
        None,
    ),
    "date labels": (
        lambda: pd.DataFrame({datetime.date(2026, 1, 1): [1]}),
        Refused("column labels are of type date"),
    ),
    "time labels": (
        lambda: pd.DataFrame({datetime.time(1, 2): [1]}),
        Refused("column labels are of type time"),
    ),
    "timedelta labels": (
        lambda: pd.DataFrame({pd.Timedelta(1, "s"): [1]}),
        Refused("column labels are a TimedeltaIndex"),
    ),
    "period labels": (
        lambda: pd.DataFrame({pd.Period("2026-01", "M"): [1]}),
        Refused("column labels are a PeriodIndex"),
    ),
    "interval labels": (
        lambda: pd.DataFrame({pd.Interval(0, 1): [1]}),
        Refused("column labels are a IntervalIndex"),
    ),
    "categorical labels": (
        lambda: pd.DataFrame([[1]], columns=pd.CategoricalIndex(["a"])),
        Refused("column labels are a CategoricalIndex"),
    ),
    "frozenset labels": (
        lambda: pd.DataFrame({frozenset([1]): [1]}),
        Refused("column labels are of type frozenset"),
    ),
    "object bool labels": (
        lambda: pd.DataFrame([[1, 2]], columns=pd.Index([True, False], dtype=object)),
        Refused("column labels are of type bool"),
    ),
    "timestamp labels": (lambda: pd.DataFrame({pd.Timestamp("2026-01-01", tz="UTC"): [1]}), None),
    "bytes labels": (lambda: pd.DataFrame({b"a": [1], b"b": [2]}), None),
    "decimal labels": (lambda: pd.DataFrame({decimal.Decimal("1.5"): [1]}), None),
    "nan label": (lambda: pd.DataFrame({math.nan: [1]}), None),
    "object int labels": (lambda: pd.DataFrame([[1]], columns=pd.Index([1], dtype=object)), None),
    "uint64 labels": (
        lambda: pd.DataFrame([[1]], columns=pd.Index([2**64 - 1], dtype="uint64")),
        None,
    ),
    "float32 labels": (lambda: pd.DataFrame([[1]], columns=pd.Index([1.5], dtype="float32")), None),
    "multiindex columns with int level": (
        lambda: pd.DataFrame([[1]], columns=pd.MultiIndex.from_tuples([(1, "a")], names=[0, "n"])),
        None,
    ),
    "multiindex columns with timestamp level": (
        lambda: pd.DataFrame(
            [[1, 2]],
            columns=pd.MultiIndex.from_tuples(
                [("a", pd.Timestamp("2026-01-01")), ("b", pd.Timestamp("2026-01-02"))]
            ),
        ),
        None,
    ),
    "multiindex columns with date level": (
        lambda: pd.DataFrame(
            [[1]], columns=pd.MultiIndex.from_tuples([("a", datetime.date(2026, 1, 1))])
        ),
        Refused("column labels (level 1) are of type date"),
    ),
    "multiindex columns with bool level": (
        lambda: pd.DataFrame(
            [[1, 2]], columns=pd.MultiIndex.from_tuples([("a", True), ("a", False)])
        ),
        Refused("column labels (level 1) are of type bool"),
    ),
    "multiindex columns mixing int and str": (
        lambda: pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", 1), ("a", "1")])),
        Refused("column labels (level 1) mix types (int, str)"),
    ),
    "multiindex columns mixing None and str": (
        lambda: pd.DataFrame(
            [[1, 2]], columns=pd.MultiIndex.from_tuples([("a", None), ("b", "x")])
        ),
        Refused("column labels (level 1) mix types"),
    ),
    "ArrowDtype dictionary of ints": (
        lambda: _arrow_column(
            pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int8()), pa.array([10, 20]))
        ),
        Refused("column 'a' is dictionary-encoded with int64 values"),
    ),
    "ArrowDtype dictionary of strings": (
        lambda: _arrow_column(
            pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int8()), pa.array(["a", "b", "c"]))
        ),
        None,
    ),
    "attrs": (lambda: _with_attrs(pd.DataFrame({"a": [1]})), None),
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


def _same(a: Any, b: Any) -> bool:
    """Whether `b` is `a` exactly: of the same type, bit for bit, at every depth."""
    if a is b:  # singletons: None, NaT, NA
        return True
    if isinstance(a, float) and isinstance(b, float):
        return type(a) is type(b) and struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(
                _same(ka, kb) and _same(va, vb)
                for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
            )
        )
    if isinstance(a, np.ndarray | np.generic):
        return bool(
            type(a) is type(b)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fcmM")
            and a.tobytes() == b.tobytes()
            and (
                not isinstance(a, np.ndarray)
                or a.flags.f_contiguous == b.flags.f_contiguous
                or a.ndim < 2
            )
        )
    if isinstance(a, pd.DataFrame):
        return (
            type(b) is pd.DataFrame
            and a.equals(b)
            and _same_index(a.columns, b.columns)
            and _same_index(a.index, b.index)
            and all(_same_dtype(x, y) for x, y in zip(a.dtypes, b.dtypes, strict=True))
            and all(
                _same(a.iloc[:, i].tolist(), b.iloc[:, i].tolist())
                for i, dtype in enumerate(a.dtypes)
                if isinstance(dtype, np.dtype) and dtype.kind == "O"
            )
            and a.attrs == b.attrs
        )
    if isinstance(a, pl.DataFrame):
        return isinstance(b, pl.DataFrame) and a.equals(b) and a.schema == b.schema
    if isinstance(a, pa.Table | pa.RecordBatch):
        return type(a) is type(b) and a.equals(b, check_metadata=True)
    if isinstance(a, pa.RecordBatchReader):
        return isinstance(b, pa.RecordBatchReader) and _same(a.read_all(), b.read_all())
    if isinstance(a, pl.LazyFrame):
        return isinstance(b, pl.LazyFrame) and _same(a.collect(), b.collect())
    if isinstance(a, Image.Image):
        return (
            isinstance(b, Image.Image)
            and a.mode == b.mode
            and a.size == b.size
            and a.tobytes() == b.tobytes()
        )
    return type(a) is type(b) and a == b


def _same_index(a: pd.Index, b: pd.Index) -> bool:
    """Whether two pandas indexes (or column labels) hold the same labels of the same types,
    with the same dtype and names, in an index of the same type (a `RangeIndex` being an
    `Index` of int64, as pandas' own `exact="equiv"` has it)."""
    return (
        (type(a) is type(b) or {type(a), type(b)} == {pd.RangeIndex, pd.Index})
        and _same_dtype(a.dtype, b.dtype)
        and _same(list(a.names), list(b.names))
        and _same(list(a), list(b))
    )


def _same_dtype(a: Any, b: Any) -> bool:
    """Whether two pandas dtypes are alike, a categorical's categories in the same order."""
    if isinstance(a, pd.CategoricalDtype):
        return (
            isinstance(b, pd.CategoricalDtype)
            and a.ordered == b.ordered
            and a.categories.dtype == b.categories.dtype
            and list(a.categories) == list(b.categories)
        )
    return bool(a == b) and str(a) == str(b)


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
    assert len(CASES) >= 150


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
