"""Flows built on other flows' data, without Airflow: `flow.asset`, `ss.upstream`, how a run
resolves it (the newest successful upstream run locally; exactly the artifact an asset event
names in Airflow), what the spec records, and the operator's link and asset events."""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any

import pytest
import slipstream as ss
from slipstream.airflow import assets, run_task
from slipstream.errors import FlowDefinitionError
from slipstream.records.types import FlowOutput, OutputRef
from slipstream.spec.assets import asset_uri, parse_asset_uri

from tests.flows import asset_flows


@pytest.fixture
def store(tmp_path: Path) -> str:
    return (tmp_path / "store").as_uri()


def test_asset_uris_name_flow_op_and_output() -> None:
    assert asset_uri("churn", "predict", "out") == "slipstream://churn/predict/out"
    assert parse_asset_uri("slipstream://churn/predict/out") == ("churn", "predict", "out")
    for other in ("s3://bucket/key", "slipstream://churn/predict", "slipstream:///a/b",
                  "slipstream://churn/predict/out/more", "slipstream://churn//out"):  # fmt: skip
        assert parse_asset_uri(other) is None, other


def test_flow_asset_and_upstream_refuse_what_is_not_there() -> None:
    churn = asset_flows.churn()
    assert churn.asset("predict").uri == "slipstream://churn/predict/out"
    with pytest.raises(
        FlowDefinitionError, match=r"has no op 'predikt' \(its ops: customers, predict\)"
    ):
        churn.asset("predikt")
    with pytest.raises(FlowDefinitionError, match="has no output 'scores'"):
        churn.asset("predict", "scores")
    with pytest.raises(FlowDefinitionError, match="name the op to read"):
        ss.upstream(churn)
    with pytest.raises(FlowDefinitionError, match=r"takes a flow .* not 42"):
        ss.upstream(42)  # type: ignore[arg-type]
    with pytest.raises(FlowDefinitionError, match="name 'churn predict' is not valid"):
        ss.upstream("churn", "predict", name="churn predict")
    with pytest.raises(FlowDefinitionError, match="cannot be scheduled on its own output"):
        ss.Flow("churn", outputs=[asset_flows.predict(asset_flows.customers(3))],
                schedule=[churn.asset("predict")])  # fmt: skip
    with pytest.raises(FlowDefinitionError, match=r"a cron line .* not '@daily'"):
        ss.Flow("x", outputs=[asset_flows.customers(3)], schedule=["@daily"])  # type: ignore[list-item]


def test_the_spec_records_cross_flow_inputs_and_others_keep_format_1() -> None:
    churn, report = asset_flows.churn(), asset_flows.report()
    assert churn.spec().format == 1 and not churn.spec().schedule_on
    spec = report.spec()
    assert spec.format == 2 and spec.schedule is None
    assert spec.schedule_on == (FlowOutput(flow="churn", op="predict", output="out"),)
    (upstream,) = [o for o in spec.ops if o.kind == "upstream"]
    assert upstream.name == "churn-predict" and upstream.outputs == ("out",)
    assert upstream.source == FlowOutput(flow="churn", op="predict", output="out")
    assert upstream.function.source == "ss.upstream('churn', 'predict', 'out')"
    summarize = next(o for o in spec.ops if o.name == "summarize")
    assert summarize.inputs == {"predictions": OutputRef(op="churn-predict", output="out")}
    # The same flow by name, or through the asset, is the same version.
    on, about = [churn.asset("predict")], report.description
    by_name = ss.upstream("churn", "predict")
    by_asset = ss.upstream(churn.asset("predict"))
    versions = {
        ss.Flow("report", [asset_flows.summarize(a)], schedule=on, description=about).version
        for a in (by_name, by_asset)
    }
    assert versions == {report.version}


def test_a_local_run_reads_the_newest_successful_upstream_run(store: str) -> None:
    churn, report = asset_flows.churn(), asset_flows.report()
    first = report.run(store)
    assert first.status == "failed"
    error = first.ops["churn-predict"].error
    assert error is not None and "no flow 'churn'" in error.message
    assert "run flow 'churn' first" in error.message
    older = churn.run(store, params={"rows": 10})
    newer = churn.run(store, params={"rows": 25})
    failed = churn.run(store, params={"rows": -1})  # newest, but failed
    assert (older.status, newer.status, failed.status) == ("success", "success", "failed")
    run = report.run(store)
    assert run.status == "success" and run["summarize"]["rows"] == 25.0
    read = run.ops["churn-predict"].state.cached_from
    assert read.flow == "churn" and read.run_id == newer.run_id
    assert run.key("churn-predict") == newer.key("predict")


def test_a_gone_upstream_artifact_is_a_clear_failure(store: str) -> None:
    churn, report = asset_flows.churn(), asset_flows.report()
    done = churn.run(store)
    key = done.key("predict")
    ss.Store(store).delete_objects([key.manifest_path])
    run = report.run(store)
    error = run.ops["churn-predict"].error
    assert run.status == "failed" and error is not None
    assert "is no longer stored" in error.message and key.manifest_path in error.message


def _event(extra: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {"slipstream://churn/predict/out": [{"extra": extra, "timestamp": "t"}]}


def _report_task(store: str, run_id: str, events: Any) -> dict[str, Any]:
    report = asset_flows.report()
    version = report.publish(store)
    return run_task(store, "report", version, "churn-predict", run_id=run_id, events=events)


def test_an_airflow_task_reads_exactly_the_artifact_its_event_names(store: str) -> None:
    churn = asset_flows.churn()
    named = churn.run(store, params={"rows": 5})
    churn.run(store, params={"rows": 9})  # newer: not the one the event names
    out = {"prefix": named.key("predict").op_prefix, "stored_run_id": named.run_id,
           **{k: getattr(named.ops["predict"].record.outputs["out"], k)  # type: ignore[union-attr]
              for k in ("type", "rows", "bytes", "checksum")}}  # fmt: skip
    extra = assets.event_extra(
        store, "churn", named.version.id, "predict", named.run_id, "out", out
    )
    summary = _report_task(store, "asset_triggered__1", _event(extra))
    assert summary["out"]["stored_run_id"] == named.run_id and summary["out"]["rows"] == 5
    run = ss.open(store).run("report", "asset_triggered__1")
    assert run.ops["churn-predict"].state.cached_from.run_id == named.run_id

    # An event from another store, of another format, or whose checksum the artifact no
    # longer has: the task fails, saying which.
    wrong = [
        ({"store": "s3://elsewhere"}, "share a store"),
        ({"slipstream": 2}, "no slipstream extra of format 1"),
        ({"checksum": "crc32c:00000000"}, "is not the crc32c:00000000"),
    ]
    for change, message in wrong:
        with pytest.raises(ss.errors.SlipstreamError, match=message):
            _report_task(store, f"asset_triggered__{message[:5]}", _event({**extra, **change}))


def test_the_extra_link_needs_a_ui_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from slipstream.airflow.operator import SlipstreamLink

    monkeypatch.delenv("SLIPSTREAM_UI_URL", raising=False)
    monkeypatch.delenv("AIRFLOW__SLIPSTREAM__UI_URL", raising=False)
    key = types.SimpleNamespace(dag_id="churn", run_id="manual__2026-01-01T00:00:00+00:00",
                                task_id="predict")  # fmt: skip
    operator = types.SimpleNamespace(slipstream_flow="churn")
    assert SlipstreamLink().get_link(operator, ti_key=key) == ""  # no link, not a broken one
    monkeypatch.setenv("SLIPSTREAM_UI_URL", "http://ui.example:8040/")
    url = "http://ui.example:8040/flows/churn/runs/manual__2026-01-01T00%3A00%3A00%2B00%3A00"
    assert SlipstreamLink().get_link(operator, ti_key=key) == url + "/ops/predict"
    # Airflow's own config comes first.
    monkeypatch.setenv("AIRFLOW__SLIPSTREAM__UI_URL", "https://slipstream.internal")
    assert (
        SlipstreamLink().get_link(operator, ti_key=key).startswith("https://slipstream.internal/")
    )


def test_the_plugin_adds_views_only_with_a_ui_url() -> None:
    from slipstream.airflow.plugin import external_views

    assert external_views("") == []
    views = external_views("http://ui:8040")
    assert {v["destination"]: v["href"] for v in views} == {
        "dag_run": "http://ui:8040/airflow/{DAG_ID}/{RUN_ID}",
        "task_instance": "http://ui:8040/airflow/{DAG_ID}/{RUN_ID}/{TASK_ID}",
    }
    assert len({v["url_route"] for v in views}) == 2


def test_kubernetes_mode_refuses_an_asset_schedule(tmp_path: Path, store: str) -> None:
    with pytest.raises(FlowDefinitionError, match="needs mode='python'"):
        asset_flows.report().to_airflow(tmp_path / "dags", store=store, mode="kubernetes",
                                        image="x", shared_store=True)  # fmt: skip
    assert not os.path.exists(tmp_path / "dags")  # refused before anything is written
    assert not os.path.exists(tmp_path / "store")


def test_the_ui_shows_the_cross_flow_input_and_the_run_it_read(store: str) -> None:
    import httpx
    from slipstream._native import UiServer

    churn = asset_flows.churn().run(store)
    report = asset_flows.report().run(store)
    server = UiServer(ss.Store(store), "127.0.0.1", 0)
    try:
        run_page = httpx.get(f"{server.url}/flows/report/runs/{report.run_id}", timeout=30).text
        churn_run = f"/flows/churn/runs/{churn.run_id.replace(':', '%3A').replace('+', '%2B')}"
        assert 'stroke-dasharray="5 3"' in run_page  # the upstream node, dashed
        assert f'href="{churn_run}"' in run_page
        op = httpx.get(f"{server.url}/flows/report/runs/{report.run_id}/ops/churn-predict",
                       timeout=30).text  # fmt: skip
        assert "slipstream://churn/predict/out" in op and 'href="/flows/churn"' in op
        assert f'href="{churn_run}"' in op
    finally:
        server.stop()


def test_one_output_read_twice_is_one_op_and_names_must_differ() -> None:
    churn = asset_flows.churn()
    twice = asset_flows.summarize.named("again")
    flow = ss.Flow("report", [asset_flows.summarize(ss.upstream(churn, "predict")),
                              twice(ss.upstream(churn, "predict"))])  # fmt: skip
    assert [n.name for n in flow.nodes if n.kind == "upstream"] == ["churn-predict"]

    @ss.op(name="churn-predict")
    def mine() -> int:
        return 1

    with pytest.raises(FlowDefinitionError, match=r"ss.upstream\(\.\.\., name='churn-predict_2'\)"):
        ss.Flow("report", [asset_flows.summarize(ss.upstream(churn, "predict")), mine()])
    renamed = ss.upstream(churn, "predict", name="predictions")
    assert ss.Flow("ok", [asset_flows.summarize(renamed), mine()]).spec().format == 2
    with pytest.raises(FlowDefinitionError, match=r"name it with ss\.upstream"):
        renamed.node.definition.named("x")
    with pytest.raises(FlowDefinitionError, match="has no op 'churn-predict'"):
        asset_flows.report(churn).asset("churn-predict")  # another flow's output, not its own


class Asset:
    """Airflow 3's `Asset` as the accessors key it: a name and a URI."""

    def __init__(self, uri: str) -> None:
        self.name = self.uri = uri


class Accessor(dict[Any, Any]):
    """Airflow 3's `TriggeringAssetEventsAccessor`: a mapping of Assets to their events."""


def _airflow_event(extra: dict[str, Any], minute: int) -> Any:
    from datetime import UTC, datetime

    at = datetime(2026, 11, 29, 8, minute, tzinfo=UTC)
    return types.SimpleNamespace(extra=extra, source_dag_id="churn", source_run_id=f"r{minute}",
                                 timestamp=at)  # fmt: skip


def test_triggering_events_are_read_from_airflow_3_and_2_oldest_first() -> None:
    uri = "slipstream://churn/predict/out"
    newer, older = _airflow_event({"n": 2}, 30), _airflow_event({"n": 1}, 10)
    three = Accessor({Asset(uri): [newer, older], Asset("s3://other/asset"): [newer]})
    found = assets.triggering_events(three)
    assert list(found) == [uri] and [e["extra"]["n"] for e in found[uri]] == [1, 2]
    assert found[uri][0]["source_run_id"] == "r10"
    assert found[uri][0]["timestamp"] == "2026-11-29T08:10:00+00:00"
    two = {uri: [newer, older]}  # Airflow 2: keyed by URI
    assert assets.triggering_events(two) == found
    assert assets.triggering_events(None) == {}


def test_the_newest_slipstream_event_names_the_artifact(store: str) -> None:
    churn = asset_flows.churn()
    runs = [churn.run(store, params={"rows": n}) for n in (4, 6)]
    extras = []
    for run in runs:
        key = run.key("predict")
        out = {"prefix": key.op_prefix, "stored_run_id": run.run_id,
               **{k: getattr(run.ops["predict"].record.outputs["out"], k)  # type: ignore[union-attr]
                  for k in ("type", "rows", "bytes", "checksum")}}  # fmt: skip
        extras.append(assets.event_extra(store, "churn", run.version.id, "predict", run.run_id,
                                         "out", out))  # fmt: skip
    by_hand = {"note": "created in Airflow's UI"}
    events = {"slipstream://churn/predict/out": [
        {"extra": extras[1], "timestamp": "2026-11-29T08:00:00+00:00"},
        {"extra": extras[0], "timestamp": "2026-11-29T09:00:00+00:00"},
        {"extra": by_hand, "timestamp": "2026-11-29T10:00:00+00:00"},
    ]}  # fmt: skip
    summary = _report_task(store, "asset_triggered__queued", events)
    assert summary["out"]["rows"] == 4 and summary["out"]["stored_run_id"] == runs[0].run_id


def test_emit_sets_the_extra_of_this_tasks_outputs_only(store: str) -> None:
    class Outlet:
        def __init__(self) -> None:
            self.extra: dict[str, Any] = {}

    ours, other = Asset("slipstream://churn/predict/out"), Asset("s3://bucket/by-hand")
    outlets = {ours: Outlet(), other: Outlet()}
    context = {"outlet_events": outlets, "task": types.SimpleNamespace(outlets=[other, ours])}
    summary = {"out": {"type": "frame", "rows": 3, "bytes": 10, "checksum": "crc32c:1",
                       "prefix": "p", "stored_run_id": "earlier"}}  # fmt: skip
    assets.emit(context, store, "churn", "v1", "predict", "now", summary)
    assert outlets[other].extra == {}
    extra = outlets[ours].extra
    assert (extra["run_id"], extra["stored_run_id"], extra["rows"]) == ("now", "earlier", 3)
    assert extra["manifest"] == ss.ArtifactKey("p", "earlier", "out").manifest_path
    assets.emit({}, store, "churn", "v1", "predict", "now", summary)  # no Airflow context: nothing


def test_the_airflow_routes_find_only_the_exact_run_and_op(store: str) -> None:
    import httpx
    from slipstream._native import UiServer

    run = asset_flows.churn().run(store, run_id="manual__2026-11-29T08:00:00+00:00")
    server = UiServer(ss.Store(store), "127.0.0.1", 0)
    try:
        base = f"{server.url}/airflow/churn"
        found = httpx.get(f"{base}/{run.run_id}/predict", timeout=30)
        assert found.status_code == 303
        for path in ("manual__2026", "latest", f"{run.run_id}/nope"):  # a prefix, a name
            answer = httpx.get(f"{base}/{path}", timeout=30)
            assert answer.status_code == 404, path
        assert "has no op" in httpx.get(f"{base}/{run.run_id}/nope", timeout=30).text
    finally:
        server.stop()


def test_ui_frame_ancestors_are_origins(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.support.browser import serving

    store = (tmp_path / "s").as_uri()
    for bad in ("http://a.example/path", "http://a.example; script-src *", "ftp://a.example"):
        proc = subprocess.run([sys.executable, "-m", "slipstream.cli", "ui", "--store", store,
                               "--port", "0", "--frame-ancestors", bad],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert proc.returncode == 2 and "is not an origin" in proc.stderr, bad
    import httpx

    airflow = "http://admin:pw@airflow.example:8080/home"
    with serving(store, "--airflow", airflow) as url:
        headers = httpx.get(f"{url}/healthz", timeout=30).headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors http://airflow.example:8080;" in policy
        assert "x-frame-options" not in headers
    with serving(store, "--airflow", airflow, "--frame-ancestors", "none") as url:
        headers = httpx.get(f"{url}/healthz", timeout=30).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"


def test_reading_an_output_the_flow_is_not_scheduled_on_warns() -> None:
    churn = asset_flows.churn()
    with pytest.warns(ss.errors.FlowWarning, match=r"reads slipstream://churn/customers/out but"):
        ss.Flow("partial", [asset_flows.summarize(ss.upstream(churn, "customers"))],
                schedule=[churn.asset("predict")])  # fmt: skip


def test_gc_keeps_what_other_flows_runs_read_until_their_own_gc_expires_them(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from slipstream.cli import main as cli
    from slipstream.history import retention

    churn, report = asset_flows.churn(), asset_flows.report()
    churn.run(store, params={"rows": 5}, run_id="c1")
    reader = report.run(store, run_id="rep1")
    assert reader.ops["churn-predict"].state.cached_from.run_id == "c1"
    churn.run(store, params={"rows": 6}, run_id="c2")
    churn.run(store, params={"rows": 7}, run_id="c3")
    now, keep_one = datetime(2027, 3, 1, tzinfo=UTC), ss.Retention(keep_last=1)
    target = ss.Store(store)
    done = retention.apply(target, "churn", keep_one, now, grace=0)
    assert done.used_by == {"c1": ["report run rep1"]}
    expired = {(t.run_id, t.op) for t in done.targets}
    assert expired == {("c1", "customers"), ("c2", "customers"), ("c2", "predict")}
    assert len(ss.open(store).run("report", "rep1")["churn-predict"]) == 5, "still loads"
    assert cli(["delete", "churn", "c1", "--yes", "--store", store]) == 7
    assert "report run rep1 read outputs of run c1 of churn" in capsys.readouterr().err
    # Once report's own retention expired rep1, it holds nothing: c1 goes.
    report.run(store, run_id="rep2")
    assert {
        t.run_id for t in retention.apply(target, "report", keep_one, now, grace=0).targets
    } == {"rep1"}
    again = retention.apply(target, "churn", keep_one, now, grace=0)
    assert {(t.run_id, t.op) for t in again.targets} == {("c1", "predict")}
