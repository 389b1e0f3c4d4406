//! Images as PNG through the `image` crate. Pixels cross the boundary as PIL's raw layout
//! (`Image.tobytes()`), so that every supported mode round-trips exactly.

use std::io::Cursor;

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageFormat};

use crate::{CodecError, Result};

/// PIL modes stored losslessly, with their PNG colour type and bytes per pixel. Mode `1` is
/// handed over as `L` (0 or 255) by the binding and restored on the way out.
const MODES: &[(&str, ExtendedColorType, usize)] = &[
    ("L", ExtendedColorType::L8, 1),
    ("LA", ExtendedColorType::La8, 2),
    ("RGB", ExtendedColorType::Rgb8, 3),
    ("RGBA", ExtendedColorType::Rgba8, 4),
    ("I;16", ExtendedColorType::L16, 2),
];

/// Whether a PIL mode can be stored (`1` is stored as `L`).
pub fn is_supported_mode(mode: &str) -> bool {
    mode == "1" || MODES.iter().any(|(m, _, _)| *m == mode)
}

/// Encodes raw pixels in PIL's layout for `mode` (`I;16` is little-endian) as PNG.
pub fn encode_png(mode: &str, width: u32, height: u32, pixels: &[u8]) -> Result<Vec<u8>> {
    let &(_, color, bpp) = MODES
        .iter()
        .find(|(m, _, _)| *m == mode)
        .ok_or_else(|| CodecError::Invalid(format!("PIL mode {mode:?} cannot be stored as PNG")))?;
    let expected = width as usize * height as usize * bpp;
    if pixels.len() != expected {
        return Err(CodecError::Invalid(format!(
            "{width}x{height} {mode} image needs {expected} bytes of pixels, got {}",
            pixels.len()
        )));
    }
    // The encoder takes 16-bit samples in native byte order.
    let native: Vec<u8>;
    let pixels = if mode == "I;16" && cfg!(target_endian = "big") {
        native = pixels.chunks_exact(2).flat_map(|c| [c[1], c[0]]).collect();
        &native
    } else {
        pixels
    };
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(pixels, width, height, color)?;
    Ok(out)
}

/// Decoded pixels in PIL's raw layout.
pub struct Pixels {
    pub mode: &'static str,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// Decodes a PNG into PIL's raw layout.
pub fn decode_png(payload: &[u8]) -> Result<Pixels> {
    let image = image::load(Cursor::new(payload), ImageFormat::Png)?;
    let (width, height) = (image.width(), image.height());
    let (mode, data) = match image {
        DynamicImage::ImageLuma8(i) => ("L", i.into_raw()),
        DynamicImage::ImageLumaA8(i) => ("LA", i.into_raw()),
        DynamicImage::ImageRgb8(i) => ("RGB", i.into_raw()),
        DynamicImage::ImageRgba8(i) => ("RGBA", i.into_raw()),
        DynamicImage::ImageLuma16(i) => (
            "I;16",
            i.into_raw().iter().flat_map(|v| v.to_le_bytes()).collect(),
        ),
        other => {
            return Err(CodecError::Invalid(format!(
                "PNG colour type {:?} was not written by slipstream",
                other.color()
            )));
        }
    };
    Ok(Pixels {
        mode,
        width,
        height,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_round_trips_exactly() {
        for &(mode, _, bpp) in MODES {
            let (w, h) = (7u32, 5u32);
            let pixels: Vec<u8> = (0..w as usize * h as usize * bpp)
                .map(|i| (i * 37 % 256) as u8)
                .collect();
            let back = decode_png(&encode_png(mode, w, h, &pixels).unwrap()).unwrap();
            assert_eq!((back.mode, back.width, back.height), (mode, w, h));
            assert_eq!(back.data, pixels, "{mode} pixels differ");
        }
    }

    #[test]
    fn wrong_sizes_and_modes_are_refused() {
        assert!(encode_png("RGB", 2, 2, &[0; 11]).is_err());
        assert!(encode_png("P", 1, 1, &[0]).is_err());
        assert!(!is_supported_mode("CMYK"));
        assert!(decode_png(b"not a png").is_err());
    }
}
