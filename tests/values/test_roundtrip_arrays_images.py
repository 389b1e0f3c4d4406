"""numpy arrays of every numeric and bool dtype, any shape and memory order; PIL images in
modes 1, L, LA, RGB, RGBA and I;16, pixel-exact."""

from __future__ import annotations

import numpy as np
import pytest
import slipstream as ss
from PIL import Image
from slipstream.errors import UnsupportedType

DTYPES = [
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "longdouble", "complex64", "complex128",
    "datetime64[ns]", "timedelta64[ms]", ">i4", ">f8",
]  # fmt: skip


def roundtrip(store: ss.Store, value: object, output: str = "out") -> object:
    key = ss.ArtifactKey("arrays", "scheduled__2026-11-23T00:00:00+00:00", output)
    store.put(key, value)
    return store.get(key)


def assert_same_array(back: object, arr: np.ndarray) -> None:
    assert type(back) is np.ndarray
    assert back.dtype == arr.dtype and back.shape == arr.shape
    assert back.tobytes() == np.ascontiguousarray(arr).tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_round_trips_exactly(local_store: ss.Store, dtype: str) -> None:
    rng = np.random.default_rng(7)
    arr = (rng.random((3, 4)) * 100).astype(dtype)
    if np.issubdtype(arr.dtype, np.floating):
        arr.flat[0] = np.nan
        arr.flat[1] = np.inf
    assert_same_array(roundtrip(local_store, arr), arr)


@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 0, 3), (2, 3, 4, 5)])
def test_any_shape(local_store: ss.Store, shape: tuple[int, ...]) -> None:
    arr = np.arange(int(np.prod(shape)), dtype="float32").reshape(shape)
    assert_same_array(roundtrip(local_store, arr), arr)


def test_memory_order_and_views(store: ss.Store) -> None:
    fortran = np.asfortranarray(np.arange(24).reshape(4, 6))
    back = roundtrip(store, fortran, "f")
    assert_same_array(back, fortran)
    assert back.flags.f_contiguous and not back.flags.c_contiguous
    assert back.flags.writeable

    base = np.arange(100.0).reshape(10, 10)
    view = base[::2, 1::3]
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    back = roundtrip(store, view, "view")
    np.testing.assert_array_equal(back, view)


def test_numpy_scalars_stay_numpy_scalars(local_store: ss.Store) -> None:
    for i, scalar in enumerate([np.float64(1.5), np.int32(-3), np.bool_(True), np.str_("hé")]):
        back = roundtrip(local_store, scalar, f"s{i}")
        assert type(back) is type(scalar) and back == scalar


def test_object_and_structured_arrays_are_refused(local_store: ss.Store) -> None:
    with pytest.raises(UnsupportedType, match="dtype object"):
        roundtrip(local_store, np.array([{}, 1], dtype=object))
    with pytest.raises(UnsupportedType, match="structured"):
        roundtrip(local_store, np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]))
    with pytest.raises(UnsupportedType, match="subclass"):
        roundtrip(local_store, np.ma.masked_array([1, 2], mask=[0, 1]))


def random_image(mode: str, size: tuple[int, int] = (37, 23)) -> Image.Image:
    rng = np.random.default_rng(3)
    if mode == "I;16":
        values = rng.integers(0, 65535, size[::-1], dtype="<u2")
        return Image.frombytes("I;16", size, values.tobytes())
    if mode == "1":
        return Image.fromarray(rng.integers(0, 2, size[::-1], dtype="uint8") * 255).convert("1")
    bands = len(Image.new(mode, (1, 1)).getbands())
    pixels = rng.integers(0, 256, (*size[::-1], bands), dtype="uint8")
    return Image.fromarray(pixels.squeeze(-1) if bands == 1 else pixels, mode=mode)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "RGB", "RGBA", "I;16"])
def test_image_modes_are_pixel_exact(store: ss.Store, mode: str) -> None:
    image = random_image(mode)
    key = ss.ArtifactKey("images", "r", mode.replace(";", "_"))
    manifest = store.put(key, image)
    assert manifest["type"] == "image" and manifest["codec"] == "png"
    assert manifest["image"] == {"mode": mode, "width": 37, "height": 23}
    back = store.get(key)
    assert isinstance(back, Image.Image)
    assert back.mode == mode and back.size == image.size
    assert back.tobytes() == image.tobytes()


def test_png_payload_is_a_real_png(local_store: ss.Store) -> None:
    key = ss.ArtifactKey("images", "r", "png")
    manifest = local_store.put(key, random_image("RGB"))
    payload = local_store.get_object(f"{key.run_dir}/outputs/png/{manifest['payload']}")
    assert payload.startswith(b"\x89PNG\r\n\x1a\n")


def test_lossy_modes_are_refused_with_advice(local_store: ss.Store) -> None:
    with pytest.raises(UnsupportedType, match=r"convert\(\"RGBA\"\)"):
        roundtrip(local_store, Image.new("P", (2, 2)))
    with pytest.raises(UnsupportedType, match="CMYK"):
        roundtrip(local_store, Image.new("CMYK", (2, 2)))
