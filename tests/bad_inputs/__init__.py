"""The bad-input catalogue, by library: values a user may hand `store.put`, each of which
comes back exactly (`support.same`) or is refused naming what to do (`support.Refused`)."""

from tests.bad_inputs import columnar, frames, values

CASES = {**values.CASES, **frames.CASES, **columnar.CASES}
