"""What metrics and checks return, made into what a run records."""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal

from slipstream.errors import CheckFailed
from slipstream.records.types import CheckResult


def metric_value(label: str, value: Any) -> float | int:
    """A metric's number as a plain int or float; anything else is the metric's mistake."""
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays
    if callable(item) and getattr(value, "shape", None) == ():
        value = item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        hint = " (a pass/fail judgement is a @check)" if isinstance(value, bool) else ""
        raise TypeError(
            f"metric {label!r} must return a number, but returned {type(value).__qualname__}{hint}"
        )
    if isinstance(value, int):
        return value
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(
            f"metric {label!r} returned {number}: a metric must be a finite number "
            "(records and history hold finite numbers only); return a finite value or raise "
            "where the metric is undefined"
        )
    return number


def check_result(label: str, value: Any, severity: Literal["error", "warning"]) -> CheckResult:
    """A check passes on `True`, or on a boolean series/array whose elements are all true.
    Missing elements (None, NA, null) count as failures."""
    if isinstance(value, bool) or (
        type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_")
    ):
        failed, total = (0 if value else 1), 1
    else:
        failed, total = _count_false(label, value)
    return CheckResult(passed=failed == 0, severity=severity, failed=failed, total=total)


def failed_check(label: str, result: CheckResult) -> CheckFailed:
    what = (
        "returned False"
        if result.total == 1
        else (f"found {result.failed:,} of {result.total:,} elements false or missing")
    )
    return CheckFailed(
        f"check {label!r} {what}; the ops that consume the artifacts it checks do not "
        "run. Its result is stored with the run"
    )


def _count_false(label: str, value: Any) -> tuple[int, int]:
    import numpy as np

    wrong = TypeError(
        f"check {label!r} must return a bool or a boolean series/array, but returned "
        f"{type(value).__module__}.{type(value).__qualname__}"
    )
    if isinstance(value, str | bytes | dict) or not hasattr(value, "__len__"):
        raise wrong
    if hasattr(value, "to_pylist"):  # pyarrow arrays: bit-packed, nulls aside
        items: Any = np.asarray(value.to_pylist(), dtype=object)
    else:  # pandas and polars series (NA/null become objects), numpy arrays, lists
        items = np.asarray(value.to_numpy() if hasattr(value, "to_numpy") else value)
    if items.dtype == np.bool_:
        return int(items.size - np.count_nonzero(items)), int(items.size)
    if items.dtype != object:
        raise wrong

    def true(v: Any) -> bool:
        if isinstance(v, bool | np.bool_):
            return bool(v)
        if v is None or type(v).__name__ in ("NAType", "NaTType"):
            return False  # a missing verdict is not a pass
        raise wrong

    return sum(1 for v in items.flat if not true(v)), int(items.size)
