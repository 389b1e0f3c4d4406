"""Reading and writing record files, each checked against its one definition in the Rust
core: a record that does not fit its kind is never written, and one that does not read as
its kind (or was written by a newer slipstream) is refused with a clear error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from slipstream._native import Store, check_read, check_write, version_spec_path
from slipstream.errors import ArtifactNotFound

Kind = Literal["spec", "run", "op_state", "try", "airflow", "preview"]


def read(store: Store, path: str, kind: Kind) -> Any:
    """The record at `path`, checked as a `kind` record."""
    return parse(store.get_object(path), path, kind)


def parse(data: bytes, path: str, kind: Kind) -> Any:
    """A record read from `path` elsewhere, checked as a `kind` record."""
    check_read(kind, data, path)
    return json.loads(data)


def dump(record: Mapping[str, Any], path: str, kind: Kind) -> bytes:
    """The bytes of a `kind` record for `path`; `ValueError` if it does not fit its kind."""
    data = json.dumps(record, indent=1, default=str).encode()
    check_write(kind, data, path)
    return data


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
