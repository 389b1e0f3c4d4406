"""Fixtures: stores on both backends, and a warehouse. The S3 backend is a real moto server
on loopback and the warehouse a real PostgreSQL server, each started once per session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import boto3
import pytest
import slipstream as ss

from tests.support.browser import browser, page, shots  # noqa: F401 (fixtures of the UI tests)
from tests.support.postgres import PASSWORD, Postgres, postgres_bin, postgres_server
from tests.support.servers import moto_server

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
