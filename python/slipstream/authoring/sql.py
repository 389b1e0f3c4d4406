"""`ss.sql` and `ss.save`: extract from and publish to SQL warehouses as ops of a flow.

Both are ordinary ops (their functions are `extract` and `publish` below): they appear in
the flow spec with their connection (never a password) and their query or table, and their
outputs, logs and errors are recorded like any op's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from slipstream.authoring.graph import Artifact, OpDefinition, Param
from slipstream.errors import FlowDefinitionError
from slipstream.runtime import warehouse as _warehouse
from slipstream.values.frames import to_flavor

Flavor = Literal["pyarrow", "pandas", "polars"]


def extract(conn: str, query: str, params: list[Any], flavor: str) -> Any:
    """Runs `query` on `conn` with `params` bound as query parameters; returns the rows as
    a frame of `flavor`."""
    with _warehouse.connect(conn) as warehouse:
        table = _warehouse.query(warehouse, query, params)
    print(f"{table.num_rows:,} rows, {table.num_columns} columns from {warehouse.label}")
    return to_flavor(table, flavor)


def publish(frame: Any, conn: str, table: str, mode: str) -> dict[str, Any]:
    """Writes `frame` to `table` on `conn` (`replace`, `append` or `fail`); returns what was
    written."""
    import pyarrow as pa

    data = (
        pa.Table.from_pandas(frame, preserve_index=False) if _is_pandas(frame) else pa.table(frame)
    )
    with _warehouse.connect(conn) as warehouse:
        written = _warehouse.write(warehouse, data, table, mode)  # type: ignore[arg-type]
    print(f"{written['rows']:,} rows written to {table} on {warehouse.label} ({mode})")
    return written


_extract = OpDefinition(extract, kind="op", name="sql", description="Extract rows with SQL")
_publish = OpDefinition(publish, kind="op", name="save", description="Publish a table")


def sql(
    conn: str,
    query: str,
    *,
    name: str = "sql",
    params: Sequence[Any | Param] = (),
    flavor: Flavor = "pyarrow",
    retries: int = 0,
    cache: bool = False,
) -> Artifact:
    """An op that runs `query` on the warehouse `conn` and outputs the rows as a frame
    (`flavor`: pyarrow, pandas or polars). `params` are bound as query parameters in the
    driver's placeholder syntax (`?` for SQLite, `$1` for PostgreSQL): values or
    `ss.param`s, never pasted into the SQL text. It runs every time (the warehouse changes
    under the same query) unless `cache=True`."""
    where = f"ss.sql(name={name!r})"
    _check_conn(where, conn)
    if flavor not in ("pyarrow", "pandas", "polars"):
        raise FlowDefinitionError(f"{where}: flavor must be pyarrow, pandas or polars")
    if not isinstance(query, str) or not query.strip():
        raise FlowDefinitionError(f"{where}: the query must be SQL text")
    op = _extract.named(name)
    op.retries = retries
    op.cache = cache
    handle: Artifact = op(conn, query, list(params), flavor)
    return handle


def save(
    artifact: Artifact,
    conn: str,
    *,
    table: str,
    mode: Literal["replace", "append", "fail"] = "replace",
    name: str | None = None,
    retries: int = 0,
) -> Artifact:
    """An op that writes the frame `artifact` to `table` on the warehouse `conn`.
    `replace` swaps the table atomically, `append` checks that the columns match, `fail`
    refuses to touch an existing table. Its output is a summary (table, rows, columns)."""
    where = f"ss.save(table={table!r})"
    _check_conn(where, conn)
    try:
        _warehouse.check_table(table)
    except ValueError as exc:
        raise FlowDefinitionError(f"{where}: {exc}") from None
    if mode not in ("replace", "append", "fail"):
        raise FlowDefinitionError(f"{where}: mode must be 'replace', 'append' or 'fail'")
    if not isinstance(artifact, Artifact):
        raise FlowDefinitionError(f"{where}: the first argument must be an artifact of the flow")
    op = _publish.named(name or f"save_{table.replace('.', '_')}")
    op.retries = retries
    op.cache = False  # a publish writes the world outside: it always runs
    op.publishes = True
    handle: Artifact = op(artifact, conn, table, mode)
    # A publish belongs to any flow built from what it publishes, as metrics and checks do.
    artifact.node.observers.append(handle.node)
    return handle


def _check_conn(where: str, conn: str) -> None:
    try:
        _warehouse.check_uri(conn)
    except ValueError as exc:
        raise FlowDefinitionError(f"{where}: {exc}") from None


def _is_pandas(frame: Any) -> bool:
    return type(frame).__module__.startswith("pandas")
