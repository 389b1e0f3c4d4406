"""bytes and trees of builtin values: int stays int (any size), tuple stays tuple, dict keys
keep their types; anything else is refused unless pickle is allowed for that call."""

from __future__ import annotations

import collections
import math
import sys

import pytest
import slipstream as ss
from slipstream.errors import PickleNotAllowed, UnsupportedType

VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    -(2**100),
    1.5,
    -0.0,
    math.inf,
    "",
    "ünïcødé 運行 🚀",
    b"",
    b"\x00\xff" * 10,
    [],
    (),
    {},
    (1,),
    [1, (2, [3, {"a": None}])],
    {1: "a", "1": "b", (1, 2): [b"x"], None: 0.5, 2.5: True, b"k": (), False: -7},
]


def roundtrip(store: ss.Store, value: object, output: str = "out") -> object:
    key = ss.ArtifactKey("values", "run/with/slashes", output)
    store.put(key, value)
    return store.get(key)


def same(a: object, b: object) -> bool:
    """Equality that also compares types all the way down (1 == 1.0 == True otherwise)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return list(a) == list(b) and all(  # type: ignore[call-overload]
            same(ka, kb) and same(a[ka], b[kb])
            for ka, kb in zip(a, b, strict=True)  # type: ignore[index]
        )
    return a == b


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_value_trees_keep_types(local_store: ss.Store, value: object) -> None:
    assert same(roundtrip(local_store, value), value)


def test_values_over_s3(s3_store: ss.Store) -> None:
    value = {1: (2, [3.5, None]), "x": b"y"}
    assert same(roundtrip(s3_store, value), value)


def test_special_floats_and_huge_ints(local_store: ss.Store) -> None:
    assert math.isnan(roundtrip(local_store, math.nan))  # type: ignore[arg-type]
    huge = 7 ** (sys.get_int_max_str_digits() * 2)  # beyond what str() may print
    assert roundtrip(local_store, huge, "huge") == huge
    assert roundtrip(local_store, -huge, "neg") == -huge


def test_bytes_and_bytearray(local_store: ss.Store) -> None:
    key = ss.ArtifactKey("values", "r", "raw")
    manifest = local_store.put(key, bytes(range(256)) * 1000)
    assert manifest["type"] == "bytes"
    assert local_store.get(key) == bytes(range(256)) * 1000
    back = roundtrip(local_store, bytearray(b"abc"), "ba")
    assert type(back) is bytearray and back == bytearray(b"abc")


class Custom:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Custom)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (object(), "object"),
        ({1, 2}, "set"),
        (Custom(), "Custom"),
        (collections.OrderedDict(a=1), "OrderedDict"),
        (1 + 2j, "complex"),
    ],
)
def test_unsupported_types_are_named(local_store: ss.Store, value: object, named: str) -> None:
    with pytest.raises(UnsupportedType) as info:
        roundtrip(local_store, value, "bad")
    message = str(info.value)
    assert named in message and '"bad"' in message and "allow_pickle=True" in message
    assert isinstance(info.value, TypeError)
    assert not local_store.exists(ss.ArtifactKey("values", "run/with/slashes", "bad"))


def test_nested_unsupported_value_says_where(local_store: ss.Store) -> None:
    with pytest.raises(UnsupportedType, match=r"at value\['rows'\]\[2\]"):
        roundtrip(local_store, {"rows": [1, 2, {3}]})


def test_cycles_are_refused(local_store: ss.Store) -> None:
    cyclic: list[object] = []
    cyclic.append(cyclic)
    with pytest.raises(UnsupportedType, match="cyclic"):
        roundtrip(local_store, cyclic)


def test_pickle_only_when_allowed(local_store: ss.Store) -> None:
    key = ss.ArtifactKey("values", "r", "pickled")
    manifest = local_store.put(key, Custom(), allow_pickle=True)
    assert manifest["type"] == "pickle"
    assert manifest["pickle"]["protocol"] == 5
    assert manifest["pickle"]["python"].startswith(f"{sys.version_info.major}.")
    with pytest.raises(PickleNotAllowed, match="allow_pickle=True"):
        local_store.get(key)
    assert local_store.get(key, allow_pickle=True) == Custom()
    # Supported types never fall back to pickle, even when it is allowed.
    assert local_store.put(key, {"a": 1}, allow_pickle=True)["type"] == "value"
