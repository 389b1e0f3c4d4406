"""The web UI's reading aids, in a real headless Chromium over a real store: two runs compared
(and `slipstream diff` on runs), a check's history, the runs list filtered by URL and saying
why runs failed, version pages and their diff, a flow's last status, where an op's time went,
downloads, and links back to Airflow for the runs it ran."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import slipstream as ss
from slipstream._native import flow_run_path
from slipstream.cli import main as cli
from slipstream.history import indexing

from tests.flows import airflow_flows
from tests.support.browser import serving
from tests.support.records import date_run
from tests.ui import ui_flows

AIRFLOW = "http://airflow.test:8080"


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = (tmp_path_factory.mktemp("ui-compare") / "store").as_uri()
    ui_flows.build().run(url, run_id="run-1")
    ui_flows.build().run(url, run_id="run-2", params={"scale": 3.0})
    airflow_flows.evolving(1).run(url, run_id="old")
    airflow_flows.evolving(2).run(url, run_id="new")
    for run_id, flow, day in (("run-1", "ui", 24), ("run-2", "ui", 25), ("old", "evolving", 24),
                              ("new", "evolving", 25)):  # fmt: skip
        date_run(url, flow, run_id, f"2026-11-{day}T08:00:00+00:00")
    # run-2 as Airflow ran it: its header names the trigger
    store = ss.Store(url)
    record = json.loads(store.get_object(flow_run_path("ui", "run-2")))
    record["trigger"] = "airflow"
    store.put_object(flow_run_path("ui", "run-2"), json.dumps(record).encode())
    indexing.record_ended(store, "ui", [ss.open(url).run("ui", "run-2").record])
    return url


@pytest.fixture(scope="module")
def ui(store_url: str) -> Iterator[str]:
    with serving(store_url, env={"SLIPSTREAM_AIRFLOW_URL": AIRFLOW}) as url:
        yield url


def test_two_runs_ticked_in_the_runs_list_are_compared(ui: str, page: Any, shots: Path) -> None:
    page.goto(f"{ui}/flows/ui")
    page.check('#runs tr[data-run="run-1"] input[name="a"]')
    page.check('#runs tr[data-run="run-2"] input[name="b"]')
    page.click("#compare button")
    page.wait_for_url(re.compile(r"/flows/ui/compare\?"))
    assert sorted(page.url.split("?")[1].split("&")) == ["a=run-1", "b=run-2"]
    params = page.locator("#params-compared tbody tr")
    assert params.count() == 1 and "changed" in (params.first.get_attribute("class") or "")
    assert params.first.inner_text().split("\t") == ["scale", "2.0", "3.0"]
    assert "changed" not in (page.locator("#versions-compared").get_attribute("class") or "")
    ops = page.locator("#ops-compared tbody tr")
    assert ops.count() == 12 and page.locator("#ops-compared tr.changed").count() == 0
    metric = page.locator('#metrics-compared tr[data-metric="mean_spend"]')
    assert "changed" not in (metric.get_attribute("class") or "")
    matrix = page.locator('div[data-output="render.matrix"]')
    assert matrix.get_attribute("data-changed") == "data", "scaled by another param"
    same = page.locator('div[data-output="customers.out"]')
    assert same.get_attribute("data-changed") == "" and "same data" in same.inner_text()
    profile = same.locator("table.profile-compared tbody tr")
    assert profile.count() == 4 and same.locator("td.changed").count() == 0
    page.screenshot(path=shots / "compare.png", full_page=True)


def test_runs_of_two_versions_show_the_structural_diff_and_the_code(ui: str, page: Any) -> None:
    page.goto(f"{ui}/flows/evolving/compare?a=old&b=new")
    assert "changed" in (page.locator("#versions-compared").get_attribute("class") or "")
    assert "ops added\tgrow" in page.locator("table.version-diff").inner_text()
    assert page.locator('#ops-compared tr[data-op="grow"]').inner_text().count("not in A") == 1
    page.click("text=the code that changed")
    assert page.locator("#version-diff").inner_text().count("grow") >= 1
    page.goto(f"{ui}/flows/evolving")
    versions = page.locator("#versions tbody tr a")
    newest = versions.first.inner_text()
    versions.first.click()
    assert page.locator("h1").inner_text() == f"Version {newest}"
    assert set(page.locator("svg.dag a").evaluate_all("a => a.map(n => n.dataset.op)")) == {
        "source", "scaled", "grow"}  # fmt: skip
    page.click("#diff-previous")
    assert "ops added\tgrow" in page.locator("#version-diff").inner_text()
    page.goto(f"{ui}/flows/evolving/versions/{newest}")
    page.click("#version-runs")
    assert page.locator("#runs tbody tr").count() == 1
    assert page.locator("#filters select[name=version]").input_value() == newest


def test_diff_on_the_command_line_compares_runs_as_well_as_versions(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["diff", "ui", "run-1", "run-2", "--store", store_url, "--json"]) == 0
    compared = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in compared["params"] if p["changed"]] == ["scale"]
    outputs = {f"{o['op']}.{o['output']}": o["changed"] for o in compared["outputs"]}
    assert outputs["render.matrix"] == ["data"] and outputs["customers.out"] == []
    assert cli(["diff", "ui", "run-1", "run-2", "--store", store_url]) == 0
    text = capsys.readouterr().out
    assert "param    scale: 2.0 -> 3.0" in text and "output   render.matrix: data" in text
    assert cli(["diff", "evolving", "old", "new", "--store", store_url]) == 0
    assert "version  ops added: grow" in capsys.readouterr().out
    assert cli(["diff", "ui", "run-1", "nope", "--store", store_url]) == 3  # not found
    assert "flow 'ui' has no run 'nope'" in capsys.readouterr().err


def test_a_checks_verdicts_across_runs(ui: str, page: Any, shots: Path) -> None:
    page.goto(f"{ui}/flows/ui/runs/run-2/ops/spend_positive")
    page.click("text=its verdicts across runs")
    rows = page.locator("#check-history tbody tr")
    assert rows.count() == 2
    assert rows.first.get_attribute("data-run") == "run-2", "newest first"
    assert rows.first.inner_text().split("\t")[2:] == [
        "warning: failed, run continued", "44", "50"]  # fmt: skip
    assert page.locator("p.verdicts a.s-warning").count() == 2
    assert "failed in 2" in page.locator("#check-summary").inner_text()
    page.screenshot(path=shots / "check-history.png", full_page=True)
    page.goto(f"{ui}/flows/ui/checks/ids_unique")
    assert page.locator("p.verdicts a.s-success").count() == 2


def test_the_runs_list_filters_by_url_and_says_why_runs_failed(ui: str, page: Any) -> None:
    page.goto(f"{ui}/flows/ui")
    row = page.locator('#runs tr[data-run="run-2"]')
    why = row.locator("td.why").inner_text()
    assert "explode: ValueError: spend column has gone missing" in why
    assert "spend_positive" in why
    assert row.locator("td.params").inner_text() == "scale=3.0"
    page.select_option("#filters select[name=trigger]", "airflow")
    page.click("#filters button")
    page.wait_for_url(re.compile(r"trigger=airflow"))
    assert page.locator("#runs tbody tr").count() == 1
    shared = page.url
    page.goto(shared)  # the URL is the filter
    assert page.locator("#runs tbody tr").get_attribute("data-run") == "run-2"
    page.goto(f"{ui}/flows/ui?status=failed&from=2026-11-24&to=2026-11-24")
    assert page.locator("#runs tbody tr").get_attribute("data-run") == "run-1"
    assert page.locator("#filters input[name=from]").input_value() == "2026-11-24"
    page.goto(f"{ui}/flows/ui?from=2026-12-01")
    assert page.locator("#no-runs").inner_text() == "No run matches this filter."
    response = page.goto(f"{ui}/flows/ui?from=yesterday")
    assert response.status == 400 and "not a date like" in page.inner_text("main")


def test_the_flows_list_shows_each_flows_last_run(ui: str, page: Any) -> None:
    page.goto(ui)
    ui_row = page.locator("#flows tbody tr", has_text="what")
    last = page.locator("#flows td.last").all_inner_texts()
    assert any("run-2" in t and "failed" in t for t in last), last
    assert any("new" in t and "success" in t for t in last), last
    assert ui_row.count() == 0 or ui_row.count() == 1


def test_an_ops_time_is_split_and_its_outputs_download(ui: str, page: Any) -> None:
    page.goto(f"{ui}/flows/ui/runs/run-1/ops/customers")
    duration = page.locator("#duration").inner_text()
    assert re.search(r"reading inputs \d+ ms · function [\d.]+ m?s · storing outputs", duration)
    download = page.locator("#output-out a.download")
    assert download.inner_text() == "download parquet"
    with urllib.request.urlopen(ui + download.get_attribute("href"), timeout=10) as response:
        assert response.read(4) == b"PAR1"
    distinct = page.locator("#output-out table.profile td.distinct").all_inner_texts()
    assert distinct[0] == "50" and not any("≈" in d for d in distinct), "counted, not estimated"


def test_a_failed_warning_check_reads_as_one_verdict_in_its_own_colour(ui: str, page: Any) -> None:
    page.goto(f"{ui}/flows/ui/runs/run-1")
    node = page.locator('svg.dag a[data-op="spend_positive"]')
    assert node.get_attribute("data-status") == "warning"
    fill = node.locator("rect").evaluate("r => getComputedStyle(r).fill")
    ok = page.locator('svg.dag a[data-op="ids_unique"] rect').evaluate(
        "r => getComputedStyle(r).fill")  # fmt: skip
    assert fill != ok, "not drawn as a success"
    row = page.locator('#ops tr[data-op="spend_positive"]')
    assert row.locator(".badge").all_inner_texts() == ["warning"]
    assert "warning: failed, run continued (44 of 50 false)" in row.inner_text()


def test_runs_airflow_ran_link_back_to_it(ui: str, page: Any) -> None:
    page.goto(f"{ui}/flows/ui/runs/run-2")
    assert page.locator("#airflow-run").get_attribute("href") == f"{AIRFLOW}/dags/ui/runs/run-2"
    task = page.locator('#ops tr[data-op="explode"] td.airflow a')
    assert task.nth(0).get_attribute("href") == (
        f"{AIRFLOW}/dags/ui/runs/run-2/tasks/explode/details"
    )
    assert task.nth(1).get_attribute("href") == (
        f"{AIRFLOW}/dags/ui/runs/run-2/tasks/explode?try_number=1"
    )
    page.goto(f"{ui}/flows/ui/runs/run-2/ops/explode")
    assert page.locator("#airflow-log").get_attribute("href").endswith("?try_number=1")
    page.goto(f"{ui}/flows/ui/runs/run-1")  # run locally: nothing to link to
    assert page.locator("#airflow-run").count() == 0 and page.locator("td.airflow").count() == 0


def test_odd_names_on_these_pages_are_answered_as_text(ui: str) -> None:
    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(ui + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    hostile = urllib.parse.quote("<script>alert(1)</script>", safe="")
    for path, status in [
        (f"/flows/ui?from={hostile}", 400),
        (f"/flows/ui?version={hostile}", 200),  # no such version: no run
        (f"/flows/ui/compare?a={hostile}&b=run-1", 404),
        ("/flows/ui/compare?a=run-1&b=nope", 404),
        (f"/flows/ui/checks/{hostile}", 200),  # no run ran it
        (f"/flows/ui/diff?a={hostile}&b=x", 400),
        ("/flows/ui/diff?a=0000000000000000&b=0000000000000001", 404),
        ("/flows/ui/versions/0000000000000000", 404),
        (f"/flows/{hostile}/compare", 400),
        ("/flows/ui/runs/run-1/live", 200),
    ]:
        code, body = get(path)
        assert code == status, (path, code, body[:300])
        assert "<script>alert" not in body, path
    _, live = get("/flows/ui/runs/run-1/live")
    state = json.loads(live)
    assert state["over"] is True and state["ops"]["spend_positive"]["status"] == "warning"
