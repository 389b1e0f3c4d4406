"""The web UI with runs as they go and flows as they grow, in a real headless Chromium: a run's
page follows its ops without reloading until the run ends, and DAGs of 50 and 200 ops are
drawn to fit the page, no op over another."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import serving
from tests.ui import ui_flows

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return (tmp_path_factory.mktemp("ui-live") / "store").as_uri()


@pytest.fixture(scope="module")
def ui(store_url: str) -> Iterator[str]:
    ui_flows.wide(50).run(store_url, run_id="fifty")
    ui_flows.wide(200).publish(store_url)
    with serving(store_url) as url:
        yield url


def wait_for_page(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_running_runs_page_follows_its_ops_until_the_run_ends(
    ui: str, store_url: str, page: Any, shots: Path, tmp_path: Path
) -> None:
    gates = [tmp_path / "gate-1", tmp_path / "gate-2"]
    code = ("from tests.ui import ui_flows; import sys; ui_flows.live().run(sys.argv[1], "
            "run_id='watched', params={'gate_1': sys.argv[2], 'gate_2': sys.argv[3]})")  # fmt: skip
    run = subprocess.Popen([sys.executable, "-c", code, store_url, *map(str, gates)], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    try:
        url = f"{ui}/flows/live/runs/watched"
        wait_for_page(url)
        page.goto(url)
        node = 'svg.dag a[data-op="{}"]'
        # `expect` polls from Playwright's side: the page's policy lets no test script run
        expect(page.locator(node.format("gated"))).to_have_attribute("data-status", "running")
        assert page.locator("#live").count() == 1
        assert page.locator(node.format("start")).get_attribute("data-status") == "success"
        page.locator("main").evaluate("m => m.dataset.notReloaded = 'yes'")
        page.screenshot(path=shots / "live-run.png", full_page=True)
        gates[0].touch()
        expect(page.locator(node.format("gated"))).to_have_attribute(
            "data-status", "success", timeout=30_000)  # fmt: skip
        expect(page.locator('#ops tr[data-op="finish"] .badge')).to_have_text("running")
        assert page.locator("main").get_attribute("data-not-reloaded") == "yes", "in place"
        assert int(page.locator("main").get_attribute("data-polls")) >= 1
        gates[1].touch()
        expect(page.locator("#live")).to_have_count(0, timeout=30_000)
        expect(page.locator("#run-status .badge")).to_have_text("success")
        assert page.locator("main").get_attribute("data-not-reloaded") is None, (
            "reloaded at the end"
        )
        page.wait_for_timeout(2500)
        assert page.locator("main").get_attribute("data-polls") is None, "and stopped asking"
        assert page.locator("script").count() == 0
    finally:
        for gate in gates:
            gate.touch()
        assert run.wait(timeout=60) == 0


def assert_fits_and_nothing_overlaps(page: Any, ops: int) -> None:
    boxes = page.locator("svg.dag a rect").evaluate_all(
        "rs => rs.map(r => { const b = r.getBoundingClientRect();"
        " return [b.left, b.top, b.right, b.bottom]; })")  # fmt: skip
    assert len(boxes) == ops
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scroll"
    assert max(b[2] for b in boxes) <= width
    by_row: dict[float, list[list[float]]] = {}
    for b in boxes:
        by_row.setdefault(round(b[1]), []).append(b)
    for row in by_row.values():
        row.sort()
        assert all(a[2] <= b[0] for a, b in itertools.pairwise(row)), "ops overlap"
    heights = sorted(by_row)
    assert all(b - a >= 30 for a, b in itertools.pairwise(heights))
    font = page.locator("svg.dag text").first.evaluate("t => t.getBoundingClientRect().height")
    assert font >= 11, f"labels readable, not shrunk to fit ({font:.1f} px)"


def test_a_50_op_run_and_a_200_op_version_fit_the_page(ui: str, page: Any, shots: Path) -> None:
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{ui}/flows/wide_50/runs/fifty")
    assert_fits_and_nothing_overlaps(page, 50)
    page.screenshot(path=shots / "dag-50.png", full_page=True)
    page.goto(f"{ui}/flows/wide_200")
    page.locator("#versions tbody tr a").first.click()
    assert_fits_and_nothing_overlaps(page, 200)
    page.screenshot(path=shots / "dag-200.png", full_page=True)
