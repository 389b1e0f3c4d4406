"""pandas frames."""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tests.bad_inputs.support import (
    Refused,
    _arrow_column,
    _named_columns,
    _with_attrs,
)

CASES: dict[str, tuple[Callable[[], Any], Refused | None]] = {
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
}
