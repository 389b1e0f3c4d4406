"""Reading and writing record files, each checked against its one definition in the Rust
core: a record that does not fit its kind is never written, and one that does not read as
its kind (or was written by a newer slipstream) is refused with a clear error."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from slipstream._native import Store, check_read, check_write, record_format, version_spec_path
from slipstream.errors import ArtifactNotFound

if TYPE_CHECKING:  # the kinds the Rust core knows, as the binding's stub spells them
    from typing import TypeAlias

    from slipstream._native import _RecordKind

    Kind: TypeAlias = _RecordKind


_NOT_JSON = re.compile(rb"\bNaN\b|-?\bInfinity\b")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def read(store: Store, path: str, kind: Kind) -> Any:
    """The record at `path`, checked as a `kind` record."""
    return parse(store.get_object(path), path, kind)


def parse(data: bytes, path: str, kind: Kind) -> Any:
    """A record read from `path` elsewhere, checked as a `kind` record."""
    if not _NOT_JSON.search(data):
        check_read(kind, data, path)
        return json.loads(data)
    # Metrics of slipstream 0.1 could be NaN or infinite, written as bare `NaN` tokens that
    # are not JSON: such records are checked without them and read as they are.
    value = json.loads(data)
    check_read(kind, json.dumps(_finite(value)).encode(), path)
    return value


def dump(record: Mapping[str, Any], path: str, kind: Kind) -> bytes:
    """The bytes of a `kind` record for `path`; `ValueError` if it does not fit its kind (a
    value JSON cannot hold, such as NaN, included). A record without a `format` is given
    the one its content needs (`stamped`)."""
    if "format" not in record:
        record = stamped(kind, record)
    # Try records and previews quote what the user's values hold: a cell or an error
    # argument JSON has no type for is written as its text.
    text = str if kind in ("try", "preview") else None
    data = json.dumps(record, indent=1, allow_nan=False, default=text).encode()
    check_write(kind, data, path)
    return data


def stamped(kind: Kind, record: Mapping[str, Any]) -> dict[str, Any]:
    """`record` with the format its content needs first: the Rust core's rule (the oldest
    format whose readers read it right), never a number of the SDK's own."""
    body = {k: v for k, v in record.items() if k != "format"}
    data = json.dumps({"format": 1, **_finite(body)}, default=str).encode()
    return {"format": record_format(kind, data), **body}


def write(store: Store, path: str, kind: Kind, record: Mapping[str, Any]) -> None:
    """Writes a `kind` record to `path`, checked first."""
    store.put_object(path, dump(record, path, kind))


def load_spec(store: Store, flow: str, version: str) -> dict[str, Any]:
    """The spec of the published `version` of `flow`."""
    path = version_spec_path(flow, version)
    try:
        spec: dict[str, Any] = read(store, path, "spec")
    except ArtifactNotFound:
        raise ArtifactNotFound(
            f"flow {flow!r} has no published version {version!r} in {store.url} "
            f"(no {path}); publish it with flow.publish(...)"
        ) from None
    return spec
