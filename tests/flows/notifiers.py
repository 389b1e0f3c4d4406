"""An Airflow notifier for the tests: it appends each message to `$ALERTS_FILE` (a Slack or
SMTP notifier would need the network)."""

from __future__ import annotations

import os
from typing import Any

from airflow.sdk import BaseNotifier


class FileNotifier(BaseNotifier):  # type: ignore[misc]
    template_fields = ("message",)

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def notify(self, context: Any) -> None:
        with open(os.environ["ALERTS_FILE"], "a") as out:
            out.write(self.message + "\n")


NOTIFIERS = [FileNotifier("{{ dag.dag_id }}: {{ slipstream_alert.message }}")]
