"""The Airflow Asset of each output of a flow: `slipstream://<flow>/<op>/<output>`.

Flow and op names are `[A-Za-z0-9_-]` and output names Python identifiers, so the URI needs
no escaping. The events of these Assets carry an `extra` in format `EVENT_FORMAT` (see
`slipstream.airflow.assets`).
"""

from __future__ import annotations

import urllib.parse
from typing import Any, NamedTuple

SCHEME = "slipstream"
#: The format of an asset event's `extra`; a reader refuses a newer one, by name.
EVENT_FORMAT = 1


class AssetName(NamedTuple):
    flow: str
    op: str
    output: str


def asset_uri(flow: str, op: str, output: str) -> str:
    return f"{SCHEME}://{flow}/{op}/{output}"


def parse_asset_uri(uri: str) -> AssetName | None:
    """The output an Asset URI names, or None for an Asset that is not slipstream's."""
    parts = urllib.parse.urlsplit(uri)
    path = parts.path.strip("/").split("/")
    if parts.scheme != SCHEME or not parts.netloc or len(path) != 2 or not all(path):
        return None
    return AssetName(parts.netloc, path[0], path[1])


def never_called(**_: Any) -> Any:
    """The function of an `upstream` op, which runs no code: its try takes another flow's
    output (`slipstream.runtime.upstream`)."""
    raise AssertionError("an upstream op runs no code: its try takes another flow's output")
