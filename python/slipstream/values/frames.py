"""Hands a decoded Arrow table back to the library a frame came from, or to the library an
op's type hint asks for."""

from __future__ import annotations

from typing import Any

from slipstream.values.refusals import numpy_object, objects_of, refusal, type_name


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
    if type_name(value) == "polars.lazyframe.frame.LazyFrame" and library != "polars-lazy":
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
        self.python_type = type_name(self.source)
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
        if not numpy_object(dtypes.iloc[position]):
            # A Series: an array of objects would be inferred as `str` again.
            values = pd.Series(objects_of(column), index=frame.index, dtype=object)
            frame.isetitem(position, values)
    for position, (column, wanted) in as_arrow.items():
        frame.isetitem(position, pd.arrays.ArrowExtensionArray(_arrow_typed(column, wanted)))
    if index is not None and not numpy_object(frame.index.dtype):
        frame.index = pd.Index(objects_of(index), dtype=object, name=frame.index.name)
    levels = meta.get("column_indexes") or []
    if len(levels) == 1 and not isinstance(frame.columns, pd.MultiIndex):
        level = levels[0]
        if level.get("pandas_type") == "bool":
            labels = [field == "True" for field in data_fields]
            dtype = level.get("numpy_type") or "bool"
            frame.columns = pd.Index(labels, dtype=dtype, name=frame.columns.name)
        elif objects and _is_object(level) and not numpy_object(frame.columns.dtype):
            frame.columns = frame.columns.astype(object)
    return frame


def _is_object(described: Any) -> bool:
    """Whether pandas metadata describes a column (or index) of `object` dtype."""
    return isinstance(described, dict) and described.get("numpy_type") == "object"


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
