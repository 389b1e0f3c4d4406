"""Alerts: a check that failed (an error or a warning) and a metric outside the bounds it
declares (`@ss.metric(alert_below=..., alert_above=...)`), said to whoever should know.

In Airflow the flow's tasks call Airflow's notifiers (`BaseNotifier`: the Slack, SMTP and
other provider notifiers), given to `task_group(..., notifiers=[...])` or
`to_airflow(notifiers="module:NAME")`, with the task's context plus `slipstream_alert`
(an `Alert`), so that a notifier's template can say `{{ slipstream_alert.message }}`.
Locally `flow.run(..., on_alert=callback)` calls `callback(alert)`. Either way the message
links to the op's page of the run in the slipstream UI when its URL is known
(`SLIPSTREAM_UI_URL`, or Airflow's `[slipstream] ui_url`).
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from slipstream.records.types import FlowSpec, OpSpec, TryRecord

_log = logging.getLogger("slipstream")


@dataclass(frozen=True)
class Alert:
    """What went wrong, where, and a link to see it."""

    flow: str
    run_id: str
    op: str
    kind: Literal["check", "metric"]
    #: The one-line message, link included.
    message: str
    #: The op's page of the run in the slipstream UI ("" while no UI URL is set).
    url: str = ""
    #: A check's severity (`error`, `warning`); None for a metric.
    severity: str | None = None
    #: A metric's value, and the bound it crossed.
    value: float | None = None
    bound: float | None = None

    def __str__(self) -> str:
        return self.message


def of(spec: FlowSpec, op: OpSpec, record: TryRecord, run_id: str) -> Alert | None:
    """The alert one try of `op` raises, if any."""
    from slipstream.runtime.links import op_url, ui_url

    base = ui_url()
    url = op_url(base, spec.flow, run_id, op.name) if base else ""
    where = f"in run {run_id} of flow {spec.flow!r}"
    check, metric = record.check, record.metric
    if check is not None and not check.passed:
        message = (f"check {op.name!r} ({check.severity}) failed {where}: {check.failed} of "
                   f"{check.total} values false")  # fmt: skip
        return _alert(spec, op, run_id, "check", message, url, severity=check.severity)
    alert = op.alert
    if alert is None or metric is None:
        return None
    value = float(metric)
    if math.isnan(value):
        message = f"metric {op.name!r} is NaN {where}: no value to hold to its alert bounds"
        return _alert(spec, op, run_id, "metric", message, url, value=value)
    if alert.below is not None and value < alert.below:
        crossed, bound = "below", alert.below
    elif alert.above is not None and value > alert.above:
        crossed, bound = "above", alert.above
    else:
        return None
    message = f"metric {op.name!r} is {value:g} {where}, {crossed} its alert bound {bound:g}"
    return _alert(spec, op, run_id, "metric", message, url, value=value, bound=bound)


def _alert(spec: FlowSpec, op: OpSpec, run_id: str, kind: Literal["check", "metric"],
           message: str, url: str, **extra: Any) -> Alert:  # fmt: skip
    text = f"slipstream: {message}" + (f" — {url}" if url else "")
    return Alert(spec.flow, run_id, op.name, kind, text, url, **extra)


def notify(notifiers: Iterable[Any], alert: Alert, context: Mapping[str, Any]) -> None:
    """Calls each of Airflow's notifiers with the task's `context` and the alert. A notifier
    that fails is logged; the task goes on as the op decided."""
    for notifier in notifiers:
        try:  # a copy: a notifier renders its template fields in place
            copy.deepcopy(notifier)({**context, "slipstream_alert": alert})
        except Exception:  # noqa: BLE001 — a failed notification must not change the task
            _log.exception("slipstream: notifier %r failed to send: %s", notifier, alert)


def call(callback: Callable[[Alert], Any] | None, alert: Alert | None) -> None:
    """Calls `callback` with `alert` (a callback that raises is logged: the run goes on).
    Without a callback a metric's alert is logged (a failed check is said already: in the
    task log, and in a local run's summary)."""
    if alert is None:
        return
    if callback is not None:
        try:
            callback(alert)
        except Exception:  # noqa: BLE001 — an alert that cannot be sent ends nothing
            _log.exception("slipstream: on_alert failed on: %s", alert.message)
    elif alert.kind == "metric":
        _log.warning("%s", alert.message)
