"""Hands a decoded Arrow table back to the library a frame came from, or to the library an
op's type hint asks for."""

from __future__ import annotations

from typing import Any


def restore(table: Any, flavor: str) -> Any:
    """Converts `table` (any object with `__arrow_c_stream__`) to the type named by `flavor`."""
    if flavor == "polars.DataFrame":
        import polars as pl

        return pl.DataFrame(table)

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
