"""The web UI (`slipstream ui`) in a real headless Chromium, driven by Playwright, over a real
store: from the flows list to a failed op's stack trace, previews of tables and images, a
run drawn with the structure of its own version, and hostile text shown as text.

Screenshots are written to $SLIPSTREAM_SCREENSHOTS (default: the test's temporary folder).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import slipstream as ss
from slipstream._native import UiServer
from slipstream.cli import main as cli

from tests.flows import airflow_flows
from tests.support.browser import serving
from tests.support.records import date_run
from tests.ui import ui_flows


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = (tmp_path_factory.mktemp("ui") / "store").as_uri()
    ui_flows.build().run(url, run_id="run-1")
    ui_flows.build().run(url, run_id="run-2", params={"scale": 3.0})
    airflow_flows.evolving(1).run(url, run_id="old")
    airflow_flows.evolving(2).run(url, run_id="new")
    for run_id, flow, hour in (("run-1", "ui", 8), ("run-2", "ui", 9), ("old", "evolving", 8),
                               ("new", "evolving", 9)):  # fmt: skip
        date_run(url, flow, run_id, f"2026-11-24T{hour:02d}:00:00+00:00")
    return url


@pytest.fixture(scope="module")
def ui(store_url: str) -> Iterator[str]:
    with serving(store_url) as url:
        yield url


def test_from_the_flows_list_to_a_failed_ops_stack_trace(ui: str, page: Any, shots: Path) -> None:
    page.goto(ui)
    assert page.locator("#flows").inner_text().count("\n") >= 2  # header + two flows
    page.screenshot(path=shots / "flows.png")
    page.click("#flows >> text=ui")
    runs = page.locator("#runs tbody tr")
    assert runs.count() == 2
    assert "run-2" in runs.nth(0).inner_text(), "newest first"
    assert "failed" in runs.nth(0).inner_text() and "spend_positive" in runs.nth(0).inner_text()
    page.screenshot(path=shots / "runs.png", full_page=True)
    page.click("#runs >> text=run-1")
    node = page.locator('svg.dag a[data-op="explode"]')
    assert node.get_attribute("data-status") == "failed"
    assert page.locator('svg.dag a[data-op="after_explode"]').get_attribute("data-status") == (
        "upstream_failed"
    )
    page.screenshot(path=shots / "run.png", full_page=True)
    node.click()
    page.wait_for_url(re.compile(r"/ops/explode$"))
    trace = page.locator("#trace").inner_text()
    assert "ValueError: spend column has gone missing" in trace
    assert "sample_flows.py" in trace and 'raise ValueError("spend column' in trace
    assert "about to fail on 50 rows" in page.locator("#logs").inner_text()
    page.screenshot(path=shots / "failed-op.png", full_page=True)


def test_a_table_preview_has_its_profile_and_heat_mapped_values(
    ui: str, page: Any, shots: Path
) -> None:
    page.goto(f"{ui}/flows/ui/runs/run-1/ops/customers")
    profile = page.locator("#output-out table.profile tbody tr")
    assert profile.count() == 4
    spend = profile.nth(2).inner_text().split("\t")
    assert spend[:4] == ["spend", "Float64", "0", "50"]
    assert page.locator("#output-out table.profile .hist span").count() >= 30
    head = page.locator("#output-out table.head tbody tr")
    assert head.count() == 20
    assert "background" in (head.nth(0).locator("td").nth(2).get_attribute("style") or "")
    page.screenshot(path=shots / "table-preview.png", full_page=True)


def test_an_image_preview_opens_the_full_image(ui: str, page: Any, shots: Path) -> None:
    page.goto(f"{ui}/flows/ui/runs/run-1/ops/render")
    thumb = page.locator("#output-picture img.thumb")
    assert thumb.evaluate("img => img.naturalWidth") == 8
    page.screenshot(path=shots / "image-preview.png", full_page=True)
    with page.expect_navigation():
        thumb.click()
    assert page.url.endswith("/ops/render/outputs/picture")
    assert page.evaluate("document.images[0].naturalWidth") == 8
    assert "bytes" in page.goto(f"{ui}/flows/ui/runs/run-1/ops/render").text()
    matrix = page.locator("#output-matrix").inner_text()
    assert "array of shape 50 \N{MULTIPLICATION SIGN} 2, float64" in matrix


def test_an_older_run_is_drawn_with_its_own_versions_structure(ui: str, page: Any) -> None:
    def ops(run: str) -> set[str]:
        page.goto(f"{ui}/flows/evolving/runs/{run}")
        return {a.get_attribute("data-op") for a in page.locator("svg.dag a").all()}

    assert ops("new") == {"source", "scaled", "grow"}
    assert ops("old") == {"source", "scaled"}
    page.goto(f"{ui}/flows/evolving")
    assert page.locator("#versions tbody tr").count() == 2


def test_html_in_names_values_and_logs_is_shown_as_text(ui: str, page: Any, shots: Path) -> None:
    page.goto(f"{ui}/flows/ui/runs/run-1/ops/hostile")
    assert page.locator("#output-out table.head th").first.inner_text() == ui_flows.HOSTILE
    assert page.locator("#output-out table.profile td").first.inner_text() == ui_flows.HOSTILE
    assert "<img src=x onerror=alert(2)>" in page.locator("#output-out table.head").inner_text()
    assert "<b>not bold</b>" in page.locator("#logs").inner_text()
    assert page.locator("script").count() == 0 and page.locator("main img").count() == 0
    assert page.locator("b").count() == 0
    page.screenshot(path=shots / "hostile.png", full_page=True)


def test_metric_history_and_check_results(ui: str, page: Any, shots: Path) -> None:
    page.goto(f"{ui}/flows/ui/runs/run-2/ops/mean_spend")
    points = page.locator("#metric-history circle")
    assert points.count() == 2
    assert "run-2" in points.nth(1).text_content()  # oldest on the left, this run highlighted
    assert points.nth(1).get_attribute("fill") != points.nth(0).get_attribute("fill")
    page.screenshot(path=shots / "metric.png", full_page=True)
    page.goto(f"{ui}/flows/ui/runs/run-2/ops/spend_positive")
    check = page.locator("#check")
    assert "warning: failed, run continued 44 of 50 values false" in check.inner_text()
    assert check.locator(".badge").count() == 1, "one verdict, in one colour"
    assert check.locator(".badge").get_attribute("class") == "badge s-warning"


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
    request = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_missing_things_are_404_with_what_is_missing(ui: str) -> None:
    status, body, _ = get(f"{ui}/flows/ui/runs/no-such-run")
    assert status == 404 and "flow 'ui' has no run 'no-such-run'" in html.unescape(body)
    status, body, _ = get(f"{ui}/flows/nope")
    assert status == 404 and "no flow" in body
    status, body, _ = get(f"{ui}/flows/ui/runs/run-1/ops/nope")
    assert status == 404 and "has no op" in body
    status, _, _ = get(f"{ui}/flows/ui/runs/run-1/ops/after_explode/outputs/out")
    assert status == 404  # blocked: never stored


def test_a_token_is_required_when_set(store_url: str) -> None:
    server = UiServer(ss.Store(store_url), "127.0.0.1", 0, "s3cret")
    try:
        assert get(server.url)[0] == 401
        assert get(server.url, {"Authorization": "Bearer wrong"})[0] == 401
        assert get(server.url, {"Authorization": "Bearer s3cret"})[0] == 200
        status, _, headers = get(f"{server.url}/flows/ui?token=s3cret")
        assert status == 303 and headers["Location"] == "/flows/ui"
        cookie = headers["Set-Cookie"].split(";")[0]
        assert "HttpOnly" in headers["Set-Cookie"]
        assert get(f"{server.url}/flows/ui", {"Cookie": cookie})[0] == 200
        assert get(f"{server.url}/?token=wrong")[0] == 401
        # never a redirect to another site: `//host` is a scheme-relative URL
        status, _, headers = get(f"{server.url}//evil.example/x?token=s3cret")
        assert status == 303 and headers["Location"] == "/evil.example/x"
    finally:
        server.stop()


def test_pages_are_locked_down_against_other_sites(ui: str) -> None:
    status, _, headers = get(ui)
    assert status == 200
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["Referrer-Policy"] == "no-referrer"
    # Without a token the UI answers only requests made to loopback (no DNS rebinding).
    port = ui.rsplit(":", 1)[1].rstrip("/")
    hosts = ("localhost", f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}",
             f"slip.localhost:{port}", "localhost.")  # fmt: skip
    for host in hosts:
        assert get(ui, {"Host": host})[0] == 200, host
    status, body, _ = get(ui, {"Host": f"rebound.example:{port}"})
    assert status == 421 and "only requests to localhost" in body


def test_beyond_loopback_the_ui_refuses_to_start_without_a_token(store_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "ui", "--store", store_url, "--host", "0.0.0.0",
         "--port", "0"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "SLIPSTREAM_UI_TOKEN": ""},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "reachable from other machines" in proc.stderr and "--token" in proc.stderr


def test_runs_are_listed_a_page_at_a_time(tmp_path: Path) -> None:
    """120 runs: pages of 50, newest first, from the run index or, without one, from every
    run record (only a page's runs merged). A run seen through Airflow tasks (header, op
    files, synced state) shows its merged state, and the metric history has every run."""
    root = tmp_path / "store"
    ui_flows.build().run(root.as_uri(), run_id="run-000")
    runs = root / "flows" / "ui" / "runs"
    # Every run gets an explicit start, the real one first: the order is the same whatever
    # day or time zone the test runs in.
    record = json.loads((runs / "run-000" / "run.json").read_text())
    record.update(started_at="2026-11-24T09:00:00+00:00", ended_at="2026-11-24T09:00:01+00:00")
    (runs / "run-000" / "run.json").write_text(json.dumps(record))
    for i in range(1, 120):
        folder = runs / f"run-{i:03d}"
        (folder / "ops").mkdir(parents=True)
        at = f"{i // 60:02d}:{i % 60:02d}+00:00"
        copy = dict(record, run_id=f"run-{i:03d}", started_at=f"2026-11-24T10:{at}",
                    ended_at=f"2026-11-24T11:{at}")  # fmt: skip
        if i == 118:  # seen through Airflow: the header says running, its files say the rest
            states = {n: dict(o, metric=123.5) if n == "mean_spend" else o
                      for n, o in record["ops"].items()}  # fmt: skip
            for name, state in states.items():
                (folder / "ops" / f"{name}.json").write_text(json.dumps(state))
            tasks = {n: {"state": "success", "try_number": 1, "start_date": None,
                         "end_date": None, "tries": []} for n in states}  # fmt: skip
            synced = {"format": 1, "dag_id": "ui", "run_id": "run-118", "state": "failed",
                      "run_type": "scheduled", "start_date": None,
                      "end_date": "2026-11-24T11:00:00Z", "tasks": tasks}  # fmt: skip
            (folder / "airflow.json").write_text(json.dumps(synced))
            copy = dict(copy, status="running", ended_at=None,
                        ops={n: dict(o, status="pending", tries=0)
                             for n, o in record["ops"].items()})  # fmt: skip
        (folder / "run.json").write_text(json.dumps(copy))
    # Written by hand, these runs are in no run index: without one, the pages read every
    # run record; rebuilt, they read the index, and show the same.
    shutil.rmtree(root / "flows" / "ui" / "index")
    assert_runs_pages(root)
    assert cli(["reindex", "ui", "--store", root.as_uri()]) == 0
    assert len(list((root / "flows" / "ui" / "index").iterdir())) == 1
    assert_runs_pages(root)


def assert_runs_pages(root: Path) -> None:
    server = UiServer(ss.Store(root.as_uri()), "127.0.0.1", 0)
    try:
        status, first, _ = get(f"{server.url}/flows/ui")
        assert status == 200 and "runs 1\u201350 of 120" in first
        ids = re.findall(r'<td><a href="/flows/ui/runs/(run-\d+)">', first)
        assert ids[:3] == ["run-119", "run-118", "run-117"] and len(ids) == 50
        row = first[first.index("runs/run-118") :].split("</tr>")[0]
        assert "s-failed" in row, "the Airflow-seen run is merged with its synced state"
        assert 'href="/flows/ui?page=2"' in first and "newer" not in first
        status, third, _ = get(f"{server.url}/flows/ui?page=3")
        ids = re.findall(r'<td><a href="/flows/ui/runs/(run-\d+)">', third)
        assert status == 200 and len(ids) == 20 and ids[-1] == "run-000"
        assert "runs 101\u2013120 of 120" in third and "older" not in third
        assert 'href="/flows/ui?page=2"' in third
        status, body, _ = get(f"{server.url}/flows/ui?page=4")
        assert status == 404 and "past the last" in body
        _, metric, _ = get(f"{server.url}/flows/ui/runs/run-000/ops/mean_spend")
        points = re.findall(r"<title>(?:this run, )?(run-\d+): ([^<]+)</title>", metric)
        assert len(points) == 120 and ("run-118", "123.5000") in points
    finally:
        server.stop()
