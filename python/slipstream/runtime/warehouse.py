"""SQL warehouses through ADBC: connecting by URI, running a query into Arrow, writing a
table from Arrow, and saying clearly what went wrong.

Connection URIs:

    sqlite:///relative/path.db, sqlite:////abs/path.db   the embedded default
    postgresql://user@host:port/db                       password from PGPASSWORD/.pgpass
    env://NAME                                           the URI is in $NAME (secrets stay out)
    airflow://conn_id                                    an Airflow connection, read in the task

Passwords never appear in a flow spec, a DAG file or an error message.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from slipstream.errors import SqlError

Mode = Literal["replace", "append", "fail"]
SCHEMES = ("sqlite", "postgresql", "env", "airflow")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def check_uri(conn: str) -> None:
    """Refuses, where a flow is defined, what cannot work or would leak a secret."""
    parts = urlsplit(conn)
    scheme = _scheme(parts.scheme)
    if scheme not in SCHEMES:
        raise ValueError(
            f"unknown connection scheme {parts.scheme!r} in {redact(conn)!r}: use "
            "sqlite:///path.db, postgresql://user@host:port/db, env://VAR or airflow://conn_id"
        )
    if parts.password or _query_secrets(parts.query):
        raise ValueError(
            f"the connection {redact(conn)!r} contains a password, which would be written into "
            "the flow spec and the DAG file; set PGPASSWORD where tasks run, or keep the whole "
            "URI in an environment variable (env://VAR) or an Airflow connection "
            "(airflow://conn_id)"
        )
    if scheme == "sqlite" and not conn.removeprefix("sqlite:///"):
        raise ValueError(f"{conn!r} names no database file: use sqlite:///path/to/file.db")
    if scheme in ("env", "airflow") and not parts.netloc:
        raise ValueError(f"{conn!r} names no {'variable' if scheme == 'env' else 'connection'}")


def check_table(table: str) -> tuple[str | None, str]:
    """`schema.table` or `table`, each a plain SQL identifier."""
    parts = table.split(".")
    if len(parts) > 2 or not all(_IDENT.match(p) for p in parts):
        raise ValueError(
            f"table name {table!r} is not valid: use `table` or `schema.table`, each made of "
            "letters, digits and '_' (not starting with a digit)"
        )
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


# Query parameters of a connection URI that hold secrets (libpq's and common drivers').
_SECRET_PARAMETERS = frozenset({"password", "passwd", "pwd", "sslpassword", "secret", "token"})


def _query_secrets(query: str) -> list[str]:
    """The values of the secret parameters in a URI's query string."""
    return [v for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() in
            _SECRET_PARAMETERS]  # fmt: skip


def redact(uri: str) -> str:
    """The URI without its password, in the user part or in the query."""
    parts = urlsplit(uri)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    if _query_secrets(parts.query):
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = "&".join(f"{k}={'***' if k.lower() in _SECRET_PARAMETERS else v}" for k, v in pairs)
        parts = parts._replace(query=query)
    return urlunsplit(parts)


@dataclass
class Warehouse:
    """An open ADBC connection and what is needed to talk about it."""

    dialect: Literal["sqlite", "postgresql"]
    label: str  # the connection as shown in messages: no password
    connection: Any
    secrets: tuple[str, ...]

    def error(self, what: str, exc: BaseException, query: str | None = None) -> SqlError:
        message = _driver_message(exc)
        for secret in self.secrets:
            message = message.replace(secret, "***")
        text = f"{what} {'to' if what == 'cannot connect' else 'on'} {self.label}: {message}"
        if query is not None:
            position = _error_position(exc, message, query)
            text += "\n" + _pointed(query, position)
        return SqlError(text)


@contextmanager
def connect(conn: str) -> Iterator[Warehouse]:
    """Opens the warehouse `conn` names; closes it afterwards."""
    uri = resolve(conn)
    parts = urlsplit(uri)
    scheme = _scheme(parts.scheme)
    found = (parts.password, os.environ.get("PGPASSWORD"), *_query_secrets(parts.query))
    secrets = tuple(s for s in found if s)
    label = redact(conn if conn == uri else f"{conn} ({redact(uri)})")
    try:
        if scheme == "sqlite":
            import adbc_driver_sqlite.dbapi as sqlite

            path = uri.removeprefix("sqlite:///") if uri.startswith("sqlite:///") else parts.path
            if path and path != ":memory:" and not os.path.isdir(os.path.dirname(path) or "."):
                raise SqlError(
                    f"cannot open {label}: folder {os.path.dirname(path)!r} does not exist"
                )
            connection = sqlite.connect(path)
            # Wait for other connections' locks (a reader, a concurrent writer) instead of
            # failing at once with "database is locked".
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.close()
        elif scheme == "postgresql":
            import adbc_driver_postgresql.dbapi as postgresql

            connection = postgresql.connect(urlunsplit(parts._replace(scheme="postgresql")))
        else:
            raise SqlError(f"cannot open {label}: unknown scheme {parts.scheme!r}")
    except ImportError as exc:
        raise SqlError(
            f"cannot open {label}: the ADBC driver is not installed ({exc.name}); install "
            f"slipstream[{'sql' if scheme == 'sqlite' else 'postgresql'}]"
        ) from None
    except SqlError:
        raise
    except Exception as exc:  # noqa: BLE001 — any driver failure becomes a SqlError
        warehouse = Warehouse(scheme, label, None, secrets)  # type: ignore[arg-type]
        raise _connect_error(warehouse, exc) from None
    warehouse = Warehouse(scheme, label, connection, secrets)  # type: ignore[arg-type]
    try:
        yield warehouse
    finally:
        connection.close()


def resolve(conn: str) -> str:
    """The real URI behind `env://` and `airflow://` connections."""
    parts = urlsplit(conn)
    if parts.scheme == "env":
        value = os.environ.get(parts.netloc)
        if not value:
            raise SqlError(f"connection {conn!r}: environment variable {parts.netloc} is not set")
        check_scheme = _scheme(urlsplit(value).scheme)
        if check_scheme not in ("sqlite", "postgresql"):
            raise SqlError(f"connection {conn!r}: ${parts.netloc} holds no sqlite/postgresql URI")
        return value
    if parts.scheme == "airflow":
        return _airflow_uri(parts.netloc)
    return conn


def query(warehouse: Warehouse, sql: str, params: Sequence[Any]) -> Any:
    """Runs `sql` with `params` bound as query parameters; the result as a pyarrow Table."""
    cursor = warehouse.connection.cursor()
    try:
        cursor.execute(sql, parameters=tuple(params) if params else None)
        return cursor.fetch_arrow_table()
    except Exception as exc:  # noqa: BLE001 — any driver failure becomes a SqlError
        raise warehouse.error("query failed", exc, sql) from None
    finally:
        cursor.close()


def write(warehouse: Warehouse, data: Any, table: str, mode: Mode) -> dict[str, Any]:
    """Writes `data` (a pyarrow Table) to `table`. `replace` swaps the whole table in one
    transaction: readers see the old table or the new one, never a part."""
    schema, name = check_table(table)
    _refuse_unsupported(warehouse, data, table)
    connection = warehouse.connection
    cursor = connection.cursor()
    try:
        existing = _columns(warehouse, cursor, schema, name)
        if existing and mode == "fail":
            raise SqlError(
                f"table {table} already exists on {warehouse.label} (mode='fail'); use "
                "mode='replace' to swap it or mode='append' to add rows"
            )
        if existing and mode == "append":
            _check_append(warehouse, cursor, data, schema, name, existing)
        try:
            if mode == "replace" and existing:
                staging = f"{name}__slipstream_{uuid.uuid4().hex[:12]}"
                cursor.adbc_ingest(staging, data, mode="create", db_schema_name=schema)
                cursor.execute(f"DROP TABLE {_qualified(schema, name)}")
                cursor.execute(
                    f"ALTER TABLE {_qualified(schema, staging)} RENAME TO {_quote(name)}"
                )
            else:
                cursor.adbc_ingest(name, data, mode="append" if existing else "create",
                                   db_schema_name=schema)  # fmt: skip
            connection.commit()
        except SqlError:
            raise
        except Exception as exc:  # noqa: BLE001 — any driver failure becomes a SqlError
            raise warehouse.error(f"writing table {table} failed", exc) from None
    except BaseException:
        connection.rollback()
        raise
    finally:
        cursor.close()
    return {"table": table, "mode": mode, "rows": data.num_rows, "columns": data.column_names}


def _check_append(
    warehouse: Warehouse,
    cursor: Any,
    data: Any,
    schema: str | None,
    name: str,
    existing: list[tuple[str, str]],
) -> None:
    """Compares the table's columns with those the driver would create for `data`: a probe
    table made from the frame's schema and rolled back, so the mapping is the driver's."""
    probe = f"{name}__slipstream_probe_{uuid.uuid4().hex[:8]}"
    cursor.adbc_ingest(probe, data.slice(0, 0), mode="create", db_schema_name=schema)
    incoming = _columns(warehouse, cursor, schema, probe)
    warehouse.connection.rollback()
    have, want = dict(existing), dict(incoming)
    problems = [f"column {c!r} is missing from the frame" for c in have if c not in want]
    problems += [f"column {c!r} is not in the table" for c in want if c not in have]
    problems += [
        f"column {c!r} is {have[c] or 'untyped'} in the table, {want[c] or 'untyped'} in the frame"
        for c in have
        if c in want and have[c].lower() != want[c].lower()
    ]
    if problems:
        table = _qualified(schema, name).replace('"', "")
        raise SqlError(
            f"cannot append to {table} on {warehouse.label}: the frame does not match the "
            f"table: {'; '.join(problems)}"
        )


def _columns(
    warehouse: Warehouse, cursor: Any, schema: str | None, name: str
) -> list[tuple[str, str]]:
    """`(column, declared type)` of a table, in order; empty when it does not exist."""
    if warehouse.dialect == "sqlite":
        cursor.execute("SELECT name, type FROM pragma_table_info(?)", parameters=(name,))
    else:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2 "
            "ORDER BY ordinal_position",
            parameters=(schema, name),
        )
    return [(str(c), str(t)) for c, t in cursor.fetchall()]


def _refuse_unsupported(warehouse: Warehouse, data: Any, table: str) -> None:
    import pyarrow as pa

    nested = [
        f"{field.name} ({field.type})"
        for field in data.schema
        if pa.types.is_nested(field.type) or pa.types.is_union(field.type)
    ]
    if nested:
        raise SqlError(
            f"cannot write table {table} on {warehouse.label}: columns of nested types have no "
            f"SQL column type: {', '.join(nested)}; flatten them or encode them as JSON text"
        )


def _qualified(schema: str | None, name: str) -> str:
    return f"{_quote(schema)}.{_quote(name)}" if schema else _quote(name)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _scheme(scheme: str) -> str:
    return "postgresql" if scheme in ("postgres", "postgresql") else scheme


def _driver_message(exc: BaseException) -> str:
    """The server's words without the driver's wrapping (status prefix, echoed query)."""
    details = dict(getattr(exc, "details", None) or [])
    primary = details.get(b"PG_DIAG_MESSAGE_PRIMARY")
    if primary:
        state = details.get(b"PG_DIAG_SQLSTATE", b"").decode()
        return str(primary.decode()) + (f" (SQLSTATE {state})" if state else "")
    message = str(exc).split("\nquery:", 1)[0].split("\nQuery was:", 1)[0]
    message = re.sub(r"^[A-Z_]+: (\[[A-Za-z]+\] )?", "", message)
    return message.replace("Failed to prepare query: ", "").strip()


def _error_position(exc: BaseException, message: str, sql: str) -> int | None:
    """0-based offset of the error in the query: the server's, or SQLite's `near "…"`."""
    details = dict(getattr(exc, "details", None) or [])
    position = details.get(b"PG_DIAG_STATEMENT_POSITION")
    if position:
        return int(position) - 1
    near = re.search(r'near "(.+?)"', message)
    if near and near.group(1) in sql:
        return sql.index(near.group(1))
    return None


def _pointed(sql: str, position: int | None) -> str:
    """The query with a caret under the error, as psql shows it."""
    if position is None:
        return f"query: {sql}"
    before = sql[:position]
    line_no = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1)
    line = sql.splitlines()[line_no - 1] if sql.splitlines() else sql
    return f"at line {line_no}, column {column + 1} of the query:\n  {line}\n  {' ' * column}^"


def _connect_error(warehouse: Warehouse, exc: BaseException) -> SqlError:
    message = str(exc)
    if "password authentication failed" in message or "no password supplied" in message:
        hint = "check the user name and the password (PGPASSWORD, .pgpass, or the connection)"
    elif "Connection refused" in message or "could not translate host name" in message:
        hint = "is the server running, and reachable from where this task runs?"
        message = message.split("\n")[0]
    elif "does not exist" in message:
        hint = "check the database name"
    else:
        hint = "check the connection"
    error = warehouse.error("cannot connect", exc)
    first_line = str(error).split("\n")[0]
    return SqlError(f"{first_line}; {hint}")


def _airflow_uri(conn_id: str) -> str:
    """An Airflow connection (`ss.connection`, looked up as an op would) as the URI of its
    database: `sqlite:///<host>` or `postgresql://login:password@host:port/schema`."""
    from slipstream.runtime.connections import ConnectionNotFound, connection

    try:
        c = connection(conn_id)
    except ConnectionNotFound as exc:
        raise SqlError(f"Airflow connection {conn_id!r} not found: {exc}") from None
    kind = _scheme(str(c.conn_type or ""))
    if kind == "sqlite":  # the file: the host of the JSON form, the path of a URI
        return f"sqlite:///{c.host or c.schema or ''}"
    auth = quote(c.login or "", safe="")
    if c.password:
        auth += ":" + quote(c.password, safe="")
    port = f":{c.port}" if c.port else ""
    at = "@" if auth else ""
    options = f"?{urlencode({k: str(v) for k, v in c.extra.items()})}" if c.extra else ""
    return f"{kind}://{auth}{at}{c.host or ''}{port}/{c.schema or ''}{options}"
