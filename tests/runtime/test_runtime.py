"""Runtime discipline: signals interrupt long transfers, throttling and 5xx are retried, and
a forked child (as Airflow makes) gets a working runtime of its own."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator

import pytest
import slipstream as ss

from tests.conftest import make_bucket
from tests.support.servers import fault_proxy, slow_server


class Timeout(Exception):
    pass


@pytest.fixture
def endpoint_override() -> Iterator[None]:
    saved = os.environ.get("AWS_ENDPOINT_URL")
    yield
    if saved is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = saved


def test_sigalrm_interrupts_a_hanging_transfer(s3_endpoint: str, endpoint_override: None) -> None:
    """Airflow enforces execution_timeout with a SIGALRM handler that raises."""
    with slow_server(delay=30) as url:
        os.environ["AWS_ENDPOINT_URL"] = url
        store = ss.Store("s3://slow/x")

        def on_alarm(signum: int, frame: object) -> None:
            raise Timeout("execution_timeout")

        previous = signal.signal(signal.SIGALRM, on_alarm)
        started = time.monotonic()
        signal.alarm(1)
        try:
            with pytest.raises(Timeout):
                store.get(ss.ArtifactKey("p", "r"))
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        # The server answers after 30 s: returning at all means the wait was interrupted.
        assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("status", [503, 500])
def test_throttling_and_server_errors_are_retried(
    s3_endpoint: str, endpoint_override: None, status: int
) -> None:
    bucket = make_bucket(s3_endpoint)
    with fault_proxy(s3_endpoint, failures=2, status=status) as (url, proxy):
        os.environ["AWS_ENDPOINT_URL"] = url
        store = ss.Store(f"s3://{bucket}/retry")
        key = ss.ArtifactKey("p", "r")
        store.put(key, {"survived": True})
        assert proxy.failed == 2
        proxy.failures_left = 2
        assert store.get(key) == {"survived": True}
        assert proxy.failed == 4


def _child_reads(url: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        store = ss.Store(url)
        store.put(ss.ArtifactKey("p", "child"), "from child")
        queue.put(store.get(ss.ArtifactKey("p", "parent")))
    except Exception as exc:  # noqa: BLE001 — reported to the parent, which fails the test
        queue.put(f"error: {exc!r}")


def test_forked_child_gets_its_own_runtime(store: ss.Store) -> None:
    store.put(ss.ArtifactKey("p", "parent"), "from parent")  # runtime and client now exist
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_reads, args=(store.url, queue))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == "from parent"
    assert store.get(ss.ArtifactKey("p", "child")) == "from child"


def test_the_same_store_object_works_after_fork(local_store: ss.Store) -> None:
    local_store.put(ss.ArtifactKey("p", "x"), 1)
    pid = os.fork()
    if pid == 0:  # child: use the parent's Store object directly
        try:
            local_store.put(ss.ArtifactKey("p", "y"), 2)
            os._exit(0 if local_store.get(ss.ArtifactKey("p", "x")) == 1 else 1)
        except BaseException:  # noqa: BLE001 — a forked child must never return into pytest
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert local_store.get(ss.ArtifactKey("p", "y")) == 2
