"""Previews written with every output, so that a viewer never downloads a payload to show it.

    frame   first rows (cells as capped text) and a profile per column, computed with polars:
            type, nulls, distinct values (exact up to `EXACT_DISTINCT` rows, else an
            estimate never above the non-null count), min/max/mean, a histogram of numeric
            columns; of a streamed frame, the first `STREAMED_ROWS` rows (`profiled_rows`
            says how many)
    image   a PNG thumbnail (base64), with the full image's size and mode
    array   shape, dtype and a capped rendering
    number  the value;  text: the first characters;  json: a capped indented rendering
    bytes   the size and the first bytes in hex

Every preview is capped (`ROWS`, `COLUMNS`, `CELL`, `TEXT`, `THUMBNAIL`), whatever the
artifact's size. A preview that cannot be made says why instead of failing the op.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import math
from typing import Any

import msgspec

from slipstream.records import files
from slipstream.records.types import Manifest, Preview, PreviewNone
from slipstream.values.frames import Streamed

ROWS = 20
COLUMNS = 60
CELL = 120
TEXT = 4000
THUMBNAIL = 256
BINS = 10
# Up to this many rows a column's distinct values are counted exactly.
EXACT_DISTINCT = 1_000_000
# Rows of a streamed frame kept as it is stored, to preview and profile it.
STREAMED_ROWS = 10_000


def make(value: Any, manifest: Manifest) -> Preview:
    """The preview of a stored `value` whose manifest is `manifest`."""
    kind = manifest.type
    try:
        if kind == "frame" and isinstance(value, Streamed):
            # Read once while stored: only its first rows were kept.
            head = value.head_table()
            body = {**_frame(head), "rows": manifest.rows}
            if manifest.rows is not None and head.num_rows < manifest.rows:
                body["profiled_rows"] = head.num_rows
        elif kind == "frame":
            body = _frame(value)
        elif kind == "image":
            body = _image(value)
        elif kind == "ndarray":
            body = _array(value)
        elif kind == "bytes":
            body = _bytes(bytes(value))
        else:
            body = _value(value)
        preview: Preview = msgspec.convert(body, Preview)
    except Exception as exc:  # noqa: BLE001 — a preview is a courtesy: never fail the op for it
        reason = f"no preview: {type(exc).__name__}: {exc}"
        preview = PreviewNone(reason=reason)
    return files.stamped(preview)


def _frame(value: Any) -> dict[str, Any]:
    try:
        import polars as pl
    except ImportError:
        return {"kind": "none", "reason": "frame previews need polars (pip install polars)"}
    frame = value if isinstance(value, pl.DataFrame) else _to_polars(value)
    shown = frame.columns[:COLUMNS]
    head = frame.select(shown).head(ROWS)
    return {
        "kind": "frame",
        "rows": frame.height,
        "columns": len(frame.columns),
        "columns_shown": len(shown),
        "head": {
            "columns": shown,
            "rows": [[_cell(v) for v in row] for row in head.iter_rows()],
        },
        "profile": [_profile(frame.get_column(name)) for name in shown],
    }


def _to_polars(value: Any) -> Any:
    import polars as pl

    if type(value).__module__.split(".")[0] == "pandas":
        return pl.from_pandas(value, include_index=False)
    return pl.DataFrame(value)


def _profile(column: Any) -> dict[str, Any]:
    import polars as pl

    dtype = column.dtype
    profile: dict[str, Any] = {
        "name": column.name,
        "type": str(dtype),
        "nulls": column.null_count(),
        "distinct": None,
        "distinct_exact": False,
    }
    values = column.drop_nulls()
    with contextlib.suppress(Exception):  # nested types have no distinct count
        if len(column) <= EXACT_DISTINCT:
            profile.update(distinct=int(values.n_unique()), distinct_exact=True)
        else:  # HyperLogLog can overshoot: never more distinct values than values
            profile["distinct"] = min(int(values.approx_n_unique()), len(values))
    if dtype.is_numeric() and dtype != pl.Boolean:
        values = values.filter(values.is_finite()) if dtype.is_float() else values
        if len(values):
            low, high = values.min(), values.max()
            profile.update(min=_number(low), max=_number(high), mean=_number(values.mean()))
            profile["histogram"] = _histogram(values, float(low), float(high))
    elif (dtype.is_temporal() or dtype in (pl.String, pl.Boolean)) and len(values):
        profile.update(min=_cell(values.min()), max=_cell(values.max()))
    return profile


def _histogram(values: Any, low: float, high: float) -> dict[str, list[Any]]:
    """`BINS` equal-width bins over [low, high]; one bin when every value is the same."""
    if low == high:
        return {"edges": [low, high], "counts": [len(values)]}
    width = (high - low) / BINS
    bins = ((values.cast(float) - low) / width).floor().cast(int).clip(0, BINS - 1)
    counts = bins.value_counts().sort(bins.name)
    by_bin = dict(zip(counts[bins.name].to_list(), counts["count"].to_list(), strict=True))
    return {
        "edges": [low + i * width for i in range(BINS)] + [high],
        "counts": [int(by_bin.get(i, 0)) for i in range(BINS)],
    }


# Integers JSON readers hold exactly (64 bits); larger ones are shown as their digits.
_JSON_INTS = range(-(2**63), 2**64)


def _number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and value not in _JSON_INTS:
        return _int_text(value)
    if isinstance(value, int | float):
        return value
    return _cell(value)


def _int_text(value: int) -> str:
    """A large integer's digits, capped; for one beyond Python's digit limit, its size."""
    try:
        text = str(value)
    except ValueError:  # more digits than sys.get_int_max_str_digits() allows to print
        digits = int(abs(value).bit_length() * math.log10(2)) + 1
        return f"{'-' if value < 0 else ''}an integer of about {digits} digits"
    return text if len(text) <= CELL else text[: CELL - 1] + "…"


def _cell(value: Any) -> Any:
    """A cell as JSON: numbers and booleans as they are, everything else as capped text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= CELL else text[: CELL - 1] + "…"


def _image(value: Any) -> dict[str, Any]:
    thumb = value.copy()
    thumb.thumbnail((THUMBNAIL, THUMBNAIL))
    if thumb.mode not in ("1", "L", "LA", "RGB", "RGBA", "P"):
        thumb = thumb.convert("RGBA" if "A" in thumb.mode else "RGB")
    buffer = io.BytesIO()
    thumb.save(buffer, format="PNG")
    return {
        "kind": "image",
        "width": value.width,
        "height": value.height,
        "mode": value.mode,
        "thumbnail": base64.b64encode(buffer.getvalue()).decode(),
    }


def _array(value: Any) -> dict[str, Any]:
    import numpy as np

    text = np.array2string(np.asarray(value), threshold=200, edgeitems=5, max_line_width=100)
    return {
        "kind": "array",
        "shape": list(np.shape(value)),
        "dtype": str(value.dtype),
        **_capped(text),
    }


def _bytes(value: bytes) -> dict[str, Any]:
    return {"kind": "bytes", "length": len(value), "hex": value[:256].hex(" ")}


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool) or value is None:
        return {"kind": "json", **_capped(json.dumps(value))}
    if isinstance(value, int | float):
        return {"kind": "number", "value": _number(value)}
    if isinstance(value, str):
        return {"kind": "text", **_capped(value)}
    try:
        text = json.dumps(value, indent=1, default=repr, ensure_ascii=False)
        return {"kind": "json", **_capped(text)}
    except (TypeError, ValueError):  # keys that JSON cannot hold, cycles, huge integers
        try:
            return {"kind": "text", **_capped(repr(value))}
        except ValueError:  # an integer inside beyond Python's digit limit
            return {"kind": "text", **_capped(f"a {type(value).__name__} holding huge integers")}


def _capped(text: str) -> dict[str, Any]:
    return {"text": text[:TEXT], "length": len(text), "truncated": len(text) > TEXT}
