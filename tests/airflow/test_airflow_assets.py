"""slipstream inside Airflow 3 (api-server + scheduler + dag-processor on loopback): the
provider and plugin, each task's extra link, doc and rendered artifacts folder, outputs as
Assets whose events carry the artifact, and a flow scheduled on another flow's output that
reads exactly the artifact the triggering event names."""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import slipstream as ss
from slipstream._native import ArtifactKey, run_dir
from slipstream.records.types import OutputsAt

from tests.flows import asset_flows
from tests.support.airflow import AirflowApi, AirflowHome, airflow_stack
from tests.support.browser import serving
from tests.support.servers import free_port

FIRST = "manual__2026-11-29T08:00:00+00:00"


class Stack:
    def __init__(self, api: AirflowApi, store: str, ui: str, home: AirflowHome) -> None:
        self.api, self.store, self.ui, self.home = api, store, ui, home
        self.churn, self.report = asset_flows.churn(), asset_flows.report()

    def get(self, path: str, **params: Any) -> Any:
        answer = self.api.client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def report_runs(self) -> list[dict[str, Any]]:
        runs = self.get("/dags/report/dagRuns", order_by="id")["dag_runs"]
        return [r for r in runs if r["run_type"] == "asset_triggered"]

    def wait_for_report_run(self, count: int, timeout: float = 240) -> dict[str, Any]:
        """The `count`-th asset-triggered run of `report`, once it is over."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.report_runs()
            if len(runs) >= count and runs[count - 1]["state"] in ("success", "failed"):
                return runs[count - 1]
            time.sleep(1)
        raise AssertionError(f"report did not run {count} time(s) on churn's asset")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("assets")
    store = (root / "store").as_uri()
    ui_port = free_port()
    ui = f"http://127.0.0.1:{ui_port}"
    # The plugin and the extra links read the UI's URL; every page is an admin's (no login).
    admins = {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"}
    home = AirflowHome(root / "airflow", {"SLIPSTREAM_UI_URL": ui, **admins})
    asset_flows.churn().to_airflow(home.dags, store=store)
    asset_flows.report().to_airflow(home.dags, store=store)
    with (
        airflow_stack(home) as api,
        serving(store, "--port", str(ui_port), "--airflow", api.base_url) as address,
    ):
        assert address == ui
        api.wait_for_dag("churn")
        api.wait_for_dag("report")
        yield Stack(api, store, ui, home)


@pytest.fixture(scope="module")
def first(stack: Stack) -> dict[str, Any]:
    """churn's first run, triggered through the REST API, and the report run it started."""
    stack.api.trigger("churn", FIRST, conf={"rows": 40})
    assert stack.api.wait_for_run("churn", FIRST)["state"] == "success"
    return stack.wait_for_report_run(1)


def test_airflow_lists_slipstream_as_a_provider_with_its_plugin(stack: Stack) -> None:
    listed = stack.home.run("providers", "list").stdout
    line = next((ln for ln in listed.splitlines() if ln.startswith("slipstream ")), "")
    assert ss.__version__ in line and "data-aware runtime" in line, listed
    plugins = {p["name"]: p for p in stack.get("/plugins")["plugins"]}
    views = {v["destination"]: v for v in plugins["slipstream"]["external_views"]}
    assert views["dag_run"]["href"] == f"{stack.ui}/airflow/{{DAG_ID}}/{{RUN_ID}}"
    assert views["task_instance"]["href"] == f"{stack.ui}/airflow/{{DAG_ID}}/{{RUN_ID}}/{{TASK_ID}}"


def test_report_runs_on_churns_asset_and_reads_exactly_its_artifact(
    stack: Stack, first: dict[str, Any]
) -> None:
    assert first["state"] == "success", first
    history = ss.open(stack.store)
    churn = history.run("churn", FIRST)
    report = history.run("report", first["dag_run_id"])
    read = report.ops["churn-predict"].state.cached_from
    assert read == OutputsAt(flow="churn", run_id=FIRST, prefix=churn.ops["predict"].state.prefix)
    predictions = churn["predict"]
    assert report["summarize"] == {
        "rows": 40.0,
        "at_risk": float((predictions["risk"] > 0.2).sum()),
    }
    # A newer churn run exists (run here, 3 rows); the report run, cleared, still reads the
    # artifact its triggering event names, not the newest.
    newer = stack.churn.run(stack.store, params={"rows": 3})
    assert newer.status == "success"
    body = {"dry_run": False, "dag_run_id": first["dag_run_id"], "only_failed": False,
            "task_ids": ["churn-predict", "summarize"], "reset_dag_runs": True}  # fmt: skip
    answer = stack.api.client.post("/dags/report/clearTaskInstances", json=body)
    assert answer.status_code == 200, answer.text
    quoted = urllib.parse.quote(first["dag_run_id"], safe="")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        tries = stack.get(f"/dags/report/dagRuns/{quoted}/taskInstances/summarize")
        if tries["try_number"] == 2 and tries["state"] in ("success", "failed"):
            break
        time.sleep(1)
    again = history.run("report", first["dag_run_id"])
    assert again.ops["summarize"].state.tries == 2 and again.status == "success"
    assert again.ops["churn-predict"].state.cached_from.run_id == FIRST
    assert again["summarize"]["rows"] == 40.0


def test_asset_events_carry_the_artifact(stack: Stack, first: dict[str, Any]) -> None:
    events = stack.get("/assets/events", source_dag_id="churn", source_run_id=FIRST)
    by_uri = {e["uri"]: e for e in events["asset_events"]}
    assert set(by_uri) == {"slipstream://churn/customers/out", "slipstream://churn/predict/out"}
    run = ss.open(stack.store).run("churn", FIRST)
    key = run.key("predict")
    manifest = ss.Store(stack.store).stored_manifest(key)
    extra = by_uri["slipstream://churn/predict/out"]["extra"]
    assert extra == {
        "slipstream": 1, "flow": "churn", "op": "predict", "output": "out", "run_id": FIRST,
        "version": run.version.id, "store": stack.store, "prefix": key.op_prefix,
        "stored_run_id": FIRST, "manifest": ArtifactKey(key.op_prefix, FIRST, "out").manifest_path,
        "type": "frame", "rows": 40, "bytes": manifest["bytes"], "checksum": manifest["checksum"],
    }  # fmt: skip
    triggered = stack.get(
        f"/dags/report/dagRuns/{urllib.parse.quote(first['dag_run_id'], safe='')}"
    )
    assert triggered["run_type"] == "asset_triggered"


def test_each_task_links_to_its_op_page_and_shows_its_doc_and_artifacts(
    stack: Stack, first: dict[str, Any]
) -> None:
    quoted = urllib.parse.quote(FIRST, safe="")
    links = stack.get(f"/dags/churn/dagRuns/{quoted}/taskInstances/predict/links")
    url = links["extra_links"]["slipstream"]
    assert url == f"{stack.ui}/flows/churn/runs/{quoted}/ops/predict"
    page = httpx.get(url, timeout=30)
    assert page.status_code == 200 and "churn risk of every customer" in page.text
    task = stack.get("/dags/churn/tasks/predict")
    assert "The churn risk of every customer" in task["doc_md"]
    assert "ops/" in task["doc_md"] and stack.store in task["doc_md"]
    ti = stack.get(f"/dags/churn/dagRuns/{quoted}/taskInstances/predict")
    prefix = ss.open(stack.store).run("churn", FIRST).ops["predict"].state.prefix
    folder = f"{stack.store}/{run_dir(prefix, FIRST)}/"
    assert ti["rendered_fields"]["slipstream_artifacts"] == folder
    assert Path(urllib.parse.urlsplit(folder).path, "outputs").is_dir()


def test_airflows_slipstream_tab_shows_the_run_in_a_frame(
    stack: Stack, first: dict[str, Any]
) -> None:
    quoted = urllib.parse.quote(FIRST, safe="")
    to_op = httpx.get(f"{stack.ui}/airflow/churn/{quoted}/predict", timeout=30)
    assert to_op.status_code == 303
    assert to_op.headers["location"] == f"/flows/churn/runs/{quoted}/ops/predict"
    page = httpx.get(f"{stack.ui}/airflow/churn/{quoted}", follow_redirects=True, timeout=30)
    assert page.status_code == 200 and "x-frame-options" not in page.headers
    assert f"frame-ancestors {stack.api.base_url};" in page.headers["content-security-policy"]
    unknown = httpx.get(f"{stack.ui}/airflow/not_a_flow/{quoted}", timeout=30)
    assert unknown.status_code == 404 and "is not a slipstream flow" in unknown.text


def test_in_airflows_own_ui(stack: Stack, first: dict[str, Any], browser: Any, shots: Path) -> None:
    """What a user sees in Airflow 3's UI, in Chromium: the extra link on a task instance,
    the asset graph from churn's output to report, and the slipstream tab of a run (the
    screenshots of the README's "In Airflow's UI")."""
    from playwright.sync_api import expect

    base, quoted = stack.api.base_url, urllib.parse.quote(FIRST, safe="")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{base}/dags/churn/runs/{quoted}/tasks/predict/details")
        # The extra link opens the op's page; the plugin's tab shows it inside Airflow.
        link = page.locator("a[target=_blank]", has_text="slipstream")
        expect(link).to_have_attribute("href", f"{stack.ui}/flows/churn/runs/{quoted}/ops/predict")
        tab = page.locator("a[title=slipstream]")
        expect(tab).to_have_attribute("href", re.compile(r"/tasks/predict/plugin/slipstream-op$"))
        page.screenshot(path=str(shots / "airflow-extra-link.png"))

        assets = stack.get("/assets", uri_pattern="slipstream://churn/predict")["assets"]
        (predict,) = [a for a in assets if a["uri"] == "slipstream://churn/predict/out"]
        assert [d["dag_id"] for d in predict["scheduled_dags"]] == ["report"]
        assert [t["dag_id"] for t in predict["producing_tasks"]] == ["churn"]
        page.goto(f"{base}/assets/{predict['id']}")
        graph = page.locator(".react-flow")
        expect(graph.get_by_text("report", exact=True).first).to_be_visible(timeout=60_000)
        expect(graph.get_by_text("predict", exact=False).first).to_be_visible()
        page.screenshot(path=str(shots / "airflow-asset-graph.png"))

        report_run = urllib.parse.quote(first["dag_run_id"], safe="")
        page.goto(f"{base}/dags/report/runs/{report_run}/plugin/slipstream-run")
        frame = page.frame_locator("iframe")
        expect(frame.locator("h1")).to_contain_text(first["dag_run_id"], timeout=60_000)
        # The cross-flow input: a node of its own, and the churn run it read.
        expect(frame.locator("a[data-op='churn-predict']")).to_be_visible()
        expect(frame.locator("tr[data-op='churn-predict']")).to_contain_text(f"churn run {FIRST}")
        page.screenshot(path=str(shots / "airflow-slipstream-tab.png"))
    finally:
        page.close()
