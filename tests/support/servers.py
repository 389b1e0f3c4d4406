"""Loopback servers the tests start themselves: moto (a real S3-compatible server), a
deliberately slow server, and a fault-injecting proxy."""

from __future__ import annotations

import http.client
import http.server
import random
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto S3 server on a free loopback port; yields its endpoint URL."""
    # The venv's own moto first: an older one elsewhere on PATH may answer multipart uploads
    # in a form the AWS SDK rejects.
    beside = Path(sys.executable).with_name("moto_server")
    binary = str(beside) if beside.exists() else shutil.which("moto_server")
    if binary is None:
        raise RuntimeError("moto_server is not installed: run the tests through `make test`")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def s3s_fs_server(binary: str, root: Path, key: str, secret: str) -> Iterator[str]:
    """An s3s-fs S3 server (Rust, folder-backed: fast enough for throughput figures) serving
    the folder `root` on a free loopback port; yields its endpoint URL. Its multipart uploads
    fail for keys longer than ~123 bytes: keep payloads in one PUT when using it."""
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", str(port), "--access-key", key,
         "--secret-key", secret, str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_listening(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class _Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def slow_server(delay: float) -> Iterator[str]:
    """Answers every request only after `delay` seconds: a transfer that hangs."""

    class Slow(_Quiet):
        def _slow(self) -> None:
            time.sleep(delay)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_PUT = do_HEAD = do_POST = _slow

    with _serve(Slow) as url:
        yield url


class FaultProxy:
    """Forwards to an upstream S3 server, but answers the first `failures` requests with an
    error (503 SlowDown or 500) to exercise the client's retries, cuts off the body of the
    first `truncations` GET answers half-way, and holds GETs of paths containing
    `slow_paths` for `delay` seconds: a transfer that hangs. With `rate`, each request
    meets a fault at that rate instead, drawn from `seed`: 503, 500, a connection reset
    before any answer, a body cut off half-way, 50 ms or 500 ms of latency, or silence (the
    request is taken and never answered: the connection closes after `silence` seconds,
    longer than the client's timeout for small requests)."""

    def __init__(
        self, upstream: str, failures: int, status: int = 503, slow_paths: str | None = None,
        delay: float = 0.0, truncations: int = 0, rate: float = 0.0, seed: int = 0,
        silence: float = 0.0,
    ) -> None:  # fmt: skip
        self.upstream = upstream.removeprefix("http://")
        self.silence = silence
        self.silent = 0
        self.stalled = 0
        self.failures_left = failures
        self.truncations_left = truncations
        self.status = status
        self.slow_paths = slow_paths
        self.delay = delay
        self.rate = rate
        self.random = random.Random(seed)
        self.failed = 0
        self.truncated = 0
        self.reset = 0
        self.forwarded = 0
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self._lock = threading.Lock()

    def _fault(self, method: str) -> str | None:
        """The fault this request meets, if any (under the lock)."""
        if self.failures_left > 0:
            self.failures_left -= 1
            return "status"
        if method == "GET" and self.truncations_left > 0:
            self.truncations_left -= 1
            return "truncate"
        if self.rate and self.random.random() < self.rate:
            kinds = ["503", "500", "reset", "truncate", "latency", "stall"]
            return self.random.choice(kinds + (["silent"] if self.silence else []))
        return None

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        proxy = self

        class Handler(_Quiet):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy.slow_paths and self.command == "GET" and proxy.slow_paths in self.path:
                    time.sleep(proxy.delay)
                with proxy._lock:
                    proxy.requests.append((self.command, self.path))
                    fault = proxy._fault(self.command)
                    if fault == "truncate" and self.command != "GET":
                        fault = None
                    proxy.forwarded += fault in (None, "truncate", "latency", "stall")
                if fault == "reset":
                    proxy.reset += 1
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))  # fmt: skip
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "silent":
                    with proxy._lock:
                        proxy.silent += 1
                    time.sleep(proxy.silence)  # taken, never answered
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "latency":
                    time.sleep(0.05)
                if fault == "stall":
                    with proxy._lock:
                        proxy.stalled += 1
                    time.sleep(0.5)
                if fault in ("status", "503", "500"):
                    status = proxy.status if fault == "status" else int(fault)
                    proxy.failed += 1
                    code = "SlowDown" if status == 503 else "InternalError"
                    payload = (
                        f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                        f"<Message>injected</Message></Error>"
                    ).encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                # a HEAD answer has no body but tells the size of the object
                length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if fault == "truncate" and len(data) > 1:
                    proxy.truncated += 1
                    self.wfile.write(data[: len(data) // 2])  # then the connection drops
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _handle

        return Handler


@contextmanager
def fault_proxy(
    upstream: str, failures: int = 0, status: int = 503, slow_paths: str | None = None,
    delay: float = 0.0, truncations: int = 0, rate: float = 0.0, seed: int = 0,
    silence: float = 0.0,
) -> Iterator[tuple[str, FaultProxy]]:  # fmt: skip
    proxy = FaultProxy(upstream, failures, status, slow_paths, delay, truncations, rate, seed,
                       silence)  # fmt: skip
    with _serve(proxy.handler()) as url:
        yield url, proxy


@contextmanager
def _serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
