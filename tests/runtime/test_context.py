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
    with pytest.raises(FlowDefinitionError, match="alert_below is a finite number"):
        ss.metric(alert_below="low")


def test_a_given_logical_date_moves_the_data_interval_and_types_are_checked(
    tmp_path: Path,
) -> None:
    from slipstream.runtime.context import stand_in

    started = datetime(2026, 6, 3, tzinfo=UTC)
    found = stand_in("r", started, {"logical_date": LOGICAL})
    assert found.data_interval_start == found.data_interval_end == LOGICAL
    assert stand_in("r", started, None).data_interval_start == started
    assert stand_in("r", started, {"conf": None}).conf == {}
    with pytest.raises(SlipstreamError, match="logical_date is a datetime, not str"):
        stand_in("r", started, {"logical_date": "2026-06-01"})


def test_a_callback_that_raises_ends_nothing(tmp_path: Path) -> None:
    def broken(alert: Alert) -> None:
        raise RuntimeError("the pager is down")

    run = context_flows.flow().run((tmp_path / "store").as_uri(), on_alert=broken)
    assert run.status == "success"


def test_each_alert_gets_a_fresh_notifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's notifiers render their template fields in place: one notifier serving two
    alerts in one process must not send the first message twice."""
    from slipstream.runtime import alerts

    from tests.flows.notifiers import FileNotifier

    out = tmp_path / "alerts.txt"
    monkeypatch.setenv("ALERTS_FILE", str(out))
    notifier = FileNotifier("{{ slipstream_alert.message }}")
    for op in ("a", "b"):
        alert = Alert("f", "r", op, "metric", f"message of {op}")
        alerts.notify([notifier], alert, {})
    assert out.read_text().splitlines() == ["message of a", "message of b"]


def test_connection_uris_read_as_airflow_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from slipstream.runtime.warehouse import _airflow_uri

    absolute = parse("lite", "sqlite:////data/w.db")
    assert (absolute.host, absolute.schema) == (None, "/data/w.db")
    monkeypatch.setenv("AIRFLOW_CONN_LITE", "sqlite:////data/w.db")
    assert _airflow_uri("lite") == "sqlite:////data/w.db"
    monkeypatch.setenv("AIRFLOW_CONN_PG", "postgres://u:p@db:5432/dw?sslmode=require")
    assert _airflow_uri("pg") == "postgresql://u:p@db:5432/dw?sslmode=require"
    with pytest.raises(ConnectionNotFound, match=r"connection 'bad'.*port"):
        parse("bad", "postgres://u@db:notaport/dw")


def test_a_list_param_takes_the_json_a_template_renders(tmp_path: Path) -> None:
    from slipstream.runtime.execute import resolve_params

    spec = ss.Flow("lists", outputs=[context_flows.total(ss.param("xs", [1, 2]))]).spec()
    assert resolve_params(spec, {"xs": "[3, 4]"}) == {"xs": [3, 4]}
