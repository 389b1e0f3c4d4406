"""What every record class of `records.types` shares: immutability, typed attributes, and for
one release the dict-style reads code written against the records as dicts still does."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any, Self

import msgspec


class Record(msgspec.Struct, frozen=True, omit_defaults=True):
    """A record as stored, read by attribute (`run.status`, `state.cached_from.run_id`).

    Read as the dict it used to be — `record["status"]`, `record.get("status", default)`,
    `"status" in record`, `keys()`, `items()`, `values()`, iteration, `len()` — it still
    answers as that dict did (a field left out of the stored JSON when empty is absent),
    with a `DeprecationWarning`: these go in the next release. Comparing a record with a
    dict is False: compare `record.to_dict()`."""

    def __getitem__(self, field: str) -> Any:
        _deprecated(self, f"[{field!r}]", field)
        if field not in self.__struct_fields__:
            raise KeyError(field)
        return getattr(self, field)

    def get(self, field: str, default: Any = None) -> Any:
        _deprecated(self, f".get({field!r})", field)
        return getattr(self, field) if field in self._stored() else default

    def __contains__(self, field: object) -> bool:
        _deprecated(self, f" containing {field!r}", str(field))
        return field in self._stored()

    def keys(self) -> Iterator[str]:
        _deprecated(self, ".keys()", "<field>")
        return iter(self._stored())

    def items(self) -> Iterator[tuple[str, Any]]:
        _deprecated(self, ".items()", "<field>")
        return ((name, getattr(self, name)) for name in self._stored())

    def values(self) -> Iterator[Any]:
        _deprecated(self, ".values()", "<field>")
        return (getattr(self, name) for name in self._stored())

    def __iter__(self) -> Iterator[str]:
        _deprecated(self, " iterated", "<field>")
        return iter(self._stored())

    def __len__(self) -> int:
        _deprecated(self, " measured with len()", "<field>")
        return len(self._stored())

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes` made (records are immutable)."""
        return msgspec.structs.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON values, as it is stored."""
        value: dict[str, Any] = msgspec.json.decode(self.to_json())
        return value

    def to_json(self) -> bytes:
        """The record's JSON, as it is stored (without indentation)."""
        return msgspec.json.encode(self, enc_hook=plain)

    def __bool__(self) -> bool:
        return True  # a record, not an empty dict (`__len__` is the deprecated dict's)

    def _stored(self) -> list[str]:
        """The fields the stored JSON has: those not left out as empty."""
        return list(self.to_dict())


def plain(value: Any) -> Any:
    """A value msgspec does not encode as it is, as JSON holds it: a number of another type
    (numpy's, a subclass) as the number; anything else refused."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    item = getattr(value, "item", None)  # a numpy scalar
    if callable(item):
        return item()
    raise TypeError(f"a record cannot hold a {type(value).__qualname__}")


def _deprecated(record: Record, access: str, field: str) -> None:
    name = type(record).__name__
    warnings.warn(
        f"reading {name} records as a dict (record{access}) is deprecated and goes in the "
        f"next release: read the attribute instead (record.{field})",
        DeprecationWarning,
        stacklevel=3,
    )
