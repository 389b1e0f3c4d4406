"""The names of a run's params against the flow's: one check, for the values a run is given
(`runtime.execute.resolve_params`) and for a flow group's params at parse time, before
their values (templates, XComs) are known. Imports nothing heavy: DAG files run it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from slipstream.errors import ParamError

if TYPE_CHECKING:
    from slipstream.records.types import FlowSpec


def check_names(spec: FlowSpec, given: Mapping[str, Any]) -> None:
    """Every param `given` is one of the flow's, and every required one is given (checked
    where values are not known yet too: a flow group's templates, at parse time)."""
    declared, flow = spec.params, spec.flow
    if not isinstance(given, Mapping):
        raise ParamError(
            f"flow {flow!r}: params are a mapping of param name to value, e.g. "
            f"params={{'{next(iter(declared), 'name')}': ...}}, not a {type(given).__name__}"
        )
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        raise ParamError(f"flow {flow!r} has no param {unknown[0]!r} (its params: {known})")
    for name, entry in declared.items():
        if entry.required and name not in given:
            raise ParamError(f"flow {flow!r} needs a value for param {name!r}")
