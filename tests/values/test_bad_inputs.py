"""The bad-input catalogue: values and calls a user may hand slipstream, each of which either
comes back exactly as it went in or is refused with a `SlipstreamError` naming the output or
what to pass instead. Never a value that comes back different, never a raw library error."""

from __future__ import annotations

from typing import Any

import pytest
import slipstream as ss

from tests.bad_inputs import CASES
from tests.bad_inputs.support import same


@pytest.mark.parametrize("name", list(CASES))
def test_each_value_comes_back_exactly_or_is_refused_by_name(
    name: str, local_store: ss.Store
) -> None:
    make, refused = CASES[name]
    key = ss.ArtifactKey("catalogue", "run-1")
    if refused is None:
        local_store.put(key, make())
        assert same(make(), local_store.get(key)), name
        return
    with pytest.raises(refused.kind) as caught:
        local_store.put(key, make())
    assert refused.says in str(caught.value), str(caught.value)
    assert not local_store.exists(key), "nothing is stored by a refused put"


def test_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 150


def test_bad_calls_are_refused_with_what_to_pass(local_store: ss.Store, tmp_path: Any) -> None:
    from slipstream.errors import ParamError

    from tests.flows import first_hour_flows as flows

    url = (tmp_path / "calls").as_uri()
    with pytest.raises(ParamError, match="params are a mapping"):
        flows.typed().run(url, params=["min_quantity", 2])  # type: ignore[arg-type]
    with pytest.raises(ParamError, match="param 'label' is"):
        flows.typed().run(url, params={"label": object()})
    with pytest.raises(ValueError, match="try_number must be 1 or more"):
        ss.run_op(lambda: 1, store=local_store, op_prefix="p", run_id="r", try_number=-1)
    with pytest.raises(ValueError, match="try_number must be 1 or more"):
        local_store.put(ss.ArtifactKey("p", "r"), 1, try_number=0)
