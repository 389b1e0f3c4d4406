"""The first hour of a new user: ops are refused where they are defined when their code
cannot be stored, the version id depends on the code alone, failures are loud and point at
the user's own file and line, errors name ops as written, params are typed."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest
import slipstream as ss
from slipstream._native import UiServer
from slipstream.airflow import run_task
from slipstream.errors import ArtifactNotFound, FlowDefinitionError, ParamError, RunFailed

from tests.flows import first_hour_flows as flows
from tests.support.records import date_run
from tests.ui.test_ui import get

SCRIPT = """
import sys

import slipstream as ss

RATE = 2


def helper(x):
    return x * RATE


@ss.op
def double(x: int) -> int:
    return helper(x)


@ss.op
def quadruple(x: int) -> int:
    return double(double(x))


@ss.op
def start() -> int:
    return 3


@ss.op
def broken(x: int) -> int:
    total = helper(x)
    raise ValueError(f"cannot use {total}")


three = start()
flow = ss.Flow("script", outputs=[quadruple(three), broken(three)])

if __name__ == "__main__":
    run = flow.run(sys.argv[1])
    print(json.dumps({"status": run.status, "quadruple": run["quadruple"]}))
    if len(sys.argv) > 2:
        run.raise_for_status()
""".replace("import sys\n", "import json\nimport sys\n", 1)
BROKEN_LINE = SCRIPT.splitlines().index('    raise ValueError(f"cannot use {total}")') + 1


def python(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)  # fmt: skip


@pytest.fixture
def url(tmp_path: Path) -> str:
    return (tmp_path / "store").as_uri()


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "sales_flow.py"
    path.write_text(SCRIPT)
    return path


def test_code_that_cannot_be_stored_is_refused_where_it_is_defined() -> None:
    class Model:
        def predict(self, df: int) -> int:
            return df

    with pytest.raises(FlowDefinitionError, match="bound to Model object"):
        ss.op(Model().predict)
    with pytest.raises(FlowDefinitionError, match=r"exec\(compile\(open\(path\).read\(\), path"):
        exec("import slipstream as ss\n@ss.op\ndef f() -> int:\n    return 1\n", {})


def test_an_op_calling_another_works_imported_and_as_a_script(url: str, script: Path) -> None:
    assert flows.calling().run(url)["quadruple"] == 12  # imported
    proc = python(str(script), url)  # run as a script: its source is captured
    assert json.loads(proc.stdout.splitlines()[-1])["quadruple"] == 12, proc.stderr
    imported = python("-c", f"import sales_flow; print(sales_flow.flow.run({url!r})['quadruple'])",
                      cwd=script.parent)  # fmt: skip
    assert imported.stdout.splitlines()[-1] == "12", imported.stderr


def test_the_version_id_does_not_depend_on_how_the_code_was_loaded(script: Path) -> None:
    program = textwrap.dedent(f"""
        import runpy, sys
        path = {str(script)!r}
        sys.path.insert(0, {str(script.parent)!r})
        import sales_flow
        versions = [sales_flow.flow.version, runpy.run_path(path)["flow"].version]
        namespace = {{"__name__": "loaded"}}
        exec(compile(open(path).read(), path, "exec"), namespace)
        versions.append(namespace["flow"].version)
        main = runpy.run_path(path, run_name="not_main")
        versions.append(main["flow"].version)
        print(" ".join(versions))
    """)
    proc = python("-c", program)
    assert proc.returncode == 0, proc.stderr
    versions = proc.stdout.split()
    assert len(versions) == 4 and len(set(versions)) == 1, versions
    refused = python("-c", f"exec(open({str(script)!r}).read(), {{'__name__': 'x'}})")
    assert refused.returncode == 1 and "exec(compile(open(path).read(), path" in refused.stderr


def test_a_failed_run_says_so_at_the_users_line(url: str, script: Path) -> None:
    proc = python(str(script), url)
    assert proc.returncode == 0 and json.loads(proc.stdout.splitlines()[-1])["status"] == "failed"
    assert "op 'broken' failed: ValueError: cannot use 6" in proc.stderr
    assert f"at {script}:{BROKEN_LINE}: raise ValueError" in proc.stderr
    strict = python(str(script), url, "--raise")  # ends with run.raise_for_status()
    assert strict.returncode == 1 and "slipstream.errors.RunFailed" in strict.stderr
    assert strict.stderr.count("op 'broken' failed") == 1 and "(the summary above)" in strict.stderr
    run = ss.open(url).run("script", "latest")
    with pytest.raises(
        RunFailed, match=f"op 'broken' failed: ValueError: cannot use 6\n.*{BROKEN_LINE}"
    ):
        run.raise_for_status()
    assert "failed: broken" in repr(run)


def test_tracebacks_point_at_the_users_file_even_where_it_is_not(url: str, script: Path) -> None:
    publish = f"import runpy; print(runpy.run_path({str(script)!r})['flow'].publish({url!r}))"
    version = python("-c", publish).stdout.strip()
    assert version

    def broken_traceback(run_id: str) -> tuple[str, list[dict[str, object]]]:
        program = (
            "import slipstream as ss; from slipstream.runtime.local import run_version; "
            f"run_version(ss.Store({url!r}), 'script', {version!r}, run_id={run_id!r}, "
            "cache=False)"
        )
        assert python("-c", program).returncode == 0
        error = ss.open(url).run("script", run_id).ops["broken"].error
        assert error is not None
        return error.traceback, error.frames

    text, frames = broken_traceback("here")  # the file as captured: its own name
    assert f'File "{script}", line {BROKEN_LINE}, in broken' in text
    assert frames[-1].file == str(script)
    # A line added on top: the same code, the same version, but the file's lines moved.
    script.write_text("# a new first line\n" + SCRIPT)
    text, _ = broken_traceback("moved")
    assert f'File "{script} [captured ' in text and f", line {BROKEN_LINE}, in broken" in text
    assert 'raise ValueError(f"cannot use {total}")' in text, "the line as captured"
    script.unlink()  # as on a worker that has only the store
    text, frames = broken_traceback("elsewhere")
    assert f'File "{script} [captured ' in text and f", line {BROKEN_LINE}, in broken" in text
    assert 'raise ValueError(f"cannot use {total}")' in text
    assert frames[-1].line == BROKEN_LINE


def test_errors_name_the_op_and_the_way_out(url: str) -> None:
    run = flows.unsplit().run(url)
    error = run.ops["frames"].error
    assert error is not None and error.message.startswith("op 'frames': cannot store")
    assert "@ss.op(outputs=('train', 'test'))" in error.message
    assert run.ops["frames"].prefix not in error.message
    split = flows.splitting().run(url)  # a dict keyed by exactly its outputs is taken
    assert split.status == "success" and len(split["split.train"]) == 2


def test_params_are_checked_and_converted_by_the_type_of_their_default(url: str) -> None:
    run = flows.typed().run(url, params={"min_quantity": "2", "ratio": "1", "strict": "false"})
    assert run.params == {"min_quantity": 2, "ratio": 1.0, "strict": False, "label": "x"}
    assert run["settings"] == {"min_quantity": "int", "ratio": "float", "strict": "bool",
                               "label": "str"}  # fmt: skip
    for bad in ({"min_quantity": "two"}, {"strict": "maybe"}, {"label": 3}, {"ratio": True}):
        with pytest.raises(ParamError, match=f"param '{next(iter(bad))}' is"):
            flows.typed().run(url, params=bad, run_id="refused")
    with pytest.raises(ArtifactNotFound):
        ss.open(url).run("typed", "refused")  # refused before anything ran


def test_a_failed_warning_check_is_in_the_task_log(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    version = flows.warned().publish(url)
    run_task(url, "warned", version, "start", run_id="r")
    with caplog.at_level(logging.INFO, logger="slipstream"):
        run_task(url, "warned", version, "never", run_id="r")
    (record,) = [r for r in caplog.records if "never" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "check 'never' (warning) failed: 1 of 1 values false"


def test_a_mistyped_flow_is_an_error_naming_the_flows(url: str) -> None:
    flows.calling().run(url)
    history = ss.open(url)
    with pytest.raises(
        ArtifactNotFound, match=r"no flow 'caling'.*its flows: calling.*did you mean 'calling'"
    ):
        history.runs("caling")
    assert repr(history) == f"<History {url}>"
    assert history.runs("calling")[0].status == "success"


UNCAPTURABLE = """
from datetime import date

import slipstream as ss

START = date(2026, 1, 1)  # not a plain constant: this module's ops cannot be captured


@ss.op
def days() -> int:
    return (date(2026, 1, 31) - START).days


flow = ss.Flow("{name}", outputs=[days()])
"""


def _import_flow(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> ss.Flow:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(UNCAPTURABLE.replace("{name}", name))
    monkeypatch.syspath_prepend(str(folder))
    module = __import__(name)
    monkeypatch.setitem(sys.modules, name, module)  # removed again after the test
    return module.flow  # type: ignore[no-any-return]


def test_compiling_warns_of_code_tasks_cannot_import(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    flow = _import_flow(tmp_path / "project", "accidental_flow", monkeypatch)
    with pytest.warns(ss.errors.FlowWarning) as warned:
        flow.to_airflow(dags, store=url)
    (message,) = [str(w.message) for w in warned]
    assert "op 'days' is imported from module 'accidental_flow'" in message
    assert "pip install" in message and str(dags) in message
    # a module in the DAG folder is on every task's path: nothing to warn of
    flow = _import_flow(dags, "dag_folder_flow", monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flow.to_airflow(dags, store=url)
    # a module whose ops can be captured whole carries its source: tasks run that instead
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flows.calling().to_airflow(dags, store=url)


def test_compiling_pods_with_a_local_store_warns(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    with pytest.warns(ss.errors.FlowWarning, match=r"executor \(CeleryExecutor\)"):
        flows.calling().to_airflow(tmp_path, store=url)
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    with pytest.warns(ss.errors.FlowWarning, match="each would write to its own empty folder"):
        flows.calling().to_airflow(tmp_path, store=url, mode="kubernetes", image="img:1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flows.calling().to_airflow(tmp_path, store=url, mode="kubernetes", image="img:1",
                                   shared_store=True)  # fmt: skip


KILLABLE = """
import pathlib
import sys
import time

import slipstream as ss


@ss.op
def first() -> int:
    print("first ran")
    return 1


@ss.op
def wait(x: int, marker: str) -> int:
    pathlib.Path(marker).touch()
    time.sleep(120)
    return x


flow = ss.Flow("killable", outputs=[wait(first(), sys.argv[2])])
if __name__ == "__main__":
    flow.run(sys.argv[1], run_id="r")
"""


def _start_killable(url: str, tmp_path: Path) -> subprocess.Popen[str]:
    script, marker = tmp_path / "killable.py", tmp_path / "waiting"
    script.write_text(KILLABLE)
    proc = subprocess.Popen([sys.executable, str(script), url, str(marker)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    for _ in range(600):
        if marker.exists() or proc.poll() is not None:
            break
        time.sleep(0.1)
    assert marker.exists(), proc.communicate()
    return proc


@pytest.mark.parametrize("signal", ["SIGKILL", "SIGTERM"])
def test_a_killed_local_run_is_shown_as_such(url: str, tmp_path: Path, signal: str) -> None:
    proc = _start_killable(url, tmp_path)
    going = ss.open(url).run("killable", "r")
    assert going.status == "running"
    assert going.ops["first"].status == "success", "each op's state is written as it ends"
    assert going.ops["first"].logs == "first ran\n"
    assert going.ops["wait"].status == "running", "and each op's as it starts"
    proc.kill() if signal == "SIGKILL" else proc.terminate()
    proc.communicate(timeout=60)
    run = ss.open(url).run("killable", "r")
    if signal == "SIGKILL":  # nothing could be recorded: readers see the process is gone
        assert run.status == "interrupted" and run.ops["wait"].status == "interrupted"
    else:  # recorded like Ctrl-C, then the process ends as SIGTERM asks
        assert proc.returncode == -15
        assert run.status == "failed" and run.ops["wait"].status == "failed"
        error = run.ops["wait"].error
        assert error is not None and error.type == "slipstream.errors.Terminated"


def test_the_ui_takes_run_names_too(url: str) -> None:
    flows.calling().run(url, run_id="r-1")
    flows.calling().run(url, run_id="r-2")
    date_run(url, "calling", "r-1", "2026-11-24T08:00:00+00:00")
    date_run(url, "calling", "r-2", "2026-11-24T09:00:00+00:00")
    server = UiServer(ss.Store(url), "127.0.0.1", 0)
    try:
        runs = f"{server.url}/flows/calling/runs"
        status, page, _ = get(f"{runs}/latest")
        assert status == 200 and "<h1>Run r-2 " in page
        status, page, _ = get(f"{runs}/latest-success/ops/quadruple")
        assert status == 200 and "r-2" in page
        assert "Not stored in this run" not in page and "<code>12</code>" in page
        assert get(f"{runs}/latest/ops/quadruple/outputs/out")[0] == 200
        assert get(f"{runs}/r-")[0] == 400  # the start of two runs
        assert get(f"{runs}/latest-failed")[0] == 404
    finally:
        server.stop()
