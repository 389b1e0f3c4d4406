"""Flows built on other flows' data: `flow.asset(op)` names an output of a flow (its Airflow
Asset, to schedule another flow on), `ss.upstream(flow, op)` takes it as an input.

    churn = ss.Flow("churn", outputs=[predict(...)])
    report = ss.Flow("report", outputs=[summarize(ss.upstream(churn, "predict"))],
                     schedule=[churn.asset("predict")])

In Airflow, `report` runs whenever `churn` writes a new `predict` output, and reads exactly
that artifact (the one the triggering asset event names); `report.run()` reads the output of
`churn`'s newest successful run. See `slipstream.runtime.upstream`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slipstream._native import ArtifactKey, versions_dir
from slipstream.authoring.graph import _NAME, Artifact, Node, OpDefinition, _call_site
from slipstream.errors import FlowDefinitionError
from slipstream.spec.assets import asset_uri, never_called

if TYPE_CHECKING:
    from slipstream.authoring.flow import Flow


@dataclass(frozen=True)
class FlowAsset:
    """One output of one op of a flow, as an Airflow Asset (`slipstream://flow/op/output`):
    pass it to another flow's `schedule=[...]` or to `ss.upstream`."""

    flow: str
    op: str
    output: str

    def __post_init__(self) -> None:
        try:
            versions_dir(self.flow)
            ArtifactKey("x", "x", self.output)
        except ValueError as exc:
            raise FlowDefinitionError(f"{self.flow}/{self.op}/{self.output}: {exc}") from None
        if not _NAME.fullmatch(self.op):
            raise FlowDefinitionError(f"{self.flow}/{self.op}: {self.op!r} is not an op name")

    @property
    def uri(self) -> str:
        return asset_uri(self.flow, self.op, self.output)

    def spec(self) -> dict[str, str]:
        return {"flow": self.flow, "op": self.op, "output": self.output}

    def __repr__(self) -> str:
        return f"<asset {self.uri}>"


def flow_asset(flow: Flow, op: str, output: str | None = None) -> FlowAsset:
    """The Asset of output `output` of op `op` of `flow` (its only output by default)."""
    ops = {n.name: n for n in flow.nodes if n.kind != "upstream"}  # another flow's, not its own
    if op not in ops:
        raise FlowDefinitionError(
            f"flow {flow.name!r} has no op {op!r} (its ops: {', '.join(ops)})"
        )
    outputs = ops[op].definition.outputs
    if output is None:
        if len(outputs) != 1:
            raise FlowDefinitionError(
                f"op {op!r} of flow {flow.name!r} has outputs {', '.join(outputs)}: name one, "
                f"e.g. {flow.name}.asset({op!r}, {outputs[0]!r})"
            )
        output = outputs[0]
    if output not in outputs:
        raise FlowDefinitionError(
            f"op {op!r} of flow {flow.name!r} has no output {output!r} (its outputs: "
            f"{', '.join(outputs)})"
        )
    return FlowAsset(flow.name, op, output)


def upstream(
    flow: Flow | FlowAsset | str,
    op: str | None = None,
    output: str | None = None,
    *,
    name: str | None = None,
) -> Artifact:
    """An output of another flow, as an input of this one: `ss.upstream(churn, "predict")`,
    `ss.upstream(churn.asset("predict"))`, or by name `ss.upstream("churn", "predict")`
    (output `out` unless named). Both flows must share a store. In the flow it is an op of
    kind `upstream` named `name` (default `<flow>-<op>`, `<flow>-<op>-<output>` for an output
    other than `out`), which runs no code; the same output under the same name is one op,
    however often it is asked for."""
    if isinstance(flow, FlowAsset):
        if op is not None or output is not None:
            raise FlowDefinitionError(
                "ss.upstream(asset) takes no op or output: the asset names them"
            )
        source = flow
    elif not isinstance(flow, str) and callable(getattr(flow, "asset", None)):  # a Flow
        if op is None:
            raise FlowDefinitionError(f"ss.upstream({flow.name!r}, ...): name the op to read")
        source = flow.asset(op, output)
    elif isinstance(flow, str) and op is not None:
        source = FlowAsset(flow, op, output or "out")
    else:
        raise FlowDefinitionError(
            f"ss.upstream takes a flow (or its name) and an op, or a flow's asset, not {flow!r}"
        )
    default = f"{source.flow}-{source.op}" + ("" if source.output == "out" else f"-{source.output}")
    name = name or default
    node = _NODES.get((source, name))
    if node is None:
        node = _NODES[(source, name)] = Node(
            UpstreamDefinition(source, name), name, {}, {}, {}, _call_site()
        )
    return Artifact(node, source.output)


# One node per output and name: reading it twice in a flow is one op, as in Airflow.
_NODES: dict[tuple[FlowAsset, str], Node] = {}


class UpstreamDefinition(OpDefinition[..., Any]):
    """What an `upstream` node is: no function, one output of another flow."""

    def __init__(self, source: FlowAsset, name: str) -> None:  # no function to wrap
        if not _NAME.fullmatch(name):
            raise FlowDefinitionError(
                f"ss.upstream: name {name!r} is not valid: use letters, digits, '_' and '-' "
                "(it becomes an Airflow task id); pass name=..."
            )
        self.source = source
        self.fn = never_called
        self.kind = "upstream"
        self.name = name
        self.outputs = (source.output,)
        self.allow_pickle = False
        self.retries = 0
        self.description = f"output {source.output!r} of op {source.op!r} of flow {source.flow!r}"
        self.resources: dict[str, Any] = {}
        self.severity = "error"
        self.image = None
        self.cache = False
        self.publishes = False
        self.convert: dict[str, str] = {}

    def function_spec(self) -> dict[str, Any]:
        """Its `function` entry in the spec: the call that made it, hashed as its code."""
        s = self.source
        call = f"ss.upstream({s.flow!r}, {s.op!r}, {s.output!r})"
        return {
            "module": "slipstream",
            "qualname": "upstream",
            "file": "",
            "line": 0,
            "importable": False,
            "source": call,
            "code_hash": "sha256:" + hashlib.sha256(call.encode()).hexdigest(),
        }

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise FlowDefinitionError(f"{self.name} is another flow's output: pass it, do not call it")

    def named(self, name: str) -> OpDefinition[..., Any]:
        raise FlowDefinitionError(
            f"{self.name} is another flow's output: name it with ss.upstream(..., name={name!r})"
        )
