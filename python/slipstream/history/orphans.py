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


@dataclass
class Orphans:
    leftovers: list[str] = field(default_factory=list)  # temporary files, open uploads
    payloads: list[tuple[str, int]] = field(default_factory=list)
    run_folders: list[tuple[str, int]] = field(default_factory=list)  # their files

    @property
    def bytes(self) -> int:
        return sum(n for _, n in self.payloads) + sum(n for _, n in self.run_folders)


def find(store: Store, now: datetime, min_age: timedelta = SAFETY_AGE) -> Orphans:
    """What crashes left that is older than `min_age` at `now`; nothing is changed."""
    before = (now - min_age).timestamp()
    found = Orphans(leftovers=store.leftovers("", before))
    outputs: dict[str, list[tuple[str, int, float | None]]] = {}
    for path, size, modified in store.list_details("ops/"):
        folder, _, name = path.rpartition("/")
        if folder.rsplit("/", 2)[-2:-1] == ["outputs"]:
            outputs.setdefault(folder, []).append((name, size, modified))
    for folder, files in outputs.items():
        kept = _referenced_payload(store, folder, [name for name, _, _ in files])
        for name, size, modified in files:
            old = modified is not None and modified < before
            if name.startswith("payload-") and name != kept and old:
                found.payloads.append((f"{folder}/{name}", size))
    runs: dict[str, list[tuple[str, int, float | None]]] = {}
    for path, size, modified in store.list_details("flows/"):
        parts = path.split("/")
        if len(parts) >= 5 and parts[2] == "runs":
            runs.setdefault("/".join(parts[:4]), []).append((path, size, modified))
    for folder, files in runs.items():
        headless = not any(p == f"{folder}/run.json" for p, _, _ in files)
        old = all(m is not None and m < before for _, _, m in files)
        if headless and old:
            found.run_folders += [(p, n) for p, n, _ in files]
    return found


def remove(store: Store, orphans: Orphans, now: datetime, min_age: timedelta = SAFETY_AGE) -> None:
    """Removes what `find` found (the leftovers are looked for again, as they are removed)."""
    store.leftovers("", (now - min_age).timestamp(), remove=True)
    store.delete_objects([p for p, _ in orphans.payloads] + [p for p, _ in orphans.run_folders])


def _referenced_payload(store: Store, folder: str, names: list[str]) -> str | None:
    """The payload the output's manifest names; None without a readable manifest."""
    if "manifest.json" not in names:
        return None
    try:
        manifest = json.loads(store.get_object(f"{folder}/manifest.json"))
    except (ArtifactNotFound, ValueError):
        return None
    payload = manifest.get("payload") if isinstance(manifest, dict) else None
    return payload if isinstance(payload, str) else None


def describe(orphans: Orphans, dry_run: bool) -> list[str]:
    verb = "would remove" if dry_run else "removed"
    lines = [f"  {p}" for p in orphans.leftovers]
    lines += [f"  {p} ({n:,} bytes, no manifest names it)" for p, n in orphans.payloads]
    folders = sorted({p.rsplit("/", 1)[0] for p, _ in orphans.run_folders if "/" in p})
    lines += [f"  {f}/ (a run folder without its header)" for f in folders]
    lines.append(
        f"orphans: {verb} {len(orphans.leftovers)} interrupted writes, "
        f"{len(orphans.payloads)} unreferenced payloads, {len(folders)} headless run folders "
        f"({orphans.bytes:,} bytes)"
    )
    return lines
