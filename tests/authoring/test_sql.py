"""Extract and publish as ops of a flow, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import slipstream as ss
from slipstream.errors import FlowDefinitionError
from slipstream.records.types import ErrorRecord
from slipstream.runtime import warehouse as _warehouse

from tests.support.postgres import PASSWORD, Postgres

NASTY = "O'Brien'); DROP TABLE customers; --"


class Warehouse:
    """One warehouse under test: its URI, its placeholder, and a raw ADBC connection."""

    def __init__(self, kind: str, uri: str) -> None:
        self.kind = kind
        self.uri = uri

    def placeholder(self, n: int) -> str:
        return "?" if self.kind == "sqlite" else f"${n}"

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        with _warehouse.connect(self.uri) as wh:
            cursor = wh.connection.cursor()
            cursor.execute(sql)
            rows = cursor.fetchall() if cursor.description else []
            wh.connection.commit()
            return list(rows)

    def seed(self) -> None:
        self.execute("DROP TABLE IF EXISTS customers")
        self.execute("CREATE TABLE customers (id INTEGER, name TEXT, spend DOUBLE PRECISION)")
        self.execute(
            "INSERT INTO customers VALUES (1, 'Ada', 120.5), (2, 'O''Brien''); DROP TABLE "
            "customers; --', 80.0), (3, 'Grace', NULL)"
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    if request.param == "sqlite":
        wh = Warehouse("sqlite", f"sqlite:///{tmp_path}/warehouse.db")
    else:
        server: Postgres = request.getfixturevalue("postgres")
        wh = Warehouse("postgresql", server.url)
        for table in ("customers", "predictions"):
            wh.execute(f"DROP TABLE IF EXISTS {table}")
    wh.seed()
    yield wh


@pytest.fixture
def url(tmp_path: Path) -> str:
    return (tmp_path / "store").as_uri()


def test_extract_binds_parameters_as_values(warehouse: Warehouse, url: str) -> None:
    query = f"SELECT id, name FROM customers WHERE name = {warehouse.placeholder(1)}"
    rows = ss.sql(warehouse.uri, query, name="by_name", params=[NASTY])
    run = ss.Flow("extract", outputs=[rows]).run(url)
    assert run.status == "success", run.ops["by_name"].error
    table = run["by_name"]
    assert isinstance(table, pa.Table)
    assert table.to_pylist() == [{"id": 2, "name": NASTY}]
    assert warehouse.execute("SELECT count(*) FROM customers") == [(3,)]  # still there
    assert "3 columns" not in run.ops["by_name"].logs and "1 rows" in run.ops["by_name"].logs


def test_extract_flavors_and_params(warehouse: Warehouse, url: str) -> None:
    p = warehouse.placeholder(1)
    minimum = ss.param("minimum", default=100.0)
    frames = ss.sql(warehouse.uri, f"SELECT id FROM customers WHERE spend >= {p} ORDER BY id",
                    name="as_pandas", params=[minimum], flavor="pandas")  # fmt: skip
    polars_frame = ss.sql(warehouse.uri, "SELECT id, spend FROM customers ORDER BY id",
                          name="as_polars", flavor="polars")  # fmt: skip
    flow = ss.Flow("flavors", outputs=[frames, polars_frame])
    run = flow.run(url)
    assert isinstance(run["as_pandas"], pd.DataFrame) and list(run["as_pandas"]["id"]) == [1]
    assert isinstance(run["as_polars"], pl.DataFrame)
    assert run["as_polars"]["spend"].null_count() == 1
    assert list(flow.run(url, params={"minimum": 0.0})["as_pandas"]["id"]) == [1, 2]


@ss.op
def score(customers: pd.DataFrame) -> pd.DataFrame:
    return customers.assign(score=customers["id"] * 0.1)


def test_save_modes(warehouse: Warehouse, url: str) -> None:
    rows = ss.sql(warehouse.uri, "SELECT id, name FROM customers ORDER BY id", flavor="pandas")
    scored = score(rows)
    replace = ss.Flow("publish", outputs=[ss.save(scored, warehouse.uri, table="predictions")])
    run = replace.run(url)
    assert run.status == "success", run.ops["save_predictions"].error
    assert run["save_predictions"]["rows"] == 3
    replace.run(url)  # replacing twice leaves one copy
    assert warehouse.execute("SELECT count(*) FROM predictions") == [(3,)]

    appending = ss.save(score(rows), warehouse.uri, table="predictions", mode="append")
    ss.Flow("append", outputs=[appending]).run(url)
    assert warehouse.execute("SELECT count(*) FROM predictions") == [(6,)]

    refusing = ss.save(score(rows), warehouse.uri, table="predictions", mode="fail")
    run = ss.Flow("fail", outputs=[refusing]).run(url)
    assert run.status == "failed"
    error = run.ops["save_predictions"].error
    assert error is not None and error.type == "slipstream.errors.SqlError"
    assert "table predictions already exists" in error.message
    assert warehouse.execute("SELECT count(*) FROM predictions") == [(6,)]
    # a fresh table is created by `fail` and by `append`
    fresh = ss.save(score(rows), warehouse.uri, table="fresh_scores", mode="fail")
    assert ss.Flow("fresh", outputs=[fresh]).run(url).status == "success"
    warehouse.execute("DROP TABLE fresh_scores")


@ss.op
def renamed(customers: pd.DataFrame) -> pd.DataFrame:
    return customers.rename(columns={"name": "full_name"}).assign(id=customers["id"].astype(str))


def test_append_with_another_schema_names_the_columns(warehouse: Warehouse, url: str) -> None:
    def extract() -> ss.Artifact:
        return ss.sql(warehouse.uri, "SELECT id, name FROM customers", flavor="pandas")

    ss.Flow("first", outputs=[ss.save(extract(), warehouse.uri, table="predictions")]).run(url)
    # (a flow of `renamed` on the first extract would take its publish along)
    bad = ss.save(renamed(extract()), warehouse.uri, table="predictions", mode="append")
    run = ss.Flow("mismatch", outputs=[bad]).run(url)
    error = run.ops["save_predictions"].error
    assert error is not None
    message = error.message
    assert "cannot append to predictions" in message
    assert "column 'name' is missing from the frame" in message
    assert "column 'full_name' is not in the table" in message
    assert "column 'id' is" in message and "in the table" in message
    assert warehouse.execute("SELECT count(*) FROM predictions") == [(3,)]


def test_replace_is_atomic_under_a_concurrent_reader(warehouse: Warehouse) -> None:
    small = pa.table({"version": [1] * 1_000})
    big = pa.table({"version": [2] * 5_000})
    with _warehouse.connect(warehouse.uri) as wh:
        _warehouse.write(wh, small, "swapped", "replace")
    seen: set[tuple[int, int]] = set()
    problems: list[str] = []
    stop = threading.Event()

    def read() -> None:
        with _warehouse.connect(warehouse.uri) as wh:
            cursor = wh.connection.cursor()
            while not stop.is_set():
                try:
                    cursor.execute("SELECT count(*), min(version), max(version) FROM swapped")
                    count, low, high = cursor.fetchone()
                    wh.connection.commit()
                except Exception as exc:  # noqa: BLE001 — SQLite says "locked" mid-commit
                    wh.connection.rollback()
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        problems.append(str(exc))
                    continue
                seen.add((count, low))
                if low != high or (count, low) not in ((1_000, 1), (5_000, 2)):
                    problems.append(f"half-written table seen: {count} rows, {low}..{high}")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(12):
            with _warehouse.connect(warehouse.uri) as wh:
                _warehouse.write(wh, big if i % 2 == 0 else small, "swapped", "replace")
            time.sleep(0.01)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert not problems, problems[:3]
    assert seen <= {(1_000, 1), (5_000, 2)} and seen
    warehouse.execute("DROP TABLE swapped")


def test_spec_holds_connection_and_query_but_no_secret(warehouse: Warehouse) -> None:
    rows = ss.sql(warehouse.uri, "SELECT 1 AS one", name="one")
    spec = ss.Flow("spec", outputs=[ss.save(rows, warehouse.uri, table="ones")]).spec()
    ops = {op.name: op for op in spec.ops}
    assert ops["one"].constants["conn"] == warehouse.uri
    assert ops["one"].constants["query"] == "SELECT 1 AS one"
    assert ops["save_ones"].constants == {
        "conn": warehouse.uri,
        "table": "ones",
        "mode": "replace",
    }
    assert PASSWORD not in spec.to_json().decode()


def test_definition_errors() -> None:
    with pytest.raises(FlowDefinitionError, match="unknown connection scheme 'mysql'"):
        ss.sql("mysql://me@db/x", "SELECT 1")
    with pytest.raises(FlowDefinitionError, match="contains a password") as caught:
        ss.sql("postgresql://me:hunter2@db/x", "SELECT 1")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(FlowDefinitionError, match="table name 'a b' is not valid"):
        ss.save(ss.sql("sqlite:///w.db", "SELECT 1"), "sqlite:///w.db", table="a b")
    with pytest.raises(FlowDefinitionError, match="mode must be"):
        ss.save(ss.sql("sqlite:///w.db", "SELECT 1"), "sqlite:///w.db", table="t", mode="merge")  # type: ignore[arg-type]
    with pytest.raises(FlowDefinitionError, match="names no database file"):
        ss.sql("sqlite:///", "SELECT 1")
    for hidden in (
        "postgresql://me@db/x?password=hunter2",
        "postgresql://me@db/x?sslmode=require&PWD=hunter2",
    ):
        with pytest.raises(FlowDefinitionError, match="contains a password") as caught:
            ss.sql(hidden, "SELECT 1")
        assert "hunter2" not in str(caught.value) and "***" in str(caught.value)


def failure(url: str, make: Callable[[], ss.Artifact]) -> ErrorRecord:
    artifact = make()
    run = ss.Flow("failing", outputs=[artifact]).run(url)
    assert run.status == "failed"
    error = run.ops[artifact.node.name].error
    assert error is not None and error.type == "slipstream.errors.SqlError"
    return error


def test_query_errors_point_at_the_position(warehouse: Warehouse, url: str) -> None:
    query = "SELECT id\nFROM customers\nWHERE id = 1 GROUPY BY id"
    syntax = failure(url, lambda: ss.sql(warehouse.uri, query))
    assert "syntax error" in syntax.message
    pointed = "at line 3, column 14 of the query:\n  WHERE id = 1 GROUPY BY id\n               ^"
    assert pointed in syntax.message
    missing = failure(url, lambda: ss.sql(warehouse.uri, "SELECT * FROM no_such_table"))
    assert "no_such_table" in missing.message
    assert ("does not exist" in missing.message) or ("no such table" in missing.message)


def test_unsupported_column_type_is_named(warehouse: Warehouse, url: str) -> None:
    @ss.op
    def nested() -> pa.Table:
        return pa.table({"id": [1], "tags": [["a", "b"]]})

    error = failure(url, lambda: ss.save(nested(), warehouse.uri, table="nested"))
    assert "tags (list<item: string>)" in error.message
    assert "flatten them or encode them as JSON text" in error.message


def test_connection_errors(postgres: Postgres, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGPASSWORD", "wrong-password")
    bad = failure(url, lambda: ss.sql(postgres.url, "SELECT 1", name="bad_credentials"))
    assert "password authentication failed" in bad.message
    assert "check the user name and the password" in bad.message
    assert "wrong-password" not in bad.to_json().decode()
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    closed = postgres.url.replace(str(postgres.port), "1")
    down = failure(url, lambda: ss.sql(closed, "SELECT 1", name="unreachable"))
    assert "cannot connect" in down.message and "is the server running" in down.message
    nowhere = failure(url, lambda: ss.sql("sqlite:////no/such/folder/w.db", "SELECT 1"))
    assert "folder '/no/such/folder' does not exist" in nowhere.message


def test_env_and_airflow_connections_keep_secrets_out(
    postgres: Postgres, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.setenv("WAREHOUSE_URL", postgres.url_with_password)
    conn = {
        "conn_type": "postgres", "host": postgres.host, "port": postgres.port,
        "login": "slipstream", "password": PASSWORD, "schema": "warehouse",
    }  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(conn))
    via_env = ss.sql("env://WAREHOUSE_URL", "SELECT 42 AS answer", name="via_env")
    via_airflow = ss.sql("airflow://warehouse", "SELECT 43 AS answer", name="via_airflow")
    flow = ss.Flow("secrets", outputs=[via_env, via_airflow])
    run = flow.run(url)
    assert run.status == "success", {n: o.error for n, o in run.ops.items()}
    assert run["via_env"].to_pylist() == [{"answer": 42}]
    assert run["via_airflow"].to_pylist() == [{"answer": 43}]
    assert PASSWORD not in flow.spec().to_json().decode()
    assert PASSWORD not in run.ops["via_env"].logs
    monkeypatch.delenv("WAREHOUSE_URL")
    error = failure(url, lambda: ss.sql("env://WAREHOUSE_URL", "SELECT 1", name="unset"))
    assert "environment variable WAREHOUSE_URL is not set" in error.message
    error = failure(url, lambda: ss.sql("airflow://nope", "SELECT 1", name="unknown_conn"))
    assert "Airflow connection 'nope' not found" in error.message


def test_redact_hides_passwords() -> None:
    assert _warehouse.redact("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    assert (
        _warehouse.redact("postgresql://u@h/db?sslmode=require&password=pw")
        == "postgresql://u@h/db?sslmode=require&password=***"
    )
    assert os.path.basename(_warehouse.redact("sqlite:///x.db")) == "x.db"
