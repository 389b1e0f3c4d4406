"""Fixtures: stores on both backends, and a warehouse. The S3 backend is a real moto server
on loopback and the warehouse a real PostgreSQL server, each started once per session."""

from __future__ import annotations

import inspect
import os
import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import slipstream as ss

from tests.support.browser import browser, page, shots  # noqa: F401 (fixtures of the UI tests)
from tests.support.postgres import PASSWORD, Postgres, postgres_bin, postgres_server
from tests.support.servers import moto_server

#: What a test needs, told from what it uses: the fixtures it requests (directly or through
#: other fixtures), the names its code and the tests' helpers it calls refer to (a class or
#: function of tests/support, say), string constants there, and its parameters (`store[s3]`,
#: `warehouse[postgresql]`: fixtures that take a server only for one parameter). Applied as
#: markers by `pytest_collection_modifyitems`, so that `-m "not ..."` selects by need.
NEEDS: dict[str, dict[str, set[str]]] = {
    "s3": {"fixtures": {"s3_endpoint", "s3_store"}, "params": {"s3"}},
    "airflow": {"names": {"AirflowHome", "airflow_stack"}},
    "airflow2": {"names": {"airflow2_python", "airflow2_env", "airflow2_stack"}},
    "postgres": {"fixtures": {"postgres"}, "names": {"postgres_server"}, "params": {"postgresql"}},
    "browser": {"fixtures": {"browser", "page"}},
    "image": {"constants": {"SLIPSTREAM_IMAGE", "podman"}},
}

#: The known-slow suites (see `--durations`), left out of `make test-fast`: path (relative to
#: tests/) or node id -> why.
SLOW = {
    "reliability/test_faults.py": "520 store operations through a faulty proxy",
    "reliability/test_crashes.py": "30 writers of a 32 MB artifact killed at random points",
    "airflow/test_airflow_kubernetes.py": "a pod spec built by Airflow's own operator",
    "docs/test_bench_smoke.py": "every benchmark, run small",
    # The slowest left in `make test-fast` (--durations, debug build): it stays under 2 min.
    "cli/test_cli.py::test_get_streams_a_large_artifact": "a 24 MiB artifact written, then got",
    "cli/test_cli.py::test_get_draws_progress_on_a_terminal": "a 24 MiB artifact got on a pty",
    "reliability/test_errors.py::test_a_server_that_never_answers_fails_the_call": (
        "waits out the S3 client's timeouts and retries (~11 s)"
    ),
}

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        saved = {k: os.environ.get(k) for k in [*S3_ENV, "AWS_ENDPOINT_URL"]}
        os.environ.update(S3_ENV, AWS_ENDPOINT_URL=endpoint)
        try:
            yield endpoint
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def make_bucket(endpoint: str) -> str:
    name = f"t-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def local_store(tmp_path: object) -> ss.Store:
    return ss.Store(f"file://{tmp_path}/store")


@pytest.fixture
def s3_store(s3_endpoint: str) -> ss.Store:
    return ss.Store(f"s3://{make_bucket(s3_endpoint)}/some/prefix")


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> ss.Store:
    """The same test against the embedded folder store and against S3."""
    name = "local_store" if request.param == "local" else "s3_store"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL server on loopback, with PGPASSWORD set for the session.
    `make test` installs PostgreSQL and requires it (SLIPSTREAM_REQUIRE_POSTGRES=1)."""
    if postgres_bin() is None:
        if os.environ.get("SLIPSTREAM_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required but not installed")
        pytest.skip("PostgreSQL is not installed (make test installs it)")
    with postgres_server() as server:
        saved = os.environ.get("PGPASSWORD")
        os.environ["PGPASSWORD"] = PASSWORD
        try:
            yield server
        finally:
            if saved is None:
                os.environ.pop("PGPASSWORD", None)
            else:
                os.environ["PGPASSWORD"] = saved


def _uses(fn: object, seen: set[int]) -> tuple[set[str], set[str]]:
    """The global names and string constants the code of `fn` refers to, with those of the
    functions and classes of the tests package it refers to, transitively."""
    names: set[str] = set()
    constants: set[str] = set()
    if id(fn) in seen:
        return names, constants
    seen.add(id(fn))
    if isinstance(fn, type):
        for member in vars(fn).values():
            member = getattr(member, "__func__", getattr(member, "fget", member))
            found = _uses(member, seen)
            names |= found[0]
            constants |= found[1]
        return names, constants
    fn = inspect.unwrap(fn) if callable(fn) else fn
    code = getattr(fn, "__code__", None)
    if code is None:
        return names, constants
    spaces = getattr(fn, "__globals__", {})
    codes = [code]
    while codes:
        c = codes.pop()
        names.update(c.co_names)
        for const in c.co_consts:
            if isinstance(const, types.CodeType):
                codes.append(const)
            elif isinstance(const, str):
                constants.add(const)
        for name in c.co_names:
            target = spaces.get(name)
            module = getattr(target, "__module__", None)
            if (
                isinstance(module, str)
                and module.startswith("tests.")
                and (inspect.isfunction(target) or inspect.isclass(target))
            ):
                found = _uses(target, seen)
                names |= found[0]
                constants |= found[1]
    return names, constants


def needs(item: pytest.Function) -> set[str]:
    """The markers of NEEDS that test `item` needs."""
    fixtures = set(item.fixturenames)
    functions: list[object] = [item.function]
    for name in fixtures:
        functions += [d.func for d in item._fixtureinfo.name2fixturedefs.get(name, ())]
    names: set[str] = set()
    constants: set[str] = set()
    seen: set[int] = set()
    for fn in functions:
        found = _uses(fn, seen)
        names |= found[0]
        constants |= found[1]
    callspec = getattr(item, "callspec", None)
    params = {v for v in callspec.params.values() if isinstance(v, str)} if callspec else set()
    return {
        marker
        for marker, uses in NEEDS.items()
        if uses.get("fixtures", set()) & fixtures
        or uses.get("names", set()) & names
        or uses.get("constants", set()) & constants
        or uses.get("params", set()) & params
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(__file__).parent
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        for marker in sorted(needs(item)):
            item.add_marker(marker)
        path = item.path.relative_to(root).as_posix()
        node = item.nodeid.split("::", 1)[-1]
        for key in (path, f"{path}::{node}", f"{path}::{item.originalname}"):
            if key in SLOW:
                item.add_marker(pytest.mark.slow(reason=SLOW[key]))
                break
