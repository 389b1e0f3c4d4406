"""The quickstart flow in real Airflow: compile it to a DAG file, run it with
`airflow dags test` (one process, no servers), and show where its artifacts and records are.

    python examples/in_airflow.py            # or: make demo

Airflow's home (its SQLite database and the DAG folder) is kept under
~/.cache/slipstream/demo-airflow; the artifacts go to the same store as the local run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import slipstream as ss

HERE = Path(__file__).resolve().parent
HOME = Path(
    os.environ.get("SLIPSTREAM_DEMO_AIRFLOW_HOME", Path.home() / ".cache/slipstream/demo-airflow")
)


def main() -> None:
    store = ss.default_store()
    dags = HOME / "dags"
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(HOME),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        SLIPSTREAM_STORE=store,
    )
    airflow = str(Path(sys.executable).with_name("airflow"))
    compiled = subprocess.run(
        [sys.executable, str(HERE / "quickstart.py"), "--to-airflow", str(dags)],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    print(f"DAG file: {compiled}")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    history = ss.open(store)
    before = {r.run_id for r in history.runs("churn")}
    print("running `airflow dags test churn` ...")
    test = subprocess.run(
        [airflow, "dags", "test", "churn"], env=env, capture_output=True, text=True
    )
    log = HOME / "dags-test.log"
    log.write_text(test.stdout + test.stderr)
    print(f"Airflow's log: {log}")

    made = [r for r in history.runs("churn") if r.run_id not in before]
    if len(made) != 1:
        sys.exit(f"expected one new run of churn from Airflow, found {len(made)}; see {log}")
    run = made[0]
    print(f"\nrun {run.run_id} ({run.record.trigger}) of churn@{run.version.id}: {run.status}")
    for name, op in run.ops.items():
        record = op.record
        where = record.record_path if record else "-"
        print(f"  {name:22} {op.status:8} {where}")
    print("metrics:", run.metrics)
    print("checks: ", {name: c.passed for name, c in run.checks.items()})
    print(f"store: {store}")
    if test.returncode != 0 or run.status != "success":
        sys.exit(f"the Airflow run did not succeed; see {log}")


if __name__ == "__main__":
    main()
