"""Flows for hand-written DAGs (tests/airflow/test_flow_groups.py): published with
`slipstream publish`, added with `slipstream.airflow.task_group`."""

from __future__ import annotations

import slipstream as ss


@ss.op
def numbers(n: int) -> list[int]:
    """0 .. n-1."""
    return list(range(n))


@ss.op
def total(xs: list[int], day: str) -> dict[str, object]:
    """Their sum, and the day it is for."""
    return {"total": sum(xs), "day": day}


@ss.metric(alert_below=5)
def size(xs: list[int]) -> int:
    return len(xs)


@ss.op
def where(summary: dict[str, object]) -> dict[str, object]:
    """Where it ran, as `ss.context()` says."""
    c = ss.context()
    return {"run_id": c.run_id, "dag_id": c.dag_id, "task_id": c.task_id,
            "in_airflow": c.in_airflow, "logical_date": str(c.logical_date),
            "try_number": c.try_number, "day": summary["day"]}  # fmt: skip


nums = numbers(ss.param("n", 4))
size(nums)
sums = ss.Flow("sums", outputs=[where(total(nums, ss.param("day", "2026-01-01")))])


@ss.op
def shout(word: str) -> str:
    return word.upper() + "!"


words = ss.Flow("words", outputs=[shout(ss.param("word"))])

if __name__ == "__main__":  # publishing must not run this
    raise SystemExit("the flow file's main block ran")
