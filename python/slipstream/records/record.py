"""What every record class of `records.types` shares: immutability, typed attributes, and for
one release the dict-style reads code written against the records as dicts still does."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any, Self

import msgspec


class Record(msgspec.Struct, frozen=True, omit_defaults=True):
    """A record as stored, read by attribute (`run.status`, `state.cached_from.run_id`).

    `record["status"]`, `record.get("status")` and `"status" in record` still work, with a
    `DeprecationWarning`: they go in the next release."""

    def __getitem__(self, field: str) -> Any:
        _deprecated(type(self).__name__, f"[{field!r}]", field)
        if field not in self.__struct_fields__:
            raise KeyError(field)
        return getattr(self, field)

    def get(self, field: str, default: Any = None) -> Any:
        _deprecated(type(self).__name__, f".get({field!r})", field)
        return getattr(self, field) if field in self.__struct_fields__ else default

    def __contains__(self, field: object) -> bool:
        _deprecated(type(self).__name__, f" containing {field!r}", str(field))
        return field in self.__struct_fields__

    def keys(self) -> Iterator[str]:
        _deprecated(type(self).__name__, ".keys()", "<field>")
        return iter(self.__struct_fields__)

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes` made (records are immutable)."""
        return msgspec.structs.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON values, as it is stored."""
        value: dict[str, Any] = msgspec.json.decode(self.to_json())
        return value

    def to_json(self) -> bytes:
        """The record's JSON, as it is stored (without indentation)."""
        return msgspec.json.encode(self)


def _deprecated(name: str, access: str, field: str) -> None:
    warnings.warn(
        f"reading {name} records as a dict (record{access}) is deprecated and goes in the "
        f"next release: read the attribute instead (record.{field})",
        DeprecationWarning,
        stacklevel=3,
    )
