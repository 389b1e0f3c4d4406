"""The shapes of the records as Python sees them (for type checkers; the one definition of
each is the Rust core's, which `records.files` checks every record against)."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict


class ErrorRecord(TypedDict):
    """Why a try failed."""

    type: str
    message: str
    phase: Literal["inputs", "call", "outputs", "check"]
    traceback: str
    frames: list[dict[str, Any]]


class CheckResult(TypedDict):
    """What a check found: `failed` of `total` elements were false (1 of 1 for a bool)."""

    passed: bool
    severity: Literal["error", "warning"]
    failed: int
    total: int


class TryRecord(TypedDict):
    """What one try of one op did; stored as `try-<n>/record.json` next to its outputs."""

    format: int
    op_prefix: str
    run_id: str
    try_number: int
    function: str
    status: Literal["success", "failed"]
    started_at: str
    ended_at: str
    duration_seconds: float
    peak_rss_bytes: int
    inputs: dict[str, dict[str, str]]
    outputs: dict[str, dict[str, Any]]
    stdout: str
    stderr: str
    stdout_dropped_bytes: int
    stderr_dropped_bytes: int
    error: ErrorRecord | None
    kind: Literal["op", "metric", "check", "upstream"]
    metric: float | int | None
    check: CheckResult | None
    host: str
    pid: int
    record_path: str
    version: str | None
    code_hash: str | None
    cached_from: NotRequired[dict[str, str] | None]
    phases: NotRequired[dict[str, float]]


# The name this record had before; kept so that code written against it still runs.
TaskRecord = TryRecord
