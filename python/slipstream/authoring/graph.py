"""Building a flow: `@op`, `@metric`, `@check` and `param`.

Calling a decorated function does not run it. It records a node (the function, and for each
parameter an artifact, a param or a constant) and returns a handle to what the node will
produce. A `Flow` later collects the nodes reachable from its outputs.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, ParamSpec, TypeVar, overload

from slipstream._native import ArtifactKey
from slipstream.errors import FlowDefinitionError
from slipstream.runtime.calling import inside_op
from slipstream.spec import code as _code
from slipstream.spec import constants as _constants

Kind = Literal["op", "metric", "check", "upstream"]
Severity = Literal["error", "warning"]

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,99}")  # matched whole: fullmatch
_NAME_MAX = 100


def _name_problem(name: str) -> str:
    """Why `name` cannot name an op or a param (it must fit `_NAME`)."""
    if len(name) > _NAME_MAX:
        return f"is {len(name)} characters long; at most {_NAME_MAX} are allowed"
    return "is not valid: use letters, digits, '_' and '-', not starting with '-'"


def _shown(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:60] + "…")


# The slipstream package (this module is one level below it): its frames are not the user's.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_sequence = itertools.count()
_REQUIRED: Any = object()

P = ParamSpec("P")
R = TypeVar("R")

# Type hints on a parameter that ask for a frame of one library.
_FRAME_HINTS = {
    "pandas.core.frame.DataFrame": "pandas",
    "pandas.DataFrame": "pandas",
    "pd.DataFrame": "pandas",
    "polars.dataframe.frame.DataFrame": "polars",
    "polars.DataFrame": "polars",
    "pl.DataFrame": "polars",
    "pyarrow.lib.Table": "pyarrow",
    "pyarrow.Table": "pyarrow",
    "pa.Table": "pyarrow",
    # lazy: a scan of the stored Parquet (see slipstream.runtime.lazy)
    "polars.lazyframe.frame.LazyFrame": "polars-lazy",
    "polars.LazyFrame": "polars-lazy",
    "pl.LazyFrame": "polars-lazy",
    "pyarrow._dataset.Dataset": "arrow-dataset",
    "pyarrow._dataset.FileSystemDataset": "arrow-dataset",
    "pyarrow.dataset.Dataset": "arrow-dataset",
    "ds.Dataset": "arrow-dataset",
    "pyarrow.lib.RecordBatchReader": "arrow-reader",
    "pyarrow.RecordBatchReader": "arrow-reader",
    "pa.RecordBatchReader": "arrow-reader",
}


@dataclass(frozen=True, eq=False)
class Param:
    """A named value that each run may override; pass it to ops like an argument."""

    name: str
    default: Any = _REQUIRED
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED

    def spec(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"description": self.description, "required": self.required}
        if not self.required:
            entry["default"] = _constants.encode(
                self.default, f"the default of param {self.name!r}"
            )
        return entry

    def __repr__(self) -> str:
        default = "" if self.required else f", default={self.default!r}"
        return f"param({self.name!r}{default})"


def param(name: str, default: Any = _REQUIRED, *, description: str = "") -> Param:
    """A named value of the flow, e.g. `ss.param("threshold", default=0.5)`; every run may
    override it (`flow.run(params={...})`, or the trigger form / `dag_run.conf` in Airflow).
    Without a default, every run must supply it."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        problem = _name_problem(name) if isinstance(name, str) else "is not a string"
        raise FlowDefinitionError(f"param name {_shown(str(name))} {problem}")
    result = Param(name, default, description)
    try:
        result.spec()
    except _constants.UnsupportedConstant as exc:
        raise FlowDefinitionError(
            f"the default of param {name!r} is a {exc}, which a flow spec cannot hold: "
            "use None, bool, int, float, str, bytes, or lists, tuples and dicts of them"
        ) from None
    return result


@dataclass(frozen=True, eq=False)
class Artifact:
    """What one op will produce in each run: pass it to other ops, list it in a flow's
    outputs, or index a run with it (`run[artifact]`) to load the value."""

    node: Node
    output: str

    def __repr__(self) -> str:
        return f"<artifact {self.node.name}.{self.output} from {self.node.where}>"


@dataclass(frozen=True, eq=False)
class Outcome:
    """The recorded result of a metric or a check. It is not data: it cannot be passed to
    ops, but a flow records it in every run (`run.metrics`, `run.checks`)."""

    node: Node
    output: str = "out"

    def __repr__(self) -> str:
        return f"<{self.node.kind} {self.node.name} from {self.node.where}>"


@dataclass(eq=False)
class Node:
    """One call of a decorated function inside a flow definition."""

    definition: OpDefinition[..., Any]
    name: str
    inputs: dict[str, Artifact]
    params: dict[str, Param]
    constants: dict[str, Any]
    where: str
    # Params inside constants (`params=[ss.param("day")]`), filled in per run.
    nested_params: list[Param] = field(default_factory=list)
    seq: int = field(default_factory=lambda: next(_sequence))
    # Metrics, checks and publishes that consume this node's outputs, so that a flow built
    # from its artifacts takes them along.
    observers: list[Node] = field(default_factory=list)
    # Every node consuming this node's outputs, so that a flow can say which it left out.
    consumers: list[Node] = field(default_factory=list)
    # The flows built with this node: a publish that one flow took along is not another's.
    flows: set[str] = field(default_factory=set)

    @property
    def kind(self) -> Kind:
        return self.definition.kind

    def upstream(self) -> list[Node]:
        return list({id(a.node): a.node for a in self.inputs.values()}.values())


class OpDefinition(Generic[P, R]):
    """A decorated function. Calling it inside a flow definition records a node and returns
    handles; `.local(...)` calls the plain function."""

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        kind: Kind,
        name: str | None = None,
        outputs: tuple[str, ...] = ("out",),
        allow_pickle: bool = False,
        retries: int = 0,
        description: str | None = None,
        resources: Mapping[str, Any] | None = None,
        severity: Severity = "error",
        image: str | None = None,
        cache: bool = True,
        code_version: str | None = None,
        alert: Mapping[str, float] | None = None,
    ) -> None:
        if not callable(fn) or isinstance(fn, OpDefinition):
            raise FlowDefinitionError(f"@{kind} decorates a plain function, not {fn!r}")
        _refuse_unstorable(fn, kind, name)
        self.fn = fn
        self.kind: Kind = kind
        self.name = fn.__name__ if name is None else name
        self.outputs = tuple(outputs)
        self.allow_pickle = allow_pickle
        self.retries = retries
        self.description = description if description is not None else _doc_summary(fn)
        self.resources = dict(resources or {})
        self.severity: Severity = severity
        self.image = image
        self.cache = cache
        if code_version is not None and (not isinstance(code_version, str) or not code_version):
            raise FlowDefinitionError(
                f"@{kind} {self.name!r}: code_version is a non-empty string that you change "
                f"whenever the op's results would change, not {code_version!r}"
            )
        self.code_version = code_version
        #: A metric's alert bounds (`below`, `above`), as the spec records them.
        self.alert = {k: float(v) for k, v in (alert or {}).items() if v is not None} or None
        #: A publish (`ss.save`) writes frames out: a pickled input fails it by itself.
        self.publishes = False
        self.signature = inspect.signature(fn)
        self.convert = _frame_conversions(fn)
        self._validate()
        functools.update_wrapper(self, fn)

    def _validate(self) -> None:
        what = f"@{self.kind} {_shown(self.name)} ({_defined_at(self.fn)})"
        if not _NAME.fullmatch(self.name):
            raise FlowDefinitionError(
                f"{what}: the name {_name_problem(self.name)} (it becomes an Airflow task id)"
            )
        if not self.outputs or len(set(self.outputs)) != len(self.outputs):
            raise FlowDefinitionError(f"{what}: outputs must be distinct names, got {self.outputs}")
        if self.kind != "op" and self.outputs != ("out",):
            raise FlowDefinitionError(f"{what}: a {self.kind} has exactly one result")
        for output in self.outputs:
            try:
                ArtifactKey("x", "x", output)
            except ValueError as exc:
                raise FlowDefinitionError(f"{what}: {exc}") from None
        if self.severity not in ("error", "warning"):
            raise FlowDefinitionError(
                f"{what}: severity must be 'error' or 'warning', not {self.severity!r}"
            )
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise FlowDefinitionError(f"{what}: retries must be an int >= 0")
        if self.alert and self.alert.get("below", -math.inf) > self.alert.get("above", math.inf):
            raise FlowDefinitionError(
                f"{what}: alert_below={self.alert['below']} is above "
                f"alert_above={self.alert['above']}: no value could pass"
            )
        for p in self.signature.parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
                raise FlowDefinitionError(
                    f"{what}: parameter {p} is not supported; ops take named parameters "
                    "(no *args, **kwargs or positional-only parameters)"
                )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if inside_op():  # another op's function calls this one: a plain call, as captured
            return self.fn(*args, **kwargs)
        where = _call_site()
        what = f"{self.name}() at {where}"
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise FlowDefinitionError(
                f"{what}: {exc}; the function is {self.name}{self.signature}"
            ) from None
        inputs: dict[str, Artifact] = {}
        params: dict[str, Param] = {}
        nested: list[Param] = []
        constants: dict[str, Any] = {}
        for arg, value in bound.arguments.items():
            if isinstance(value, Artifact):
                producer = value.node.definition
                if producer.allow_pickle and not self.allow_pickle and not self.publishes:
                    raise FlowDefinitionError(
                        f"{what}: argument {arg!r} is {value.node.name}.{value.output}, whose op "
                        "may store pickles (allow_pickle=True), but this op does not read "
                        f"them; pass allow_pickle=True to {self.name} too, or return a type "
                        f"with a codec from {value.node.name}"
                    )
                inputs[arg] = value
            elif isinstance(value, Param):
                params[arg] = value
            elif isinstance(value, Outcome):
                raise FlowDefinitionError(
                    f"{what}: argument {arg!r} is the result of {value.node.kind} "
                    f"{value.node.name!r}; metric and check results are recorded per run, "
                    "not passed on as data. Pass the artifact it looks at instead"
                )
            elif isinstance(value, OpDefinition):
                raise FlowDefinitionError(
                    f"{what}: argument {arg!r} is the op {value.name!r} itself; call it to get "
                    f"its artifact: {value.name}(...)"
                )
            else:
                constants[arg] = _checked_constant(what, arg, value, nested)
        node = Node(self, self.name, inputs, params, constants, where, nested_params=nested)
        for upstream in node.upstream():
            upstream.consumers.append(node)
        if self.kind != "op":
            for upstream in node.upstream():
                upstream.observers.append(node)
            return Outcome(node)
        handles = tuple(Artifact(node, output) for output in self.outputs)
        return handles[0] if len(handles) == 1 else handles

    def local(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Calls the function itself on real values, for quick experiments."""
        return self.fn(*args, **kwargs)

    def named(self, name: str) -> OpDefinition[P, R]:
        """The same function under another name, to use it twice in one flow:
        `featurize.named("featurize_test")(test_rows)`."""
        return OpDefinition(
            self.fn,
            kind=self.kind,
            name=name,
            outputs=self.outputs,
            allow_pickle=self.allow_pickle,
            retries=self.retries,
            description=self.description,
            resources=self.resources,
            severity=self.severity,
            image=self.image,
            cache=self.cache,
            code_version=self.code_version,
            alert=self.alert,
        )

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name} ({_defined_at(self.fn)})>"


def _checked_constant(what: str, arg: str, value: Any, nested: list[Param]) -> Any:
    def ref(item: Any) -> str | None:
        if isinstance(item, Param):
            nested.append(item)
            return item.name
        return None

    try:
        _constants.encode(value, arg, ref=ref)
    except _constants.UnsupportedConstant as exc:
        inner = exc.value
        if isinstance(inner, Artifact | Outcome):
            hint = f"{inner!r} sits inside a container; pass each artifact as its own argument"
        else:
            hint = (
                "constants are written into the flow spec, so they must be None, bool, int, "
                "float, str, bytes, or lists, tuples and dicts of them; produce data with an "
                "op (or load it inside one) and pass the artifact instead. Calling an op "
                "records a step of a flow; to call the function itself on data, use "
                f"{what.split('(')[0]}.local(...)"
            )
        raise FlowDefinitionError(f"{what}: argument {arg!r} is a {exc}: {hint}") from None
    return value


def _refuse_unstorable(fn: Callable[..., Any], kind: Kind, name: str | None) -> None:
    """Functions whose code cannot be stored and loaded again by name where tasks run."""
    where = _defined_at(getattr(fn, "__func__", fn))
    if inspect.ismethod(fn):
        raise FlowDefinitionError(
            f"@{kind} {name or fn.__name__!r} ({where}) is a method bound to "
            f"{type(fn.__self__).__name__} object; a task cannot rebuild the object it is "
            "bound to. Make it a module-level function (or a @staticmethod) and pass what it "
            "needs from the object as arguments"
        )
    if getattr(fn, "__name__", "") == "<lambda>":
        raise FlowDefinitionError(
            f"@{kind} {name or '<lambda>'!r} ({where}) is a lambda; slipstream stores the code "
            "of every op, and a lambda's source is part of another statement. Define it with "
            f"def: `@ss.{kind}\ndef {name or 'my_op'}(...): ...`"
        )
    if not inspect.isfunction(fn):
        raise FlowDefinitionError(
            f"@{kind} decorates a function defined with def, not {type(fn).__name__} {fn!r}"
        )
    if fn.__code__.co_filename == "<string>":
        _code.source_of(fn)  # raises why its source cannot be stored, and what to do


def _frame_conversions(fn: Callable[..., Any]) -> dict[str, str]:
    """Parameters hinted as a pandas, polars or pyarrow frame: inputs are converted to it."""
    try:
        hints = {
            name: p.annotation
            for name, p in inspect.signature(fn, eval_str=True).parameters.items()
        }
    except Exception:  # noqa: BLE001 — hints that do not evaluate here: use their text
        hints = {name: p.annotation for name, p in inspect.signature(fn).parameters.items()}
    convert = {}
    for name, hint in hints.items():
        text = hint if isinstance(hint, str) else f"{hint.__module__}.{hint.__qualname__}"
        if isinstance(hint, str | type) and text in _FRAME_HINTS:
            convert[name] = _FRAME_HINTS[text]
    return convert


def _doc_summary(fn: Callable[..., Any]) -> str:
    doc = inspect.getdoc(fn) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


def _defined_at(fn: Callable[..., Any]) -> str:
    code = getattr(fn, "__code__", None)
    if code is None:
        return "?"
    return f"{_short_path(code.co_filename)}:{code.co_firstlineno}"


def _call_site() -> str:
    """`file:line` of the first frame outside slipstream: where the user called the op."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_DIR + os.sep
    ):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "?"
    return f"{_short_path(frame.f_code.co_filename)}:{frame.f_lineno}"


def _short_path(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


# The decorators. Each works bare (`@ss.op`) and with options (`@ss.op(retries=2)`).


def _decorate(fn: Callable[..., Any] | None, **options: Any) -> Any:
    """The definition of `fn` when used bare, else the decorator that makes it."""

    def wrap(f: Callable[..., Any]) -> OpDefinition[..., Any]:
        return OpDefinition(f, **options)

    return wrap(fn) if fn is not None else wrap


@overload
def op(fn: Callable[P, R], /) -> OpDefinition[P, R]: ...
@overload
def op(
    *,
    name: str | None = None,
    outputs: tuple[str, ...] | list[str] = ("out",),
    allow_pickle: bool = False,
    retries: int = 0,
    description: str | None = None,
    resources: Mapping[str, Any] | None = None,
    image: str | None = None,
    cache: bool = True,
    code_version: str | None = None,
) -> Callable[[Callable[P, R]], OpDefinition[P, R]]: ...
def op(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    outputs: tuple[str, ...] | list[str] = ("out",),
    allow_pickle: bool = False,
    retries: int = 0,
    description: str | None = None,
    resources: Mapping[str, Any] | None = None,
    image: str | None = None,
    cache: bool = True,
    code_version: str | None = None,
) -> Any:
    """Marks a function as an op: a step of a flow whose return values are stored.

    `outputs` names several return values (the function then returns a tuple);
    `allow_pickle` lets values without a codec be pickled; `retries`, `resources`
    (`{"cpu": "1", "memory": "2Gi"}`) and `image` (the container image of its pod) are used
    by the Airflow targets. `cache=False` makes it run every time, even when its code, inputs
    and arguments match an earlier run (for ops that read or write the world outside).
    The cache key covers the op's code and the user modules it imports; `code_version="..."`
    replaces both with a version you bump yourself (a result never changes without it).
    """

    return _decorate(
        fn, kind="op", name=name, outputs=tuple(outputs), allow_pickle=allow_pickle,
        retries=retries, description=description, resources=resources, image=image,
        cache=cache, code_version=code_version,
    )  # fmt: skip


@overload
def metric(fn: Callable[P, R], /) -> OpDefinition[P, R]: ...
@overload
def metric(
    *,
    name: str | None = None,
    description: str | None = None,
    allow_pickle: bool = False,
    alert_below: float | None = None,
    alert_above: float | None = None,
) -> Callable[[Callable[P, R]], OpDefinition[P, R]]: ...
def metric(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    allow_pickle: bool = False,
    alert_below: float | None = None,
    alert_above: float | None = None,
) -> Any:
    """Marks a function that returns a number about its inputs, recorded in every run so
    that its history across runs can be followed. `allow_pickle` lets it read inputs an op
    stored with pickle. A value below `alert_below` or above `alert_above` sends an alert
    (Airflow's notifiers of the flow's tasks, `flow.run(on_alert=...)` locally); the run
    goes on."""
    alert = {}
    for bound, value in (("below", alert_below), ("above", alert_above)):
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise FlowDefinitionError(f"@metric: alert_{bound} is a finite number, not {value!r}")
        alert[bound] = float(value)
    return _decorate(
        fn, kind="metric", name=name, description=description, allow_pickle=allow_pickle,
        alert=alert or None,
    )  # fmt: skip


@overload
def check(fn: Callable[P, R], /) -> OpDefinition[P, R]: ...
@overload
def check(
    *,
    severity: Severity = "error",
    name: str | None = None,
    description: str | None = None,
    allow_pickle: bool = False,
) -> Callable[[Callable[P, R]], OpDefinition[P, R]]: ...
def check(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    severity: Severity = "error",
    name: str | None = None,
    description: str | None = None,
    allow_pickle: bool = False,
) -> Any:
    """Marks a function that judges its inputs: it returns a bool, or a boolean series or
    array that passes when every element is true. A failing `error` check stops the ops
    that consume the artifacts it checks and fails the run; a failing `warning` check is
    recorded and the run goes on. `allow_pickle` lets it read inputs an op stored with
    pickle."""

    def wrap(f: Callable[..., Any]) -> OpDefinition[..., Any]:
        return OpDefinition(f, kind="check", name=name, description=description,
                            severity=severity, allow_pickle=allow_pickle)  # fmt: skip

    return wrap(fn) if fn is not None else wrap
