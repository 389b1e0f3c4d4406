"""Finding what a command line names: a run (by id, unique prefix, `latest`...) and an op."""

from __future__ import annotations

from typing import Any


class NotFound(Exception):
    """What the command line names does not exist."""


class Ambiguous(Exception):
    """The command line leaves a choice open that it must make."""


def find_run(history: Any, flow: str, run_id: str) -> Any:
    """A run by id, unique prefix, `latest`, `latest-failed` or `latest-success`
    (ArtifactNotFound names the flows, or says there is no such run)."""
    return history.run(flow, run_id)


def find_op(run: Any, name: str) -> Any:
    if name not in run.ops:
        raise NotFound(f"run {run.run_id!r} of {run.flow!r} has no op {name!r} "
                       f"(its ops: {', '.join(run.ops)})")  # fmt: skip
    return run.ops[name]
