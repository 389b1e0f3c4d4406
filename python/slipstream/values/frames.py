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
        ordered = _ordered_categoricals(arrow_table)
        # The table is ours alone: let pyarrow free its buffers while it builds the frame.
        frame = arrow_table.to_pandas(self_destruct=True, split_blocks=True)
        for column in ordered:
            frame[column] = frame[column].cat.as_ordered()
        return frame
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


def _ordered_categoricals(table: Any) -> list[str]:
    """Columns pandas recorded as ordered categoricals. Arrow-rs keeps no `ordered` flag on
    dictionaries, but the pandas metadata stored with the schema does."""
    import json

    raw = (table.schema.metadata or {}).get(b"pandas")
    if not raw:
        return []
    columns = json.loads(raw).get("columns", [])
    return [
        c["name"]
        for c in columns
        if c.get("pandas_type") == "categorical" and (c.get("metadata") or {}).get("ordered")
    ]
