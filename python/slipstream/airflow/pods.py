"""`mode="kubernetes"`: the task of one op is a `KubernetesPodOperator` running `slipstream
task` in the op's image; the store URL is passed as `SLIPSTREAM_STORE` and its credentials
come from a Kubernetes secret, never from the DAG file.

This module imports Airflow's Kubernetes provider: only DAG files of that mode import it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s  # type: ignore[import-untyped]

from slipstream.airflow.run_ids import run_id_of
from slipstream.airflow.values import xcom_source
from slipstream.errors import ParamError

if TYPE_CHECKING:
    from slipstream.records.types import FlowSpec, OpSpec


def pod_task(
    spec: FlowSpec,
    op: OpSpec,
    *,
    store: str,
    params: Mapping[str, Any] | None = None,
    run_scope: str | None = None,
    image: str | None = None,
    secret: str = "slipstream-store",
    **kwargs: Any,
) -> KubernetesPodOperator:
    """The pod of one op of `spec`; its image is `@op(image=...)`, else `image` (the
    builder checked that one is there: `builder.check_mode`)."""
    image = op.image or image
    assert image, "checked by builder.check_mode"
    arguments = [
        "--flow", spec.flow, "--version", spec.version, "--op", op.name, "--prefix", op.prefix,
        "--run-id", run_id_of(run_scope, "{{ run_id }}"), "--try-number", "{{ ti.try_number }}",
        "--max-tries", "{{ ti.max_tries }}", "--conf", "{{ dag_run.conf | tojson }}",
        "--airflow-context", CONTEXT_TEMPLATE,
    ]  # fmt: skip
    if params is not None:  # a group's params, each rendered as JSON
        arguments.append("--group-params")
        for name, value in params.items():
            flag = "--param-xcom" if xcom_source(value) else "--param-json"
            arguments += [flag, f"{name}={_json_template(value)}"]
    resources = {k: str(v) for k, v in op.resources.items()} or None
    env = {"SLIPSTREAM_STORE": store}
    if "@" in image:  # an image pinned by digest names it to the task: part of cache keys
        env["SLIPSTREAM_IMAGE_DIGEST"] = image.split("@", 1)[1]
    if op.description:
        kwargs.setdefault("doc", op.description)
    return KubernetesPodOperator(
        task_id=op.name,
        name=f"slipstream-{op.name}".replace("_", "-").lower(),
        image=image,
        cmds=["slipstream", "task"],
        arguments=arguments,
        env_vars=env,
        env_from=[k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name=secret))],
        container_resources=k8s.V1ResourceRequirements(requests=resources, limits=resources),
        get_logs=True,
        **kwargs,
    )


# What `ss.context()` answers in the pod, as JSON rendered by Airflow (a run without a
# logical date has no data interval either: null).
CONTEXT_TEMPLATE = (
    "{% set has = logical_date is defined and logical_date %}"
    '{"logical_date": {{ (logical_date.isoformat() if has else none) | tojson }}, '
    '"data_interval_start": {{ (data_interval_start.isoformat() if has else none) | tojson }}, '
    '"data_interval_end": {{ (data_interval_end.isoformat() if has else none) | tojson }}, '
    '"partition_key": {{ (partition_key if partition_key is defined else none) | tojson }}, '
    '"dag_id": {{ dag.dag_id | tojson }}, "task_id": {{ ti.task_id | tojson }}}'
)


def _json_template(value: Any) -> str:
    """A param's value as a template that renders to its JSON: a template string or an XCom
    through Jinja's `tojson`, any other value as its JSON now."""
    source = xcom_source(value)
    if source is not None:
        task_id, key = source
        return f"{{{{ ti.xcom_pull(task_ids={task_id!r}, key={key!r}) | tojson }}}}"
    if isinstance(value, str) and any(mark in value for mark in ("{{", "{%", "{#")):
        return "{% filter tojson %}" + value + "{% endfilter %}"
    try:
        return json.dumps(value)
    except TypeError:
        raise ParamError(
            f"a param of a group of pods is a {type(value).__name__}: pods take plain JSON "
            "values, templates and XComs"
        ) from None
