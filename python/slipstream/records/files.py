"""Reading and writing record files as the record classes of `records.types`, each checked
against its one definition in the Rust core: a record that does not fit its kind is never
written, and one that does not read as its kind (or was written by a newer slipstream) is
refused with a clear error."""

from __future__ import annotations

import json
import math
import re
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from slipstream._native import Store, check_write, read_record, record_format, version_spec_path
from slipstream.errors import ArtifactNotFound, CorruptArtifact
from slipstream.records.record import Record, plain
from slipstream.records.types import BY_KIND, FlowSpec, Manifest, RecordKind

R = TypeVar("R", bound=Record)
T = TypeVar("T")

# The kind of each record class (a union, such as previews, and each of its variants).
_KIND: dict[Any, RecordKind] = {
    member: kind for kind, cls in BY_KIND.items() for member in (cls, *typing.get_args(cls))
}

_NOT_JSON = re.compile(rb"\bNaN\b|-?\bInfinity\b")


def kind_of(cls: type[Record]) -> RecordKind:
    """The name the Rust core knows the record class `cls` by (`run`, `op_state`, ...)."""
    return _KIND[cls]


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def read(store: Store, path: str, cls: type[R]) -> R:
    """The record of class `cls` at `path`."""
    return parse(store.get_object(path), path, cls)


def parse(data: bytes, path: str, cls: type[R]) -> R:
    """A record of class `cls` read from `path` elsewhere: checked by the Rust core, which
    fills in what older formats lack (`CorruptArtifact`, or `NewerFormat` for a record a newer
    slipstream wrote)."""
    if _NOT_JSON.search(data):
        # Metrics of slipstream 0.1 could be NaN or infinite, written as bare `NaN` tokens
        # that are not JSON: such records read with those values null.
        data = json.dumps(_finite(json.loads(data))).encode()
    try:
        record: R = msgspec.json.decode(read_record(kind_of(cls), data, path), type=cls)
    except msgspec.ValidationError as exc:  # the core read it: only a class out of date
        raise CorruptArtifact(f"{path}: {exc}; run `make records`") from None
    return record


def from_core(data: bytes | str, cls: type[T]) -> T:
    """What the Rust core read and wrote back whole (a merged run, a spec, rows of runs), as
    `cls` (a record class, or a list of one)."""
    found: T = msgspec.json.decode(data, type=cls)
    return found


def manifest(value: Mapping[str, Any]) -> Manifest:
    """A manifest as the store hands it over (`Store.put`, `manifest`, `stored_manifest`,
    `download` give dicts), as its record class."""
    found: Manifest = msgspec.convert(value, Manifest)
    return found


def dump(record: Record, path: str) -> bytes:
    """The bytes of `record` for `path`; `ValueError` if it does not fit its kind (a value JSON
    cannot hold, such as NaN, included). A record without a `format` (0) is given the one its
    content needs (`stamped`)."""
    kind = kind_of(type(record))
    if getattr(record, "format", None) == 0:
        record = stamped(record)
    # Try records and previews quote what the user's values hold: a cell or an error argument
    # JSON has no type for is written as its text.
    hook = _plain_or_text if kind in ("try", "preview") else plain
    value = msgspec.to_builtins(record, enc_hook=hook)
    data = json.dumps(value, indent=1, allow_nan=False).encode()
    check_write(kind, data, path)
    return data


def stamped(record: R) -> R:
    """`record` with the format its content needs: the Rust core's rule (the oldest format
    whose readers read it right), never a number of the SDK's own."""
    probe = msgspec.json.encode(
        _finite(msgspec.to_builtins(record.replace(format=1), enc_hook=_plain_or_text))
    )
    return record.replace(format=record_format(kind_of(type(record)), probe))


def _plain_or_text(value: Any) -> Any:
    try:
        return plain(value)
    except TypeError:
        return str(value)


def write(store: Store, path: str, record: Record) -> None:
    """Writes `record` to `path`, checked first."""
    store.put_object(path, dump(record, path))


def load_spec(store: Store, flow: str, version: str) -> FlowSpec:
    """The spec of the published `version` of `flow`."""
    path = version_spec_path(flow, version)
    try:
        return read(store, path, FlowSpec)
    except ArtifactNotFound:
        raise ArtifactNotFound(
            f"flow {flow!r} has no published version {version!r} in {store.url} "
            f"(no {path}); publish it with flow.publish(...)"
        ) from None
