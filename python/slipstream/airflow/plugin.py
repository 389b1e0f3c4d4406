"""The Airflow plugin (entry point `airflow.plugins`): a "slipstream" tab on every DAG run
and task instance page of Airflow 3's UI, showing the slipstream UI's page of that run or
op in a frame.

Airflow fills in `{DAG_ID}`, `{RUN_ID}` and `{TASK_ID}`; the slipstream UI's `/airflow/...`
routes send the frame on to the flow of that DAG (the DAG id `to_airflow` writes is the
flow's name). The slipstream UI must let Airflow's origin frame it (`slipstream ui
--frame-ancestors <Airflow's URL>`); each side keeps its own authentication. No view is
added while no UI URL is configured (`[slipstream] ui_url` or `SLIPSTREAM_UI_URL`).
Airflow 2 has no external views: the plugin adds nothing there (the extra link remains).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from slipstream.runtime.links import ui_url


def external_views(base: str) -> list[dict[str, Any]]:
    """The views of the slipstream UI at `base` ([] without one)."""
    if not base:
        return []
    return [
        {
            "name": "slipstream",
            "href": f"{base}/airflow/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "slipstream-run",
        },
        {
            "name": "slipstream",
            "href": f"{base}/airflow/{{DAG_ID}}/{{RUN_ID}}/{{TASK_ID}}",
            "destination": "task_instance",
            "url_route": "slipstream-op",
        },
    ]


class SlipstreamPlugin(AirflowPlugin):  # type: ignore[misc]
    name = "slipstream"
    external_views = external_views(ui_url())
