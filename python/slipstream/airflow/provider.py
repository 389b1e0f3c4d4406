"""slipstream as an Airflow provider: the `apache_airflow_provider` entry point, so that
`airflow providers list` shows it, with its extra link and its plugin (registered by its own
`airflow.plugins` entry point: plugins named here load only when Airflow discovers providers
eagerly)."""

from __future__ import annotations

from typing import Any

from slipstream import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "slipstream",
        "name": "slipstream",
        "description": (
            "A data-aware runtime for Apache Airflow: typed artifacts between tasks, stored in "
            "S3 or a local folder, with a UI of every run."
        ),
        "versions": [__version__],
        "extra-links": ["slipstream.airflow.operator.SlipstreamLink"],
        "asset-uris": [{"schemes": ["slipstream"], "handler": None}],
        "config": {
            "slipstream": {
                "description": "Where Airflow's UI finds slipstream's.",
                "options": {
                    "ui_url": {
                        "description": (
                            "Base URL of the slipstream UI (`slipstream ui`), for the "
                            "'slipstream' extra link of every task and the slipstream views "
                            "of DAG runs and task instances. Unset: no link, no view. "
                            "SLIPSTREAM_UI_URL is read when this is not set."
                        ),
                        "version_added": None,
                        "type": "string",
                        "example": "http://slipstream.example.com:8765",
                        "default": "",
                    }
                },
            }
        },
    }
