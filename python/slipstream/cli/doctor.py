"""`slipstream doctor [--json]`: the record formats a store holds, and which releases read
them. A team that upgrades one part of its deployment at a time (the DAG processor, workers
on pinned images, the UI, laptops) shares one store across releases: this says whether an
older release still reads everything in it, and whether a newer one already wrote there."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from slipstream.cli.exit_codes import ExitCode


def add_command(commands: Any, store_option: Callable[[argparse.ArgumentParser], None]) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="the record formats in a store, and which releases read them",
        description="Reads the format of every record in the store (flow specs, runs, op "
        "states, tries, manifests, previews, cache entries, the run index...) and prints, "
        "for each kind and format, how many there are and the first release that reads them. "
        "Exits 4 if a record cannot be read or was written by a newer slipstream.",
    )
    store_option(doctor)
    doctor.add_argument("--json", action="store_true", help="print JSON")
    doctor.set_defaults(handler=_doctor)


def _doctor(history: Any, args: argparse.Namespace) -> int:
    from slipstream._native import FORMATS, __version__, first_reader, survey_formats

    found, unreadable = survey_formats(history.store)  # every record read, 32 at a time
    rows: list[dict[str, Any]] = [
        {"kind": kind, "format": format, "count": count, "read_since": first_reader(kind, format)}
        for kind, format, count in found
    ]
    newer = [r for r in rows if r["read_since"] is None]
    if args.json:
        print(json.dumps({
            "store": history.store.url, "slipstream": __version__, "records": rows,
            "unreadable": [{"path": p, "reason": why} for p, why in unreadable],
        }, indent=1))  # fmt: skip
        return ExitCode.STORE_ERROR if newer or unreadable else ExitCode.OK
    total = sum(row["count"] for row in rows)
    print(f"{history.store.url}: {total} records")
    width = max([len(r["kind"]) for r in rows], default=4)
    for row in rows:
        since = row["read_since"]
        readers = (
            f"read by slipstream {since} and later"
            if since
            else f"written by a newer slipstream: this one ({__version__}) reads "
            f"{row['kind']} records up to format {FORMATS[row['kind']]}; upgrade to read them"
        )
        print(f"  {row['kind']:<{width}}  format {row['format']:<3} {row['count']:>7}  {readers}")
    for path, why in unreadable:
        print(f"  unreadable: {path}: {why}")
    if not newer and not unreadable:
        oldest = max((r["read_since"] for r in rows), default=__version__, key=_release)
        print(f"every record reads in slipstream {oldest} and later")
    return ExitCode.STORE_ERROR if newer or unreadable else ExitCode.OK


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())
