"""The web UI (`slipstream ui`) over a store where one record cannot be read — a run's
`run.json` that is `[]`, not JSON or of an unknown status, a version's `spec.json` cut short —
without a run index, or with one rebuilt by `slipstream reindex` (which leaves such a run to be
read from its records): the damaged item is shown as unreadable with why, and every other
page of the flow is served as usual. Asked over HTTP, as a browser would."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import slipstream as ss
from slipstream.cli import main as cli

from tests.support.browser import serving
from tests.support.records import date_run
from tests.ui.test_ui import get

FLOW = "damaged"
HOSTILE = "<img src=x onerror=alert(1)>"


@ss.op
def scaled(x: float) -> float:
    return x * 2.0


@ss.op
def constant() -> int:
    return 1


def healthy() -> ss.Flow:
    return ss.Flow(FLOW, outputs=[scaled(ss.param("x", default=1.0))])


def other() -> ss.Flow:
    """Another version of the flow: that of the run damaged."""
    return ss.Flow(FLOW, outputs=[constant()])


class Damaged(NamedTuple):
    ui: str
    damage: str
    #: the version of run `bad` (the only run of its version)
    version: str


# What the row of run `bad` says, by damage.
REASONS = {
    "[]": "runs/bad/run.json: run record is not valid",
    "{not json": "runs/bad/run.json: run record is not valid: key must be a string",
    "exploded": "unknown variant `exploded`",
    "hostile": "unknown variant `&lt;img src=x onerror=alert(1)&gt;`",
    "spec": "EOF while parsing",
}


def damage(root: Path, how: str) -> str:
    """Damages run `bad` of `root` (the store's folder) as `how` says; returns its version."""
    bad = root / "flows" / FLOW / "runs" / "bad" / "run.json"
    record = json.loads(bad.read_text())
    if how in ("exploded", "hostile"):
        bad.write_text(
            json.dumps(dict(record, status="exploded" if how == "exploded" else HOSTILE))
        )
    elif how == "spec":
        spec = root / "flows" / FLOW / "versions" / record["version"] / "spec.json"
        spec.write_bytes(spec.read_bytes()[: spec.stat().st_size // 2])
    else:
        bad.write_text(how)
    return str(record["version"])


@pytest.fixture(params=["[]", "{not json", "exploded", "hostile", "spec"])
def damaged(request: pytest.FixtureRequest, tmp_path: Path, index: str) -> Iterator[Damaged]:
    root = tmp_path / "store"
    url = root.as_uri()
    healthy().run(url, run_id="good-1")
    other().run(url, run_id="bad")
    healthy().run(url, run_id="good-2")
    for hour, run_id in enumerate(["good-1", "bad", "good-2"], start=8):
        date_run(url, FLOW, run_id, f"2026-11-24T{hour:02d}:00:00+00:00")
    version = damage(root, request.param)
    shutil.rmtree(root / "flows" / FLOW / "index")  # every record is read...
    if index == "rebuilt":  # ...or the index, and the records of the runs it leaves out
        assert cli(["reindex", FLOW, "--store", url]) == 0
    with serving(url) as ui:
        yield Damaged(ui, request.param, version)


@pytest.fixture(params=["missing", "rebuilt"])
def index(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def row(page: str, run_id: str) -> str:
    """The row of run `run_id` in a runs list."""
    match = re.search(rf'<tr[^>]* data-run="{re.escape(run_id)}".*?</tr>', page, re.S)
    assert match, f"no row of run {run_id} in {page}"
    return match.group(0)


def test_the_flow_page_lists_the_other_runs_and_the_damaged_one_as_unreadable(
    damaged: Damaged,
) -> None:
    status, page, _ = get(f"{damaged.ui}/flows/{FLOW}")
    assert status == 200, page
    for run_id in ("good-1", "good-2"):
        assert "s-success" in row(page, run_id), page
    bad = row(page, "bad")
    assert 'class="unreadable"' in bad and "s-unreadable" in bad, bad
    assert REASONS[damaged.damage] in bad, bad
    if damaged.damage == "spec":
        assert f"spec of version {damaged.version}: " in bad, bad
    assert HOSTILE not in page, "a reason is shown as text"
    status, flows, _ = get(damaged.ui)
    assert status == 200 and f'href="/flows/{FLOW}"' in flows


def test_pages_of_healthy_runs_and_versions_still_work(damaged: Damaged) -> None:
    for run_id in ("good-1", "good-2", "latest"):
        status, page, _ = get(f"{damaged.ui}/flows/{FLOW}/runs/{run_id}")
        assert status == 200 and 'data-op="scaled"' in page, (run_id, page)
        status, page, _ = get(f"{damaged.ui}/flows/{FLOW}/runs/{run_id}/ops/scaled")
        assert status == 200 and "x * 2.0" in page, (run_id, page)
    status, page, _ = get(f"{damaged.ui}/flows/{FLOW}?status=success")
    assert status == 200 and "good-1" in page and "good-2" in page, page
    status, page, _ = get(f"{damaged.ui}/flows/{FLOW}/checks/none")
    assert status == 200, page


def test_the_damaged_item_has_a_page_that_says_why(damaged: Damaged) -> None:
    status, page, _ = get(f"{damaged.ui}/flows/{FLOW}")
    assert status == 200, page
    link = re.search(r'<a href="([^"]+)">bad</a>', row(page, "bad"))
    assert link and link.group(1) == f"/flows/{FLOW}/runs/bad", row(page, "bad")
    status, page, _ = get(f"{damaged.ui}{link.group(1)}")
    if damaged.damage == "spec":  # the run's record reads: shown, with why no more is
        assert status == 200, page
        assert f"unreadable: spec of version {damaged.version}: " in page, page
        assert "EOF while parsing" in page and 'data-op="constant"' in page, page
        status, page, _ = get(f"{damaged.ui}/flows/{FLOW}/versions/{damaged.version}")
        assert status == 200, page
        assert f"unreadable: spec of version {damaged.version}: " in page, page
        status, page, _ = get(f"{damaged.ui}/flows/{FLOW}")
        versions = page.split('id="versions"')[1]
        assert damaged.version in versions and "EOF while parsing" in versions, versions
    else:  # an error page of its own, that says why
        assert status == 502 and "runs/bad/run.json cannot be read" in page, page
        assert HOSTILE not in page
