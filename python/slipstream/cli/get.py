"""`slipstream get`: an output written to a file other tools read. Frames are written as
their stored Parquet and images as their PNG (checksum verified on the way); arrays become
`.npy` and values JSON, unless `--raw` asks for the stored payload (bincode) as it is."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from slipstream.cli.lookup import Ambiguous, NotFound, find_op, find_run

#: `get` draws a progress bar (on a terminal) for payloads from this size on.
PROGRESS_FROM_BYTES = 4 * 1024 * 1024


def add_arguments(get: argparse.ArgumentParser) -> None:
    get.add_argument("flow")
    get.add_argument("run_id")
    get.add_argument("op")
    get.add_argument("output", nargs="?", help="which output (default: the op's only one)")
    get.add_argument(
        "-o",
        dest="path",
        type=Path,
        metavar="FILE",
        help="file or folder to write to (default: <op>[.<output>].<ext> here)",
    )
    get.add_argument(
        "--raw",
        action="store_true",
        help="write the stored payload as it is (bincode for arrays and values)",
    )
    get.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")


def get(history: Any, args: argparse.Namespace) -> int:
    from slipstream.errors import ArtifactNotFound
    from slipstream.records import files

    run = find_run(history, args.flow, args.run_id)
    op = find_op(run, args.op)
    outputs = list(op.spec.outputs)  # of the version its last try ran
    output = args.output or (outputs[0] if len(outputs) == 1 else None)
    if output is None:
        raise Ambiguous(f"op {op.name!r} has outputs {', '.join(outputs)}: name the one to get")
    if output not in outputs:
        raise NotFound(f"op {op.name!r} has no output {output!r} (its outputs: "
                       f"{', '.join(outputs)})")  # fmt: skip
    key = run.key(op.name, output)
    try:
        manifest = files.manifest(history.store.manifest(key))
    except ArtifactNotFound:
        if op.status == "success":
            raise
        raise NotFound(f"op {op.name!r} has status {op.status} in run {run.run_id!r}: it stored no "
                       f"{output!r}; see `slipstream show {run.flow} {run.run_id} "
                       f"{op.name}`") from None  # fmt: skip
    convert = None if args.raw else _CONVERTERS.get(manifest.type)
    extension = convert[0] if convert else manifest.payload.rpartition(".")[2]
    name = f"{op.name}.{extension}" if output == "out" else f"{op.name}.{output}.{extension}"
    path = args.path or Path(name)
    if path.is_dir():
        path = path / name
    if convert is not None:
        value = history.store.get(key, allow_pickle=False)  # checksum verified
        written = convert[1](value, path)
        if written is not None:  # not representable: the stored payload instead
            path = path.with_suffix("." + manifest.payload.rpartition(".")[2])
            convert = None
            print(f"slipstream: {written}; writing the stored payload to {path} instead",
                  file=sys.stderr)  # fmt: skip
    if convert is None:
        progress = not args.quiet and manifest.bytes >= PROGRESS_FROM_BYTES
        downloaded = history.store.download(key, path, progress=progress)
        manifest = files.manifest(downloaded)
    if not args.quiet:
        rows = f", {manifest.rows} rows" if manifest.rows is not None else ""
        what = f"as {extension}" if convert else f"{manifest.bytes} bytes of {manifest.codec}"
        print(f"{path}: {manifest.type} {manifest.flavor}{rows}, {what}, "
              f"{manifest.checksum} verified")  # fmt: skip
    return 0


def _npy(value: Any, path: Path) -> str | None:
    import numpy as np

    with _atomic(path) as file:
        np.save(file, value, allow_pickle=False)
    return None


def _json(value: Any, path: Path) -> str | None:
    def keys_are_text(v: Any) -> bool:
        if isinstance(v, dict):
            return all(isinstance(k, str) and keys_are_text(x) for k, x in v.items())
        return all(keys_are_text(x) for x in v) if isinstance(v, list | tuple) else True

    if not keys_are_text(value):
        return "the value has dict keys that are not strings, which JSON cannot keep"
    try:
        text = json.dumps(value, indent=1, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"the value is not JSON ({exc})"
    with _atomic(path) as file:
        file.write(text.encode() + b"\n")
    return None


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[BinaryIO]:
    """A file that appears at `path` whole or not at all."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("wb") as file:
            yield file
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


# Stored type -> (extension, writer); the others are written as stored (Parquet, PNG, bytes).
_CONVERTERS = {"ndarray": ("npy", _npy), "value": ("json", _json)}
