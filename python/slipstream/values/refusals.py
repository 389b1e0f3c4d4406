"""What a frame holds that would not come back exactly as it was: the reason the store
refuses it (`refusal`, called by the native put for pandas and pyarrow frames before they
are converted), naming the column and what to store instead."""

from __future__ import annotations

from typing import Any


def type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def refusal(value: Any) -> str | None:
    """Why the frame `value` cannot be stored so that it comes back as it is, or None: a
    column of a type Arrow cannot take from pandas, or that Parquet would hand back changed,
    objects Arrow would hand back changed (NaN as None, tuples as arrays), column labels or
    index names that would come back as text or not at all.
    The store refuses such a frame (`UnsupportedType`) with this reason, naming the column
    and what to store instead. (Types Parquet cannot hold at all, such as
    `month_day_nano_interval` and unions, are refused by the native codec.)"""
    name = type_name(value)
    if name.startswith("pandas.") and name.endswith(".DataFrame"):
        return _pandas_refusal(value)
    if name.startswith("pyarrow.") and hasattr(value, "schema"):  # Table, batch, reader
        for position, field in enumerate(value.schema):
            why = _arrow_refusal(field.name, field.type, top=True)
            if why:
                return why
            column = value.column(position) if hasattr(value, "column") else None
            if column is not None and _all_missing_dictionary(field.type, column):
                return _no_values(field.name, "a dictionary", "table.cast(...)")
    return None


def _all_missing_dictionary(data_type: Any, column: Any) -> bool:
    """Whether a dictionary column has rows but no value: the Parquet reader cannot read
    such a column back."""
    import pyarrow as pa

    return bool(pa.types.is_dictionary(data_type)) and 0 < len(column) == column.null_count


def _no_values(label: Any, what: str, instead: str) -> str:
    return (
        f"column {label!r} is {what} column with no values (every row is missing), which "
        f"slipstream could store but not read back: store it decoded ({instead}), or drop it"
    )


def _pandas_refusal(frame: Any) -> str | None:
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no stubs here

    why = _labels_refusal(frame)
    if why:
        return why
    for position, (label, dtype) in enumerate(zip(frame.columns, frame.dtypes, strict=True)):
        if isinstance(dtype, np.dtype) and dtype.kind == "c":
            return (
                f"column {label!r} holds complex numbers ({dtype}), which Arrow and Parquet "
                "cannot store: store their real and imaginary parts as two float columns, "
                f"e.g. df[{label!r}].to_numpy().real and .imag"
            )
        if isinstance(dtype, pd.CategoricalDtype):
            if len(frame) and frame.iloc[:, position].isna().all():
                return _no_values(label, "a categorical", f"df[{label!r}].astype(object)")
            categories = dtype.categories
            if len(categories) and pd.api.types.infer_dtype(categories, skipna=False) != "string":
                return (
                    f"column {label!r} is a categorical of {categories.dtype} categories, "
                    "whose order and unused categories Parquet does not keep (text categories "
                    "are kept as they are): convert the categories to str, e.g. "
                    f"df[{label!r}] = df[{label!r}].cat.rename_categories(str), or store "
                    f"the values themselves, df[{label!r}].astype({str(categories.dtype)!r})"
                )
        if isinstance(dtype, pd.ArrowDtype):
            # A run-end encoded column comes back encoded: pandas records its type.
            why = _arrow_refusal(label, dtype.pyarrow_dtype, top=False)
            if why:
                return why
        if numpy_object(dtype):
            why = _objects_refusal(f"column {label!r}", frame.iloc[:, position], f"df[{label!r}]")
            if why:
                return why
    for level in range(frame.index.nlevels):
        values = frame.index.get_level_values(level)
        if numpy_object(values.dtype):
            what = "the index" if frame.index.nlevels == 1 else f"index level {level}"
            why = _objects_refusal(what, values, "df.index")
            if why:
                return why
    return None


#: Types of column labels that come back as they are (as their one type: labels of several
#: types are refused by the native put). `bool` is one of them in an index of bools only
#: (`bool` or `boolean`), not among objects.
_LABEL_TYPES = ("str", "int", "float", "bytes", "Decimal", "NoneType", "Timestamp")


def _labels_refusal(frame: Any) -> str | None:
    """Why the column labels or the index names of a pandas frame would not come back as
    they are, or None. Arrow names columns with text and pandas records the labels' type:
    labels of other types come back as text (tuples) or cannot be read back at all (dates,
    periods, intervals, timedeltas, categories); index names come back as text."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no stubs here

    columns = frame.columns
    for level in range(columns.nlevels):
        labels = columns.get_level_values(level)
        where = "column labels" if columns.nlevels == 1 else f"column labels (level {level})"
        kinds = sorted({type(label).__name__ for label in labels})
        odd = [k for k in kinds if k not in _LABEL_TYPES]
        if odd == ["bool"] and columns.nlevels == 1 and not numpy_object(labels.dtype):
            odd = []
        special = (pd.CategoricalIndex, pd.PeriodIndex, pd.IntervalIndex, pd.TimedeltaIndex)
        if isinstance(labels, special):
            problem = f"are a {type(labels).__name__}"
        elif odd:
            problem = f"are of type {', '.join(odd)}"
        elif len(kinds) > 1:
            problem = f"mix types ({', '.join(kinds)})"
        else:
            continue
        fix = (
            "df.columns = df.columns.astype(str)"
            if columns.nlevels == 1
            else "df.columns = df.columns.map(lambda labels: tuple(map(str, labels)))"
        )
        return (
            f"its {where} {problem}, which would not come back as they are (Arrow names "
            f"columns with text): name the columns with strings, e.g. {fix}"
        )
    if not isinstance(frame.index, pd.RangeIndex):  # a range is recorded, not stored
        for name in frame.index.names:
            if name is not None and not isinstance(name, str):
                return (
                    f"its index is named {name!r}, which would come back as the text "
                    f"{str(name)!r} (index levels are stored as columns, named with text): "
                    "name the index with a string, e.g. df.index = df.index.set_names("
                    f"{[n if n is None else str(n) for n in frame.index.names]!r})"
                )
    return None


def _objects_refusal(what: str, values: Any, source: str) -> str | None:
    """Why the Python objects of an `object` column (or index) would not come back as they
    are, or None. They come back as Arrow makes them: one type for the column (ints beside
    floats become floats), None for every missing value (NaN, NA, NaT), lists for
    sequences, dicts with every key of every dict. `source` is the column in the advice."""
    import pyarrow as pa

    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return None  # refused by name when the frame is converted (`failing_column`)
    if _contains(array.type, _is_empty_struct):
        return (
            f"{what} holds empty dicts ({array.type}), which Parquet cannot store: store None "
            "instead, or pass allow_pickle=True to store the frame with pickle"
        )
    kind = _EXACTLY_KEPT.get(str(array.type))
    if kind is not None and all(type(v) is kind or v is None for v in values.tolist()):
        return None  # the common case, decided without handing the objects back
    try:
        back = _objects_back(array)
    except (pa.ArrowException, OverflowError, TypeError, ValueError) as error:
        return (
            f"{what} holds objects Arrow stores as {array.type} but cannot hand back as "
            f"objects ({error}): give it values of one type that Arrow keeps, or pass "
            "allow_pickle=True to store the frame with pickle"
        )
    for position, (value, came) in enumerate(zip(values, back, strict=True)):
        if _identical(value, came):
            continue
        if value is not None and _is_missing(value):
            fix = (
                "use None for missing values, e.g. "
                f"{source}.astype(object).where({source}.notna(), None)"
            )
        elif source.startswith("df["):
            fix = (
                "give it values of one type that Arrow keeps, or make it an Arrow column, "
                f"which comes back as such: {source} = pd.arrays.ArrowExtensionArray("
                f"pa.array({source})), or pass allow_pickle=True to store the frame with pickle"
            )
        else:
            fix = (
                "give it values of one type that Arrow keeps, or pass allow_pickle=True to "
                "store the frame with pickle"
            )
        return (
            f"{what} holds {_brief(value)} (at position {position}), which would come back "
            f"as {_brief(came)} (Arrow stores the objects as {array.type}): {fix}"
        )
    return None


#: Arrow types whose values come back as objects of one Python type, exactly as they went
#: in when they were all of that type (or None).
_EXACTLY_KEPT = {
    "string": str,
    "large_string": str,
    "binary": bytes,
    "bool": bool,
    "int64": int,
    "null": type(None),
}


def _objects_back(array: Any) -> list[Any]:
    """The objects `_to_pandas` hands back for an `object` column stored as `array`."""
    import pyarrow as pa

    column = pa.chunked_array([array])
    converted = column.to_pandas()
    if numpy_object(converted.dtype):
        return converted.tolist()  # type: ignore[no-any-return]
    return objects_of(column).tolist()  # type: ignore[no-any-return]


def _identical(a: Any, b: Any) -> bool:
    """Whether `b` is `a`: of the same type, at every depth (floats bit for bit but NaN)."""
    import decimal
    import math

    import numpy as np

    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (a != a and b != b) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(_identical, a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            _identical(ka, kb) and _identical(a[ka], b[kb]) for ka, kb in zip(a, b, strict=True)
        )
    if isinstance(a, np.ndarray):
        return (
            bool(a.dtype == b.dtype) and a.shape == b.shape and _identical(a.tolist(), b.tolist())
        )
    if isinstance(a, decimal.Decimal):
        return bool(a.as_tuple() == b.as_tuple())
    try:
        return bool(a == b) and str(a) == str(b)
    except Exception:  # noqa: BLE001 - a value that cannot be compared is not the same
        return False


def _is_missing(value: Any) -> bool:
    """Whether `value` is a missing-value marker pandas knows (NaN, NA, NaT)."""
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no stubs here

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _arrow_refusal(label: Any, data_type: Any, *, top: bool) -> str | None:
    """Why a column of `data_type` would not come back as it is, or None: Parquet decodes
    run-end encoding (at any depth), drops the `keys_sorted` flag of maps, and keeps the
    dictionary of a top-level dictionary of strings only (others come back re-encoded, unused
    values dropped). `top`: whether a run-end encoded column itself is refused (a pandas
    frame's is not: its type is recorded, see `_to_pandas`)."""
    import pyarrow as pa

    if pa.types.is_run_end_encoded(data_type):
        if top:
            return (
                f"column {label!r} is run-end encoded ({data_type}), which Parquet does not "
                f"keep: it would come back decoded, as {data_type.value_type}. Decode it "
                f"before storing it, e.g. table.set_column(table.schema.get_field_index("
                f"{label!r}), {label!r}, pc.run_end_decode(table[{label!r}]))"
            )
        inner = _contains(data_type.value_type, pa.types.is_run_end_encoded)
    else:
        inner = _contains(data_type, pa.types.is_run_end_encoded)
    if inner:
        return (
            f"column {label!r} holds run-end encoded values ({data_type}), which Parquet "
            "does not keep: they would come back decoded. Decode them before storing them "
            "(pc.run_end_decode)"
        )
    if _contains(data_type, lambda t: pa.types.is_map(t) and t.keys_sorted):
        return (
            f"column {label!r} holds maps with sorted keys ({data_type}), a flag Parquet "
            "does not keep: cast the column to the same map type without keys_sorted"
        )
    if pa.types.is_dictionary(data_type):
        values = data_type.value_type
        strings = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)
        if not any(is_string(values) for is_string in strings):
            return (
                f"column {label!r} is dictionary-encoded with {values} values ({data_type}), "
                "whose order and unused values Parquet does not keep (dictionaries of strings "
                f"are kept as they are): decode it, i.e. cast it to {values}, or cast its "
                "values to string"
            )
    elif any(_contains(child, pa.types.is_dictionary) for child in _children(data_type)):
        return (
            f"column {label!r} holds dictionary-encoded values ({data_type}), whose "
            "dictionaries Parquet does not keep (only a column's own dictionary of strings "
            "is kept): decode them, i.e. cast the column to its type without dictionaries"
        )
    return None


def _is_empty_struct(data_type: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_struct(data_type)) and data_type.num_fields == 0


def _children(data_type: Any) -> list[Any]:
    """The types directly inside `data_type`."""
    import pyarrow as pa

    if pa.types.is_dictionary(data_type) or pa.types.is_run_end_encoded(data_type):
        return [data_type.value_type]
    if isinstance(data_type, pa.ExtensionType):
        return [data_type.storage_type]
    return [data_type.field(i).type for i in range(data_type.num_fields)]


def _contains(data_type: Any, found: Any) -> bool:
    """Whether `found(t)` holds for `data_type` itself or a type anywhere inside it."""
    return bool(found(data_type)) or any(_contains(c, found) for c in _children(data_type))


def numpy_object(dtype: Any) -> bool:
    """Whether `dtype` is numpy's `object` (pandas' `str` dtype has an `O` kind too)."""
    import numpy as np

    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def objects_of(column: Any) -> Any:
    """A numpy array of Python objects holding the values of the Arrow `column`, None where
    it is null."""
    import numpy as np
    import pyarrow as pa

    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column.to_numpy(zero_copy_only=False)
    if pa.types.is_string_view(kind):
        return column.to_numpy(zero_copy_only=False)
    return np.fromiter(column.to_pylist(), dtype=object, count=len(column))
