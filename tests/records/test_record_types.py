"""The SDK's record classes are the Rust core's record types: generated from them, checked
here against this build, immutable, read by attribute (reading them as dicts still works for
one release, with a warning)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import msgspec
import pytest
from slipstream.records import TaskRecord, files
from slipstream.records.types import BY_KIND, CheckResult, OpState, TryRecord

ROOT = Path(__file__).parents[2]


def test_the_classes_are_generated_from_this_builds_rust_types() -> None:
    """`python/slipstream/records/types.py` is what `scripts/gen_record_types.py` makes of the
    core's schema now: a record type changed in Rust without `make records` fails here."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts/gen_record_types.py"), "--check"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_record_kind_has_its_class() -> None:
    from slipstream._native import FORMATS

    assert set(BY_KIND) == set(FORMATS)
    for kind, cls in BY_KIND.items():
        assert files.kind_of(cls) == kind


def test_records_are_immutable_and_copied_with_changes() -> None:
    state = OpState(status="running", kind="op", prefix="p", tries=1)
    with pytest.raises(AttributeError):
        state.status = "success"  # type: ignore[misc]
    done = state.replace(status="success")
    assert (state.status, done.status, done.prefix) == ("running", "success", "p")


def test_a_field_the_class_does_not_have_is_refused_when_made() -> None:
    with pytest.raises(TypeError, match="statuss"):
        OpState(statuss="running", kind="op", prefix="p", tries=1)  # type: ignore[call-arg]


def test_reading_a_record_as_a_dict_still_works_and_says_what_to_write_instead() -> None:
    check = CheckResult(passed=False, severity="warning", failed=3, total=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert check["failed"] == 3  # type: ignore[index]
        assert check.get("severity") == "warning"  # type: ignore[attr-defined]
        assert check.get("nope", 7) == 7  # type: ignore[attr-defined]
        assert "passed" in check  # type: ignore[operator]
    messages = [str(w.message) for w in caught]
    assert all(w.category is DeprecationWarning for w in caught) and len(messages) == 4
    assert "read the attribute instead (record.failed)" in messages[0]
    assert caught[0].filename == __file__, "the warning points at the reading line"
    with pytest.raises(KeyError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check["nope"]  # type: ignore[index]


def test_the_old_name_of_the_try_record_is_the_try_record() -> None:
    import slipstream as ss

    assert ss.TaskRecord is TaskRecord is TryRecord


def test_a_record_is_written_with_the_format_its_content_needs() -> None:
    state = OpState(status="success", kind="op", prefix="p", tries=1)
    assert state.format == 0, "not stamped yet"
    written = msgspec.json.decode(files.dump(state, "flows/f/runs/r/ops/o.json"))
    assert written["format"] == 2 and "error" not in written, "empty fields left out"
    upstream = msgspec.json.decode(files.dump(state.replace(kind="upstream"), "p"))
    assert upstream["format"] == 3


def test_read_as_a_dict_a_record_answers_as_its_stored_json_did() -> None:
    """A field left out of the stored JSON when empty is absent from the dict view."""
    state = OpState(status="success", kind="op", prefix="p", tries=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "cached_from" not in state and "status" in state  # type: ignore[operator]
        assert state.get("cached_from", "none") == "none"  # type: ignore[attr-defined]
        assert dict(state) == state.to_dict()  # type: ignore[call-overload]
        assert list(state) == list(state.to_dict())  # type: ignore[call-overload]
        assert len(state) == len(state.to_dict())  # type: ignore[arg-type]
    assert state, "a record is true, whatever its length as a dict"


def test_numbers_of_other_types_are_written_as_numbers() -> None:
    import numpy as np

    check = CheckResult(passed=True, severity="error", failed=np.int64(0), total=np.int64(3))
    written = msgspec.json.decode(check.to_json())
    assert written == {"passed": True, "severity": "error", "failed": 0, "total": 3}
    metric = OpState(status="success", kind="metric", prefix="p", tries=1, metric=np.float64(1.5))
    assert msgspec.json.decode(files.dump(metric, "p"))["metric"] == 1.5
