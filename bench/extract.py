"""Extract benchmark: 1,000,000 rows out of PostgreSQL into a pandas frame, with `ss.sql`
(as an op of a flow, and the bare extract function it runs), with `pandas.read_sql` over
psycopg, and with hand-written ADBC, on the same server in one run. Run `make bench`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = int(os.environ.get("SLIPSTREAM_BENCH_ROWS", 1_000_000))
REPEATS = 3
QUERY = "SELECT id, amount, segment, note, at, active FROM events"


def seed(url: str) -> None:
    import adbc_driver_postgresql.dbapi as pg

    with pg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS events")
        cur.execute(
            "CREATE TABLE events AS SELECT g AS id, random() * 200 AS amount, "
            "'segment-' || (g % 12) AS segment, md5(g::text) || ' note' AS note, "
            "timestamptz '2026-01-01' + g * interval '1 second' AS at, g % 3 = 0 AS active "
            f"FROM generate_series(1, {ROWS}) AS g"
        )
        conn.commit()


def approaches(url: str, store: str) -> dict[str, Callable[[], Any]]:
    import adbc_driver_postgresql.dbapi as pg
    import pandas as pd
    import psycopg
    import slipstream as ss
    from slipstream.authoring import sql as _sql

    flow = ss.Flow("bench_extract", outputs=[ss.sql(url, QUERY, name="events", flavor="pandas")])
    flow.publish(store)

    def slipstream_op() -> Any:
        run = flow.run(store)
        assert run.status == "success", run.ops["events"].error
        return run.ops["events"].record.duration_seconds  # type: ignore[union-attr]

    def slipstream_extract() -> Any:
        return _sql.extract(url, QUERY, [], "pandas")

    def pandas_psycopg() -> Any:
        with psycopg.connect(url) as conn, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # pandas prefers SQLAlchemy
            return pd.read_sql(QUERY, conn)

    def adbc_by_hand() -> Any:
        with pg.connect(url) as conn, conn.cursor() as cur:
            cur.execute(QUERY)
            return cur.fetch_arrow_table().to_pandas()

    return {
        "slipstream op (extract + store)": slipstream_op,
        "slipstream extract": slipstream_extract,
        "pandas.read_sql + psycopg": pandas_psycopg,
        "ADBC by hand": adbc_by_hand,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "extract.json")
    args = parser.parse_args()

    from tests.support.postgres import PASSWORD, postgres_server

    results = []
    with postgres_server() as server, tempfile.TemporaryDirectory() as tmp:
        os.environ["PGPASSWORD"] = PASSWORD
        seed(server.url)
        store = Path(tmp).joinpath("store").as_uri()
        for name, fn in approaches(server.url, store).items():
            timings = []
            for _ in range(REPEATS):
                start = time.perf_counter()
                out = fn()
                timings.append(time.perf_counter() - start)
                if hasattr(out, "shape"):
                    assert out.shape == (ROWS, 6), out.shape
            results.append({"approach": name, "seconds": min(timings)})
            print(f"  measured {name:32} {min(timings):.2f} s", file=sys.stderr)
    base = next(r for r in results if r["approach"] == "ADBC by hand")["seconds"]
    print(f"\nextract: {ROWS:,} rows x 6 columns from PostgreSQL (loopback) into pandas, "
          f"best of {REPEATS}\n")  # fmt: skip
    print(f"{'approach':34} {'seconds':>8} {'rows/s':>12} {'vs ADBC by hand':>16}")
    print("-" * 73)
    for r in results:
        print(f"{r['approach']:34} {r['seconds']:8.2f} {ROWS / r['seconds']:12,.0f} "
              f"{r['seconds'] / base:15.2f}x")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": ROWS, "results": results}, indent=2))


if __name__ == "__main__":
    main()
