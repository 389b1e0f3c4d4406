"""What the catalogue's cases are made of, and how a value that came back is compared."""

from __future__ import annotations

import collections
import enum
import io
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
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


def same(a: Any, b: Any) -> bool:
    """Whether `b` is `a` exactly: of the same type, bit for bit, at every depth."""
    if a is b:  # singletons: None, NaT, NA
        return True
    if isinstance(a, float) and isinstance(b, float):
        return type(a) is type(b) and struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(
                same(ka, kb) and same(va, vb)
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
                same(a.iloc[:, i].tolist(), b.iloc[:, i].tolist())
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
        return isinstance(b, pa.RecordBatchReader) and same(a.read_all(), b.read_all())
    if isinstance(a, pl.LazyFrame):
        return isinstance(b, pl.LazyFrame) and same(a.collect(), b.collect())
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
        and same(list(a.names), list(b.names))
        and same(list(a), list(b))
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
