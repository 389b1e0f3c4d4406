"""The fault suite: store operations of mixed sizes, multipart uploads and ranged downloads
included, through a proxy that answers 503 and 500, resets connections, cuts bodies off
half-way, adds latency and stalls, and takes requests it never answers, at random. Nothing
corrupt is ever returned; nearly every operation succeeds within the retry budget; the rest
fail with `StorageError`."""

from __future__ import annotations

import random
import time

import pytest
import slipstream as ss
from slipstream.errors import StorageError

from tests.conftest import make_bucket
from tests.support.servers import fault_proxy


def test_a_cut_off_download_is_resumed(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = make_bucket(s3_endpoint)
    data = random.Random(1).randbytes(3_000_000)
    ss.Store(f"s3://{bucket}/cut").put_object("blob", data)
    with fault_proxy(s3_endpoint, truncations=2) as (url, proxy):
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        assert ss.Store(f"s3://{bucket}/cut").get_object("blob") == data
    assert proxy.truncated == 2


def test_the_fault_suite(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = make_bucket(s3_endpoint)
    sizes = [10, 2_000, 200_000, 1_500_000, 7_000_000]  # 7 MB: multipart in 5 MB parts
    rng = random.Random(20261128)
    results = {"ok": 0, "storage_error": 0, "corrupt": 0}
    # Silence outlasts the 2 s a small request may wait, and ends a part's upload early.
    with fault_proxy(s3_endpoint, rate=0.15, seed=11, silence=3.0) as (url, proxy):
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        monkeypatch.setenv("SLIPSTREAM_S3_PART_SIZE_MB", "5")
        monkeypatch.setenv("SLIPSTREAM_S3_TIMEOUT", "2")
        monkeypatch.setenv("SLIPSTREAM_S3_MIN_RATE_KIB", "8192")  # loopback: fast
        store = ss.Store(f"s3://{bucket}/faults")
        started = time.perf_counter()
        for i in range(260):
            key = ss.ArtifactKey("faults", f"run-{i % 40}")
            value = rng.randbytes(sizes[i % len(sizes)])
            try:
                store.put(key, value)
                results["ok"] += 1
            except StorageError:
                results["storage_error"] += 1
                continue
            try:
                got = store.get(key)
            except StorageError:
                results["storage_error"] += 1
                continue
            results["ok" if got == value else "corrupt"] += 1
        seconds = time.perf_counter() - started
    operations = sum(results.values())
    print(f"\nfault suite: {operations} operations, {results}, faults injected: "
          f"{proxy.failed} error answers, {proxy.reset} resets, {proxy.truncated} cut bodies, "
          f"{proxy.stalled} stalls, {proxy.silent} unanswered; {seconds:.0f} s")  # fmt: skip
    assert operations >= 500
    assert results["corrupt"] == 0
    assert results["ok"] >= 0.99 * operations
    assert proxy.failed + proxy.reset + proxy.truncated >= 0.05 * operations, "faults happened"
    assert proxy.silent > 0 and proxy.stalled > 0, "every kind of fault happened"


def test_small_artifacts_are_read_without_a_head_request(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read is one GET per object: the manifest, then the payload (its first part is the
    whole of a small one); a large payload's other parts follow by ranges."""
    import pandas as pd

    bucket = make_bucket(s3_endpoint)
    frame = pd.DataFrame({"id": range(1_000), "name": [f"n{i}" for i in range(1_000)]})
    with fault_proxy(s3_endpoint) as (url, proxy):
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        monkeypatch.setenv("SLIPSTREAM_S3_PART_SIZE_MB", "5")
        store = ss.Store(f"s3://{bucket}/small")
        large = random.Random(3).randbytes(11 * 1024 * 1024)  # three parts of 5 MiB
        for name, value in [("value", {"a": [1, 2]}), ("frame", frame), ("large", large)]:
            key = ss.ArtifactKey("small", name)
            store.put(key, value)
            proxy.requests.clear()
            back = store.get(key)
            assert back.equals(value) if name == "frame" else back == value
            methods = [method for method, _ in proxy.requests]
            assert methods == ["GET"] * (4 if name == "large" else 2), (name, proxy.requests)
