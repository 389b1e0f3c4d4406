"""`slipstream publish`: publishes the flows of a flow file (or module) to a store and writes
each version's spec into a DAG folder, where `slipstream.airflow.task_group` and compiled
DAG files read it at parse time (offline: no user code, no store).

    slipstream publish flows/churn.py --store s3://analytics/slipstream --into dags/
    slipstream publish mypkg.flows --flow churn --into dags/

The file is loaded as a script is run, except that its `if __name__ == "__main__":` block
is not: its ops' code is captured into the version, as for a script.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from slipstream.cli.exit_codes import ExitCode

# The name a flow file is loaded under: not importable by that name anywhere else, so that
# its ops' code travels in the version, as a script's does.
_MODULE = "__slipstream_publish__"


def add_command(commands: Any, store_option: Callable[[argparse.ArgumentParser], None]) -> None:
    publish = commands.add_parser(
        "publish",
        help="publish a file's flows and write their specs into a DAG folder",
        description="Publishes every flow a flow file (or an importable module) defines, or "
        "the one --flow names, to the store, and writes each version's spec as "
        "<flow>.slipstream.json into the DAG folder, where slipstream.airflow.task_group and "
        "compiled DAG files read it when Airflow parses them.",
    )
    store_option(publish)
    publish.add_argument("target", help="a flow file (path.py) or an importable module")
    publish.add_argument("--into", required=True, metavar="DAGS_FOLDER",
                         help="the DAG folder (or a folder of the DAG bundle)")  # fmt: skip
    publish.add_argument("--flow", action="append", metavar="NAME",
                         help="only this flow (repeatable); default: every flow")  # fmt: skip
    publish.set_defaults(handler=_publish)


def _publish(args: argparse.Namespace) -> int:
    from slipstream._native import Store
    from slipstream.airflow.builder import write_spec
    from slipstream.authoring.flow import Flow
    from slipstream.errors import FlowDefinitionError, SlipstreamError
    from slipstream.records.files import load_spec

    try:
        module = _load(args.target)
    except SlipstreamError as exc:
        return _fail(f"{args.target}: {exc}", ExitCode.USAGE)
    except Exception:  # noqa: BLE001 — the user's file raised: its traceback says where
        traceback.print_exc()
        return _fail(f"loading {args.target} failed (the traceback above)", ExitCode.USAGE)
    flows = {f.name: f for f in vars(module).values() if isinstance(f, Flow)}
    wanted = args.flow or sorted(flows)
    missing = [name for name in wanted if name not in flows]
    if not flows or missing:
        found = ", ".join(sorted(flows)) or "none"
        what = f"no flow {missing[0]!r}" if missing else "no flow"
        return _fail(f"{args.target} defines {what} (its flows: {found})", ExitCode.NOT_FOUND)
    try:
        store = Store(args.store)
        for name in wanted:
            version = flows[name].publish(store)
            path = write_spec(load_spec(store, name, version), args.into)
            print(f"published {name}@{version} to {store.url}; spec: {path}")
    except FlowDefinitionError as exc:
        return _fail(f"{args.target}: {exc}", ExitCode.USAGE)
    except SlipstreamError as exc:
        return _fail(str(exc), ExitCode.STORE_ERROR)
    except OSError as exc:
        return _fail(f"cannot write into {args.into}: {exc}", ExitCode.FILE_ERROR)
    return ExitCode.OK


def _load(target: str) -> ModuleType:
    """The module of a flow file (its folder first on `sys.path`, as for a script), or an
    importable module by name."""
    path = Path(target)
    if path.suffix == ".py" or path.exists():
        if not path.is_file():
            from slipstream.errors import SlipstreamError

            raise SlipstreamError("no flow file there")
        sys.path.insert(0, str(path.resolve().parent))
        spec = importlib.util.spec_from_file_location(_MODULE, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[_MODULE] = module
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(target)


def _fail(message: str, code: ExitCode) -> int:
    print(f"slipstream publish: {message}", file=sys.stderr)
    return code
