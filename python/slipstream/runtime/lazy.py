"""Lazy inputs: a parameter hinted `polars.LazyFrame`, `pyarrow.dataset.Dataset` or
`pyarrow.RecordBatchReader` gets a scan of the stored Parquet, not a frame loaded into
memory, so that an op can read a frame larger than memory (filter, aggregate, stream).

The payload is first copied, verified (size and checksum), into a temporary folder (under
`TMPDIR`: point it at a disk, not a memory-backed tmpfs, for frames larger than memory) that
lives while the op runs and its outputs are written; the scan reads that copy, so a scan
kept beyond the op (in a global) fails when it is next read. Columns come
back as the scanning library reads Parquet (a pandas categorical as a dictionary or
`Categorical` column, for instance), not through slipstream's own restore."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from slipstream._native import ArtifactKey, Store
from slipstream.records import files
from slipstream.values.frames import to_flavor

LAZY = {"polars-lazy", "arrow-dataset", "arrow-reader"}


class LazyInputs:
    """The temporary copies of one attempt's lazy inputs; removed on exit."""

    def __init__(self) -> None:
        self._folder: Path | None = None
        self._count = 0

    def __enter__(self) -> LazyInputs:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)

    def load(self, store: Store, key: ArtifactKey, library: str, allow_pickle: bool) -> Any:
        """A scan of the frame under `key` for `library`; anything else is read as usual
        (a pickled frame is then wrapped as the hint asks, a value is left as it is)."""
        if files.manifest(store.manifest(key)).type != "frame":
            return to_flavor(store.get(key, allow_pickle=allow_pickle), library)
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="slipstream-inputs-"))
        self._count += 1
        path = self._folder / f"input-{self._count}.parquet"
        store.download(key, path)
        return scan(path, library)


def scan(path: Path, library: str) -> Any:
    """A lazy reader of the Parquet file `path` for `library`."""
    if library == "polars-lazy":
        import polars as pl

        return pl.scan_parquet(path)
    if library == "arrow-dataset":
        import pyarrow.dataset as ds

        return ds.dataset(path, format="parquet")
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    return pa.RecordBatchReader.from_batches(parquet.schema_arrow, parquet.iter_batches())
