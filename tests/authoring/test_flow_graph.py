"""Building flows: calling ops wires a graph, the spec is plain JSON, misuse is refused
where the flow is defined."""

from __future__ import annotations

import json
import math
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import slipstream as ss
from slipstream.errors import FlowDefinitionError
from slipstream.records.types import OutputRef, ParamSpec
from slipstream.spec import constants as _constants

from tests.flows import sample_flows


@ss.op
def load() -> list[int]:
    return [1, 2, 3]


@ss.op
def add(values: list[int], amount: int = 1) -> list[int]:
    return [v + amount for v in values]


@ss.op(outputs=("low", "high"))
def split(values: list[int]) -> tuple[list[int], list[int]]:
    return values[:1], values[1:]


@ss.metric
def total(values: list[int]) -> int:
    return sum(values)


@ss.check(severity="warning")
def not_empty(values: list[int]) -> bool:
    return bool(values)


def test_calling_an_op_records_a_node_instead_of_running_it() -> None:
    handle = add(load(), 5)
    assert isinstance(handle, ss.Artifact)
    assert handle.node.name == "add" and handle.output == "out"
    assert handle.node.constants == {"amount": 5}
    assert handle.node.inputs["values"].node.name == "load"
    assert "test_flow_graph.py:" in handle.node.where


def test_local_calls_the_function_itself() -> None:
    assert add.local([1, 2], amount=3) == [4, 5]
    assert split.local([1, 2, 3]) == ([1], [2, 3])


def test_several_outputs_give_one_handle_each() -> None:
    low, high = split(load())
    assert (low.output, high.output) == ("low", "high")
    assert low.node is high.node


def test_flow_collects_reachable_ops_and_attached_metrics_and_checks() -> None:
    values = load()
    low, high = split(values)
    total(values)
    not_empty(high)
    unrelated = add(load.named("other_load")())
    total.named("unrelated_total")(unrelated)
    flow = ss.Flow("graph", outputs=[add(low)])
    names = [n.name for n in flow.nodes]
    assert names[:2] == ["load", "split"]
    assert set(names) == {"load", "split", "add", "total", "not_empty"}
    spec = flow.spec()
    ops = {op.name: op for op in spec.ops}
    assert ops["add"].inputs == {"values": OutputRef(op="split", output="low")}
    assert ops["not_empty"].kind == "check" and ops["not_empty"].severity == "warning"
    assert ops["total"].kind == "metric"
    assert json.loads(spec.to_json()) == spec.to_dict()  # plain JSON


def test_spec_describes_code_params_and_environment() -> None:
    spec = sample_flows.build().spec()
    ops = {op.name: op for op in spec.ops}
    fn = ops["customers"].function
    assert fn.module == "tests.flows.sample_flows" and fn.importable is True
    assert "def customers(rows: int = 50)" in fn.source
    assert fn.code_hash.startswith("sha256:")
    assert ops["customers"].constants == {"rows": 50}
    assert ops["render"].params == {"scale": "scale"}
    assert spec.params == {"scale": ParamSpec(description="", required=False, default=2.0)}
    assert ops["as_pandas"].convert == {"table": "pandas"}
    assert ops["as_pandas"].description == "Receives a pyarrow table, converted by its type hint."
    assert spec.environment.python and "pyarrow" in spec.environment.libraries
    # an error check gates every consumer of the artifact it checks; a warning check does not
    assert "ids_unique" in ops["to_polars"].upstream
    assert "spend_positive" not in ops["to_polars"].upstream
    assert len({op.prefix for op in spec.ops}) == len(spec.ops)


def test_error_check_on_an_ancestor_does_not_gate_its_own_inputs() -> None:
    @ss.check
    def consistent(raw: list[int], derived: list[int]) -> bool:
        return len(raw) == len(derived)

    raw = load()
    derived = add(raw)
    consistent(raw, derived)
    flow = ss.Flow("gates", outputs=[add.named("final")(derived)])
    ops = {op.name: op for op in flow.spec().ops}
    assert ops["add"].upstream == ("load",)  # the check needs `add` first
    assert ops["final"].upstream == ("add", "consistent")
    assert [n.name for n in flow.nodes] == ["load", "add", "consistent", "final"]


def test_wrong_arity_is_refused_with_the_signature() -> None:
    with pytest.raises(FlowDefinitionError, match=r"add\(\) at .*test_flow_graph.py:\d+: .*values"):
        add()
    with pytest.raises(TypeError, match="too many positional arguments"):
        add(load(), 1, 2)
    with pytest.raises(FlowDefinitionError, match="unexpected keyword argument 'nope'"):
        add(load(), nope=1)


def test_metric_and_check_results_cannot_be_passed_on() -> None:
    measured = total(load())
    with pytest.raises(FlowDefinitionError, match="result of metric 'total'"):
        add(measured)
    judged = not_empty(load())
    with pytest.raises(FlowDefinitionError, match="result of check 'not_empty'"):
        add(judged)


def test_passing_the_op_itself_is_refused() -> None:
    with pytest.raises(FlowDefinitionError, match="is the op 'load' itself"):
        add(load)


def test_duplicate_op_names_are_refused_with_both_call_sites() -> None:
    first = add(load())
    second = add(first)
    with pytest.raises(FlowDefinitionError, match=r"two ops are named 'add' .*\.named\('add_2'\)"):
        ss.Flow("dupes", outputs=[second])
    third = add.named("add_again")(first)
    assert len(ss.Flow("renamed", outputs=[third]).nodes) == 3


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (np.arange(3), "numpy.ndarray"),
        (pd.DataFrame({"a": [1]}), "pandas"),
        ({1, 2}, "set"),
        (object(), "object"),
        ([1, {"a": {2, 3}}], "set at amount[1]['a']"),
    ],
)
def test_unsupported_constants_are_refused(value: Any, what: str) -> None:
    with pytest.raises(
        FlowDefinitionError,
        match=rf"argument 'amount' is a {re.escape(what)}.*produce data with an op",
    ):
        add(load(), value)


def test_artifacts_inside_containers_are_refused() -> None:
    with pytest.raises(FlowDefinitionError, match="sits inside a container"):
        add(load(), [load()])


def test_constants_round_trip_through_the_spec() -> None:
    values = [
        None, True, 7, 2**80, -0.5, math.inf, "é", b"\x00\xff", [1, (2, 3)], (),
        {"a": 1}, {1: "a", (2, 3): None}, {"$tuple": 1}, {"x": [{"y": (b"z",)}]},
    ]  # fmt: skip
    for value in values:
        data = json.loads(json.dumps(_constants.encode(value), allow_nan=False))
        back = _constants.decode(data)
        assert back == value and type(back) is type(value), value
    nan = _constants.decode(json.loads(json.dumps(_constants.encode(math.nan))))
    assert math.isnan(nan)


def test_bad_definitions_are_refused_at_decoration() -> None:
    def varargs(*values: int) -> int:
        return len(values)

    def one() -> int:
        return 1

    with pytest.raises(FlowDefinitionError, match=r"\*values.*no \*args"):
        ss.op(varargs)
    with pytest.raises(FlowDefinitionError, match=r"is a lambda.*Define it with def"):
        ss.op(lambda: 1)
    with pytest.raises(FlowDefinitionError, match="is a lambda"):
        ss.op(lambda x: x * x, name="square")  # refused where it is defined, not at run time
    for bad in ("one\n", ""):  # whole names only: no trailing newline slips by
        with pytest.raises(FlowDefinitionError, match="is not valid"):
            ss.op(name=bad)(one)
    with pytest.raises(FlowDefinitionError, match="is 101 characters long; at most 100"):
        ss.op(name="x" * 101)(one)
    with pytest.raises(FlowDefinitionError, match="is not valid"):
        ss.param("day\n")
    with pytest.raises(FlowDefinitionError, match=r"'bad name' .*the name is not valid"):
        ss.op(name="bad name")(one)
    with pytest.raises(FlowDefinitionError, match="severity must be"):
        ss.check(severity="fatal")(one)  # type: ignore[call-overload]
    with pytest.raises(FlowDefinitionError, match="output name"):
        ss.op(outputs=("ok", "not/ok"))(one)
    with pytest.raises(FlowDefinitionError, match="flow name"):
        ss.Flow("no spaces", outputs=[load()])
    with pytest.raises(FlowDefinitionError, match="outputs must be artifacts"):
        ss.Flow("f", outputs=[load])  # type: ignore[list-item]
    with pytest.raises(FlowDefinitionError, match="default of param 'p'"):
        ss.param("p", default=np.float32(1))


def test_one_param_name_with_two_definitions_is_refused() -> None:
    a = add(load(), ss.param("amount", default=1))
    b = add.named("add_b")(a, ss.param("amount", default=2))
    with pytest.raises(FlowDefinitionError, match="param 'amount' is defined twice"):
        ss.Flow("params", outputs=[b])


@ss.op
def frame() -> pd.DataFrame:
    return pd.DataFrame({"x": [1, 2]})


def test_a_publish_of_a_flow_artifact_is_part_of_the_flow(tmp_path: Any) -> None:
    data = frame()
    ss.save(data, f"sqlite:///{tmp_path}/warehouse.db", table="exported")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is left out: no warning
        flow = ss.Flow("exports", outputs=[data])
    assert [n.name for n in flow.nodes] == ["frame", "save_exported"]


def test_ops_left_out_of_a_flow_are_named_once(tmp_path: Any) -> None:
    values = load()
    doubled = add(values, 2)
    add.named("tripled")(doubled, 3)
    with pytest.warns(ss.errors.FlowWarning) as caught:
        flow = ss.Flow("partial", outputs=[values])
    assert len(caught) == 1 and [n.name for n in flow.nodes] == ["load"]
    message = str(caught[0].message)
    assert "leaves out ops built from its artifacts: add (called at" in message
    assert caught[0].filename == __file__  # reported at the user's line
    assert "tripled" not in message  # only ops fed by the flow's own artifacts are named


def test_flows_sharing_artifacts_keep_their_own_publishes(tmp_path: Any) -> None:
    data = frame()
    export = ss.Flow(
        "export", outputs=[ss.save(data, f"sqlite:///{tmp_path}/w.db", table="exported")]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # `export`'s publish is its own, not left out
        train = ss.Flow("train", outputs=[add.named("train")(load())])
        again = ss.Flow("reuse", outputs=[data])
    assert [n.name for n in export.nodes] == ["frame", "save_exported"]
    assert [n.name for n in again.nodes] == ["frame"]  # not a second writer of the table
    assert [n.name for n in train.nodes] == ["load", "train"]


def test_a_pickling_producer_needs_a_consumer_that_reads_pickles() -> None:
    @ss.op(allow_pickle=True)
    def make() -> object:
        return object()

    @ss.op
    def use(value: object) -> int:
        return 1

    @ss.metric(allow_pickle=True)
    def count(value: object) -> int:
        return 1

    with pytest.raises(FlowDefinitionError, match=r"make.out.*allow_pickle=True to use too"):
        use(make())
    count(make())  # a consumer that reads pickles is fine
    ss.op(allow_pickle=True)(use.fn)(make())
    ss.save(make(), "sqlite:///w.db", table="t")  # a publish fails by itself on a pickle
