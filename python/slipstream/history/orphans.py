"""What crashes leave behind, found and removed by `slipstream gc --orphans`:

- temporary files of the local store and open S3 multipart uploads (a put killed mid-way);
- payloads no manifest references (a put killed between its payload and its manifest, when
  no later put of the output swept them);
- run folders without a run header (a delete interrupted after the header went, a task
  whose header write failed).

Only what is older than a safety age (a day by default) is touched, so that a put, a run or
a delete in flight is never disturbed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slipstream._native import Store
from slipstream.errors import ArtifactNotFound

SAFETY_AGE = timedelta(days=1)
# Where slipstream writes: leftovers elsewhere in a bucket belong to others.
_ROOTS = ("ops/", "flows/")


@dataclass
class Orphans:
    leftovers: list[tuple[str, int]] = field(default_factory=list)  # temporary files, uploads
    payloads: list[tuple[str, int]] = field(default_factory=list)
    run_folders: list[tuple[str, int]] = field(default_factory=list)  # their files
    #: `(count, bytes)` of leftovers and unreferenced payloads younger than the safety age:
    #: kept, since a put may still be writing them, and said so.
    young: tuple[int, int] = (0, 0)

    @property
    def bytes(self) -> int:
        return sum(n for _, n in self.leftovers + self.payloads + self.run_folders)


def find(store: Store, now: datetime, min_age: timedelta = SAFETY_AGE) -> Orphans:
    """What crashes left that is older than `min_age` at `now`; nothing is changed."""
    before = (now - min_age).timestamp()
    everything = [item for root in _ROOTS for item in store.leftovers(root, now.timestamp())]
    stale = [(p, n) for p, n, m in everything if m is None or m < before]
    young = [n for _, n, m in everything if m is not None and m >= before]
    found = Orphans(leftovers=stale)
    outputs: dict[str, list[tuple[str, int, float | None]]] = {}
    for path, size, modified in store.list_details("ops/"):
        folder, _, name = path.rpartition("/")
        if folder.rsplit("/", 2)[-2:-1] == ["outputs"]:
            outputs.setdefault(folder, []).append((name, size, modified))
    for folder, files in outputs.items():
        if sum(n.startswith("payload-") for n, _, _ in files) < 2 and any(
            n == "manifest.json" for n, _, _ in files
        ):
            continue  # one payload and its manifest: nothing left over
        kept = _referenced_payload(store, folder, [name for name, _, _ in files])
        if kept is _UNREADABLE:
            continue  # a manifest this slipstream cannot read: leave its folder alone
        for name, size, modified in files:
            if not name.startswith("payload-") or name == kept:
                continue
            if modified is not None and modified < before:
                found.payloads.append((f"{folder}/{name}", size))
            else:
                young.append(size)
    found.young = (len(young), sum(young))
    runs: dict[str, list[tuple[str, int, float | None]]] = {}
    for path, size, modified in store.list_details("flows/"):
        parts = path.split("/")
        if len(parts) >= 5 and parts[2] == "runs":
            runs.setdefault(_run_folder(path), []).append((path, size, modified))
    for folder, files in runs.items():
        headless = not any(p == f"{folder}/run.json" for p, _, _ in files)
        old = all(m is not None and m < before for _, _, m in files)
        if headless and old:
            found.run_folders += [(p, n) for p, n, _ in files]
    return found


def remove(store: Store, orphans: Orphans, now: datetime, min_age: timedelta = SAFETY_AGE) -> None:
    """Removes what `find` found. Each payload's manifest is read again first, so that one a
    put of the same content made current since is kept; the leftovers are looked for again as
    they are removed, and a run folder whose header appeared since is kept."""
    before = (now - min_age).timestamp()
    for root in _ROOTS:
        store.leftovers(root, before, remove=True)
    payloads = []
    for path, _ in orphans.payloads:
        folder, _, name = path.rpartition("/")
        names = [p.rsplit("/", 1)[-1] for p in store.list(folder)]
        if _referenced_payload(store, folder, names) not in (name, _UNREADABLE):
            payloads.append(path)
    folders = {_run_folder(p) for p, _ in orphans.run_folders}
    headless = {f for f in folders if not _has_header(store, f)}
    files = [p for p, _ in orphans.run_folders if _run_folder(p) in headless]
    store.delete_objects(payloads + files)


# A manifest that is there but cannot be read.
_UNREADABLE = "\0unreadable"


def _referenced_payload(store: Store, folder: str, names: list[str]) -> str | None:
    """The payload the output's manifest names; None without a manifest, `_UNREADABLE` when
    it cannot be read (corrupt, or written by a newer slipstream)."""
    if "manifest.json" not in names:
        return None
    try:
        manifest = json.loads(store.get_object(f"{folder}/manifest.json"))
    except ArtifactNotFound:
        return None
    except ValueError:
        return _UNREADABLE
    payload = manifest.get("payload") if isinstance(manifest, dict) else None
    return payload if isinstance(payload, str) else _UNREADABLE


def _run_folder(path: str) -> str:
    """`flows/<flow>/runs/<run>` of a path in it."""
    return "/".join(path.split("/")[:4])


def _has_header(store: Store, folder: str) -> bool:
    try:
        store.get_object(f"{folder}/run.json")
    except ArtifactNotFound:
        return False
    return True


def describe(orphans: Orphans, dry_run: bool) -> list[str]:
    verb = "would remove" if dry_run else "removed"
    lines = [f"  {p} ({n:,} bytes)" for p, n in orphans.leftovers]
    lines += [f"  {p} ({n:,} bytes, no manifest names it)" for p, n in orphans.payloads]
    folders = sorted({p.rsplit("/", 1)[0] for p, _ in orphans.run_folders if "/" in p})
    lines += [f"  {f}/ (a run folder without its header)" for f in folders]
    lines.append(
        f"orphans: {verb} {len(orphans.leftovers)} interrupted writes, "
        f"{len(orphans.payloads)} unreferenced payloads, {len(folders)} headless run folders "
        f"({orphans.bytes:,} bytes)"
    )
    count, size = orphans.young
    if count:
        lines.append(
            f"kept {count} leftovers younger than --min-age ({size:,} bytes): a put may still be "
            "writing them; run again once they are older, or lower --min-age (at least 1 hour)"
        )
    return lines
