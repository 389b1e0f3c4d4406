//! Raw bytes, and pickled values for callers that opted in.

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use slipstream_codec::value::{decode_bytes as unwrap, encode_bytes as wrap};
use slipstream_core::{Manifest, PickleInfo, TypeTag};

use super::{Described, codec_error};

/// Pickle protocol 5: out-of-band buffers, supported by every Python slipstream runs on.
const PICKLE_PROTOCOL: u32 = 5;

/// `bytes` or `bytearray`, kept byte for byte.
pub fn encode_bytes(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Described> {
    let (payload, flavor) = if let Ok(b) = value.cast_exact::<PyBytes>() {
        let data = b.as_bytes();
        (
            crate::runtime::compute(py, || wrap(data)).map_err(codec_error)?,
            "builtins",
        )
    } else {
        let data = value.cast_exact::<PyByteArray>()?.to_vec();
        (wrap(&data).map_err(codec_error)?, "builtins.bytearray")
    };
    Ok(Described::new(
        payload,
        "bin",
        TypeTag::Bytes,
        "bincode",
        flavor,
    ))
}

pub fn decode_bytes<'py>(
    py: Python<'py>,
    manifest: &Manifest,
    payload: &[u8],
) -> PyResult<Bound<'py, PyAny>> {
    let data = unwrap(payload).map_err(codec_error)?;
    Ok(if manifest.flavor == "builtins.bytearray" {
        PyByteArray::new(py, data).into_any()
    } else {
        PyBytes::new(py, data).into_any()
    })
}

/// Any picklable value; the Python version and protocol are recorded for readers.
pub fn encode_pickle(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Described> {
    let pickled = py
        .import("pickle")?
        .call_method1("dumps", (value, PICKLE_PROTOCOL))?;
    let payload = pickled.cast::<PyBytes>()?.as_bytes().to_vec();
    let version = py
        .import("platform")?
        .call_method0("python_version")?
        .to_string();
    Ok(Described::new(
        payload,
        "pickle",
        TypeTag::Pickle,
        "pickle",
        super::type_name(value),
    )
    .with(move |m| {
        m.pickle = Some(PickleInfo {
            python: version,
            protocol: PICKLE_PROTOCOL,
        });
    }))
}

pub fn decode_pickle<'py>(py: Python<'py>, payload: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    py.import("pickle")?
        .call_method1("loads", (PyBytes::new(py, payload),))
}
