"""Round-trips every supported type through the embedded store and prints the manifests.

Run with `make demo`. The store is a local folder (the embedded default); pass another URL,
e.g. `s3://bucket/prefix`, as the first argument to use S3 instead.
"""

from __future__ import annotations

import json
import sys
import tempfile

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import slipstream as ss
from PIL import Image

RUN_ID = "manual__2026-11-23T18:50:11.286216+00:00"


def values() -> dict[str, object]:
    customers = pd.DataFrame(
        {
            "customer": [101, 102, 103],
            "plan": pd.Categorical(["pro", "free", "pro"]),
            "signed_up": pd.to_datetime(["2026-01-05", "2026-03-17", "2026-11-01"]).tz_localize(
                "Europe/Paris"
            ),
            "spend": [120.5, 0.0, 87.25],
        }
    )
    return {
        "pandas": customers,
        "polars": pl.from_pandas(customers.astype({"plan": "str"})),
        "pyarrow": pa.table({"tags": [["a", "b"], [], None], "score": [0.9, None, 0.1]}),
        "image": Image.linear_gradient("L").resize((64, 64)),
        "ndarray": np.linspace(0, 1, 12, dtype="float32").reshape(3, 4),
        "bytes": b"\x00raw bytes\xff",
        "value": {"threshold": 0.5, 1: "int key", "pair": (1, 2), "huge": 2**80},
    }


def same(a: object, b: object) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    if isinstance(a, pl.DataFrame | pa.Table):
        return a.equals(b)  # type: ignore[arg-type]
    if isinstance(a, Image.Image):
        return isinstance(b, Image.Image) and a.tobytes() == b.tobytes() and a.mode == b.mode
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


def main() -> None:
    url = (
        sys.argv[1]
        if len(sys.argv) > 1
        else f"file://{tempfile.mkdtemp(prefix='slipstream-demo-')}"
    )
    store = ss.Store(url)
    print(f"store: {store.url}\n")
    for output, value in values().items():
        key = ss.ArtifactKey(op_prefix="demo", run_id=RUN_ID, output=output)
        manifest = store.put(key, value)
        back = store.get(key)
        assert type(back) is type(value) and same(value, back), f"{output} did not round-trip"
        shown = {
            k: manifest[k]
            for k in ("type", "codec", "flavor", "rows", "bytes", "checksum")
            if k in manifest
        }
        print(
            f"{output:8} {type(value).__module__}.{type(value).__qualname__} -> {json.dumps(shown)}"
        )
    key = ss.ArtifactKey(op_prefix="demo", run_id=RUN_ID, output="pandas")
    print(f"\nfull manifest of {key.manifest_path}:")
    print(json.dumps(store.manifest(key), indent=2))
    print(f"\nall objects under {store.url}:")
    for path in store.list():
        print(f"  {path}")


if __name__ == "__main__":
    main()
