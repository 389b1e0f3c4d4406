"""The README's code blocks marked `<!-- runs: tests/docs/test_readme.py -->` run as pasted: one
after another, in one file, on a machine whose home is empty (the default store and the
demo warehouse go there)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import slipstream as ss

README = Path(__file__).parents[2] / "README.md"
MARKED = re.compile(r"<!-- runs: tests/docs/test_readme\.py -->\n```python\n(.*?)```", re.DOTALL)


def test_the_marked_blocks_exist() -> None:
    blocks = MARKED.findall(README.read_text())
    assert len(blocks) >= 2, "the quickstart and its run"
    assert "import slipstream as ss" in blocks[0] and "flow.run(" in blocks[1]


def test_the_quickstart_runs_as_pasted(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text("\n".join(MARKED.findall(README.read_text())))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLIPSTREAM_")}
    env["HOME"] = str(tmp_path)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    run = ss.open(str(tmp_path / ".slipstream" / "store")).run("churn", "latest")
    assert run.status == "success" and run.checks["features_finite"].passed
    predictions = run["predict"]
    assert 1000 < len(predictions) < 4000, "the customers of one region of two (a param)"
    assert 0 < run.metrics["accuracy"] <= 1
