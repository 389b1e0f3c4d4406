"""A flow whose ops need nothing beyond the standard library, so that the tasks of an
Airflow 2 installation (which has no pandas) run them: a success, a failure that blocks its
downstream op, and an op that fails its first try and succeeds on its retry."""

from __future__ import annotations

from pathlib import Path

import slipstream as ss


@ss.op
def numbers() -> list[int]:
    return [3, 1, 2]


@ss.op(retries=1)
def flaky(marker_dir: str) -> str:
    """Fails on its first try, succeeds on its second."""
    marker = Path(marker_dir) / "flaky-tried"
    if not marker.exists():
        marker.write_text("tried once")
        raise ConnectionError("the warehouse is busy, try again")
    return "second time lucky"


@ss.op
def explode(values: list[int]) -> int:
    raise ValueError(f"cannot count {len(values)} values today")


@ss.op
def after_explode(count: int) -> int:
    return count + 1


def classic(marker_dir: str) -> ss.Flow:
    values = numbers()
    return ss.Flow("classic", outputs=[after_explode(explode(values)), flaky(marker_dir)])
