"""`slipstream replay FLOW RUN OP`: calls an op's function here on the exact inputs it received
in a run, to debug it where it failed.

By default the function comes from the local module when the op is importable (the code being
fixed), else from the code stored with the version (ops of scripts and notebooks);
`--stored-code` insists on the stored code. `--pdb` opens the post-mortem debugger at the
line that raised. The outputs go nowhere unless `-o DIR` names a folder to store them in (a
local store, under the run's keys: read them back with `ss.Store(...).get(key)`).
"""

from __future__ import annotations

import argparse
import os
import pdb
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slipstream.cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from slipstream.records.types import OpSpec


class StoredCodeUnavailable(Exception):
    """The version holds no runnable code for the op (it is imported from its module)."""


def add_command(commands: Any, store_option: Callable[[argparse.ArgumentParser], None]) -> None:
    replay = commands.add_parser(
        "replay",
        help="call an op's function here on the inputs it received in a run",
        description=__doc__.split("\n\n")[0].replace("\n", " ") if __doc__ else None,
    )
    store_option(replay)
    replay.set_defaults(handler=run)
    replay.add_argument("flow")
    replay.add_argument("run_id")
    replay.add_argument("op")
    replay.add_argument("--pdb", action="store_true", help="debug a failure post-mortem")
    replay.add_argument("--stored-code", action="store_true",
                        help="run the code stored with the version, not the module's")  # fmt: skip
    replay.add_argument("-o", dest="out", type=Path, metavar="DIR",
                        help="store the outputs in this folder (a local store)")  # fmt: skip


def function(spec: OpSpec, name: str, stored: bool) -> Callable[..., Any]:
    """The op's function: the local module's when importable (unless `stored`), else the
    code captured into the version."""
    from slipstream.spec import code as _code

    entry = spec.function
    if stored and entry.module_source is None:
        raise StoredCodeUnavailable(
            f"op {name!r} is imported from module {entry.module!r}: its version stores "
            "the function's source for reading, not code to run; replay without --stored-code "
            "to run the module's code"
        )
    if stored:
        entry = entry.replace(importable=False)
    return _code.load(entry, name)


def run(history: Any, args: argparse.Namespace) -> int:
    from slipstream._native import ArtifactKey, Store
    from slipstream.cli.lookup import find_op, find_run
    from slipstream.errors import CodeUnavailable

    op = find_op(find_run(history, args.flow, args.run_id), args.op)
    spec = op.spec
    if args.out is not None and _is_store(args.out, history.store.url):
        print(f"slipstream: -o {args.out} is the store itself: replayed outputs would "
              "overwrite the run's; name another folder", file=sys.stderr)  # fmt: skip
        return ExitCode.USAGE
    # The code being fixed is the user's working copy, as when they run a script there.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        fn = function(spec, op.name, args.stored_code)
    except (StoredCodeUnavailable, CodeUnavailable) as exc:
        print(f"slipstream: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    inputs = op.inputs()
    shown = ", ".join(f"{k}={_describe(v)}" for k, v in inputs.items())
    print(f"replaying {op.name} of run {op.run.run_id} (version {op.version}): {shown}")
    try:
        result = fn(**inputs)
    except Exception as exc:  # noqa: BLE001 — the op's own failure: shown, or debugged
        # from the op's own frame on: this command's frame is not the user's
        own = exc.__traceback__.tb_next if exc.__traceback__ else None
        traceback.print_exception(exc.with_traceback(own or exc.__traceback__))
        if args.pdb:
            pdb.post_mortem(exc.__traceback__)
        return ExitCode.OP_FAILED
    outputs = list(spec.outputs)
    returned = result if len(outputs) > 1 else (result,)
    if not isinstance(returned, tuple) or len(returned) != len(outputs):
        names = ", ".join(outputs)
        print(f"slipstream: {op.name} returned {_describe(result)}, not a tuple of "
              f"{len(outputs)} values for its outputs {names}", file=sys.stderr)  # fmt: skip
        return ExitCode.OP_FAILED
    values = dict(zip(outputs, returned, strict=True))
    for name, value in values.items():
        print(f"  {name}: {_describe(value)}")
    if args.out is not None:
        store = Store(args.out.resolve().as_uri())
        for name, value in values.items():
            key = ArtifactKey(op.prefix, op.run.run_id, name)
            store.put(key, value, allow_pickle=spec.allow_pickle)
            print(f"  stored {name} in {store.url} as {key}")
    return ExitCode.OK


def _is_store(folder: Path, store_url: str) -> bool:
    if not store_url.startswith("file://"):
        return False
    return folder.resolve() == Path(store_url.removeprefix("file://")).resolve()


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    kind = f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")
    if shape is not None:
        return f"{kind} of shape {tuple(shape)}"
    text = repr(value)
    return text if len(text) <= 60 else f"{kind} ({text[:57]}...)"
