"""`mode="kubernetes"`: one KubernetesPodOperator per op. There is no cluster here, so the
pod spec is checked with the operator's own `dry_run()` / `build_pod_request_obj(dry_run=True)`
(the one mock-like step, forced by the environment), and the pod's command line is run
locally, end to end, as the container would run it."""

from __future__ import annotations

import json
import os
import runpy
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pytest
import slipstream as ss

from tests.flows import airflow_flows, context_flows
from tests.support.airflow import ROOT, AirflowHome

RUN_ID = "scheduled__2026-11-23T00:00:00+00:00"


@ss.op(resources={"cpu": "2", "memory": "3Gi"}, image="registry.example/churn:gpu")
def heavy(frame: Any) -> int:
    return len(frame)


def dag_tasks(path: Path) -> dict[str, Any]:
    """The tasks of the DAG a file defines, as Airflow's parser gets them."""
    dag = runpy.run_path(str(path))["dag"]
    return {task.task_id: task for task in dag.tasks}


LOGICAL = datetime(2026, 11, 23, tzinfo=UTC)


def render(argument: str, *, try_number: int, conf: dict[str, Any], **more: Any) -> str:
    """What Airflow's templating (Jinja, undefined names refused) makes of a pod argument
    for one try of a scheduled run."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["tojson"] = json.dumps
    values = {
        "run_id": RUN_ID, "ti": {"try_number": try_number, "max_tries": 0, "task_id": "t"},
        "dag_run": {"conf": conf}, "dag": {"dag_id": "d"}, "logical_date": LOGICAL,
        "data_interval_start": LOGICAL - timedelta(days=1), "data_interval_end": LOGICAL,
        **more,
    }  # fmt: skip
    return env.from_string(argument).render(**values)


def test_pod_spec_and_the_pod_command_run_locally(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = (tmp_path / "store").as_uri()
    home = AirflowHome(tmp_path / "airflow")
    rows = airflow_flows.source(10)
    flow = ss.Flow("pods", outputs=[airflow_flows.scaled(rows, ss.param("scale", default=2.0)),
                                    heavy(rows)])  # fmt: skip
    path = flow.to_airflow(home.dags, store=store, mode="kubernetes",
                           image="registry.example/slipstream:1.0")  # fmt: skip
    text = path.read_text()
    assert 'mode="kubernetes"' in text and 'secret="slipstream-store"' in text
    tasks = dag_tasks(path)
    assert {type(t).__name__ for t in tasks.values()} == {"KubernetesPodOperator"}

    heavy_pod = tasks["heavy"].build_pod_request_obj(dry_run=True)
    container = heavy_pod.spec.containers[0]
    assert container.image == "registry.example/churn:gpu"  # @op(image=...) wins
    assert container.resources.requests == {"cpu": "2", "memory": "3Gi"}
    assert container.resources.limits == {"cpu": "2", "memory": "3Gi"}
    assert container.command == ["slipstream", "task"]
    assert "{{ run_id }}" in container.args and "{{ ti.try_number }}" in container.args
    assert [e.secret_ref.name for e in container.env_from] == ["slipstream-store"]
    env = {e.name: e.value for e in container.env}
    assert env == {"SLIPSTREAM_STORE": store}  # the URL only: credentials come from the secret
    assert "AWS_SECRET_ACCESS_KEY" not in text

    tasks["source"].dry_run()
    yaml = capsys.readouterr().out
    assert "image: registry.example/slipstream:1.0" in yaml and "- task" in yaml

    # Run each pod's command line here, in dependency order, as the containers would.
    slipstream = shutil.which("slipstream", path=str(Path(sys.executable).parent))
    assert slipstream is not None
    env_vars = dict(home.env, SLIPSTREAM_STORE=store)
    for task_id in ("source", "scaled", "heavy"):
        pod = tasks[task_id].build_pod_request_obj(dry_run=True).spec.containers[0]
        args = [render(a, try_number=1, conf={"scale": 4.0}) for a in pod.args]
        proc = subprocess.run([slipstream, *pod.command[1:], *args], env=env_vars,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout.strip().splitlines()[-1])["out"]["type"]
    run = ss.open(store).run("pods", RUN_ID)
    assert run.status == "success" and run["heavy"] == 10
    assert run["scaled"]["value"].max() == pytest.approx(4.0)  # the conf reached the op


def test_task_command_exit_codes(tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    flow = airflow_flows.semantics()
    version = flow.publish(store)

    def task(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "slipstream.cli", "task", "--store", store, "--flow",
             "semantics", "--version", version, "--run-id", "r1", *args],
            capture_output=True, text=True, timeout=120,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip

    assert task("--op", "source").returncode == 0
    failed = task("--op", "explode")
    assert failed.returncode == 1
    assert "op 'explode' failed: ValueError: the value column is not what it was" in failed.stderr
    assert 'raise ValueError("the value column' in failed.stderr  # the stack trace, in the log
    wrong = task("--op", "nope")
    assert wrong.returncode == 2 and "has no op 'nope'" in wrong.stderr
    assert task("--op", "source", "--conf", "[1]").returncode == 2


def test_an_image_pinned_by_digest_names_it_to_the_task(tmp_path: Path) -> None:
    """The digest joins the cache keys of the ops in that pod (see runtime.fingerprint)."""
    store = (tmp_path / "store").as_uri()
    home = AirflowHome(tmp_path / "airflow")
    digest = "sha256:" + "ab" * 32
    flow = ss.Flow("pinned", outputs=[airflow_flows.source(10)])
    path = flow.to_airflow(home.dags, store=store, mode="kubernetes",
                           image=f"registry.example/slipstream@{digest}")  # fmt: skip
    pod = dag_tasks(path)["source"].build_pod_request_obj(dry_run=True)
    env = {e.name: e.value for e in pod.spec.containers[0].env}
    assert env == {"SLIPSTREAM_STORE": store, "SLIPSTREAM_IMAGE_DIGEST": digest}


def test_a_flow_group_of_pods_passes_its_params_rendered(tmp_path: Path) -> None:
    """In a hand-written DAG, a group of pods gets the group's params as JSON arguments
    (templates and XComs rendered by Airflow's Jinja) and records its own run."""
    from airflow.sdk import DAG
    from slipstream.airflow import task_group
    from slipstream.airflow.builder import write_spec

    store = (tmp_path / "store").as_uri()
    rows = airflow_flows.source(10)
    scaled = airflow_flows.scaled(rows, ss.param("scale", 2.0))
    flow = ss.Flow("podgroup", outputs=[scaled, context_flows.stamp()])
    flow.publish(store)
    write_spec(flow.spec(), tmp_path / "dags")
    with DAG("hand_written", schedule=None) as dag:
        dag.fileloc = str(tmp_path / "dags" / "hand_written.py")
        task_group("podgroup", store=store, mode="kubernetes", image="registry.example/s:1",
                   params={"scale": "{{ scale }}"})  # fmt: skip
    tasks = {t.task_id: t for t in dag.tasks}
    assert set(tasks) == {"podgroup.source", "podgroup.scaled", "podgroup.stamp"}
    slipstream = shutil.which("slipstream", path=str(Path(sys.executable).parent))
    assert slipstream is not None
    for task_id in ("podgroup.source", "podgroup.scaled", "podgroup.stamp"):
        pod = tasks[task_id].build_pod_request_obj(dry_run=True).spec.containers[0]
        assert "--group-params" in pod.args
        args = [render(a, try_number=1, conf={}, scale="4.5") for a in pod.args]
        proc = subprocess.run([slipstream, *pod.command[1:], *args],
                              env=dict(os.environ, SLIPSTREAM_STORE=store, PYTHONPATH=str(ROOT)),
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    run = ss.open(store).run("podgroup", f"hand_written.podgroup/{RUN_ID}")
    assert run.status == "success" and run.params["scale"] == 4.5
    assert run["scaled"]["value"].max() == pytest.approx(4.5)
    # ss.context() in a pod is the task's, as Airflow rendered it.
    stamp = run["stamp"]
    assert stamp["logical_date"] == LOGICAL.isoformat() and stamp["in_airflow"] is True
    assert stamp["run_id"] == run.run_id and stamp["task_id"] == "t"
