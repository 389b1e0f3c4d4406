"""Plain values written into a flow spec: op constants and param defaults.

The spec is plain JSON, yet a constant must come back exactly as it was given: a tuple stays
a tuple, `{1: "a"}` keeps its int key, `b"…"` stays bytes, NaN stays NaN. Values that JSON
holds as they are stay as they are; the others are written as one-key tagged objects:

    (1, 2)          -> {"$tuple": [1, 2]}
    b"ab"           -> {"$bytes": "YWI="}
    float("nan")    -> {"$float": "nan"}
    {1: "a"}        -> {"$dict": [[1, "a"]]}   (also any dict with a key starting with "$")
    ss.param("cut") -> {"$param": "cut"}       (inside op constants: filled in per run)
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from typing import Any

_SCALARS = (type(None), bool, int, float, str)
_FLOAT_NAMES = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class UnsupportedConstant(TypeError):
    """A value that cannot be written into a flow spec; `path` says where it sits."""

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path
        super().__init__(
            f"{type(value).__module__}.{type(value).__qualname__} at {path}".replace(
                "builtins.", ""
            )
        )


def encode(
    value: Any, path: str = "value", *, ref: Callable[[Any], str | None] | None = None
) -> Any:
    """The JSON form of a plain value; raises `UnsupportedConstant` for anything else.
    `ref` names the param a value stands for (None when it is not one)."""
    kind = type(value)
    if kind is float and not math.isfinite(value):
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if kind in _SCALARS:
        return value
    if kind is bytes:
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if kind is list:
        return [encode(item, f"{path}[{i}]", ref=ref) for i, item in enumerate(value)]
    if kind is tuple:
        return {"$tuple": [encode(item, f"{path}[{i}]", ref=ref) for i, item in enumerate(value)]}
    if kind is dict:
        if all(type(k) is str and not k.startswith("$") for k in value):
            return {k: encode(v, f"{path}[{k!r}]", ref=ref) for k, v in value.items()}
        return {
            "$dict": [
                [encode(k, f"{path} key {k!r}"), encode(v, f"{path}[{k!r}]", ref=ref)]
                for k, v in value.items()
            ]
        }
    name = ref(value) if ref else None
    if name is not None:
        return {"$param": name}
    raise UnsupportedConstant(value, path)


def decode(data: Any, params: Mapping[str, Any] | None = None) -> Any:
    """The value `encode` was given, with the values of `params` for param references."""
    if isinstance(data, list):
        return [decode(item, params) for item in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1:
        (tag, inner), *_ = data.items()
        if tag == "$tuple":
            return tuple(decode(item, params) for item in inner)
        if tag == "$bytes":
            return base64.b64decode(inner)
        if tag == "$float":
            return _FLOAT_NAMES[inner]
        if tag == "$dict":
            return {decode(k): decode(v, params) for k, v in inner}
        if tag == "$param":
            if params is None or inner not in params:
                raise ValueError(f"no value for param {inner!r}")
            return params[inner]
    return {k: decode(v, params) for k, v in data.items()}
