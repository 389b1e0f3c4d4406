"""Flows inside hand-written DAGs: `slipstream publish` writes the spec beside the DAG files,
`slipstream.airflow.task_group` adds a flow as a task group, `slipstream.airflow.read` gives a
plain task its output, and Airflow values (templates, XComs) reach the ops as params. Run by
real Airflow 3 (`airflow dags test`)."""

from __future__ import annotations

import json
import runpy
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import slipstream as ss
from slipstream.errors import FlowDefinitionError

from tests.support.airflow import ROOT, AirflowHome

FLOWS = ROOT / "tests" / "flows" / "group_flows.py"

# A DAG as users write them: a shell task, a flow group taking its XCom and a template, a
# plain task reading the group's output, the same flow again with other params, and a
# second flow; alerts go to a notifier.
MIXED_DAG = """
import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, task

import slipstream.airflow as ssa
from tests.flows.notifiers import FileNotifier

with DAG("mixed", schedule=None, catchup=False,
         start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)) as dag:
    count = BashOperator(task_id="count", bash_command="echo 3")
    notify = FileNotifier("{{ dag.dag_id }}: {{ slipstream_alert.message }}")
    sums = ssa.task_group("sums", store=STORE, notifiers=[notify],
                          params={"n": ssa.xcom("count"), "day": "{{ ds }}"})

    @task
    def report(**context):
        total = ssa.read("sums", "total", context)
        print("REPORT", total)
        return total["total"]

    again = ssa.task_group("sums", group_id="sums_again", store=STORE, params={"n": 10})
    word = "{{ dag_run.conf.get('word', 'hi') }}"
    words = ssa.task_group("words", store=STORE, params={"word": word})
    count >> sums >> report() >> [again, words]
"""


@pytest.fixture
def published(tmp_path: Path) -> tuple[AirflowHome, str]:
    store = (tmp_path / "store").as_uri()
    env = {"SLIPSTREAM_UI_URL": "http://ui.example", "ALERTS_FILE": str(tmp_path / "alerts.txt")}
    home = AirflowHome(tmp_path / "airflow", env)
    proc = subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "publish", str(FLOWS), "--store", store,
         "--into", str(home.dags)],
        capture_output=True, text=True, env=home.env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "published sums@" in proc.stdout and "published words@" in proc.stdout
    (home.dags / "mixed.py").write_text(f"STORE = {store!r}\n" + MIXED_DAG)
    return home, store


def test_a_dag_mixing_flow_groups_and_plain_tasks(
    published: tuple[AirflowHome, str], tmp_path: Path
) -> None:
    home, store = published
    proc = home.dags_test("mixed", conf={"word": "hello"})
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    history = ss.open(store)
    (run,) = [r for r in history.runs("sums") if r.run_id.startswith("mixed.sums/")]
    airflow_run = run.run_id.removeprefix("mixed.sums/")
    assert run.status == "success" and run.record.trigger == "airflow"
    # The XCom of `count` ("3", converted to the param's type) and the rendered template.
    day = run["where"]["day"]
    assert run.params["n"] == 3 and run.params["day"] == day
    assert run["total"] == {"total": 3, "day": day} and len(day) == 10
    where = run["where"]
    assert where["run_id"] == run.run_id and where["dag_id"] == "mixed"
    assert where["task_id"] == "sums.where" and where["in_airflow"] is True
    assert where["try_number"] == 1 and where["logical_date"].startswith(day)
    # The plain task read the group's output of the same DAG run.
    assert "REPORT {'total': 3, 'day': '" + day + "'}" in log
    # The same flow again, with its own params and its own run; and a second flow.
    again = history.run("sums", f"mixed.sums_again/{airflow_run}")
    assert again.status == "success" and again["total"]["total"] == 45
    words = history.run("words", f"mixed.words/{airflow_run}")
    assert words["shout"] == "HELLO!"
    # The metric under its bound (3 < 5) called the notifier, linking to the op's page.
    alerts = (tmp_path / "alerts.txt").read_text().splitlines()
    link = f"http://ui.example/flows/sums/runs/{quote(run.run_id, safe='')}/ops/size"
    assert len(alerts) == 1 and alerts[0].startswith("mixed: slipstream: metric 'size' is 3")
    assert "below its alert bound 5" in alerts[0] and alerts[0].endswith(link)
    assert again.metrics["size"] == 10  # above its bound: no alert, and no notifiers there
    # Each group's outputs are Asset events naming that group's run and artifact.
    with sqlite3.connect(home.root / "airflow.db") as db:
        rows = db.execute(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
            "WHERE a.uri = 'slipstream://sums/total/out'"
        ).fetchall()
    events = sorted((json.loads(extra) for (extra,) in rows), key=lambda e: e["run_id"])
    assert [e["run_id"] for e in events] == [run.run_id, again.run_id]
    assert events[0]["manifest"] == run.key("total").manifest_path


def test_parsing_a_group_is_offline_and_wires_like_a_task(
    published: tuple[AirflowHome, str], tmp_path: Path
) -> None:
    home, store = published
    probe = (
        "import runpy, sys, json\n"
        "dag = runpy.run_path(sys.argv[1])['dag']\n"
        "tasks = {t.task_id: t for t in dag.tasks}\n"
        "heavy = [m for m in ('pandas', 'pyarrow', 'tests.flows.group_flows',"
        " '__slipstream_publish__') if m in sys.modules]\n"
        "total = tasks['sums.total']\n"
        "print(json.dumps({'heavy': heavy, 'tasks': {k: sorted(t.upstream_task_ids)"
        " for k, t in tasks.items()}, 'outlets': [str(o.uri) for o in total.outlets],"
        " 'kwargs': {k: v for k, v in total.op_kwargs.items() if k != 'flow_params'}}))\n"
    )
    # The store is not read at parse time: it may not even exist.
    missing = (tmp_path / "nowhere").as_uri()
    text = (home.dags / "mixed.py").read_text().replace(repr(store), repr(missing), 1)
    (home.dags / "mixed.py").write_text(text)
    proc = subprocess.run([sys.executable, "-c", probe, str(home.dags / "mixed.py")],
                          capture_output=True, text=True, env=home.env, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found["heavy"] == []
    assert not (tmp_path / "nowhere").exists()
    tasks = found["tasks"]
    assert tasks["sums.numbers"] == ["count"]  # the XCom's task is upstream of the group
    assert tasks["sums.total"] == ["sums.numbers"]
    assert tasks["report"] == ["sums.size", "sums.where"]  # `sums >> report`: its leaves
    assert tasks["sums_again.numbers"] == ["report"] and tasks["words.shout"] == ["report"]
    assert found["outlets"] == ["slipstream://sums/total/out"]
    assert found["kwargs"]["run_scope"] == "mixed.sums" and found["kwargs"]["op"] == "total"


def test_the_extra_link_of_a_grouped_task_opens_its_op_of_its_run(
    published: tuple[AirflowHome, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, _ = published
    monkeypatch.setenv("SLIPSTREAM_UI_URL", "http://ui.example")
    monkeypatch.setenv("AIRFLOW_HOME", str(home.root))
    dag = runpy.run_path(str(home.dags / "mixed.py"))["dag"]
    task = dag.get_task("sums_again.total")
    (link,) = task.operator_extra_links
    key = SimpleNamespace(dag_id="mixed", task_id="sums_again.total", run_id="r1", map_index=-1)
    url = link.get_link(task, ti_key=key)
    assert url == "http://ui.example/flows/sums/runs/mixed.sums_again%2Fr1/ops/total"


def test_group_errors_say_what_to_do(published: tuple[AirflowHome, str], tmp_path: Path) -> None:
    from slipstream.airflow import read, task_group, xcom
    from slipstream.errors import FlowDefinitionError, ParamError, SlipstreamError

    home, store = published
    with pytest.raises(FlowDefinitionError, match=r"inside a `with DAG\(...\)` block"):
        task_group("sums", store=store)
    from airflow.sdk import DAG

    with DAG("errors", schedule=None) as dag:
        dag.fileloc = str(home.dags / "errors.py")
        with pytest.raises(FlowDefinitionError, match="slipstream publish <flow file>"):
            task_group("churn", store=store)
        with pytest.raises(ParamError, match=r"has no param 'rows' \(its params: day, n\)"):
            task_group("sums", store=store, params={"rows": 3})
        with pytest.raises(ParamError, match="needs a value for param 'word'"):
            task_group("words", store=store)
        with pytest.raises(FlowDefinitionError, match="define that task before the group"):
            task_group("sums", group_id="sums_2", store=store, params={"n": xcom("later")})
    with DAG("twice", schedule=None) as twice:
        twice.fileloc = str(home.dags / "twice.py")
        task_group("sums", group_id="a", store=store)
        task_group("sums", group_id="b", store=store)
    context = {"dag": twice, "run_id": "r1"}
    with pytest.raises(SlipstreamError, match=r"several groups of flow 'sums' \(a, b\)"):
        read("sums", "total", context)
    with pytest.raises(SlipstreamError, match="no group of flow 'words'"):
        read("words", "shout", context)


def test_a_compiled_dag_calls_the_notifiers_it_names(tmp_path: Path) -> None:
    from tests.flows import group_flows

    store = (tmp_path / "store").as_uri()
    home = AirflowHome(tmp_path / "airflow", {"ALERTS_FILE": str(tmp_path / "alerts.txt")})
    path = group_flows.sums.to_airflow(
        home.dags, store=store, notifiers="tests.flows.notifiers:NOTIFIERS"
    )
    assert "from tests.flows.notifiers import NOTIFIERS  # the alerts'" in path.read_text()
    proc = home.dags_test("sums")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    (alert,) = (tmp_path / "alerts.txt").read_text().splitlines()
    assert alert.startswith("sums: slipstream: metric 'size' is 4 in run manual__")
    with pytest.raises(FlowDefinitionError, match="'module:NAME'"):
        group_flows.sums.to_airflow(home.dags, store=store, notifiers="alerts.NOTIFIERS")
