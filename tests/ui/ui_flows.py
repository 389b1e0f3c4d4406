"""A flow for the web UI tests: every preview kind, a failing op, a metric and checks, and a
column whose name and values are HTML that must be shown as text."""

from __future__ import annotations

import pandas as pd
import slipstream as ss

from tests.flows import sample_flows as s

HOSTILE = "<script>alert(1)</script>"


@ss.op
def hostile(frame: pd.DataFrame) -> pd.DataFrame:
    print(f"<b>not bold</b> from {len(frame)} rows")
    return pd.DataFrame({HOSTILE: ["<img src=x onerror=alert(2)>", "fine"], "n": [1, 2]})


def build() -> ss.Flow:
    rows = s.customers(50)
    matrix, picture = s.render(rows, ss.param("scale", default=2.0))
    stats = s.as_pandas(s.summary(s.to_polars(rows)))
    described = s.describe(matrix, picture, stats)
    failed = s.after_explode(s.explode(rows))
    s.mean_spend(rows)
    s.ids_unique(rows)
    s.spend_positive(rows)
    return ss.Flow(
        "ui", outputs=[described, failed, hostile(rows)], description="what the UI shows"
    )


def wait_for(gate: str) -> None:
    """Blocks until the file `gate` exists (a test opens it when it has seen the op run)."""
    import time
    from pathlib import Path

    deadline = time.monotonic() + 120
    while not Path(gate).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"nobody opened {gate}")
        time.sleep(0.05)


@ss.op
def start() -> int:
    return 1


@ss.op
def gated(value: int, gate: str) -> int:
    wait_for(gate)
    return value + 1


@ss.op
def finish(value: int, gate: str) -> int:
    wait_for(gate)
    return value * 10


def live() -> ss.Flow:
    """Three ops, the last two each waiting for a file: a run a test watches as it goes."""
    first = gated(start(), ss.param("gate_1", default="/nonexistent"))
    return ss.Flow("live", outputs=[finish(first, ss.param("gate_2", default="/nonexistent"))])


def wide(ops: int) -> ss.Flow:
    """`ops` ops in a DAG as real flows grow: a few sources, chains, and joins far apart."""

    @ss.op
    def source() -> int:
        return 1

    @ss.op
    def step(a: int, b: int) -> int:
        return a + b

    nodes = [source.named(f"source_{i}")() for i in range(3)]
    while len(nodes) < ops:
        i = len(nodes)
        nodes.append(step.named(f"step_{i}")(nodes[i - 3], nodes[(i * 37) % (i - 2)]))
    return ss.Flow(f"wide_{ops}", outputs=nodes[-3:])
