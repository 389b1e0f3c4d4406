"""Real Airflow for the tests: a home folder with its own SQLite database, `airflow dags
test`, and the full stack (api-server, scheduler, dag-processor) for the REST API tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import free_port, wait_listening

ROOT = Path(__file__).resolve().parent.parent.parent
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


class AirflowHome:
    """An Airflow home: settings in `env`, DAGs in `dags`, a migrated SQLite database."""

    def __init__(self, root: Path, extra_env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.dags = root / "dags"
        self.dags.mkdir(parents=True, exist_ok=True)
        self.env = dict(
            os.environ,
            AIRFLOW_HOME=str(root),
            AIRFLOW__CORE__DAGS_FOLDER=str(self.dags),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__UNIT_TEST_MODE="False",
            # Task processes import test flows (`tests.…`) like any installed code.
            PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            **(extra_env or {}),
        )
        self.run("db", "migrate")

    def run(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [AIRFLOW, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"airflow {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def dags_test(
        self, dag_id: str, conf: Mapping[str, Any] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`airflow dags test`: the whole DAG in one process. Returns the finished process
        (failing DAG runs exit non-zero; the caller checks what it expects)."""
        args = ["dags", "test", dag_id]
        if conf:
            args += ["--conf", json.dumps(conf)]
        return self.run(*args, check=False)


class AirflowApi:
    """A client of the Airflow 3 REST API with a JWT from /auth/token."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        credentials = {"username": username, "password": password}
        token = httpx.post(f"{base_url}/auth/token", json=credentials, timeout=30)
        token.raise_for_status()
        self.client = httpx.Client(
            base_url=f"{base_url}/api/v2",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=30,
        )

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.client.get(f"/dags/{dag_id}").status_code == 200:
                return
            time.sleep(1)
        raise AssertionError(f"DAG {dag_id} did not appear in the API within {timeout} s")

    def wait_for_dag_tag(self, dag_id: str, tag: str, timeout: float = 120) -> None:
        """Waits until the DAG processor has parsed a DAG file whose DAG carries `tag`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dag = self.client.get(f"/dags/{dag_id}").json()
            if tag in {t["name"] for t in dag.get("tags") or []}:
                return
            time.sleep(1)
        raise AssertionError(f"DAG {dag_id} did not get tag {tag} within {timeout} s")

    def clear(self, dag_id: str, run_id: str, task_ids: list[str]) -> None:
        """Clears failed task instances of a run, as the UI's "Clear" does."""
        body = {"dry_run": False, "dag_run_id": run_id, "task_ids": task_ids,
                "only_failed": True, "reset_dag_runs": True}  # fmt: skip
        answer = self.client.post(f"/dags/{dag_id}/clearTaskInstances", json=body)
        assert answer.status_code == 200, answer.text

    def trigger(self, dag_id: str, run_id: str, conf: Mapping[str, Any]) -> None:
        body = {"logical_date": None, "dag_run_id": run_id, "conf": conf}
        answer = self.client.post(f"/dags/{dag_id}/dagRuns", json=body)
        assert answer.status_code == 200, answer.text

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> dict[str, Any]:
        path = f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.client.get(path).json()
            if run.get("state") in ("success", "failed"):
                return dict(run)
            time.sleep(1)
        raise AssertionError(f"run {run_id} of {dag_id} did not finish within {timeout} s")

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        path = f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id, safe='')}/taskInstances"
        return {ti["task_id"]: ti for ti in self.client.get(path).json()["task_instances"]}


@contextmanager
def airflow_stack(home: AirflowHome) -> Iterator[AirflowApi]:
    """api-server + scheduler + dag-processor on loopback; yields an authenticated client."""
    port = free_port()
    passwords = home.root / "passwords.json"
    passwords.write_text(json.dumps({"admin": "admin-pw"}))
    env = dict(
        home.env,
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__API_AUTH__JWT_SECRET="slipstream-tests-jwt-secret",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
    )
    commands = {name: [AIRFLOW, name] for name in ("api-server", "scheduler", "dag-processor")}
    with background(commands, env, home.root / "logs"):
        wait_listening(port, timeout=120)
        deadline = time.monotonic() + 120
        while True:
            try:
                api = AirflowApi(f"http://127.0.0.1:{port}", "admin", "admin-pw")
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        yield api


@contextmanager
def background(
    commands: Mapping[str, list[str]], env: Mapping[str, str], logs: Path
) -> Iterator[None]:
    """Runs each command in the background, output to `<logs>/<name>.log`; on exit,
    SIGTERM to each, then SIGKILL to what has not stopped after 30 s."""
    logs.mkdir(parents=True, exist_ok=True)
    procs = []
    try:
        for name, command in commands.items():
            log = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
            procs.append((subprocess.Popen(command, env=env, stdout=log,
                                           stderr=subprocess.STDOUT), log))  # fmt: skip
        yield
    finally:
        for proc, _ in procs:
            proc.send_signal(signal.SIGTERM)
        for proc, log in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
