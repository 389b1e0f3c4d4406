"""Caching and resume: an op whose code, inputs, arguments and environment match an earlier
successful run reuses its outputs instead of running; anything that changes what it would
compute makes it run; `resume` reuses a failed run's outputs that are still valid."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import slipstream as ss
from slipstream.airflow import CACHE_CONF, caching, run_task
from slipstream.errors import SlipstreamError

from tests.flows import airflow_flows
from tests.runtime import cache_flows
from tests.runtime.cache_flows import CALLS


@pytest.fixture
def url(tmp_path: Path) -> str:
    CALLS.clear()
    return (tmp_path / "store").as_uri()


def test_an_unchanged_rerun_reuses_every_output(url: str) -> None:
    first = cache_flows.chain().run(url, run_id="r1")
    assert dict(CALLS) == {"source": 1, "double": 1, "total": 1}
    assert {o.cached_from for o in first.ops.values()} == {None}
    second = cache_flows.chain().run(url, run_id="r2")
    assert dict(CALLS) == {"source": 1, "double": 1, "total": 1}, "nothing ran again"
    assert {n: o.cached_from for n, o in second.ops.items()} == dict.fromkeys(second.ops, "r1")
    assert second.status == "success" and second.metrics == {"total": 6}
    assert second["double"].equals(first["double"])
    assert second.key("double") == first.key("double")  # the same payload, not a copy
    record = second.ops["double"].record
    assert record is not None and record.cached_from.run_id == "r1"
    shown = subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "show", "cached", "r2", "double", "--store", url],
        capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    assert "did not run: reused the outputs of run r1" in shown


def test_what_changes_the_result_makes_it_run(url: str) -> None:
    cache_flows.chain().run(url, run_id="r1")
    changed = cache_flows.chain().run(url, run_id="r2", params={"n": 4})  # a param change
    assert dict(CALLS) == {"source": 2, "double": 2, "total": 2}
    assert {o.cached_from for o in changed.ops.values()} == {None}
    # An op that always runs but returns the same data: its consumers are still cached.
    cache_flows.chain(uncached=True).run(url, run_id="r3")
    again = cache_flows.chain(uncached=True).run(url, run_id="r4")
    assert CALLS["uncached_source"] == 2 and again.ops["uncached_source"].cached_from is None
    # the same data as r1's `source` made: the input's checksum decides, not its producer
    assert again.ops["double"].cached_from == "r1" and CALLS["double"] == 2


def test_caching_can_be_turned_off(url: str) -> None:
    cache_flows.chain().run(url, run_id="r1")
    cache_flows.chain().run(url, run_id="r2", cache=False)
    cache_flows.chain(cache=False).run(url, run_id="r3")
    assert dict(CALLS) == {"source": 3, "double": 3, "total": 3}


def test_a_hit_is_the_ops_own_and_never_a_payload_that_is_gone(url: str) -> None:
    first = cache_flows.twins().run(url, run_id="r1")
    second = cache_flows.twins().run(url, run_id="r2")
    assert second.key("again") == first.key("again") != first.key("double")
    payload = Path(url.removeprefix("file://")) / first.key("double").run_dir
    for file in payload.rglob("payload-*"):
        file.unlink()  # the payload of r1's `double` is gone (its manifest stays)
    CALLS.clear()
    third = cache_flows.twins().run(url, run_id="r3")
    assert third.ops["double"].cached_from is None and CALLS["double"] == 1
    assert third["double"]["x"].tolist() == [0, 2, 4]


def test_a_changed_helper_invalidates_the_op_using_it(tmp_path: Path) -> None:
    script = tmp_path / "flow_script.py"
    url = (tmp_path / "store").as_uri()

    def run(factor: int, run_id: str) -> str | None:
        script.write_text(
            textwrap.dedent(f"""
            import sys
            import slipstream as ss

            def helper(x):
                return x * {factor}

            @ss.op
            def compute() -> int:
                return helper(3)

            @ss.op
            def unrelated() -> int:
                return 1

            flow = ss.Flow("helpers", outputs=[compute(), unrelated()])
            run = flow.run(sys.argv[1], run_id=sys.argv[2])
            print(run.ops["compute"].cached_from, run.ops["unrelated"].cached_from, run["compute"])
        """)
        )
        proc = subprocess.run([sys.executable, str(script), url, run_id],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    assert run(2, "r1") == "None None 6"
    assert run(2, "r2") == "r1 r1 6"
    assert run(5, "r3") == "None r1 15"  # the helper changed: only `compute` runs


def test_resume_runs_only_what_changed(url: str) -> None:
    failed = airflow_flows.fixable(fixed=False).run(url, run_id="r1", cache=False)
    assert failed.status == "failed"
    fixed = airflow_flows.fixable(fixed=True).run(url, run_id="r2", cache=False, resume="r1")
    assert fixed.status == "success" and fixed["use"] == 60
    assert fixed.ops["make"].cached_from == "r1" and fixed.ops["use"].cached_from is None


def test_airflow_tasks_reuse_outputs_too(url: str) -> None:
    version = cache_flows.chain().publish(url)
    for run_id in ("scheduled__1", "scheduled__2"):
        for op in ("source", "double", "total"):
            run_task(url, "cached", version, op, run_id=run_id)
    assert dict(CALLS) == {"source": 1, "double": 1, "total": 1}
    second = ss.open(url).run("cached", "scheduled__2")
    assert second.status == "success" and second.metrics == {"total": 6}
    assert {o.cached_from for o in second.ops.values()} == {"scheduled__1"}


def test_a_runs_conf_turns_caching_off(url: str) -> None:
    assert caching({}) and caching({"slipstream_cache": True}) and caching({CACHE_CONF: "yes"})
    assert not caching({CACHE_CONF: "false"}) and not caching({CACHE_CONF: False})
    with pytest.raises(SlipstreamError, match="use true or false"):
        caching({CACHE_CONF: "maybe"})
    version = cache_flows.chain().publish(url)
    for run_id in ("manual__1", "manual__2"):  # the pods' command takes the conf too
        proc = subprocess.run(
            [sys.executable, "-m", "slipstream.cli", "task", "--store", url, "--flow", "cached",
             "--version", version, "--op", "source", "--run-id", run_id,
             "--conf", json.dumps({CACHE_CONF: False})],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    assert ss.open(url).run("cached", "manual__2").ops["source"].cached_from is None
