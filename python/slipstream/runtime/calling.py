"""Whether the code running now is an op's function, called by the runtime: then calling
another decorated op inside it calls that op's plain function (as it does when the op's
source was captured from a script, where the decorator is stripped)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from contextvars import ContextVar

_inside_op: ContextVar[bool] = ContextVar("slipstream_inside_op", default=False)


def inside_op() -> bool:
    """True while an op's function runs."""
    return _inside_op.get()


@contextlib.contextmanager
def running_op(name: str = "?") -> Iterator[None]:
    """Marks an op's function as running. A process the function forked that returns (or
    raises) into the runtime ends here: only the process that called the op may go on to
    record it and run the rest of the flow."""
    owner = os.getpid()
    token = _inside_op.set(True)
    try:
        yield
    except BaseException:
        _end_forked_child(owner, name, 1)
        raise
    else:
        _end_forked_child(owner, name, 0)
    finally:
        _inside_op.reset(token)


def _end_forked_child(owner: int, name: str, status: int) -> None:
    if os.getpid() == owner:
        return
    with contextlib.suppress(Exception):
        print(
            f"slipstream: a process forked inside op {name!r} (pid {os.getpid()}, forked from "
            f"{owner}) returned into the runner; it ends here, and only pid {owner} records "
            "the op and runs the rest of the flow (end forked children with os._exit)",
            file=sys.stderr,
        )
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(status)
