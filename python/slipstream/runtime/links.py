"""Where the slipstream UI is, as Airflow's processes and local runs see it: the base of the
extra link of every task (computed by the worker when the task ends, on Airflow 3), of the
plugin's views (read by the API server when it starts) and of the links in alerts. Imports
nothing of Airflow's operators."""

from __future__ import annotations

import logging
import os
import urllib.parse

#: The environment variable naming the slipstream UI, when Airflow's config does not.
UI_URL_ENV = "SLIPSTREAM_UI_URL"

_log = logging.getLogger("slipstream")


def ui_url() -> str:
    """The slipstream UI's base URL: Airflow's `[slipstream] ui_url` (or its environment form
    `AIRFLOW__SLIPSTREAM__UI_URL`), else `SLIPSTREAM_UI_URL`; "" when neither is set, or when
    it is not an http(s) URL (logged: a relative link would open Airflow in its own frame)."""
    value = ""
    try:
        from airflow.configuration import conf

        value = conf.get("slipstream", "ui_url", fallback="") or ""
    except ImportError:  # a process without Airflow's core: the environment only
        pass
    value = (value or os.environ.get(UI_URL_ENV, "")).strip().rstrip("/")
    parts = urllib.parse.urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc):
        _log.warning("slipstream ui_url %r is not an http(s) URL: no links to the UI", value)
        return ""
    return value


def op_url(base: str, flow: str, run_id: str, op: str | None = None) -> str:
    """The slipstream UI's page of a run, or of one op in it."""
    quote = urllib.parse.quote
    url = f"{base}/flows/{quote(flow, safe='')}/runs/{quote(run_id, safe='')}"
    return f"{url}/ops/{quote(op, safe='')}" if op else url
