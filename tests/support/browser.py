"""The web UI as a user starts it (`slipstream ui`), and a real headless Chromium driven by
Playwright to read it. Fixtures are imported by the UI test modules.

Screenshots are written to $SLIPSTREAM_SCREENSHOTS (default: the test's temporary folder).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextlib.contextmanager
def serving(store_url: str, *options: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`slipstream ui` over `store_url` on a free port; yields its address."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "slipstream.cli", "ui", "--store", store_url, "--port", "0",
         *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"at (http://127\.0\.0\.1:\d+)", line)
    assert match, f"no address in {line!r}; stderr: {proc.stderr.read() if proc.stderr else ''}"
    try:
        yield match.group(1)
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0, "SIGTERM stops the UI cleanly"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("SLIPSTREAM_REQUIRE_BROWSER"):
            pytest.fail(f"no Chromium at {CHROMIUM}: `make browser` installs it")
        pytest.skip(f"no Chromium at {CHROMIUM} (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.dialogs = dialogs
    yield page
    assert not dialogs, f"a page ran script: {dialogs}"
    assert not errors, f"a page's script failed: {errors}"
    page.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("SLIPSTREAM_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
