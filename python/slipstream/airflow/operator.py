"""`SlipstreamOperator`: the task of one op in a generated DAG file, at home in Airflow's UI.

It is a `PythonOperator` running `slipstream.airflow.execute` (the DAG builder makes one per
op with `op_task`; DAG files of older releases construct it themselves, and still work),
plus what Airflow shows of it:

- the extra link "slipstream" to the op's page of the run in the slipstream UI (its base URL
  from Airflow's `[slipstream] ui_url` or `SLIPSTREAM_UI_URL`; no link while neither is set);
- `doc_md`: the op's docstring and where its artifacts live;
- the template field `slipstream_artifacts`: the store folder of this run's artifacts, shown
  rendered on the task instance's "Rendered Templates" tab;
- one Asset per output (`slipstream://<flow>/<op>/<output>`) as its outlets, whose events
  carry the run id, version, rows, bytes, checksum and manifest key (see `execute`).

This module imports Airflow: only DAG files and Airflow's own processes import it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from slipstream._native import run_dir
from slipstream.airflow import execute
from slipstream.airflow.run_ids import run_id_of
from slipstream.runtime.links import op_url, ui_url
from slipstream.spec.assets import asset_uri

if TYPE_CHECKING:
    from slipstream.records.types import FlowSpec, OpSpec

try:  # Airflow 3
    from airflow.sdk import Asset as _Asset
    from airflow.sdk import BaseOperatorLink
except ModuleNotFoundError as missing:  # Airflow 2: datasets, and links from airflow.models
    if missing.name != "airflow.sdk":
        raise
    from airflow.datasets import Dataset as _Asset
    from airflow.models.baseoperatorlink import BaseOperatorLink

try:
    from airflow.providers.standard.operators.python import PythonOperator
except ModuleNotFoundError as missing:  # Airflow 2 without the standard provider
    if not (missing.name or "").startswith("airflow.providers.standard"):
        raise
    from airflow.operators.python import PythonOperator


def asset(flow: str, op: str, output: str) -> Any:
    """The Airflow Asset (a Dataset on Airflow 2) of one output of a flow; named by its URI."""
    return _Asset(asset_uri(flow, op, output))


class SlipstreamLink(BaseOperatorLink):  # type: ignore[misc]
    """The task's op page of this run in the slipstream UI ("" while no UI URL is set:
    Airflow then shows no link rather than a broken one)."""

    name = "slipstream"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        base = ui_url()
        if not base:
            return ""
        # Airflow 2's webserver asks the serialized operator, which keeps `op_kwargs` only.
        kwargs = getattr(operator, "op_kwargs", None) or {}
        flow = getattr(operator, "slipstream_flow", None) or kwargs.get("flow") or ti_key.dag_id
        op = getattr(operator, "slipstream_op", None) or kwargs.get("op") or ti_key.task_id
        scope = getattr(operator, "slipstream_run_scope", None) or kwargs.get("run_scope")
        return op_url(base, flow, run_id_of(scope, ti_key.run_id), op)


class SlipstreamOperator(PythonOperator):  # type: ignore[misc]
    """Runs one op of a published flow version (see the module's docstring)."""

    template_fields: Sequence[str] = (*PythonOperator.template_fields, "slipstream_artifacts")
    operator_extra_links = (SlipstreamLink(),)
    ui_color = "#dbeafe"

    def __init__(
        self,
        *,
        task_id: str,
        store: str,
        flow: str,
        version: str,
        prefix: str,
        outputs: Sequence[str] = (),
        doc: str = "",
        flow_params: Mapping[str, Any] | None = None,
        run_scope: str | None = None,
        notifiers: Sequence[Any] = (),
        **kwargs: Any,
    ) -> None:
        # Its outputs' Assets, after any outlets given by hand (their events are Airflow's).
        outlets = [
            *(kwargs.pop("outlets", None) or []),
            *(asset(flow, task_id, o) for o in outputs),
        ]
        kwargs["outlets"] = outlets
        kwargs.setdefault("doc_md", _doc_md(flow, version, task_id, doc, store, prefix, outputs))
        op_kwargs: dict[str, Any] = {
            "store": store,
            "flow": flow,
            "version": version,
            "op": task_id,
            "prefix": prefix,
        }
        if flow_params is not None:  # a group's: rendered (templates) and pulled (XComs)
            op_kwargs["flow_params"] = dict(flow_params)
        if run_scope is not None:
            op_kwargs["run_scope"] = run_scope
        super().__init__(task_id=task_id, python_callable=execute, op_kwargs=op_kwargs, **kwargs)
        self.slipstream_flow = flow
        self.slipstream_op = task_id
        self.slipstream_run_scope = run_scope
        #: Airflow notifiers called with the alerts of its op (`runtime.alerts`).
        self.slipstream_notifiers = list(notifiers)
        self.slipstream_store = store
        self.slipstream_prefix = prefix
        # Rendered per run (see render_template_fields): the run id is escaped in keys.
        self.slipstream_artifacts = f"{_folder(store)}ops/{prefix}/{{{{ run_id }}}}/"

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)
        run_id = context.get("run_id")
        if run_id:
            where = run_dir(self.slipstream_prefix, run_id_of(self.slipstream_run_scope, run_id))
            self.slipstream_artifacts = f"{_folder(self.slipstream_store)}{where}/"


def op_task(
    spec: FlowSpec,
    op: OpSpec,
    *,
    store: str,
    params: Mapping[str, Any] | None = None,
    run_scope: str | None = None,
    image: str | None = None,
    secret: str = "",
    **kwargs: Any,
) -> SlipstreamOperator:
    """The task of one op of `spec` (`mode="python"`), for the DAG builder."""
    if op.description:
        kwargs.setdefault("doc", op.description)
    return SlipstreamOperator(
        task_id=op.name, store=store, flow=spec.flow, version=spec.version, prefix=op.prefix,
        # another flow's output is that flow's Asset, not this one's
        outputs=op.outputs if op.kind != "upstream" else [],
        flow_params=params, run_scope=run_scope, **kwargs,
    )  # fmt: skip


def _folder(store: str) -> str:
    return store if store.endswith("/") else store + "/"


def _doc_md(
    flow: str, version: str, op: str, doc: str, store: str, prefix: str, outputs: Sequence[str]
) -> str:
    lines = [f"**slipstream** op `{op}` of flow `{flow}`, version `{version}`.", ""]
    if doc:
        lines += [doc, ""]
    lines += [
        f"Its artifacts are stored in `{store}` under `ops/{prefix}/<run id>/`: "
        + (", ".join(f"`{o}`" for o in outputs) or "no outputs")
        + ", with its logs and try records (see *Rendered Templates* for this run's folder).",
    ]
    return "\n".join(lines)
