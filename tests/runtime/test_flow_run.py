"""Local runs: the published version runs op by op through `run_op`, and the run is
recorded so that `ss.open` reads it back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import slipstream as ss
from PIL import Image
from slipstream.errors import ArtifactNotFound
from slipstream.records.types import CheckResult

from tests.flows import sample_flows
from tests.support.records import date_run, date_version


@pytest.fixture
def url(tmp_path: Path) -> str:
    return (tmp_path / "store").as_uri()


def test_multi_branch_flow_hands_every_type_between_ops(url: str) -> None:
    run = sample_flows.build().run(url, run_id="manual__2026-11-23T18:50:11.286216+00:00")
    assert run.status == "success", {n: o.error for n, o in run.ops.items()}
    assert {o.status for o in run.ops.values()} == {"success"}
    assert isinstance(run["customers"], pd.DataFrame)
    assert run["to_polars"].__class__.__module__.startswith("polars")
    assert isinstance(run["summary"], pa.Table)
    assert run["as_pandas"] == {"type": "DataFrame", "plans": ("basic", "pro")}
    matrix = run["render.matrix"]
    assert isinstance(matrix, np.ndarray) and matrix.shape == (50, 2)
    assert isinstance(run["render.picture"], Image.Image)
    described = run["describe"]
    assert described == {
        "shape": (50, 2), "dtype": "float64", "mode": "L", "size": (8, 8),
        "stats_type": "DataFrame",
    }  # fmt: skip
    # keys are exactly those an Airflow task would write
    op = run.version.ops["customers"]
    key = ss.ArtifactKey(op.prefix, run.run_id)
    assert ss.Store(url).manifest(key)["flavor"].startswith("pandas")


def test_metrics_and_checks_are_recorded(url: str) -> None:
    run = sample_flows.build().run(url)
    customers = run["customers"]
    assert run.metrics == {"mean_spend": pytest.approx(customers["spend"].mean())}
    assert run.checks["ids_unique"] == CheckResult(passed=True, severity="error", failed=0, total=1)
    warning = run.checks["spend_positive"]
    assert warning.passed is False and warning.severity == "warning"
    assert warning.failed == int((customers["spend"] <= 100).sum()) and warning.total == 50
    assert run.status == "success"  # a failing warning check does not fail the run
    assert run.ops["spend_positive"].status == "success"


def test_failure_marks_descendants_and_spares_independent_branches(url: str) -> None:
    run = sample_flows.build(with_failure=True).run(url)
    assert run.status == "failed"
    assert run.ops["explode"].status == "failed"
    assert run.ops["after_explode"].status == "upstream_failed"
    assert run.ops["describe"].status == "success"
    error = run.ops["explode"].error
    assert error is not None
    assert error.type == "ValueError" and error.message == "spend column has gone missing"
    assert 'raise ValueError("spend column has gone missing")' in error.traceback
    assert "sample_flows.py" in error.traceback and "slipstream/_" not in error.traceback
    assert "about to fail on 50 rows" in run.ops["explode"].logs
    with pytest.raises(ArtifactNotFound):
        run["after_explode"]


@ss.op
def numbers() -> list[int]:
    return [3, 1, 2]


@ss.check
def sorted_numbers(values: list[int]) -> bool:
    return values == sorted(values)


@ss.op
def total(values: list[int]) -> int:
    return sum(values)


@ss.op
def double(values: list[int]) -> list[int]:
    return [v * 2 for v in values]


@ss.metric
def count(values: list[int]) -> int:
    return len(values)


def test_failing_error_check_stops_the_consumers_and_fails_the_run(url: str) -> None:
    values = numbers()
    sorted_numbers(values)
    count(values)
    run = ss.Flow("gated", outputs=[total(values), double(values)]).run(url)
    assert run.status == "failed"
    assert run.ops["sorted_numbers"].status == "failed"
    assert run.checks["sorted_numbers"].passed is False
    error = run.ops["sorted_numbers"].error
    assert error is not None and error.type == "slipstream.errors.CheckFailed"
    assert run["sorted_numbers"]["passed"] is False  # the verdict is stored like any output
    assert {run.ops[n].status for n in ("total", "double", "count")} == {"upstream_failed"}
    assert run.record.ops["total"].blocked_by == ("sorted_numbers",)


@ss.op
def scaled(values: list[int], factor: float, offset: int) -> list[float]:
    return [v * factor + offset for v in values]


def test_params_default_and_override(url: str) -> None:
    flow = ss.Flow(
        "params",
        outputs=[scaled(numbers(), ss.param("factor", default=0.5), ss.param("offset"))],
    )
    with pytest.raises(ValueError, match="needs a value for param 'offset'"):
        flow.run(url)
    with pytest.raises(ValueError, match=r"has no param 'fcator' \(its params: factor, offset\)"):
        flow.run(url, params={"fcator": 2, "offset": 0})
    first = flow.run(url, params={"offset": 1})
    assert first["scaled"] == [2.5, 1.5, 2.0] and first.params == {"factor": 0.5, "offset": 1}
    second = flow.run(url, params={"factor": 10, "offset": 0})
    assert second["scaled"] == [30, 10, 20] and second.params == {"factor": 10, "offset": 0}
    assert first.version.id == second.version.id


attempts: list[int] = []


@ss.op(retries=2)
def flaky() -> str:
    attempts.append(1)
    if len(attempts) < 2:
        raise ConnectionError("warehouse busy")
    return "ok"


def test_retries_keep_every_try_record(url: str) -> None:
    attempts.clear()
    run = ss.Flow("flaky", outputs=[flaky()]).run(url)
    assert run.status == "success" and run["flaky"] == "ok"
    tries = run.ops["flaky"].tries
    assert [t.status for t in tries] == ["failed", "success"]
    assert tries[0].error is not None and tries[0].error.message == "warehouse busy"


def test_history_lists_flows_versions_and_runs_newest_first(url: str) -> None:
    @ss.op
    def make() -> int:
        return 1

    @ss.op
    def grow(value: int) -> int:
        return value + 1

    old = ss.Flow("evolving", outputs=[make()])
    old_run = old.run(url, run_id="run-1")
    new = ss.Flow("evolving", outputs=[grow(make())])
    new_run = new.run(url, run_id="run-2")
    assert old_run.version.id != new_run.version.id
    for hour, run in ((8, old_run), (9, new_run)):
        date_run(url, "evolving", run.run_id, f"2026-11-24T{hour:02d}:00:00+00:00")
        date_version(url, "evolving", run.version.id, f"2026-11-24T{hour:02d}:00:00+00:00")

    history = ss.open(url)
    assert history.flows() == ["evolving"]
    assert [v.id for v in history.versions("evolving")] == [new_run.version.id, old_run.version.id]
    runs = history.runs("evolving")
    assert [r.run_id for r in runs] == ["run-2", "run-1"]
    # each run reads back the structure it ran with
    assert list(runs[1].version.ops) == ["make"] and list(runs[0].version.ops) == ["make", "grow"]
    assert runs[0]["grow"] == 2 and runs[1]["make"] == 1
    assert "def grow(value: int)" in runs[0].version.code("grow")
    assert history.run("evolving", "run-1").status == "success"
    with pytest.raises(ArtifactNotFound, match="has no run 'nope'"):
        history.run("evolving", "nope")


def test_metric_history_across_runs(url: str) -> None:
    values = numbers()
    count(values)
    flow = ss.Flow("measured", outputs=[total(values)])
    for n in range(3):
        flow.run(url, run_id=f"run-{n}")
        date_run(url, "measured", f"run-{n}", f"2026-11-24T{9 - n:02d}:00:00+00:00")
    # oldest first by start, whatever the run ids say: run-2 was given the earliest start
    assert ss.open(url).metric_history("measured", "count") == [
        ("run-2", 3), ("run-1", 3), ("run-0", 3),
    ]  # fmt: skip


def test_run_record_is_plain_json_in_the_contract_layout(url: str, tmp_path: Path) -> None:
    run = ss.Flow("layout", outputs=[total(numbers())]).run(url, run_id="a/b:c")
    path = tmp_path / "store" / "flows" / "layout" / "runs" / "a%2Fb%3Ac" / "run.json"
    record = json.loads(path.read_text())
    assert record["version"] == run.version.id and record["status"] == "success"
    assert record["ops"]["total"]["status"] == "success"
    spec = tmp_path / "store" / "flows" / "layout" / "versions" / run.version.id / "spec.json"
    assert json.loads(spec.read_text())["ops"][0]["name"] == "numbers"


@ss.op
def pandas_rows() -> pd.DataFrame:
    return pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})


@ss.op
def as_arrow(table: pa.Table) -> str:
    return f"{type(table).__module__}.{type(table).__name__}:{table.num_rows}"


@ss.op
def as_polars(frame: pl.DataFrame) -> str:
    return f"{type(frame).__module__.split('.')[0]}:{frame['b'].null_count()}"


@ss.op
def untouched(frame: pd.DataFrame, value: int) -> str:
    return f"{type(frame).__name__}:{value}"


def test_type_hints_convert_frames_on_the_way_in(url: str) -> None:
    rows = pandas_rows()
    flow = ss.Flow("hints", outputs=[as_arrow(rows), as_polars(rows), untouched(rows, 3)])
    run = flow.run(url)
    assert run["as_arrow"] == "pyarrow.lib.Table:3"
    assert run["as_polars"] == "polars:1"
    assert run["untouched"] == "DataFrame:3"


@ss.op
def first() -> int:
    return 1


@ss.op
def interrupted(value: int) -> int:
    raise KeyboardInterrupt


@ss.op
def never(value: int) -> int:
    return value


def test_an_interrupt_is_recorded_and_the_rest_is_skipped(url: str) -> None:
    flow = ss.Flow("interrupted", outputs=[never(interrupted(first()))])
    with pytest.raises(KeyboardInterrupt):
        flow.run(url, run_id="stopped")
    run = ss.open(url).run("interrupted", "stopped")
    assert run.status == "failed"
    assert [run.ops[n].status for n in ("first", "interrupted", "never")] == [
        "success", "failed", "skipped",
    ]  # fmt: skip
    error = run.ops["interrupted"].error
    assert error is not None and error.type == "KeyboardInterrupt"


@ss.op
def window(bounds: dict[str, object]) -> str:
    return f"{bounds['from']}..{bounds['to']} by {bounds['step']}"


def test_params_inside_constants_are_filled_in_per_run(url: str) -> None:
    start = ss.param("start", default="2026-01-01")
    flow = ss.Flow(
        "nested", outputs=[window({"from": start, "to": "2026-12-31", "step": (1, start)})]
    )
    constants = flow.spec().ops[0].constants
    assert constants["bounds"]["from"] == {"$param": "start"}
    assert flow.run(url)["window"] == "2026-01-01..2026-12-31 by (1, '2026-01-01')"
    assert flow.run(url, params={"start": "2026-06-01"})["window"].startswith("2026-06-01..")
