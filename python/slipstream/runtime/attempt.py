"""`run_op`: one attempt of one op, as a task runs it, leaving a record behind.

Inputs are read from the store, the function is called with its stdout and stderr
captured (C-level writes included, still echoed to the real streams), outputs are stored
with a preview each, and a record of the attempt is written to
`ops/<op prefix>/<run id>/try-<n>/record.json`.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import socket
import sys
import sysconfig
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from slipstream._native import ArtifactKey, OutputCapture, Store, record_path
from slipstream.errors import UnsupportedType
from slipstream.records import files
from slipstream.records.types import (
    CheckResult,
    ErrorRecord,
    InputRef,
    Manifest,
    OutputsAt,
    Phases,
    StackFrame,
    TryRecord,
)
from slipstream.runtime import memory as _memory
from slipstream.runtime import outcomes
from slipstream.runtime import preview as _preview
from slipstream.runtime.calling import running_op
from slipstream.runtime.lazy import LAZY, LazyInputs
from slipstream.values.frames import Streamed, is_stream, to_flavor

# The slipstream package (this module is one level below it): its frames are not the user's.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STDLIB_DIR = os.path.abspath(sysconfig.get_paths()["stdlib"])


@dataclass(frozen=True)
class Reused:
    """The outputs of an earlier run a try takes instead of calling its function: where they
    are, their manifests, and the metric value or check verdict recorded with them."""

    at: OutputsAt
    manifests: Mapping[str, Manifest]
    metric: Any = None
    check: CheckResult | None = None


def run_op(
    fn: Callable[..., Any],
    *,
    store: Store | str,
    op_prefix: str,
    run_id: str,
    try_number: int = 1,
    inputs: Mapping[str, ArtifactKey] | None = None,
    constants: Mapping[str, Any] | None = None,
    outputs: Sequence[str] = ("out",),
    allow_pickle: bool = False,
    kind: Literal["op", "metric", "check", "upstream"] = "op",
    severity: Literal["error", "warning"] = "error",
    convert: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    version: str | None = None,
    code_hash: str | None = None,
    reuse: Callable[[], Reused | None] | None = None,
    name: str | None = None,
) -> TryRecord:
    """Runs one attempt of `fn` and returns its record (also written to the store).

    `inputs` maps parameter names to the artifacts to pass; `constants` maps parameter
    names to plain values. With several `outputs`, `fn` must return a tuple with one value
    per output. `convert` maps parameter names to a frame library (`pandas`, `polars`,
    `pyarrow`) that a frame input is converted to. A `metric` must return a number, a
    `check` a bool or boolean series/array; both are stored as the output and recorded, and
    a failing check of severity `error` fails the attempt (`CheckFailed`). `extra` is added
    to every output manifest; `version` and `code_hash` (of the flow version the code comes
    from) are recorded. `reuse`, called first (its reads are part of the inputs phase), may
    return the outputs of an earlier run to take instead of calling `fn` (`Reused`).

    A failure of `fn` (or of reading inputs / storing outputs) is recorded and returned with
    `status == "failed"`; interrupts such as a timeout or Ctrl-C are recorded and then
    re-raised.
    """
    if isinstance(try_number, bool) or not isinstance(try_number, int) or try_number < 1:
        raise ValueError(f"try_number must be 1 or more (the first try is 1), not {try_number!r}")
    if isinstance(store, str):
        store = Store(store)
    outputs = list(outputs)
    if not outputs:
        raise ValueError("an op needs at least one output name")
    path = record_path(op_prefix, run_id, try_number)
    label: str = name or str(getattr(fn, "__name__", "?"))
    keys = {output: ArtifactKey(op_prefix, run_id, output) for output in outputs}
    inputs = dict(inputs or {})

    _memory.reset_peak()
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    manifests: dict[str, Manifest] = {}
    cached_from: OutputsAt | None = None
    error: ErrorRecord | None = None
    interrupt: BaseException | None = None
    phase: Literal["inputs", "call", "outputs", "check"] = "inputs"
    # When each phase began: the seconds between them are the try's `phases`.
    began = {"inputs": clock}
    metric_value: float | int | None = None
    check_result: CheckResult | None = None
    extra = {"producer": _qualified_name(fn), **(extra or {})}
    capture = OutputCapture()
    with _python_streams_on_descriptors(), LazyInputs() as lazy:
        capture.start()
        try:
            reused = reuse() if reuse is not None else None
            if reused is not None:  # an earlier run's outputs: the function is not called
                manifests, cached_from = dict(reused.manifests), reused.at
                metric_value, check_result = reused.metric, reused.check
            else:
                kwargs = {}
                for name, key in inputs.items():
                    library = (convert or {}).get(name)
                    if library in LAZY:
                        kwargs[name] = lazy.load(store, key, library, allow_pickle)
                        continue
                    kwargs[name] = store.get(key, allow_pickle=allow_pickle)
                    if library is not None:
                        kwargs[name] = to_flavor(kwargs[name], library)
                kwargs.update(constants or {})
                phase = "call"
                began["call"] = time.perf_counter()
                with running_op(label):
                    result = fn(**kwargs)
                phase = "outputs"
                began["outputs"] = time.perf_counter()
                if kind == "metric":
                    result = metric_value = outcomes.metric_value(label, result)
                elif kind == "check":
                    check_result = outcomes.check_result(label, result, severity)
                    result = check_result.to_dict()  # stored as a plain value
                for output, value in _split_outputs(label, result, outputs).items():
                    if is_stream(value):  # read once, as it is stored: keep rows to preview
                        value = Streamed(value, keep=_preview.STREAMED_ROWS)
                    manifests[output] = _put(store, label, keys[output], value, allow_pickle,
                                             try_number, extra)  # fmt: skip
                    preview = _preview.make(value, manifests[output])
                    files.write(store, keys[output].preview_path, preview)
                if check_result is not None and not check_result.passed and severity == "error":
                    phase = "check"
                    raise outcomes.failed_check(label, check_result)
        except Exception as exc:  # noqa: BLE001 — whatever the op raises is its try's record
            error = _error_record(exc, phase)
        except SystemExit as exc:  # sys.exit() in the op: its failure, not the process's end
            error = _error_record(exc, phase)
            error = error.replace(message=f"the op called sys.exit({exc.code!r}): {error.message}")
        except BaseException as exc:  # noqa: BLE001 — timeouts, Ctrl-C: recorded, then re-raised
            error = _error_record(exc, phase)
            interrupt = exc
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            out, err, out_dropped, err_dropped = capture.stop()

    ended_at = datetime.now(UTC)
    finished = time.perf_counter()
    record = TryRecord(
        op_prefix=op_prefix,
        run_id=run_id,
        try_number=try_number,
        function=_qualified_name(fn),
        status="failed" if error else "success",
        started_at=started_at.isoformat(),
        ended_at=ended_at.isoformat(),
        duration_seconds=finished - clock,
        peak_rss_bytes=_memory.peak_rss_bytes(),
        inputs={
            name: InputRef(op_prefix=k.op_prefix, run_id=k.run_id, output=k.output)
            for name, k in inputs.items()
        },
        outputs=manifests,
        stdout=out.decode("utf-8", errors="replace"),
        stderr=err.decode("utf-8", errors="replace"),
        stdout_dropped_bytes=out_dropped,
        stderr_dropped_bytes=err_dropped,
        error=error,
        kind=kind,
        metric=metric_value,
        check=check_result,
        host=socket.gethostname(),
        pid=os.getpid(),
        record_path=path,
        version=version,
        code_hash=code_hash,
        cached_from=cached_from,
        phases=_phases(began, finished),
    )
    record = files.stamped(record)
    files.write(store, path, record)
    if interrupt is not None:
        raise interrupt
    return record


def _phases(began: dict[str, float], finished: float) -> Phases:
    """Seconds spent reading inputs, in the function, and storing outputs (and checking).

    A phase the try never reached took no time. Lazy inputs are read inside the call."""
    marks = [began["inputs"], began.get("call"), began.get("outputs")]
    reached = [m for m in marks if m is not None] + [finished]
    spent = [later - earlier for earlier, later in itertools.pairwise(reached)]
    spent += [0.0] * (3 - len(spent))
    return Phases(inputs=spent[0], call=spent[1], outputs=spent[2])


def _split_outputs(label: str, result: Any, outputs: list[str]) -> dict[str, Any]:
    """One value per output: the result itself, or with several outputs a tuple of one value
    per output (or a dict keyed by exactly the output names)."""
    if len(outputs) == 1:
        return {outputs[0]: result}
    if isinstance(result, dict) and set(result) == set(outputs):
        return {out: result[out] for out in outputs}
    if not isinstance(result, tuple) or len(result) != len(outputs):
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        if isinstance(result, dict):
            got = f"a dict with keys {', '.join(map(repr, result))}"
        raise TypeError(
            f"op {label!r} declares {len(outputs)} outputs {tuple(outputs)} and must return a "
            f"tuple of {len(outputs)} values in that order (or a dict with exactly those "
            f"keys), but returned {got}"
        )
    return dict(zip(outputs, result, strict=True))


def _put(
    store: Store,
    label: str,
    key: ArtifactKey,
    value: Any,
    allow_pickle: bool,
    try_number: int,
    extra: Mapping[str, Any],
) -> Manifest:
    """Stores one output; a value no codec takes is reported as the op's, with the way out
    when it is a dict of values that would each store as outputs of their own."""
    try:
        manifest = store.put(
            key, value, allow_pickle=allow_pickle, try_number=try_number, extra=dict(extra)
        )
    except UnsupportedType as exc:
        hint = ""
        if isinstance(value, dict) and value and all(isinstance(k, str) for k in value):
            names = tuple(value)
            hint = (
                f". To store each entry as an output of its own, declare them: "
                f"@ss.op(outputs={names!r}) and return the values as a tuple in that order"
            )
        raise UnsupportedType(f"op {label!r}: {exc}{hint}") from None
    return files.manifest(manifest)


def _qualified_name(fn: Callable[..., Any]) -> str:
    module = getattr(fn, "__module__", None) or "?"
    return f"{module}.{getattr(fn, '__qualname__', repr(fn))}"


def _error_record(
    exc: BaseException, phase: Literal["inputs", "call", "outputs", "check"]
) -> ErrorRecord:
    """The exception with a stack trace of the user's frames only (slipstream's are noise)."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)
    ]
    # Standard-library frames entered from slipstream itself (before any frame of the user's)
    # are noise too; those the user's code calls stay.
    while frames and os.path.abspath(frames[0].filename).startswith(_STDLIB_DIR + os.sep):
        frames.pop(0)
    message = _capped(_message_of(exc))
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    lines += _exception_lines(exc, message)
    return ErrorRecord(
        type=f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins."),
        message=message,
        phase=phase,
        traceback="".join(lines),
        frames=tuple(
            StackFrame(file=f.filename, line=f.lineno, function=f.name, code=f.line) for f in frames
        ),
    )


# An error message longer than this is cut (run records, index segments and pages quote it).
MESSAGE_LIMIT = 16 * 1024


def _message_of(exc: BaseException) -> str:
    """`str(exc)`, or what can be said of it when its `__str__` itself raises."""
    try:
        return str(exc)
    except Exception as broken:  # noqa: BLE001 — the user's __str__, whatever it raises
        return f"<the exception's message could not be made: {type(broken).__name__} in __str__>"


def _exception_lines(exc: BaseException, message: str) -> list[str]:
    """The last lines of the traceback: Python's own (a `SyntaxError` shows its line), or the
    (capped) message where that is too long or its `__str__` raises."""
    if len(message) < MESSAGE_LIMIT:
        with contextlib.suppress(Exception):
            return traceback.format_exception_only(type(exc), exc)
    return [f"{type(exc).__qualname__}: {message}\n"]


def _capped(message: str) -> str:
    if len(message) <= MESSAGE_LIMIT:
        return message
    dropped = len(message) - MESSAGE_LIMIT
    return f"{message[:MESSAGE_LIMIT]}… [{dropped} more characters not kept]"


@contextlib.contextmanager
def _python_streams_on_descriptors() -> Iterator[None]:
    """Points `sys.stdout`/`sys.stderr` at descriptors 1 and 2 for the duration, so that
    Python-level prints reach the descriptor capture even when a host (pytest, Airflow 2's
    log redirection) replaced the stream objects."""
    saved = sys.stdout, sys.stderr
    for stream in saved:
        with contextlib.suppress(Exception):
            stream.flush()
    replaced: list[io.TextIOWrapper] = []

    def on_fd(stream: Any, fd: int) -> Any:
        try:
            if stream.fileno() == fd:
                return stream
        except (AttributeError, OSError, ValueError):
            pass
        # Closed (flushed) in the finally below; the descriptor itself stays open.
        wrapper = open(  # noqa: SIM115
            fd, "w", closefd=False, buffering=1, encoding="utf-8", errors="backslashreplace"
        )
        replaced.append(wrapper)
        return wrapper

    sys.stdout, sys.stderr = on_fd(saved[0], 1), on_fd(saved[1], 2)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
        for wrapper in replaced:
            wrapper.close()
