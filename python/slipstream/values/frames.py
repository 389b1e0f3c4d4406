"""Hands a decoded Arrow table back to the library a frame came from, or to the library an
op's type hint asks for."""

from __future__ import annotations

from typing import Any


def restore(table: Any, flavor: str) -> Any:
    """Converts `table` (any object with `__arrow_c_stream__`) to the type named by `flavor`."""
    if flavor in ("polars.DataFrame", "polars.LazyFrame"):
        import polars as pl

        frame = pl.DataFrame(table)
        return frame.lazy() if flavor == "polars.LazyFrame" else frame

    import pyarrow as pa

    if flavor == "pyarrow.RecordBatchReader":
        return pa.RecordBatchReader.from_stream(table)
    arrow_table = pa.table(table)
    if flavor == "pandas.DataFrame":
        return _to_pandas(arrow_table)
    if flavor == "pyarrow.RecordBatch":
        combined = arrow_table.combine_chunks()
        batches = combined.to_batches()
        if batches:
            return batches[0]
        return pa.RecordBatch.from_pylist([], schema=combined.schema)
    return arrow_table


_HINTED = {
    "pandas": "pandas.DataFrame",
    "polars": "polars.DataFrame",
    "pyarrow": "pyarrow.Table",
}


def to_flavor(value: Any, library: str) -> Any:
    """`value` as a frame of `library` (`pandas`, `polars`, `pyarrow`) when it is a frame of
    another library; anything else is returned as it is. The lazy kinds (`polars-lazy`,
    `arrow-dataset`, `arrow-reader`) wrap a frame already in memory (replays use this; a
    task scans the stored Parquet instead, see `slipstream.runtime.lazy`)."""
    if _type_name(value) == "polars.lazyframe.frame.LazyFrame" and library != "polars-lazy":
        value = value.collect()  # a streamed LazyFrame, read back for a hint of loaded frames
    if not hasattr(value, "__arrow_c_stream__"):
        return value
    import pyarrow as pa

    if library == "polars-lazy":
        return to_flavor(value, "polars").lazy()
    if library == "arrow-dataset":
        import pyarrow.dataset as ds

        return ds.dataset(pa.table(value))
    if library == "arrow-reader":
        return pa.RecordBatchReader.from_stream(value)
    flavor = _HINTED[library]
    kind = type(value)
    if f"{kind.__module__.split('.')[0]}.{kind.__name__}" == flavor:
        return value
    return restore(pa.table(value), flavor)


_STREAMS = {
    "pyarrow.lib.RecordBatchReader": "pyarrow.RecordBatchReader",
    "polars.lazyframe.frame.LazyFrame": "polars.LazyFrame",
}


def is_stream(value: Any) -> bool:
    """Whether `value` is a frame stored as its batches are read, never whole in memory."""
    return isinstance(value, Streamed) or _stream_kind(value) is not None


def _stream_kind(value: Any) -> str | None:
    """The stream type `value` is an instance of (`ipc.open_stream` gives a subclass)."""
    for kind in type(value).__mro__:
        name = f"{kind.__module__}.{kind.__qualname__}"
        if name in _STREAMS:
            return name
    return None


class Streamed:
    """A frame stored as its batches are read: a `pyarrow.RecordBatchReader`, or a
    `polars.LazyFrame` run by polars' streaming engine. It is an Arrow stream (read once)
    that keeps its first `keep` rows as they pass, for the output's preview."""

    def __init__(self, value: Any, keep: int = 0) -> None:
        self.source: Any = value.source if isinstance(value, Streamed) else value
        self.schema: Any = None
        self.python_type = _type_name(self.source)
        self.flavor = _STREAMS[_stream_kind(self.source) or self.python_type]
        why = refusal(self.source) if self.flavor == "pyarrow.RecordBatchReader" else None
        if why:
            from slipstream.errors import UnsupportedType

            raise UnsupportedType(f"cannot store a value of type {self.python_type} ({why})")
        self.head: list[Any] = []
        #: What the source raised while it was read, to be raised as it was.
        self.error: BaseException | None = None
        self._keep = keep

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        import pyarrow as pa

        if self.flavor == "polars.LazyFrame":
            import polars as pl

            # Each chunk goes through pyarrow, which hands Null-typed columns to Arrow as
            # Arrow expects (polars' own export does not).
            schema = pl.DataFrame(schema=self.source.collect_schema()).to_arrow().schema
            chunks = self.source.collect_batches(lazy=True)
            batches = (b for c in chunks for b in c.to_arrow().cast(schema).to_batches())
        else:
            schema = self.source.schema
            batches = iter(self.source)
        reader = pa.RecordBatchReader.from_batches(schema, self._keeping(batches))
        self.schema = schema
        return reader.__arrow_c_stream__(requested_schema)

    def _keeping(self, batches: Any) -> Any:
        import pyarrow as pa

        kept = 0
        try:
            for batch in batches:
                if kept < self._keep:
                    # A copy of the rows kept: a slice would keep the whole batch alive.
                    taken = batch.take(pa.array(range(min(batch.num_rows, self._keep - kept))))
                    self.head.append(taken)
                    kept += taken.num_rows
                yield batch
        except BaseException as exc:
            self.error = exc
            raise

    def head_table(self) -> Any:
        """The first rows read, as a pyarrow Table."""
        import pyarrow as pa

        return pa.Table.from_batches(self.head, schema=self.schema)


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def failing_column(frame: Any) -> Any:
    """The label of the first column of a pandas frame that Arrow cannot convert (to name it
    in the refusal), or None."""
    import pyarrow as pa

    for label in frame.columns:
        try:
            pa.array(frame[label], from_pandas=True)
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            return label
    return None


def refusal(value: Any) -> str | None:
    """Why the frame `value` cannot be stored so that it comes back as it is, or None: a
    column of a type Arrow cannot take from pandas, or that Parquet would hand back changed,
    objects Arrow would hand back changed (NaN as None, tuples as arrays), column labels or
    index names that would come back as text or not at all.
    The store refuses such a frame (`UnsupportedType`) with this reason, naming the column
    and what to store instead. (Types Parquet cannot hold at all, such as
    `month_day_nano_interval` and unions, are refused by the native codec.)"""
    name = _type_name(value)
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
        if _numpy_object(dtype):
            why = _objects_refusal(f"column {label!r}", frame.iloc[:, position], f"df[{label!r}]")
            if why:
                return why
    for level in range(frame.index.nlevels):
        values = frame.index.get_level_values(level)
        if _numpy_object(values.dtype):
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
        if odd == ["bool"] and columns.nlevels == 1 and not _numpy_object(labels.dtype):
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
    if _numpy_object(converted.dtype):
        return converted.tolist()  # type: ignore[no-any-return]
    return _objects(column).tolist()  # type: ignore[no-any-return]


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


def _major(version: Any) -> int:
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return 0


def _to_pandas(table: Any) -> Any:
    """`table` as the pandas frame it was stored from. pyarrow rebuilds most of it from the
    pandas metadata stored with the schema; what it gets wrong is set right here, column by
    column (by position, as labels may be anything):
    - a categorical's `ordered` flag, which arrow-rs keeps on no dictionary;
    - a column, the index or the column labels of `object` dtype, which pandas 3 reads as
      `str` (None becoming NaN) or as numbers (integers with None becoming floats);
    - an `ArrowDtype` column, whose type pandas cannot parse back from its name when it is
      nested or run-end encoded, and whose run-end encoding Parquet decodes;
    - bool column labels, which pyarrow reads back from their text ("False" being true)."""
    import json

    import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no stubs here
    import pyarrow as pa

    raw = (table.schema.metadata or {}).get(b"pandas")
    meta = json.loads(raw) if raw else {}
    if not meta:
        # The table is ours alone: let pyarrow free its buffers while it builds the frame.
        return table.to_pandas(self_destruct=True, split_blocks=True)
    # pandas 3 records `str` for its strings, so `object` means object. Before it, `object`
    # was recorded for every string column, which pandas 3 reads as `str` (so does pyarrow).
    objects = _major(meta.get("pandas_version")) >= 3 and _major(pd.__version__) >= 3
    described = {c.get("field_name", c.get("name")): c for c in meta.get("columns", [])}
    index_fields = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
    data_fields = [f for f in table.column_names if f not in index_fields]
    ordered: list[int] = []
    as_object: dict[int, Any] = {}
    as_arrow: dict[int, tuple[Any, str]] = {}
    for position, field in enumerate(data_fields):
        column = described.get(field) or {}
        numpy_type = str(column.get("numpy_type") or "")
        if numpy_type.endswith("[pyarrow]"):
            as_arrow[position] = (table.column(field), numpy_type.removesuffix("[pyarrow]"))
        elif column.get("pandas_type") == "categorical":
            if (column.get("metadata") or {}).get("ordered"):
                ordered.append(position)
        elif objects and numpy_type == "object":
            as_object[position] = table.column(field)
    index = None
    if len(index_fields) == 1 and objects and _is_object(described.get(index_fields[0])):
        index = table.column(index_fields[0])
    if as_arrow:
        # pyarrow would parse the recorded dtype names (and fail on some): the columns are
        # converted below, from their Arrow data, and handed to pyarrow as nulls.
        for position in as_arrow:
            described[data_fields[position]].update(pandas_type="empty", numpy_type="object")
            name = data_fields[position]
            nulls = pa.nulls(table.num_rows)
            table = table.set_column(table.schema.get_field_index(name), name, nulls)
        metadata = {**(table.schema.metadata or {}), b"pandas": json.dumps(meta).encode()}
        table = table.replace_schema_metadata(metadata)
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    for position in ordered:
        frame.isetitem(position, frame.iloc[:, position].cat.as_ordered())
    dtypes = frame.dtypes
    for position, column in as_object.items():
        if not _numpy_object(dtypes.iloc[position]):
            # A Series: an array of objects would be inferred as `str` again.
            values = pd.Series(_objects(column), index=frame.index, dtype=object)
            frame.isetitem(position, values)
    for position, (column, wanted) in as_arrow.items():
        frame.isetitem(position, pd.arrays.ArrowExtensionArray(_arrow_typed(column, wanted)))
    if index is not None and not _numpy_object(frame.index.dtype):
        frame.index = pd.Index(_objects(index), dtype=object, name=frame.index.name)
    levels = meta.get("column_indexes") or []
    if len(levels) == 1 and not isinstance(frame.columns, pd.MultiIndex):
        level = levels[0]
        if level.get("pandas_type") == "bool":
            labels = [field == "True" for field in data_fields]
            dtype = level.get("numpy_type") or "bool"
            frame.columns = pd.Index(labels, dtype=dtype, name=frame.columns.name)
        elif objects and _is_object(level) and not _numpy_object(frame.columns.dtype):
            frame.columns = frame.columns.astype(object)
    return frame


def _is_object(described: Any) -> bool:
    """Whether pandas metadata describes a column (or index) of `object` dtype."""
    return isinstance(described, dict) and described.get("numpy_type") == "object"


def _numpy_object(dtype: Any) -> bool:
    """Whether `dtype` is numpy's `object` (pandas' `str` dtype has an `O` kind too)."""
    import numpy as np

    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _objects(column: Any) -> Any:
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


def _arrow_typed(column: Any, wanted: str) -> Any:
    """The Arrow `column` with the type named `wanted` (a pandas `ArrowDtype`'s name, without
    `[pyarrow]`) where Parquet changed it: run-end encoding, a dictionary's `ordered` flag."""
    import re

    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if str(kind) == wanted:
        return column
    runs = re.fullmatch(r"run_end_encoded<run_ends: (int16|int32|int64), values: (.*)>", wanted)
    if runs and runs.group(2) == str(kind):
        return pc.run_end_encode(column, run_end_type=pa.type_for_alias(runs.group(1)))
    if pa.types.is_dictionary(kind):
        flagged = pa.dictionary(kind.index_type, kind.value_type, ordered=True)
        if str(flagged) == wanted:
            return pa.chunked_array(
                [
                    pa.DictionaryArray.from_arrays(c.indices, c.dictionary, ordered=True)
                    for c in column.chunks
                ],
                type=flagged,
            )
    return column
