"""`Flow`: the ops reachable from some outputs, as a versioned, publishable spec.

The spec is plain JSON. Its version id is a hash of everything that defines the flow (ops,
their code, edges, params, constants, options), so publishing an unchanged flow gives the
same version and any change gives a new one. Each op of a version gets a UUID op prefix,
derived from the version, under which its artifacts of every run are stored.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from slipstream._native import Store, version_spec_path, versions_dir
from slipstream.authoring.graph import Artifact, Node, Outcome, Param
from slipstream.authoring.upstream import FlowAsset, UpstreamDefinition, flow_asset
from slipstream.errors import ArtifactNotFound, CorruptArtifact, FlowDefinitionError, FlowWarning
from slipstream.history import retention
from slipstream.history.reader import default_store
from slipstream.history.retention import Retention
from slipstream.records import files
from slipstream.records.types import FlowSpec
from slipstream.spec import code as _code
from slipstream.spec import constants as _constants

if TYPE_CHECKING:
    from slipstream.history.reader import Run
    from slipstream.runtime.alerts import Alert

# Op prefixes are UUIDv5 in this namespace of (flow, version, op): stable per version.
_PREFIX_NAMESPACE = uuid.UUID("6f1c9a52-3b7e-4d0a-9c85-2a41f0e3d7b6")
# Fields of a spec that describe a publication, not the flow; left out of the version hash.
_UNHASHED = ("version", "published_at", "environment")
# Where and how an op's code was loaded, not what it is (its `code_hash` is): a flow
# run as a script, imported, or exec'd from its file is one version.
_WHERE = ("file", "line", "module", "importable", "module_source")
_LIBRARIES = ("slipstream", "pyarrow", "pandas", "polars", "numpy", "pillow")


class Flow:
    """The ops reachable from `outputs`, plus the metrics and checks of their artifacts."""

    def __init__(
        self,
        name: str,
        outputs: Sequence[Artifact | Outcome] | Artifact | Outcome,
        *,
        schedule: str | Sequence[FlowAsset] | None = None,
        description: str = "",
        cache: bool = True,
        retention: Retention | None = None,
    ) -> None:
        try:
            versions_dir(name)
        except ValueError as exc:
            raise FlowDefinitionError(f"flow name: {exc}") from None
        if isinstance(outputs, Artifact | Outcome):
            outputs = [outputs]
        for item in outputs:
            if not isinstance(item, Artifact | Outcome):
                raise FlowDefinitionError(
                    f"flow {name!r}: outputs must be artifacts returned by calling ops, "
                    f"not {item!r}"
                )
        self.name = name
        self.schedule, self.schedule_on = _schedule(name, schedule)
        self.description = description
        self.cache = cache
        if retention is not None and not isinstance(retention, Retention):
            raise FlowDefinitionError(
                f"flow {name!r}: retention must be ss.Retention(keep_last=..., "
                f"older_than_days=...), not {retention!r}"
            )
        self.retention = retention
        self.outputs = list(outputs)
        found = _collect(name, self.outputs)
        _warn_left_out(name, found)
        for node in found:
            node.flows.add(name)
        self.gates = {id(node): _gates(node, found) for node in found}
        self.nodes = _ordered(found, self.gates)
        self.params = _params(name, self.nodes)
        _warn_unscheduled_upstream(name, self.nodes, self.schedule_on)

    def spec(self) -> FlowSpec:
        """The flow as it is published, with its version id and op prefixes."""
        ops = [_op_spec(node, self.gates[id(node)]) for node in self.nodes]
        spec: dict[str, Any] = {
            "flow": self.name,
            "description": self.description,
            "schedule": self.schedule,
            "params": {p.name: p.spec() for p in self.params.values()},
            "ops": ops,
            "outputs": [{"op": a.node.name, "output": a.output} for a in self.outputs],
            **({} if self.cache else {"cache": False}),
            **({"schedule_on": [a.spec() for a in self.schedule_on]} if self.schedule_on else {}),
        }
        # The format goes into the version id: a spec that needs nothing newer keeps format 1
        # and so the id it always had (the Rust core's rule, asked of the spec as it will be).
        unplaced = {"version": "", "environment": {"python": "", "libraries": {}}}
        ops_unplaced = [dict(o, prefix="") for o in ops]
        needed = files.stamped(_published({**spec, **unplaced, "ops": ops_unplaced})).format
        spec = {"format": needed, **spec}
        version = version_id(spec)
        for entry in ops:
            entry["prefix"] = str(
                uuid.uuid5(_PREFIX_NAMESPACE, f"{self.name}/{version}/{entry['name']}")
            )
        spec["version"] = version
        spec["environment"] = _environment()
        return _published(spec)

    def asset(self, op: str, output: str | None = None) -> FlowAsset:
        """The Airflow Asset of an output of this flow (`slipstream://<flow>/<op>/<output>`;
        the op's only output by default): schedule another flow on it
        (`ss.Flow(..., schedule=[flow.asset("predict")])`) or read it there
        (`ss.upstream(flow, "predict")`)."""
        return flow_asset(self, op, output)

    @property
    def version(self) -> str:
        return self.spec().version

    def publish(self, store: Store | str | None = None) -> str:
        """Writes the spec under `flows/<flow>/versions/<version>/` (once: a version is
        immutable) and the flow's retention policy (`flows/<flow>/retention.json`, which
        `slipstream gc` applies), and returns the version id."""
        spec = self.spec()  # first: a flow that cannot be described leaves no trace
        store = _open(store)
        path = version_spec_path(self.name, spec.version)
        try:
            files.read(store, path, FlowSpec)
        except ArtifactNotFound:
            files.write(store, path, spec.replace(published_at=datetime.now(UTC).isoformat()))
        except CorruptArtifact as exc:  # damaged: this flow is its content, so write it again
            print(f"slipstream: {exc}; writing the spec of version {spec.version} again",
                  file=sys.stderr)  # fmt: skip
            files.write(store, path, spec.replace(published_at=datetime.now(UTC).isoformat()))
        retention.declare(store, self.name, spec.version, self.retention)
        return spec.version

    def run(
        self,
        store: Store | str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        cache: bool = True,
        resume: str | None = None,
        overwrite: bool = False,
        context: Mapping[str, Any] | None = None,
        on_alert: Callable[[Alert], Any] | None = None,
    ) -> Run:
        """Publishes this flow and runs the published version here, op by op, through the
        same runtime as an Airflow task; returns the recorded run. An op whose code, inputs,
        arguments and environment match an earlier successful run reuses its outputs unless
        `cache=False`; `resume=<run id>` reuses every output of that run still valid for the
        current code (even of ops that never cache), so only what changed runs again. A
        `run_id` that names an existing run raises `RunIdTaken` unless `overwrite=True`
        (which replaces a finished run, never one still running). `context` sets what
        `ss.context()` answers in the ops (`logical_date`, `data_interval_start`,
        `data_interval_end`, `conf`, `partition_key`, `dag_id`, `task_id`); by default the
        logical date and data interval are the moment the run starts. `on_alert` is called
        with each alert (`runtime.alerts.Alert`: a failed check, a metric outside the bounds
        it declares); without it alerts are logged."""
        from slipstream.runtime.local import run_version

        store = _open(store)
        version = self.publish(store)
        return run_version(
            store,
            self.name,
            version,
            params=params,
            run_id=run_id,
            cache=cache,
            resume=resume,
            overwrite=overwrite,
            context=context,
            on_alert=on_alert,
        )

    def to_airflow(
        self,
        dags_folder: str | Path,
        *,
        store: Store | str | None = None,
        mode: Literal["python", "kubernetes"] = "python",
        schedule: str | None = None,
        retries: int | None = None,
        default_args: Mapping[str, Any] | None = None,
        image: str | None = None,
        secret: str = "slipstream-store",
        shared_store: bool = False,
        gc_schedule: str | None = None,
        notifiers: str | None = None,
    ) -> Path:
        """Publishes this flow to `store` and writes `<flow>.py` and the version's spec
        `<flow>.slipstream.json` into `dags_folder`: an Airflow DAG whose tasks run the ops
        of the published version (`mode="python"`:
        `PythonOperator`s calling the installed slipstream; `mode="kubernetes"`:
        `KubernetesPodOperator`s running `image`, store credentials from the Kubernetes
        secret `secret`). Returns the path of the DAG file.

        Warns (`FlowWarning`) of what would fail only once tasks run: an op's module that
        tasks cannot import, a `file://` store with pods (unless `shared_store=True`: the
        folder is a volume mounted into every pod).

        With `gc_schedule` (e.g. `"@daily"`), also writes `slipstream_gc.py`: a DAG that
        applies every flow's declared retention policy to the store on that schedule.
        `notifiers="module:NAME"` names a list of Airflow notifiers the tasks call with
        alerts (a failed check, a metric outside its bounds)."""
        from slipstream.airflow.builder import check_schedule_mode
        from slipstream.airflow.checks import deployment_warnings
        from slipstream.airflow.compile import write_dag
        from slipstream.records.files import load_spec

        if schedule is None:  # refused before anything is published
            check_schedule_mode(self.name, self.schedule_on, mode)
        if notifiers is not None and mode != "python":
            raise FlowDefinitionError(
                f"flow {self.name!r}: notifiers need mode='python' (a pod cannot call them)"
            )
        store = _open(store)
        spec = load_spec(store, self.name, self.publish(store))
        for message in deployment_warnings(spec, Path(dags_folder), store=store.url, mode=mode,
                                           shared_store=shared_store):  # fmt: skip
            warnings.warn(f"flow {self.name!r}: {message}", FlowWarning, stacklevel=2)
        if gc_schedule is not None:
            from slipstream.airflow.maintenance import write_gc_dag

            write_gc_dag(dags_folder, store.url, gc_schedule)
        return write_dag(
            spec, dags_folder, store=store.url, mode=mode, schedule=schedule, retries=retries,
            default_args=default_args, image=image, secret=secret, notifiers=notifiers,
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"<Flow {self.name}: {len(self.nodes)} ops>"


def _published(spec: Mapping[str, Any]) -> FlowSpec:
    """The spec built as plain JSON (what the version id is the hash of), as its record."""
    return msgspec.convert({"published_at": None, **spec}, FlowSpec)


def version_id(spec: Mapping[str, Any]) -> str:
    """Hash of what defines a flow; the same content always gives the same id. Where the
    code sits (file paths, line numbers) is recorded but not hashed, so that the same flow
    published from two checkouts is one version."""
    content = {k: v for k, v in spec.items() if k not in _UNHASHED}
    content["ops"] = [
        {
            **{k: v for k, v in op.items() if k not in ("prefix", "defined_at")},
            "function": {k: v for k, v in op["function"].items() if k not in _WHERE},
        }
        for op in spec["ops"]
    ]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _open(store: Store | str | None) -> Store:
    if isinstance(store, Store):
        return store
    return Store(store or default_store())


def _collect(flow: str, outputs: Iterable[Artifact | Outcome]) -> list[Node]:
    """Nodes reachable from the outputs, then the metrics, checks and publishes observing
    them (a publish only if no other flow took it along already)."""
    found: dict[int, Node] = {}
    for item in outputs:
        for node in _ancestors(item.node) | {item.node}:
            found[id(node)] = node
    for node in list(found.values()):
        for observer in node.observers:
            claimed = observer.kind == "op" and bool(observer.flows - {flow})
            if not claimed and all(id(up) in found for up in observer.upstream()):
                found[id(observer)] = observer
    nodes = sorted(found.values(), key=lambda n: n.seq)
    names: dict[str, Node] = {}
    for node in nodes:
        if node.name in names:
            other = names[node.name]
            how = (
                f"ss.upstream(..., name='{node.name}_2')"
                if node.kind == "upstream" or other.kind == "upstream"
                else f"{node.definition.fn.__name__}.named('{node.name}_2')(...)"
            )
            raise FlowDefinitionError(
                f"two ops are named {node.name!r} (called at {other.where} and at "
                f"{node.where}); give one another name: {how}"
            )
        names[node.name] = node
    return nodes


def _warn_left_out(flow: str, nodes: list[Node]) -> None:
    """Warns (once per flow) about ops built from the flow's artifacts that the flow leaves
    out: not reachable from its outputs, and not a metric, check or publish of them."""
    included = {id(n) for n in nodes}
    # Ops of other flows built on the same artifacts are theirs, not left out; so is what is
    # built on another flow's output (`ss.upstream`, one node wherever it is read).
    left_out = {
        id(c): c
        for n in nodes
        if n.kind != "upstream"
        for c in n.consumers
        if id(c) not in included and not c.flows
    }.values()
    if left_out:
        names = ", ".join(f"{c.name} (called at {c.where})" for c in left_out)
        warnings.warn(
            f"flow {flow!r} leaves out ops built from its artifacts: {names}; add them (or "
            "what they lead to) to its outputs to run them with the flow",
            FlowWarning,
            stacklevel=3,
        )


def _warn_unscheduled_upstream(flow: str, nodes: list[Node], on: list[FlowAsset]) -> None:
    """Warns when a flow scheduled on assets reads another flow's output it is not scheduled
    on: its asset-triggered runs carry no event naming that output."""
    if not on:
        return
    unscheduled = [
        n.definition.source.uri
        for n in nodes
        if isinstance(n.definition, UpstreamDefinition) and n.definition.source not in on
    ]
    if unscheduled:
        warnings.warn(
            f"flow {flow!r} reads {', '.join(unscheduled)} but is scheduled on "
            f"{', '.join(a.uri for a in on)} only: its runs read the newest successful run's "
            "output of those, not one an event names",
            FlowWarning,
            stacklevel=3,
        )


def _gates(node: Node, nodes: list[Node]) -> list[Node]:
    """`error` checks that must pass before `node` runs: those checking an artifact it
    consumes, unless the check itself depends on `node` (it then runs after it)."""
    if node.kind == "check":
        return []
    consumed = {(id(a.node), a.output) for a in node.inputs.values()}
    gates = []
    for check in nodes:
        if check.kind != "check" or check.definition.severity != "error":
            continue
        checked = {(id(a.node), a.output) for a in check.inputs.values()}
        if consumed & checked and node not in _ancestors(check):
            gates.append(check)
    return gates


def _ordered(nodes: list[Node], gates: Mapping[int, list[Node]]) -> list[Node]:
    """Nodes in dependency order (data edges and check gates), ties in definition order."""
    ordered: list[Node] = []
    placed: set[int] = set()
    pending = nodes
    while pending:
        ready = [
            n for n in pending if all(id(up) in placed for up in [*n.upstream(), *gates[id(n)]])
        ]
        # Gates never point at descendants and inputs are defined first: always progress.
        assert ready, "the flow graph has a cycle"
        ordered += ready
        placed |= {id(n) for n in ready}
        pending = [n for n in pending if id(n) not in placed]
    return ordered


def _ancestors(node: Node) -> set[Node]:
    seen: dict[int, Node] = {}
    stack = node.upstream()
    while stack:
        current = stack.pop()
        if id(current) not in seen:
            seen[id(current)] = current
            stack += current.upstream()
    return set(seen.values())


def _params(flow: str, nodes: list[Node]) -> dict[str, Param]:
    params: dict[str, Param] = {}
    for node in nodes:
        for p in [*node.params.values(), *node.nested_params]:
            known = params.setdefault(p.name, p)
            if known is not p and known.spec() != p.spec():
                raise FlowDefinitionError(
                    f"flow {flow!r}: param {p.name!r} is defined twice with different "
                    f"defaults or descriptions ({known!r} and {p!r}); define it once and "
                    "pass the same object to every op"
                )
    return params


def _schedule(
    name: str, schedule: str | Sequence[FlowAsset] | None
) -> tuple[str | None, list[FlowAsset]]:
    """A cron-like schedule, or the other flows' outputs whose new data starts a run."""
    if schedule is None or isinstance(schedule, str):
        return schedule, []
    assets: list[FlowAsset] = []
    for item in schedule if isinstance(schedule, Sequence) else [schedule]:
        if not isinstance(item, FlowAsset):
            raise FlowDefinitionError(
                f'flow {name!r}: schedule is a cron line ("@daily") or a list of other flows\' '
                f'outputs (schedule=[churn.asset("predict")]), not {item!r}'
            )
        if item.flow == name:
            raise FlowDefinitionError(
                f"flow {name!r} cannot be scheduled on its own output {item.uri}"
            )
        assets.append(item)
    if not assets:
        raise FlowDefinitionError(f"flow {name!r}: schedule=[] names no asset; use None")
    return None, assets


def _op_spec(node: Node, gates: list[Node]) -> dict[str, Any]:
    d = node.definition
    upstream = [n.name for n in node.upstream()]
    source, function = None, None
    if isinstance(d, UpstreamDefinition):  # another flow's output: no code of its own
        source, function = d.source.spec(), d.function_spec()
    return {
        "name": node.name,
        "kind": d.kind,
        "severity": d.severity if d.kind == "check" else None,
        "description": d.description,
        "function": function or _code.describe(d.fn, node.name),
        "inputs": {arg: {"op": a.node.name, "output": a.output} for arg, a in node.inputs.items()},
        "params": {arg: p.name for arg, p in node.params.items()},
        "constants": {
            arg: _constants.encode(v, arg, ref=_param_name) for arg, v in node.constants.items()
        },
        "convert": {arg: flavor for arg, flavor in d.convert.items() if arg in node.inputs},
        "outputs": list(d.outputs),
        "upstream": sorted(set(upstream) | {g.name for g in gates}),
        "allow_pickle": d.allow_pickle,
        "retries": d.retries,
        "resources": d.resources,
        "image": d.image,
        "defined_at": node.where,
        # Written only when off, so that versions published before caching keep their ids.
        **({} if d.cache else {"cache": False}),
        **({"source": source} if source else {}),
        **({"code_version": d.code_version} if getattr(d, "code_version", None) else {}),
        **({"alert": d.alert} if getattr(d, "alert", None) else {}),
    }


def _param_name(value: Any) -> str | None:
    return value.name if isinstance(value, Param) else None


def _environment() -> dict[str, Any]:
    from importlib import metadata

    versions = {}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"python": platform.python_version(), "libraries": versions}
