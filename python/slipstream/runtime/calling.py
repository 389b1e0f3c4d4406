"""Whether the code running now is an op's function, called by the runtime: then calling
another decorated op inside it calls that op's plain function (as it does when the op's
source was captured from a script, where the decorator is stripped)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_inside_op: ContextVar[bool] = ContextVar("slipstream_inside_op", default=False)


def inside_op() -> bool:
    """True while an op's function runs."""
    return _inside_op.get()


@contextlib.contextmanager
def running_op() -> Iterator[None]:
    token = _inside_op.set(True)
    try:
        yield
    finally:
        _inside_op.reset(token)
