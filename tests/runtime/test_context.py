"""`ss.context()`, `ss.connection()` and alerts in local runs: the stand-ins that let an op
written for Airflow run here unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import slipstream as ss
from slipstream.errors import FlowDefinitionError, SlipstreamError
from slipstream.runtime.alerts import Alert
from slipstream.runtime.connections import ConnectionNotFound, connection, parse

from tests.flows import context_flows

LOGICAL = datetime(2026, 6, 1, tzinfo=UTC)


def test_context_is_a_stand_in_locally_and_settable(tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    run = context_flows.flow().run(store, run_id="r1")
    stamp = run["stamp"]
    assert stamp["run_id"] == "r1" and stamp["try_number"] == 1 and stamp["task_id"] == "stamp"
    assert stamp["logical_date"] == run.started_at  # the moment the run started
    assert stamp["conf"] == {} and stamp["partition_key"] is None and not stamp["in_airflow"]
    given = {"logical_date": LOGICAL, "conf": {"region": "emea"}, "partition_key": "2026-06-01"}
    run = context_flows.flow().run(store, run_id="r2", context=given)
    stamp = run["stamp"]
    assert stamp["logical_date"] == LOGICAL.isoformat() and stamp["conf"] == {"region": "emea"}
    assert stamp["partition_key"] == "2026-06-01"
    with pytest.raises(SlipstreamError, match="has no field 'logical'"):
        context_flows.flow().run(store, context={"logical": LOGICAL})


def test_an_op_that_read_its_context_is_not_served_from_the_cache(tmp_path: Path) -> None:
    """Its output may depend on the context, which the cache key does not cover."""
    store = (tmp_path / "store").as_uri()
    context_flows.flow().run(store, run_id="first", context={"logical_date": LOGICAL})
    later = datetime(2026, 6, 2, tzinfo=UTC)
    run = context_flows.flow().run(store, run_id="second", context={"logical_date": later})
    assert run.ops["plain"].cached_from == "first"  # an op that did not read it: a hit
    assert run.ops["stamp"].cached_from is None
    assert run["stamp"]["logical_date"] == later.isoformat()


def test_context_outside_an_op_says_where_it_is_known() -> None:
    with pytest.raises(SlipstreamError, match=r"only known inside an op"):
        ss.context()


def test_connections_from_the_environment_and_the_connections_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cr3t/+@"
    uri = "postgresql://analyst:s3cr3t%2F%2B%40@db.example:5433/sales?sslmode=require"
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", uri)
    conn = connection("warehouse")
    assert (conn.conn_type, conn.login, conn.password) == ("postgres", "analyst", secret)
    assert (conn.host, conn.port, conn.schema) == ("db.example", 5433, "sales")
    assert dict(conn.extra) == {"sslmode": "require"} and secret not in repr(conn)
    assert parse("w", conn.uri) == conn.__class__(**{**conn.__dict__, "conn_id": "w"})
    fields = {"conn_type": "http", "host": "api.example", "port": "8080", "extra": {"token": "t"}}
    monkeypatch.setenv("AIRFLOW_CONN_JSONCONN", json.dumps(fields))
    found = connection("jsonconn")
    assert (found.conn_type, found.port, dict(found.extra)) == ("http", 8080, {"token": "t"})
    file = tmp_path / "connections.toml"
    file.write_text('[lake]\nconn_type = "aws"\nlogin = "key"\npassword = "pw"\n'
                    '[other]\nuri = "sqlite:///tmp/x.db"\n')  # fmt: skip
    monkeypatch.setenv("SLIPSTREAM_CONNECTIONS", str(file))
    assert connection("lake").login == "key" and connection("other").conn_type == "sqlite"
    with pytest.raises(ConnectionNotFound) as missing:
        connection("nope")
    message = str(missing.value)
    assert "AIRFLOW_CONN_NOPE" in message and str(file) in message and "[nope]" in message


def test_an_op_takes_a_connection_and_no_record_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://bob:hunter2@wh.example:5432/dw")
    store = tmp_path / "store"
    flow = ss.Flow("conns", outputs=[context_flows.warehouse_host()])
    run = flow.run(store.as_uri())
    assert run.status == "success" and run["warehouse_host"] == "bob@wh.example:5432/dw"
    for path in store.rglob("*.json"):
        assert "hunter2" not in path.read_text(), path


def test_alerts_of_metrics_and_checks_reach_the_callback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLIPSTREAM_UI_URL", "http://ui.example")
    store = (tmp_path / "store").as_uri()
    seen: list[Alert] = []
    run = context_flows.flow().run(store, run_id="r1", on_alert=seen.append)
    assert run.status == "success"  # a metric's alert and a warning check end nothing
    by_op = {a.op: a for a in seen}
    assert set(by_op) == {"ratio", "small"}
    metric, check = by_op["ratio"], by_op["small"]
    assert (metric.kind, metric.value, metric.bound) == ("metric", 0.42, 0.5)
    assert "metric 'ratio' is 0.42 in run r1 of flow 'context', below its alert bound 0.5" in str(
        metric
    )
    assert metric.url == "http://ui.example/flows/context/runs/r1/ops/ratio"
    assert check.kind == "check" and check.severity == "warning"
    assert "check 'small' (warning) failed" in check.message and check.message.endswith(check.url)


def test_metric_alert_bounds_are_checked_where_the_flow_is_defined() -> None:
    def share(x: int) -> float:
        return x / 100

    with pytest.raises(FlowDefinitionError, match=r"alert_below=3\.0 is above alert_above=1\.0"):
        ss.metric(alert_below=3, alert_above=1)(share)
    with pytest.raises(FlowDefinitionError, match="alert_below is a number"):
        ss.metric(alert_below="low")
