"""Airflow overhead: what slipstream adds per task over a bare `PythonOperator` doing the same
work, and what its DAG files cost the DAG processor to parse (a compiled flow, and a
hand-written DAG holding a GROUP_OPS-op flow as a task group), against an empty DAG and a
hand-written DAG of the same shape. Run `make bench`.

The work is a chain of TASKS steps, each taking the previous step's small dict and returning
a new one: through XCom in the bare DAG, through the store in slipstream's. Both DAGs run
under `airflow dags test` in the same Airflow home, best of REPEATS.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TASKS = int(os.environ.get("SLIPSTREAM_BENCH_TASKS", 10))
GROUP_OPS = int(os.environ.get("SLIPSTREAM_BENCH_GROUP_OPS", 20))
REPEATS = int(os.environ.get("SLIPSTREAM_BENCH_REPEATS", 3))

FLOW_SCRIPT = """
import sys
import slipstream as ss

@ss.op
def start() -> dict:
    return {"step": 0, "total": 0}

@ss.op
def step(state: dict) -> dict:
    return {"step": state["step"] + 1, "total": state["total"] + state["step"]}

state = start()
for i in range(1, TASKS):
    state = step.named(f"step_{i}")(state)
flow = ss.Flow("overhead_slipstream", outputs=[state])

if __name__ == "__main__":
    print(flow.to_airflow(sys.argv[1], store=sys.argv[2]))
"""

BARE_DAG = """
import datetime
from airflow.sdk import DAG
from airflow.providers.standard.operators.python import PythonOperator

def start():
    return {"step": 0, "total": 0}

def step(ti, upstream):
    state = ti.xcom_pull(task_ids=upstream)
    return {"step": state["step"] + 1, "total": state["total"] + state["step"]}

with DAG(dag_id="overhead_bare", schedule=None, catchup=False,
         start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)) as dag:
    previous = PythonOperator(task_id="start", python_callable=start)
    for i in range(1, TASKS):
        current = PythonOperator(task_id=f"step_{i}", python_callable=step,
                                 op_kwargs={"upstream": previous.task_id})
        previous >> current
        previous = current
"""

EMPTY_DAG = """
import datetime
from airflow.sdk import DAG

with DAG(dag_id="overhead_empty", schedule=None, catchup=False,
         start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)) as dag:
    pass
"""

GROUP_FLOW = """
import slipstream as ss

@ss.op
def start() -> int:
    return 0

@ss.op
def step(value: int) -> int:
    return value + 1

value = start()
for i in range(1, GROUP_OPS):
    value = step.named(f"step_{i}")(value)
flow = ss.Flow("overhead_group_flow", outputs=[value])
"""

GROUP_DAG = """
import datetime
from airflow.sdk import DAG
from slipstream.airflow import task_group

with DAG(dag_id="overhead_group", schedule=None, catchup=False,
         start_date=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)) as dag:
    task_group("overhead_group_flow", store=STORE)
"""

PARSE_PROBE = """
import runpy, sys, time
import airflow.sdk  # what every DAG file needs; loaded once by the DAG processor
from airflow.providers.standard.operators.python import PythonOperator
start = time.perf_counter()
runpy.run_path(sys.argv[1])
print(time.perf_counter() - start)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path,
                        default=ROOT / "bench" / "results" / "airflow_overhead.json")  # fmt: skip
    args = parser.parse_args()

    from tests.support.airflow import AirflowHome

    with tempfile.TemporaryDirectory() as tmp:
        home = AirflowHome(Path(tmp) / "airflow")
        store = (Path(tmp) / "store").as_uri()
        script = Path(tmp) / "overhead_flow.py"
        script.write_text(f"TASKS = {TASKS}\n" + textwrap.dedent(FLOW_SCRIPT))
        subprocess.run([sys.executable, str(script), str(home.dags), store], env=home.env,
                       check=True, capture_output=True)  # fmt: skip
        (home.dags / "overhead_bare.py").write_text(f"TASKS = {TASKS}\n" + BARE_DAG)
        (home.dags / "overhead_empty.py").write_text(EMPTY_DAG)
        group_flow = Path(tmp) / "group_flow.py"
        group_flow.write_text(f"GROUP_OPS = {GROUP_OPS}\n" + textwrap.dedent(GROUP_FLOW))
        subprocess.run([sys.executable, "-m", "slipstream.cli", "publish", str(group_flow),
                        "--store", store, "--into", str(home.dags)],
                       env=home.env, check=True, capture_output=True)  # fmt: skip
        (home.dags / "overhead_group.py").write_text(f"STORE = {store!r}\n" + GROUP_DAG)
        bare_group = BARE_DAG.replace("overhead_bare", "overhead_bare_group")
        (home.dags / "overhead_bare_group.py").write_text(f"TASKS = {GROUP_OPS}\n" + bare_group)

        # Deployed DAG processors keep compiled bytecode: so do the probes.
        env = {k: v for k, v in home.env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        # Interleaved, so that the machine's drift is shared; the median of each.
        samples: dict[str, list[float]] = {name: [] for name in PARSED}
        for _ in range(REPEATS + 2):
            for name in PARSED:
                out = subprocess.run(
                    [sys.executable, "-c", PARSE_PROBE, str(home.dags / f"{name}.py")],
                    env=env, check=True, capture_output=True, text=True,
                )  # fmt: skip
                samples[name].append(float(out.stdout.strip().splitlines()[-1]))
        parse = {name: statistics.median(found) for name, found in samples.items()}

        if os.environ.get("SLIPSTREAM_BENCH_PARSE_ONLY"):
            report_parse(parse)
            return
        runs, per_task = {}, {}
        for name in ("overhead_bare", "overhead_slipstream"):
            totals, tasks = [], []
            for _ in range(REPEATS):
                start = time.perf_counter()
                proc = home.dags_test(name)
                totals.append(time.perf_counter() - start)
                assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
                tasks.append(task_seconds(proc.stdout + proc.stderr))
            runs[name] = min(totals)
            per_task[name] = min(tasks)
            print(f"  ran    {name:22} {runs[name]:.2f} s, {per_task[name] * 1000:.0f} ms a task",
                  file=sys.stderr)  # fmt: skip

    extra = per_task["overhead_slipstream"] - per_task["overhead_bare"]
    print(f"\nairflow overhead: a chain of {TASKS} tasks passing a small dict, `airflow dags test`, "
          f"best of {REPEATS}; a task's time is from Airflow's start to its end, first task "
          "(Airflow's own warm-up) left out\n")  # fmt: skip
    print(f"{'DAG':28} {'dags test s':>12} {'ms a task':>10} {'vs bare':>8}")
    print("-" * 62)
    for name, label in (("overhead_bare", "bare PythonOperator + XCom"),
                        ("overhead_slipstream", "slipstream (python mode)")):  # fmt: skip
        print(f"{label:28} {runs[name]:12.2f} {per_task[name] * 1000:10.0f} "
              f"{per_task[name] / per_task['overhead_bare']:7.2f}x")  # fmt: skip
    print(f"\nslipstream adds {extra * 1000:+.0f} ms per task over a bare PythonOperator")
    report_parse(parse)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"tasks": TASKS, "runs": runs, "per_task": per_task,
                                    "parse": parse, "extra_per_task_s": extra}, indent=2))  # fmt: skip


PARSED = {
    "overhead_empty": "empty DAG",
    "overhead_bare": f"hand-written, {TASKS} PythonOperators",
    "overhead_slipstream": f"slipstream compiled, {TASKS} tasks",
    "overhead_bare_group": f"hand-written, {GROUP_OPS} PythonOperators",
    "overhead_group": f"hand-written with a flow group of {GROUP_OPS} ops",
}


def report_parse(parse: dict[str, float]) -> None:
    print(f"\n{'DAG file parse (after airflow is imported)':48} {'ms':>7} {'vs empty':>9}")
    print("-" * 66)
    for name, label in PARSED.items():
        print(f"{label:48} {parse[name] * 1000:7.1f} {parse[name] / parse['overhead_empty']:8.2f}x")
    group, bare = parse["overhead_group"], parse["overhead_bare_group"]
    print(
        f"\na flow group of {GROUP_OPS} ops parses in {group / bare:.2f}x the time of "
        f"{GROUP_OPS} bare PythonOperators"
    )


def task_seconds(log: str) -> float:
    """Mean time from `[DAG TEST] starting` to `[DAG TEST] end task` of every task but the
    first, from the timestamps of Airflow's log."""
    starts: dict[str, datetime] = {}
    spans = []
    for line in log.splitlines():
        match = re.match(r"(\S+Z) .*\[DAG TEST\] (starting|end task) task_id=(\S+)", line)
        if not match:
            continue
        at = datetime.fromisoformat(match.group(1).replace("Z", "+00:00"))
        if match.group(2) == "starting":
            starts[match.group(3)] = at
        else:
            spans.append((at - starts[match.group(3)]).total_seconds())
    steady = spans[1:] or spans
    return sum(steady) / len(steady)


if __name__ == "__main__":
    main()
