"""A run triggered through the Airflow 3 REST API, against api-server + scheduler +
dag-processor: retries, failures, checks and a conf override as Airflow itself runs them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import slipstream as ss

from tests import airflow_flows
from tests.support.airflow import AirflowHome, airflow_stack

RUN_ID = "manual__2026-11-23T18:50:11.286216+00:00"


def test_run_triggered_through_the_rest_api(tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    home = AirflowHome(tmp_path / "airflow")
    flow = airflow_flows.semantics(marker_dir=str(tmp_path))
    flow.to_airflow(home.dags, store=store, default_args={"retry_delay": timedelta(seconds=1)})

    with airflow_stack(home) as api:
        api.wait_for_dag("semantics")
        api.trigger("semantics", RUN_ID, conf={"scale": 5.0})
        dag_run = api.wait_for_run("semantics", RUN_ID)
        tasks = api.task_instances("semantics", RUN_ID)

    assert dag_run["state"] == "failed"
    states = {task_id: ti["state"] for task_id, ti in tasks.items()}
    assert states["flaky"] == "success" and tasks["flaky"]["try_number"] == 2
    assert states["explode"] == "failed" and states["after_explode"] == "upstream_failed"
    assert states["sorted_numbers"] == "failed" and states["consume"] == "upstream_failed"
    assert states["all_small"] == "success" and states["scaled"] == "success"

    run = ss.open(store).run("semantics", RUN_ID)
    assert run.record["trigger"] == "airflow" and run.status == "failed"
    flaky = run.ops["flaky"]
    assert flaky.status == "success" and [t["status"] for t in flaky.tries] == ["failed", "success"]
    first = flaky.tries[0]["error"]
    assert first is not None and first["message"] == "the warehouse is busy, try again"
    assert run["flaky"] == "second time lucky"
    error = run.ops["explode"].error
    assert error is not None and 'raise ValueError("the value column' in error["traceback"]
    assert run.ops["sorted_numbers"].status == "failed"
    assert run.ops["consume"].status == "upstream_failed"
    assert run.checks["all_small"]["passed"] is False
    assert run.params == {"scale": 5.0} and run["scaled"]["value"].max() == 5.0
