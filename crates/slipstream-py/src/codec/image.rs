//! PIL images as PNG. Pixels leave Python as `Image.tobytes()` and come back through
//! `Image.frombytes`, so every stored mode is pixel-exact; `1` travels as `L` (0/255).

use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBytes};
use slipstream_codec::image::{decode_png, encode_png, is_supported_mode};
use slipstream_core::{ArtifactKey, ImageInfo, Manifest, TypeTag};

use super::{Described, codec_error, type_name, unsupported};

pub fn is_image(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<bool> {
    value.is_instance(&py.import("PIL.Image")?.getattr("Image")?)
}

pub fn encode(py: Python<'_>, key: &ArtifactKey, value: &Bound<'_, PyAny>) -> PyResult<Described> {
    let mode: String = value.getattr("mode")?.extract()?;
    if !is_supported_mode(&mode) {
        return Err(unsupported(
            key,
            &format!("{} in mode {mode:?}", type_name(value)),
            " (PNG keeps modes 1, L, LA, RGB, RGBA and I;16 exactly: convert it first, e.g. image.convert(\"RGBA\"))",
        ));
    }
    let (width, height): (u32, u32) = value.getattr("size")?.extract()?;
    if width == 0 || height == 0 {
        return Err(unsupported(
            key,
            &format!("{} of size {width}×{height}", type_name(value)),
            " (an image with no pixels, which PNG cannot hold: store None, or check the \
             crop or resize that made it)",
        ));
    }
    let (png_mode, source) = if mode == "1" {
        ("L", value.call_method1("convert", ("L",))?)
    } else {
        (mode.as_str(), value.clone())
    };
    let raw = source.call_method0("tobytes")?;
    let pixels = raw.cast::<PyBytes>()?.as_bytes();
    let payload = crate::runtime::compute(py, || encode_png(png_mode, width, height, pixels))
        .map_err(codec_error)?;
    Ok(
        Described::new(payload, "png", TypeTag::Image, "png", "PIL.Image").with(move |m| {
            m.image = Some(ImageInfo {
                mode,
                width,
                height,
            });
        }),
    )
}

pub fn decode<'py>(
    py: Python<'py>,
    manifest: &Manifest,
    payload: &[u8],
) -> PyResult<Bound<'py, PyAny>> {
    let pixels = crate::runtime::compute(py, || decode_png(payload)).map_err(codec_error)?;
    let pil = py.import("PIL.Image")?;
    let image = pil.call_method1(
        "frombytes",
        (
            pixels.mode,
            (pixels.width, pixels.height),
            PyBytes::new(py, &pixels.data),
        ),
    )?;
    let stored_mode = manifest
        .image
        .as_ref()
        .map_or(pixels.mode, |i| i.mode.as_str());
    let bilevel = pixels.data.iter().all(|&v| v == 0 || v == 255);
    let fits = stored_mode == pixels.mode || (stored_mode == "1" && pixels.mode == "L" && bilevel);
    if !fits {
        return Err(crate::errors::CorruptArtifact::new_err(format!(
            "artifact {}/{}/{}: its manifest says image mode {stored_mode:?}, but the PNG holds \
             {:?} pixels: the manifest was edited; write the output again",
            manifest.op_prefix, manifest.run_id, manifest.output, pixels.mode
        )));
    }
    if stored_mode == "1" {
        // Values are exactly 0 or 255, so thresholding without dithering restores the bits.
        let none = pil.getattr("Dither")?.getattr("NONE")?;
        return image.call_method(
            "convert",
            ("1",),
            Some(&[("dither", none)].into_py_dict(py)?),
        );
    }
    Ok(image)
}
