"""Generated DAG files also import on Airflow 2.11 (a parse test: the DAG, its tasks, their
dependencies and params, as Airflow 2 builds them), in the Airflow 2 venv `make test`
provides (see tests/support/airflow2.py)."""

from __future__ import annotations

import enum
import json
import math
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import slipstream as ss
from dateutil.tz import tzlocal
from slipstream.airflow.builder import write_spec
from slipstream.errors import FlowDefinitionError
from slipstream.records.files import load_spec

from tests.flows import airflow_flows, group_flows
from tests.support.airflow import ROOT
from tests.support.airflow2 import airflow2_python

PROBE = """
import json, runpy, sys
import airflow
dag = runpy.run_path(sys.argv[1])["dag"]
print(json.dumps({
    "airflow": airflow.__version__,
    "dag_id": dag.dag_id,
    "tasks": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
    "params": {k: dag.params[k] for k in dag.params},
    "tags": sorted(dag.tags),
    "callable": dag.get_task("source").python_callable.__module__,
}))
"""


def test_dag_file_parses_on_airflow_2(tmp_path: Path) -> None:
    python = airflow2_python()
    flow = airflow_flows.semantics()
    path = flow.to_airflow(tmp_path / "dags", store=(tmp_path / "store").as_uri())
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(tmp_path / "airflow2"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "python"), str(ROOT)]),
    )
    proc = subprocess.run([python, "-c", PROBE, str(path)], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    parsed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert parsed["airflow"].startswith("2.11.")
    assert parsed["dag_id"] == "semantics"
    assert parsed["tasks"]["scaled"] == ["has_rows", "source"]
    assert parsed["tasks"]["after_explode"] == ["explode"]
    assert set(parsed["tasks"]) == {op.name for op in flow.spec().ops}
    assert parsed["params"] == {"scale": 2.0}
    assert f"version:{flow.version}" in parsed["tags"]
    assert parsed["callable"] == "slipstream.airflow"


ASSET_PROBE = """
import json, runpy, sys
import airflow
dag = runpy.run_path(sys.argv[1])["dag"]
task = dag.get_task("summarize")
print(json.dumps({
    "schedule": sorted(d.uri for d in dag.timetable.dataset_condition.objects),
    "outlets": [o.uri for o in task.outlets],
    "operator": type(task).__name__,
    "links": [link.name for link in task.operator_extra_links],
    "doc_md": task.doc_md,
}))
"""


def test_a_flow_scheduled_on_another_flows_output_parses_on_airflow_2(tmp_path: Path) -> None:
    """Airflow 2.11 has Datasets, not Assets: the same URIs schedule the DAG and name the
    task's outlets; the extra link is there, the plugin's views are not (Airflow 2 has none)."""
    from tests.flows import asset_flows

    path = asset_flows.report().to_airflow(tmp_path / "dags", store=(tmp_path / "s").as_uri())
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(tmp_path / "airflow2"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "python"), str(ROOT)]),
    )
    proc = subprocess.run([airflow2_python(), "-c", ASSET_PROBE, str(path)], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    parsed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert parsed["schedule"] == ["slipstream://churn/predict/out"]
    assert parsed["outlets"] == ["slipstream://report/summarize/out"]
    assert parsed["operator"] == "SlipstreamOperator" and parsed["links"] == ["slipstream"]
    assert "How many customers the report covers" in parsed["doc_md"]


class Tries(enum.IntEnum):
    TWO = 2


HOSTILE_PROBE = """
import json, runpy, sys
dag = runpy.run_path(sys.argv[1])["dag"]
print(json.dumps({"description": dag.description, "params": {k: dag.params[k] for k in dag.params},
                  "retry_delay": dag.default_args["retry_delay"].total_seconds(),
                  "retries": dag.default_args["retries"],
                  "dates": [str(dag.default_args[k]) for k in ("start_date", "end_date")]}))
"""


@pytest.mark.parametrize("airflow", ["3", "2"])
def test_hostile_flows_compile_to_files_airflow_loads(tmp_path: Path, airflow: str) -> None:
    python = sys.executable if airflow == "3" else str(airflow2_python())
    flow = airflow_flows.hostile()
    store = (tmp_path / "store").as_uri()
    with pytest.raises(FlowDefinitionError, match=r"default_args\['on_failure_callback'\] is a"):
        flow.to_airflow(tmp_path / "dags", store=store,
                        default_args={"on_failure_callback": print})  # fmt: skip
    amsterdam = datetime(2026, 1, 5, 6, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
    local = datetime(2027, 1, 1, tzinfo=tzlocal())  # no zone name: a fixed offset
    path = flow.to_airflow(tmp_path / "dags", store=store,
                           default_args={"retry_delay": timedelta(minutes=2),
                                         "retries": Tries.TWO,
                                         "start_date": amsterdam,
                                         "end_date": local})  # fmt: skip
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(tmp_path / f"airflow{airflow}"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "python"), str(ROOT)]),
    )
    proc = subprocess.run([python, "-c", HOSTILE_PROBE, str(path)], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    parsed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert parsed["description"] == flow.spec().description
    assert math.isnan(parsed["params"]["value"]) and parsed["params"]["ceiling"] == math.inf
    assert parsed["retry_delay"] == 120 and parsed["retries"] == 2  # an IntEnum: its number
    # Airflow keeps dates in UTC; the DAG file keeps the zone the user named.
    assert parsed["dates"] == ["2026-01-05 05:30:00+00:00", str(local.astimezone(UTC))]
    assert 'zoneinfo.ZoneInfo("Europe/Amsterdam")' in path.read_text()


GROUP_DAG = """
import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator
from slipstream.airflow import task_group, xcom

with DAG("grouped", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:
    count = BashOperator(task_id="count", bash_command="echo 3")
    sums = task_group("sums", store=STORE, params={"n": xcom("count"), "day": "{{ ds }}"})
    again = task_group("sums", group_id="again", store=STORE)
    count >> sums >> again
"""


def test_a_flow_group_parses_on_airflow_2(tmp_path: Path) -> None:
    python = airflow2_python()
    store = (tmp_path / "store").as_uri()
    dags = tmp_path / "dags"
    version = group_flows.sums.publish(store)
    write_spec(load_spec(ss.Store(store), "sums", version), dags)
    (dags / "grouped.py").write_text(f"STORE = {store!r}\n" + GROUP_DAG)
    probe = (
        "import json, runpy, sys\n"
        "dag = runpy.run_path(sys.argv[1])['dag']\n"
        "print(json.dumps({t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}))\n"
    )
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(tmp_path / "airflow2"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "python"), str(ROOT)]),
    )
    proc = subprocess.run([python, "-c", probe, str(dags / "grouped.py")], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    tasks = json.loads(proc.stdout.strip().splitlines()[-1])
    assert tasks["sums.numbers"] == ["count"] and tasks["sums.total"] == ["sums.numbers"]
    assert tasks["again.numbers"] == ["sums.size", "sums.where"]
