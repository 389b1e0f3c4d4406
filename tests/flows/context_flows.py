"""Ops that read their run's context and an Airflow connection (tests/runtime/
test_context.py): the same code runs locally and in an Airflow task."""

from __future__ import annotations

import slipstream as ss


@ss.op
def stamp() -> dict[str, object]:
    """What `ss.context()` says here."""
    c = ss.context()
    return {"run_id": c.run_id, "logical_date": c.logical_date.isoformat(), "conf": dict(c.conf),
            "partition_key": c.partition_key, "try_number": c.try_number,
            "task_id": c.task_id, "in_airflow": c.in_airflow}  # fmt: skip


@ss.op
def plain() -> int:
    return 42


@ss.op
def warehouse_host() -> str:
    """Where the `warehouse` connection points (its password stays out of records)."""
    conn = ss.connection("warehouse")
    return f"{conn.login}@{conn.host}:{conn.port}/{conn.schema}"


@ss.metric(alert_below=0.5, alert_above=2.0)
def ratio(value: int) -> float:
    return value / 100


@ss.check(severity="warning")
def small(value: int) -> bool:
    return value < 10


def flow() -> ss.Flow:
    value = plain()
    ratio(value)
    small(value)
    return ss.Flow("context", outputs=[stamp(), value])


@ss.op
def total(xs: list[int]) -> int:
    return sum(xs)
