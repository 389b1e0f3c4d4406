"""Real Airflow 2.11 for the tests: its own venv (`make airflow2`; SLIPSTREAM_AIRFLOW2_PYTHON
may name another), a home with a SQLite database, and webserver + scheduler
on loopback. Airflow 2's REST API is `/api/v1` with HTTP basic auth; its scheduler runs
each task as `airflow tasks run` with the SequentialExecutor, importing slipstream from the
source tree (`make develop` builds the native module in place)."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.airflow import ROOT, background
from tests.support.servers import free_port

USER, PASSWORD = "admin", "admin-pw"


def airflow2_python() -> Path:
    """The Python of the Airflow 2 venv: SLIPSTREAM_AIRFLOW2_PYTHON, else the one `make
    airflow2` builds. A missing venv fails the test with the command that makes it."""
    default = Path.home() / ".cache" / "slipstream" / "airflow2-venv" / "bin" / "python"
    python = Path(os.environ.get("SLIPSTREAM_AIRFLOW2_PYTHON") or default)
    assert python.exists(), f"no Airflow 2 venv at {python}: run `make airflow2` (or make test)"
    return python


def airflow2_env(root: Path, dags: Path) -> dict[str, str]:
    """Settings of an Airflow 2 home at `root`, its own venv first on PATH."""
    bin_dir = airflow2_python().parent
    return dict(
        os.environ,
        PATH=os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
        PYTHONPATH=os.pathsep.join([str(ROOT / "python"), str(ROOT)]),
        AIRFLOW_HOME=str(root),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__API__AUTH_BACKENDS="airflow.api.auth.backend.basic_auth",
        AIRFLOW__WEBSERVER__SECRET_KEY="slipstream-tests-secret",
        AIRFLOW__WEBSERVER__WORKERS="1",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
        AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL="5",
    )


class Airflow2Api:
    """A client of Airflow 2's `/api/v1` with basic auth."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.client = httpx.Client(base_url=f"{base_url}/api/v1", auth=(USER, PASSWORD), timeout=30)

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while self.client.get(f"/dags/{dag_id}").status_code != 200:
            assert time.monotonic() < deadline, f"DAG {dag_id} not parsed within {timeout} s"
            time.sleep(1)

    def pause(self, dag_id: str, paused: bool) -> None:
        answer = self.client.patch(f"/dags/{dag_id}", params={"update_mask": "is_paused"},
                                   json={"is_paused": paused})  # fmt: skip
        assert answer.status_code == 200, answer.text

    def trigger(self, dag_id: str, run_id: str) -> None:
        answer = self.client.post(f"/dags/{dag_id}/dagRuns", json={"dag_run_id": run_id})
        assert answer.status_code == 200, answer.text

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        path = f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
        return dict(self.client.get(path).json())

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (run := self.run(dag_id, run_id))["state"] not in ("success", "failed"):
            assert time.monotonic() < deadline, f"{dag_id}/{run_id} not done in {timeout} s"
            time.sleep(1)
        return run


@contextmanager
def airflow2_stack(root: Path, dags: Path) -> Iterator[Airflow2Api]:
    """A migrated home, an admin user, then webserver + scheduler until the block ends."""
    env = airflow2_env(root, dags)
    airflow = str(airflow2_python().with_name("airflow"))

    def run(*args: str) -> None:
        proc = subprocess.run([airflow, *args], env=env, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        assert proc.returncode == 0, f"airflow {args[0]}: {proc.stdout}\n{proc.stderr}"

    run("db", "migrate")
    run("users", "create", "--username", USER, "--password", PASSWORD, "--role", "Admin",
        "--firstname", "Ada", "--lastname", "Admin", "--email", "admin@example.com")  # fmt: skip
    port = free_port()
    commands = {
        "webserver": [airflow, "webserver", "--hostname", "127.0.0.1", "--port", str(port)],
        "scheduler": [airflow, "scheduler"],
    }
    with background(commands, env, root / "logs"):
        api = Airflow2Api(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 180
        while True:
            try:
                if api.client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"the webserver did not answer; see {root}/logs"
            time.sleep(1)
        yield api
