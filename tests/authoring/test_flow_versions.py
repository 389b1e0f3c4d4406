"""Versions are content hashes: publishing an unchanged flow gives the same version, any
change gives a new one. Flows defined in a script run as `__main__` have their source
captured into the version, so the version runs where the script is not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import slipstream as ss
from slipstream.errors import FlowDefinitionError
from slipstream.runtime import local as _local

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
import sys

import numpy as np
import pandas as pd

import slipstream as ss
from slipstream.values.frames import to_flavor as imported_helper

LABELS = ("low", "high")
SCALE = 3


def bucket(value):
    return LABELS[int(value > 0.5)]


class Summary:
    def __init__(self, frame):
        self.rows = len(frame)


@ss.op
def load(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"score": rng.random(rows)})


@ss.op
def label(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    print("labelling", len(frame), "rows")
    return frame.assign(label=[bucket(v) for v in frame["score"]], scaled=frame["score"] * SCALE)


@ss.metric
def rows(frame: pd.DataFrame) -> int:
    return Summary(frame).rows


@ss.check(severity="warning")
def has_highs(frame: pd.DataFrame) -> bool:
    return bool((frame["label"] == "high").any())


threshold = ss.param("threshold", default=0.5)
labelled = label(load(20), threshold)
rows(labelled)
has_highs(labelled)
flow = ss.Flow("scripted", outputs=[labelled])

if __name__ == "__main__":
    url = sys.argv[1]
    if sys.argv[2] == "publish":
        print(json.dumps({"version": flow.publish(url)}))
    else:
        run = flow.run(url, run_id=sys.argv[3])
        print(json.dumps({"version": run.version.id, "status": run.status}))
"""


def run_script(path: Path, url: str, *args: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH="")  # the script must not rely on the repository
    proc = subprocess.run(
        [sys.executable, str(path), url, *args],
        capture_output=True, text=True, timeout=120, cwd=path.parent, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "scripted_flow.py"
    path.write_text(SCRIPT)
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_publish_is_idempotent_and_every_change_makes_a_new_version(
    script: Path, tmp_path: Path
) -> None:
    url = (tmp_path / "store").as_uri()
    first = run_script(script, url, "publish")["version"]
    assert run_script(script, url, "publish")["version"] == first
    # moving code around (a new comment line above an op) changes where, not what
    edit(script, "@ss.op\ndef load", "# loads the scores\n@ss.op\ndef load")
    assert run_script(script, url, "publish")["version"] == first

    seen = {first}
    changes = [
        ("code edit", 'frame["score"] * SCALE', 'frame["score"] * SCALE + 1'),
        ("helper edit", "int(value > 0.5)", "int(value >= 0.5)"),
        ("constant edit", "SCALE = 3", "SCALE = 4"),
        ("param default", "default=0.5", "default=0.7"),
        ("new edge", "rows(labelled)", "rows(load.named('again')(5))"),
    ]
    for what, old, new in changes:
        edit(script, old, new)
        version = run_script(script, url, "publish")["version"]
        assert version not in seen, what
        seen.add(version)
    assert len(ss.open(url).versions("scripted")) == len(seen)


def test_script_flow_runs_and_its_captured_source_runs_elsewhere(
    script: Path, tmp_path: Path
) -> None:
    url = (tmp_path / "store").as_uri()
    result = run_script(script, url, "run", "from-script")
    assert result["status"] == "success"
    history = ss.open(url)
    run = history.run("scripted", "from-script")
    spec = run.version.ops["label"].function
    assert spec.module == "__main__" and spec.importable is False
    assert 'print("labelling"' in spec.source and "@ss.op" in spec.source
    module_source = spec.module_source
    for needed in (
        "def bucket(value)",
        "LABELS = ('low', 'high')",
        "SCALE = 3",
        "import numpy as np",
    ):
        assert needed in module_source or needed in run.version.ops["load"].function.module_source
    assert "class Summary" in run.version.ops["rows"].function.module_source
    assert run["label"]["label"].isin(["low", "high"]).all()
    assert run.metrics == {"rows": 20}

    # Run the same version again from another process that never saw the script.
    script.unlink()
    code = textwrap.dedent(f"""
        import json, slipstream as ss
        from slipstream.runtime.local import run_version
        run = run_version(ss.Store({url!r}), "scripted", {run.version.id!r}, run_id="elsewhere",
                          params={{"threshold": 0.9}})
        print(json.dumps({{"status": run.status, "logs": run.ops["label"].logs}}))
    """)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    again = json.loads(proc.stdout.strip().splitlines()[-1])
    assert again == {"status": "success", "logs": "labelling 20 rows\n"}
    assert history.run("scripted", "elsewhere").params == {"threshold": 0.9}


def test_script_ops_using_unsupported_globals_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad_flow.py"
    path.write_text(
        textwrap.dedent("""
        import slipstream as ss
        import threading

        LOCK = threading.Lock()

        @ss.op
        def guarded() -> int:
            with LOCK:
                return 1

        if __name__ == "__main__":
            import sys
            ss.Flow("bad", outputs=[guarded()]).publish(sys.argv[1])
    """)
    )
    store = tmp_path / "never-written"
    proc = subprocess.run(
        [sys.executable, str(path), store.as_uri()], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "FlowDefinitionError: op 'guarded': guarded uses the global 'LOCK'" in proc.stderr
    assert not store.exists()


def test_missing_module_is_reported_as_the_op_failure(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    url = (tmp_path / "store").as_uri()
    store = ss.Store(url)
    flow = ss.Flow("moved", outputs=[_one()])
    version = flow.publish(store)
    spec_path = f"flows/moved/versions/{version}/spec.json"
    spec = json.loads(store.get_object(spec_path))
    spec["ops"][0]["function"]["module"] = "tests.no_such_module"
    store.put_object(spec_path, json.dumps(spec).encode())
    # its source was captured whole: a machine without the module runs that instead
    assert "module_source" in spec["ops"][0]["function"]
    run = _local.run_version(store, "moved", version)
    assert run.status == "success" and run["_one"] == 1
    assert "'tests.no_such_module' is not installed here" in capfd.readouterr().err
    # without it (a module whose globals cannot be captured), the op fails saying why
    del spec["ops"][0]["function"]["module_source"]
    store.put_object(spec_path, json.dumps(spec).encode())
    run = _local.run_version(store, "moved", version, cache=False)
    assert run.status == "failed"
    error = run.ops["_one"].error
    assert error is not None and error.type == "slipstream.errors.CodeUnavailable"
    assert "cannot import _one from module 'tests.no_such_module'" in error.message


@ss.op
def _one() -> int:
    return 1


def test_nested_functions_with_closures_are_refused() -> None:
    factor = 3

    @ss.op
    def scaled() -> int:
        return factor

    with pytest.raises(FlowDefinitionError, match=r"enclosing function \(factor\)"):
        ss.Flow("closure", outputs=[scaled()]).spec()
