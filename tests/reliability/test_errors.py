"""Bad input gets a clear error naming the key and what to do, and nothing half-written is
ever read as data."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import slipstream as ss
from slipstream.errors import (
    ArtifactNotFound,
    CorruptArtifact,
    SlipstreamError,
    StorageError,
    UnsupportedType,
)


def test_hierarchy_matches_the_documented_contract() -> None:
    assert issubclass(ArtifactNotFound, SlipstreamError) and issubclass(
        ArtifactNotFound, FileNotFoundError
    )
    assert issubclass(UnsupportedType, SlipstreamError) and issubclass(UnsupportedType, TypeError)
    assert issubclass(CorruptArtifact, SlipstreamError)
    assert issubclass(StorageError, SlipstreamError)


def test_missing_artifact_names_the_key(store: ss.Store) -> None:
    key = ss.ArtifactKey("abc", "manual__2026-11-23T18:50:11+00:00", "preds")
    assert not store.exists(key)
    with pytest.raises(ArtifactNotFound) as info:
        store.get(key)
    message = str(info.value)
    assert "abc/manual__2026-11-23T18:50:11+00:00/preds" in message and "task record" in message
    with pytest.raises(FileNotFoundError):
        store.manifest(key)


def flip_one_byte(store: ss.Store, key: ss.ArtifactKey) -> None:
    manifest = store.manifest(key)
    path = f"{key.run_dir}/outputs/{key.output}/{manifest['payload']}"
    data = bytearray(store.get_object(path))
    data[len(data) // 2] ^= 0x01
    store.put_object(path, bytes(data))


@pytest.mark.parametrize("value", [{"a": [1, 2, 3]}, b"x" * 1000], ids=["value", "bytes"])
def test_one_flipped_byte_is_caught(store: ss.Store, value: object) -> None:
    key = ss.ArtifactKey("corrupt", "r1")
    store.put(key, value)
    flip_one_byte(store, key)
    with pytest.raises(CorruptArtifact, match="checksum") as info:
        store.get(key)
    assert "corrupt/r1/out" in str(info.value) and "run the op that produces it again" in str(
        info.value
    )


def test_flipped_byte_in_a_frame_is_caught_before_decoding(local_store: ss.Store) -> None:
    pa = pytest.importorskip("pyarrow")
    key = ss.ArtifactKey("corrupt", "r2")
    local_store.put(key, pa.table({"x": list(range(1000))}))
    flip_one_byte(local_store, key)
    with pytest.raises(CorruptArtifact, match="checksum"):
        local_store.get(key)


def test_payload_without_manifest_is_not_data(local_store: ss.Store, tmp_path: Path) -> None:
    """A crash between payload and manifest leaves an unreferenced payload: not an artifact."""
    key = ss.ArtifactKey("crash", "r1")
    local_store.put_object(f"{key.run_dir}/outputs/out/payload-00000000.bin", b"partial")
    assert not local_store.exists(key)
    with pytest.raises(ArtifactNotFound):
        local_store.get(key)


def test_unparseable_manifest_is_corrupt(local_store: ss.Store) -> None:
    key = ss.ArtifactKey("crash", "r2")
    local_store.put(key, 1)
    local_store.put_object(key.manifest_path, b'{"format": 1, "trunc')
    with pytest.raises(CorruptArtifact, match="manifest"):
        local_store.get(key)


def test_a_manifest_is_trusted_only_for_what_its_payload_and_key_bear_out(
    local_store: ss.Store,
) -> None:
    import pandas as pd
    from PIL import Image

    def edit(key: ss.ArtifactKey, **change: object) -> None:
        manifest = json.loads(local_store.get_object(key.manifest_path))
        for field, value in change.items():
            target = manifest
            *path, last = field.split("__")
            for part in path:
                target = target[part]
            target[last] = value
        local_store.put_object(key.manifest_path, json.dumps(manifest).encode())

    a, b = ss.ArtifactKey("op", "run-a"), ss.ArtifactKey("op", "run-b")
    local_store.put(a, "run a's value")
    local_store.put(b, "run b's value")
    # run a's manifest and payload copied over run b's
    payload = json.loads(local_store.get_object(a.manifest_path))["payload"]
    copied = local_store.get_object(f"{a.run_dir}/outputs/out/{payload}")
    local_store.put_object(f"{b.run_dir}/outputs/out/{payload}", copied)
    local_store.put_object(b.manifest_path, local_store.get_object(a.manifest_path))
    with pytest.raises(CorruptArtifact, match='describes output "out" of op op in run "run-a"'):
        local_store.get(b)

    frame = ss.ArtifactKey("op", "frame")
    local_store.put(frame, pd.DataFrame({"x": [1]}))
    edit(frame, flavor="pyarrow.Table")
    with pytest.raises(CorruptArtifact, match=r"goes back to pyarrow\.Table but it was a pandas"):
        local_store.get(frame)

    image = ss.ArtifactKey("op", "image")
    local_store.put(image, Image.new("L", (2, 2), 7))
    edit(image, image__mode="1")
    with pytest.raises(CorruptArtifact, match='says image mode "1"'):
        local_store.get(image)
    edit(image, image__mode="L", codec="bincode")
    with pytest.raises(CorruptArtifact, match='says codec "bincode"'):
        local_store.get(image)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("", "expected a folder"),
        ("ftp://host/x", "unknown scheme"),
        ("s3://", "bucket name is missing"),
        ("file://host/x", "local path"),
    ],
)
def test_bad_urls(url: str, fragment: str) -> None:
    with pytest.raises(StorageError, match=fragment):
        ss.Store(url)


def test_a_plain_path_is_a_local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for given in ("slip", "./slip", str(tmp_path / "slip"), "with space/x"):
        store = ss.Store(given)
        expected = (tmp_path / given).resolve() if not given.startswith("/") else Path(given)
        assert store.url == expected.as_uri(), given
    ss.Store("./slip").put_object("a/b.json", b"{}")
    assert ss.Store(str(tmp_path / "slip")).get_object("a/b.json") == b"{}"


@pytest.mark.parametrize(
    ("parts", "fragment"),
    [
        (("p", "", "out"), "must not be empty"),
        (("../p", "r", "out"), "op prefix"),
        (("p", "r", "a/b"), "output name"),
        (("p", "a\nb", "out"), "control characters"),
    ],
)
def test_bad_key_parts(parts: tuple[str, str, str], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        ss.ArtifactKey(*parts)


@pytest.mark.parametrize(
    "run_id",
    [
        "manual__2026-11-23T18:50:11.286216+00:00",
        "scheduled__2026-11-23T00:00:00+00:00",
        "a/b",
        "../x",
        "..",
        "運行-🚀-ünï",
        "x" * 250,
    ],
)
def test_odd_run_ids_stay_inside_their_op(local_store: ss.Store, run_id: str) -> None:
    key = ss.ArtifactKey("op1", run_id)
    local_store.put(key, run_id)
    assert local_store.get(key) == run_id
    assert local_store.manifest(key)["run_id"] == run_id
    paths = local_store.list("ops/op1")
    assert paths and all(p.count("/") == 5 for p in paths), paths
    assert all(p.startswith(key.run_dir + "/") for p in paths)
    local_store.put_object(f"{key.run_dir}/probe", b"")  # the folder is a real path


def test_missing_bucket_says_so(s3_endpoint: str) -> None:
    store = ss.Store("s3://no-such-bucket-here/x")
    with pytest.raises(StorageError, match="does not exist: create it"):
        store.put(ss.ArtifactKey("p", "r"), 1)


def test_no_credentials_is_explained(s3_endpoint: str, tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") or k == "AWS_ENDPOINT_URL"
    }
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_REGION="us-east-1",
    )
    code = "import slipstream as ss; ss.Store('s3://b/x').put(ss.ArtifactKey('p','r'), 1)"
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert "StorageError" in proc.stderr and "credentials" in proc.stderr, proc.stderr


def test_unwritable_local_store(tmp_path: Path) -> None:
    root = tmp_path / "ro"
    store = ss.Store(f"file://{root}")
    root.chmod(0o500)
    try:
        if os.access(root, os.W_OK):
            pytest.skip("this user ignores file permissions (root): a read-only folder is writable")
        with pytest.raises(StorageError, match="ops/p/r"):
            store.put(ss.ArtifactKey("p", "r"), 1)
    finally:
        root.chmod(0o700)


def test_files_are_written_as_open_would_under_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        store = ss.Store(str(tmp_path / "store"))
        store.put(ss.ArtifactKey("p", "r"), {"a": 1})
        store.put_object("flows/x/run.json", b"{}")
    finally:
        os.umask(previous)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.rglob("*") if p.is_file()}
    assert modes and set(modes.values()) == {0o644}, modes  # readable by a team, as umask says


def test_a_server_that_never_answers_fails_the_call(tmp_path: Path) -> None:
    silent = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept_and_hold() -> None:
        with contextlib.suppress(OSError):
            while True:
                held.append(silent.accept()[0])  # accepted, never answered

    threading.Thread(target=accept_and_hold, daemon=True).start()
    endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="k",
               AWS_SECRET_ACCESS_KEY="s", AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
               SLIPSTREAM_S3_TIMEOUT="1", SLIPSTREAM_S3_MAX_ATTEMPTS="2")  # fmt: skip
    try:
        for code in (
            "import slipstream as ss; ss.Store('s3://b/x').get_object('flows/f/spec.json')",
            "import slipstream as ss; ss.Store('s3://b/x').get(ss.ArtifactKey('p', 'r'))",
            # Uploads too: the wait for the answer is bounded by the body's size.
            "import slipstream as ss; ss.Store('s3://b/x').put_object('flows/f/a', b'x' * 100)",
            "import slipstream as ss; ss.Store('s3://b/x').put(ss.ArtifactKey('p', 'r'), b'x' * 9)",
        ):
            proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                  text=True, timeout=120)  # fmt: skip
            assert proc.returncode != 0
            assert "StorageError" in proc.stderr, proc.stderr
            assert f"{endpoint} did not answer in time, 2 attempts of at most 1 s" in proc.stderr
            assert "SLIPSTREAM_S3_MIN_RATE_KIB" in proc.stderr, proc.stderr
        cli = subprocess.run([sys.executable, "-m", "slipstream.cli", "flows", "--store", "s3://b"],
                             env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert cli.returncode == 4 and "did not answer" in cli.stderr
    finally:
        silent.close()
        for conn in held:
            conn.close()
