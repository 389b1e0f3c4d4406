"""The task image, built from the Dockerfile with podman by `make test` (scripts/build_image.sh
names it in SLIPSTREAM_IMAGE): `slipstream task --help`, and a real op run in a container
against a store folder mounted from the host."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import slipstream as ss

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import pandas as pd
    import slipstream as ss

    @ss.op
    def make(rows: int) -> pd.DataFrame:
        return pd.DataFrame({"x": np.arange(rows)})

    @ss.op
    def total(frame: pd.DataFrame) -> int:
        print("summing in the container")
        return int(frame["x"].sum())

    flow = ss.Flow("in_image", outputs=[total(make(10))])
    if __name__ == "__main__":
        print(flow.publish(sys.argv[1]))
""")


def image() -> str:
    """The image `make test-python` built. Where podman is missing or cannot run, the reason
    scripts/build_image.sh recorded (SLIPSTREAM_IMAGE_SKIP) is the skip reason, shown in the
    summary (-ra); a build that failed stops `make` before the tests."""
    name = os.environ.get("SLIPSTREAM_IMAGE")
    if not name:
        reason = os.environ.get("SLIPSTREAM_IMAGE_SKIP") or (
            "SLIPSTREAM_IMAGE is not set: run through `make test-python`, which builds it"
        )
        pytest.skip(f"no task image: {reason}")
    return name


def podman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=300)


def test_image_runs_the_task_command(tmp_path: Path) -> None:
    name = image()
    helped = podman("run", "--rm", name, "slipstream", "task", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--run-id" in helped.stdout and "--try-number" in helped.stdout

    store_dir = tmp_path / "store"
    store_dir.mkdir()
    script = tmp_path / "flow_in_image.py"
    script.write_text(SCRIPT)
    version = subprocess.run([sys.executable, str(script), store_dir.as_uri()], check=True,
                             capture_output=True, text=True).stdout.strip()  # fmt: skip
    for path in [store_dir, *store_dir.rglob("*")]:
        os.chmod(path, 0o777 if path.is_dir() else 0o666)  # the image runs as nobody
    for op in ("make", "total"):
        proc = podman(
            "run", "--rm", "-v", f"{store_dir}:/store", name, "slipstream", "task",
            "--store", "file:///store", "--flow", "in_image", "--version", version,
            "--op", op, "--run-id", "manual__2026-11-23T18:50:11+00:00",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert json.loads(proc.stdout.strip().splitlines()[-1])["out"]["type"]
    run = ss.open(store_dir.as_uri()).run("in_image", "manual__2026-11-23T18:50:11+00:00")
    assert run.status == "success" and run["total"] == 45
    assert run.ops["total"].logs == "summing in the container\n"
    record = run.ops["total"].record
    assert record is not None and record.host != socket.gethostname()  # it ran in a container
