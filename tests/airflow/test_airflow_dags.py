"""Flows compiled to Airflow DAG files and run by real Airflow 3 (`airflow dags test`)."""

from __future__ import annotations

import ast
import runpy
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import slipstream as ss
from slipstream.airflow.builder import start_date
from slipstream.errors import ArtifactExpired
from slipstream.history import run_index
from slipstream.records import files
from slipstream.records.types import FlowSpec

from tests.conftest import make_bucket
from tests.flows import airflow_flows, sample_flows
from tests.support.airflow import ROOT, AirflowHome
from tests.support.records import date_run
from tests.support.servers import fault_proxy


def assert_indexed(store: str, flow: str, expected: dict[str, str]) -> None:
    """The run index has these runs with these statuses, and no run left marked."""
    found = run_index.summaries(ss.Store(store), flow)
    assert found is not None, "indexed"
    runs, active = found
    assert {r.run_id: r.status for r in runs} == expected and not active


@pytest.fixture
def home(tmp_path: Path) -> AirflowHome:
    return AirflowHome(tmp_path / "airflow")


def test_dag_file_is_short_plain_airflow(home: AirflowHome, tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    flow = airflow_flows.semantics()
    path = flow.to_airflow(home.dags, store=store, retries=2)
    text = path.read_text()
    ast.parse(text)
    version = flow.version
    spec = ss.open(store).version("semantics", version).spec
    assert path.name == "semantics.py"
    # Thin: the store and the caller's choices; the version is in the spec beside it.
    assert f'STORE = "{store}"' in text and 'default_args={"retries": 2}' in text
    assert version not in text and not any(op.prefix in text for op in spec.ops)
    assert len(text.splitlines()) < 40
    beside = home.dags / "semantics.slipstream.json"
    assert files.parse(beside.read_bytes(), str(beside), FlowSpec) == spec
    dag = runpy.run_path(str(path))["dag"]
    tasks = {t.task_id: t for t in dag.tasks}
    assert list(tasks) == [op.name for op in spec.ops]
    for op in spec.ops:  # every task runs its op of this version, at its prefix
        kwargs = tasks[op.name].op_kwargs
        assert (kwargs["version"], kwargs["prefix"], kwargs["store"]) == (version, op.prefix, store)
    assert {"slipstream", "flow:semantics", f"version:{version}"} <= set(dag.tags)
    assert dict(dag.params) == {"scale": 2.0} and dag.default_args == {"retries": 2}
    # data edges, and the error check `has_rows` gating the consumers of what it checks
    assert tasks["scaled"].upstream_task_ids == {"source", "has_rows"}
    assert tasks["after_explode"].upstream_task_ids == {"explode"}
    assert tasks["all_small"].upstream_task_ids == {"source"}
    assert not tasks["all_small"].downstream_task_ids  # a warning check gates nothing
    # start_date is the day the version was published, so recompiling rewrites nothing.
    day = start_date(spec)
    assert dag.start_date.date() == day and dag.start_date.utcoffset() == timedelta(0)
    assert flow.to_airflow(home.dags, store=store, retries=2).read_text() == text
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "E,F,W,I,UP,B", "--line-length", "120",
         "--isolated", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout
    # Nothing heavy at module level: no pandas, pyarrow or op code is imported to parse it.
    probe = subprocess.run(
        [sys.executable, "-c", f"import runpy, sys; runpy.run_path({str(path)!r}); "
         "heavy = [m for m in ('pandas', 'pyarrow', 'polars', 'numpy', "
         "'tests.flows.airflow_flows') "
         "if m in sys.modules]; print(heavy)"],
        capture_output=True, text=True, env=home.env,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("published_at", "day"),
    [
        ("2026-11-24T23:59:59.999999+00:00", date(2026, 11, 24)),
        ("2026-11-24T23:30:00-05:00", date(2026, 11, 25)),  # the UTC day, whatever the offset
        ("2026-11-25T00:00:00Z", date(2026, 11, 25)),
        (None, date(2026, 1, 1)),  # published before versions recorded when: a fixed day
    ],
)
def test_start_date_is_the_versions_publish_day(published_at: str | None, day: date) -> None:
    spec = sample_flows.build().spec().replace(published_at=published_at)
    assert start_date(spec) == day


def test_example_flow_in_airflow_with_s3(tmp_path: Path, s3_endpoint: str) -> None:
    store = f"s3://{make_bucket(s3_endpoint)}/slipstream"
    warehouse = f"sqlite:///{tmp_path / 'warehouse.db'}"
    home = AirflowHome(tmp_path / "airflow",
                       {"SLIPSTREAM_STORE": store, "SLIPSTREAM_WAREHOUSE": warehouse})  # fmt: skip
    compiled = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py"), "--to-airflow", str(home.dags)],
        env=home.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stderr
    proc = home.dags_test("churn", conf={"cut": 0.25})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    (run,) = ss.open(store).runs("churn")
    assert run.record.trigger == "airflow" and run.run_id.startswith("manual__")
    assert run.status == "success"
    assert_indexed(store, "churn", {run.run_id: "success"})
    assert {op.status for op in run.ops.values()} == {"success"}
    assert run.params["cut"] == 0.25
    assert set(run.metrics) == {"accuracy"} and set(run.checks) == {
        "features_finite",
        "churn_rate_plausible",
    }
    preds = run["predict"]
    assert isinstance(preds, pd.DataFrame) and preds["predicted"].dtype == bool
    assert (preds["predicted"] == (preds["score"] > 0.25)).all()  # the conf value was used
    record = run.ops["customers"].record
    assert record is not None and record.try_number == 1
    assert "rows, 4 columns from" in record.stdout
    assert run.ops["save_churn_predictions"].record.outputs["out"].type == "value"  # type: ignore[index]


def test_failures_checks_and_params_in_airflow(home: AirflowHome, tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    airflow_flows.semantics().to_airflow(home.dags, store=store)
    proc = home.dags_test("semantics", conf={"scale": 3.0})
    assert proc.returncode != 0  # the DAG run fails: an op fails and an error check fails
    log = proc.stdout + proc.stderr
    assert 'raise ValueError("the value column is not what it was")' in log  # in the task log

    (run,) = ss.open(store).runs("semantics")
    ops = run.ops
    assert run.status == "failed"
    # the task that ended it (the last of the branches the failures did not stop) indexed it
    assert_indexed(store, "semantics", {run.run_id: "failed"})
    assert ops["explode"].status == "failed"
    assert ops["after_explode"].status == "upstream_failed"
    error = ops["explode"].error
    assert error is not None and error.type == "ValueError"
    assert "airflow_flows.py" in error.traceback and "exploding on 20 rows" in ops["explode"].logs
    # an error check that fails stops the consumers of what it checks ...
    assert ops["sorted_numbers"].status == "failed" and run.checks["sorted_numbers"].passed is False
    assert ops["consume"].status == "upstream_failed"
    # ... a warning check that fails is recorded and stops nothing
    assert ops["all_small"].status == "success" and run.checks["all_small"].passed is False
    assert ops["has_rows"].status == "success" and ops["scaled"].status == "success"
    assert run.params == {"scale": 3.0}
    assert run["scaled"]["value"].max() == pytest.approx(3.0)
    assert run.metrics["total_value"] == pytest.approx(10.0)


def test_the_generated_gc_dag_applies_declared_retention(home: AirflowHome, tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    flow = airflow_flows.retained()
    for i in range(3):
        flow.run(store, run_id=f"r{i}", cache=False)
        date_run(store, "retained", f"r{i}", f"2027-01-0{i + 1}T00:00:00+00:00")
    flow.to_airflow(home.dags, store=store, gc_schedule="@daily")
    text = (home.dags / "slipstream_gc.py").read_text()
    assert 'schedule="@daily"' in text and f'STORE = "{store}"' in text
    assert '"slipstream"' not in text, "not a flow's DAG: sync leaves it alone"
    proc = home.dags_test("slipstream_gc")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "retained: deleted" in proc.stdout + proc.stderr  # gc's report, in the task log
    history = ss.open(store)
    for expired in ("r0", "r1"):
        with pytest.raises(ArtifactExpired, match="keep the last 1 runs"):
            history.run("retained", expired)["make"]
    assert history.run("retained", "r2")["make"] == [1, 2, 3]


def test_recompiled_flow_keeps_old_runs_on_their_version(home: AirflowHome, tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    airflow_flows.evolving(1).to_airflow(home.dags, store=store)
    assert home.dags_test("evolving").returncode == 0
    airflow_flows.evolving(2).to_airflow(home.dags, store=store)
    assert home.dags_test("evolving").returncode == 0

    newer, older = ss.open(store).runs("evolving")
    assert newer.version.id != older.version.id
    assert list(older.version.ops) == ["source", "scaled"]
    assert list(newer.version.ops) == ["source", "scaled", "grow"]
    assert len(older["scaled"]) == 5 and len(newer["grow"]) == 10
    assert (
        f'"version": "{newer.version.id}"' in (home.dags / "evolving.slipstream.json").read_text()
    )
    # the unchanged ops reused the older run's outputs; a run's conf can turn that off
    assert newer.ops["source"].cached_from == older.run_id
    assert home.dags_test("evolving", conf={"slipstream_cache": "false"}).returncode == 0
    (uncached,) = [r for r in ss.open(store).runs("evolving")
                   if r.run_id not in (newer.run_id, older.run_id)]  # fmt: skip
    assert {o.cached_from for o in uncached.ops.values()} == {None}


def test_execution_timeout_interrupts_a_hanging_transfer(tmp_path: Path, s3_endpoint: str) -> None:
    """Airflow enforces `execution_timeout` with SIGALRM; the runtime keeps checking signals
    while it waits on S3, so a read that hangs is cut off at the timeout."""
    bucket = make_bucket(s3_endpoint)
    store = f"s3://{bucket}/timeouts"
    with fault_proxy(s3_endpoint, failures=0, slow_paths="/outputs/", delay=120) as (proxy, _):
        home = AirflowHome(tmp_path / "airflow", {"AWS_ENDPOINT_URL": proxy})
        flow = ss.Flow("timeouts", outputs=[airflow_flows.scaled(airflow_flows.source(5), 1.0)])
        flow.to_airflow(home.dags, store=store,
                        default_args={"execution_timeout": timedelta(seconds=8)})  # fmt: skip
        started = time.monotonic()
        proc = home.dags_test("timeouts")
        elapsed = time.monotonic() - started
    assert proc.returncode != 0
    assert elapsed < 90, f"the hanging read was not interrupted ({elapsed:.0f} s)"
    run = ss.open(store).run("timeouts", ss.open(store).runs("timeouts")[0].run_id)
    assert run.ops["source"].status == "success"
    error = run.ops["scaled"].error
    assert error is not None and "Timeout" in error.type, run.record
    assert error.phase == "inputs"


# A DAG file as slipstream wrote them before `SlipstreamOperator`: plain `PythonOperator`s
# calling `slipstream.airflow.execute`. Files deployed then must keep running.
LEGACY_DAG = """
from __future__ import annotations

import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.python import PythonOperator

from slipstream.airflow import execute

FLOW = "churn"
VERSION = "{version}"
STORE = "{store}"


def op(task_id: str, prefix: str, **kwargs: object) -> PythonOperator:
    return PythonOperator(
        task_id=task_id,
        python_callable=execute,
        op_kwargs={{"store": STORE, "flow": FLOW, "version": VERSION, "op": task_id,
                    "prefix": prefix}},
        **kwargs,
    )


with DAG(
    dag_id="churn",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    catchup=False,
    params={{"rows": 40}},
    tags=["slipstream", "flow:churn", "version:{version}"],
) as dag:
    customers = op("customers", "{customers}")
    predict = op("predict", "{predict}")

    customers >> predict
"""


# A DAG file as slipstream wrote them before the DAG builder: one `SlipstreamOperator` per
# op, its version and prefixes in the file, and no spec beside it.
OPERATOR_DAG = """
from __future__ import annotations

import datetime

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.10+
    from airflow import DAG

from slipstream.airflow.operator import SlipstreamOperator

FLOW = "churn"
VERSION = "{version}"
STORE = "{store}"


def op(task_id: str, prefix: str, outputs: list[str], **kwargs: object) -> SlipstreamOperator:
    return SlipstreamOperator(task_id=task_id, store=STORE, flow=FLOW, version=VERSION,
                              prefix=prefix, outputs=outputs, **kwargs)


with DAG(
    dag_id="churn",
    description="slipstream flow churn",
    schedule=None,
    start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    catchup=False,
    params={{"rows": 40}},
    default_args={{}},
    tags=["slipstream", "flow:churn", "version:{version}"],
) as dag:
    customers = op("customers", "{customers}", ["out"])
    predict = op("predict", "{predict}", ["out"])

    customers >> predict
"""


@pytest.mark.parametrize("template", [LEGACY_DAG, OPERATOR_DAG], ids=["python", "operator"])
def test_dag_files_of_earlier_releases_keep_working(
    home: AirflowHome, tmp_path: Path, template: str
) -> None:
    from tests.flows import asset_flows

    store = (tmp_path / "store").as_uri()
    flow = asset_flows.churn()
    version = flow.publish(store)
    prefixes = {o.name: o.prefix for o in flow.spec().ops}
    text = template.format(version=version, store=store, **prefixes)
    (home.dags / "churn.py").write_text(text)
    proc = home.dags_test("churn", conf={"rows": 7})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run = ss.open(store).run("churn", "latest")
    assert run.status == "success" and run.record.trigger == "airflow"
    assert len(run["predict"]) == 7
