"""The slipstream run id of a task's DAG run.

The ops of a compiled DAG (DAG id = flow) record their run under Airflow's run id. A flow
group records it under `<dag id>.<group id>/<Airflow run id>`, its run scope: Airflow's run
ids repeat across DAGs (`scheduled__<date>`), and one DAG may hold the same flow twice.
"""

from __future__ import annotations


def run_id_of(run_scope: str | None, airflow_run_id: str) -> str:
    """The slipstream run id of the DAG run `airflow_run_id` for tasks of `run_scope`
    (a group's, None for a compiled DAG)."""
    return f"{run_scope}/{airflow_run_id}" if run_scope else airflow_run_id
