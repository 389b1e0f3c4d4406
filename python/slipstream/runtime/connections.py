"""`ss.connection("warehouse")`: an Airflow connection, the same in an Airflow task and in a
local run, so that an op that talks to the outside world runs in both places unchanged.

Where it is looked up, first found wins:

1. Airflow, when it is installed: inside a task, the connection Airflow gives the task (its
   metadata database, secrets backends, `AIRFLOW_CONN_*`); outside a task, Airflow's
   environment and configured secrets backends;
2. `AIRFLOW_CONN_<CONN_ID>` (a connection URI, or Airflow's JSON form), where Airflow is
   not installed;
3. the connections file: `$SLIPSTREAM_CONNECTIONS`, else `~/.slipstream/connections.toml`,
   one table per connection id holding a `uri` or the fields (`conn_type`, `host`,
   `login`, `password`, `port`, `schema`, `extra`).

A connection never enters a record: it is not a param, not part of a spec or a cache key,
and its password is left out of its `repr`.
"""

from __future__ import annotations

import importlib
import json
import os
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from slipstream.errors import SlipstreamError

#: The environment variable naming the connections file.
CONNECTIONS_ENV = "SLIPSTREAM_CONNECTIONS"


class ConnectionNotFound(SlipstreamError):
    """No connection of that id where an op can see one."""


@dataclass(frozen=True)
class Connection:
    """An Airflow connection's fields."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    schema: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    @property
    def uri(self) -> str:
        """The connection as Airflow writes it: `<type>://<login>:<password>@<host>:<port>/
        <schema>?<extra>` (type with `_` as `-`, parts percent-encoded)."""
        quote = urllib.parse.quote
        scheme = (self.conn_type or "").replace("_", "-")
        auth = quote(self.login or "", safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        netloc = (auth + "@" if auth else "") + quote(self.host or "", safe="")
        if self.port is not None:
            netloc += f":{self.port}"
        uri = f"{scheme}://{netloc}/{quote(self.schema or '', safe='')}"
        if self.extra:
            plain = all(isinstance(v, str) for v in self.extra.values())
            extra = dict(self.extra) if plain else {"__extra__": json.dumps(dict(self.extra))}
            uri += "?" + urllib.parse.urlencode(extra)
        return uri


def connection(conn_id: str) -> Connection:
    """The connection `conn_id` (see the module's docstring for where it is looked up)."""
    if not isinstance(conn_id, str) or not conn_id:
        raise ConnectionNotFound(f"a connection id is a non-empty string, not {conn_id!r}")
    looked: list[str] = []
    found = _from_airflow(conn_id, looked)
    if found is None:
        raw = os.environ.get(_env_name(conn_id))
        looked.append(f"${_env_name(conn_id)}")
        if raw:
            found = parse(conn_id, raw)
    if found is None:
        found = _from_file(conn_id, looked)
    if found is None:
        raise ConnectionNotFound(
            f"no connection {conn_id!r}: looked in {', '.join(looked)}. Define it in Airflow, "
            f"set {_env_name(conn_id)} to its URI, or add a [{conn_id}] table to "
            f"{connections_file()}"
        )
    return found


def parse(conn_id: str, raw: str) -> Connection:
    """A connection from Airflow's text forms: a URI, or a JSON object of its fields."""
    if raw.lstrip().startswith("{"):
        try:
            fields = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConnectionNotFound(f"connection {conn_id!r} is not valid JSON: {exc}") from None
        return _from_fields(conn_id, fields)
    return _from_uri(conn_id, raw)


def connections_file() -> Path:
    """The connections file of this machine (`$SLIPSTREAM_CONNECTIONS`, else
    `~/.slipstream/connections.toml`)."""
    return Path(os.environ.get(CONNECTIONS_ENV) or Path.home() / ".slipstream/connections.toml")


def _env_name(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _from_airflow(conn_id: str, looked: list[str]) -> Connection | None:
    hook: Any = None
    for module in ("airflow.sdk", "airflow.hooks.base"):  # Airflow 3, then 2
        try:
            hook = importlib.import_module(module).BaseHook
            break
        except (ImportError, AttributeError):
            continue
    if hook is None:
        return None
    looked.append("Airflow's connections")
    try:
        found = hook.get_connection(conn_id)
    except Exception as exc:  # noqa: BLE001 — Airflow 2 and 3 each have their own class
        if type(exc).__name__ == "AirflowNotFoundException":
            return None
        raise ConnectionNotFound(f"Airflow could not give connection {conn_id!r}: {exc}") from None
    extra = getattr(found, "extra_dejson", None) or {}
    return Connection(
        conn_id=conn_id, conn_type=found.conn_type, host=found.host or None,
        login=found.login or None, password=found.password or None,
        port=int(found.port) if found.port else None, schema=found.schema or None,
        extra=extra,
    )  # fmt: skip


def _from_file(conn_id: str, looked: list[str]) -> Connection | None:
    path = connections_file()
    looked.append(str(path))
    try:
        tables = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConnectionNotFound(f"the connections file {path} cannot be read: {exc}") from None
    entry = tables.get(conn_id)
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise ConnectionNotFound(f"{path}: [{conn_id}] is a table of the connection's fields")
    if "uri" in entry:
        return _from_uri(conn_id, str(entry["uri"]))
    return _from_fields(conn_id, entry)


def _from_fields(conn_id: str, fields: Mapping[str, Any]) -> Connection:
    known = {"conn_type", "host", "login", "password", "port", "schema", "extra", "description"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ConnectionNotFound(
            f"connection {conn_id!r} has an unknown field {unknown[0]!r} (its fields: "
            f"{', '.join(sorted(known - {'description'}))})"
        )
    extra = fields.get("extra") or {}
    try:
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        port = fields.get("port")
        port = int(port) if port not in (None, "") else None
    except ValueError as exc:
        raise ConnectionNotFound(f"connection {conn_id!r}: {exc}") from None
    if not isinstance(extra, Mapping):
        raise ConnectionNotFound(f"connection {conn_id!r}: extra is a JSON object of options")
    return Connection(
        conn_id=conn_id, conn_type=fields.get("conn_type"), host=fields.get("host"),
        login=fields.get("login"), password=fields.get("password"), port=port,
        schema=fields.get("schema"), extra=extra,
    )  # fmt: skip


def _from_uri(conn_id: str, uri: str) -> Connection:
    """Airflow's reading of a connection URI (`Connection.from_uri`), for where Airflow is
    not installed."""
    parts = urllib.parse.urlsplit(uri)
    where = f"connection {conn_id!r}: {uri.split('@')[-1]!r}"
    if not parts.scheme:
        raise ConnectionNotFound(f"{where} is not a URI")
    unquote = urllib.parse.unquote
    conn_type = parts.scheme.replace("-", "_")
    conn_type = "postgres" if conn_type == "postgresql" else conn_type
    # As Airflow: a host holding an encoded `/` (a path) is taken from the netloc as written.
    host = unquote(parts.hostname or "")
    if "/" in host:
        host = unquote(parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0])
    try:
        port = parts.port
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        extra: dict[str, Any] = (
            json.loads(query.pop("__extra__")) if "__extra__" in query else query
        )
    except ValueError as exc:
        raise ConnectionNotFound(f"{where}: {exc}") from None
    return Connection(
        conn_id=conn_id, conn_type=conn_type, host=host or None,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        port=port, schema=unquote(parts.path[1:]) or None, extra=extra,
    )  # fmt: skip
