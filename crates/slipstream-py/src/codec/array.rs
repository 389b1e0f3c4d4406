//! numpy arrays and scalars: dtype + shape + buffer. Memory order is kept: a Fortran-ordered
//! array comes back Fortran-ordered; a non-contiguous view comes back as a contiguous copy.

use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyByteArray, PyBytes};
use slipstream_codec::ndarray::ArrayEnvelope;
use slipstream_core::{ArtifactKey, TypeTag};

use super::{Described, codec_error, type_name, unsupported};

pub fn encode(py: Python<'_>, key: &ArtifactKey, value: &Bound<'_, PyAny>) -> PyResult<Described> {
    let numpy = py.import("numpy")?;
    let is_array = value.is_exact_instance(&numpy.getattr("ndarray")?);
    let is_scalar = value.is_instance(&numpy.getattr("generic")?)?;
    if !is_array && !is_scalar {
        return Err(unsupported(
            key,
            &type_name(value),
            " (a numpy.ndarray subclass; pass numpy.asarray(value))",
        ));
    }
    let array = if is_scalar {
        numpy.call_method1("asarray", (value,))?
    } else {
        value.clone()
    };
    let dtype = array.getattr("dtype")?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    if kind == "T" {
        return Err(unsupported(
            key,
            &format!("{} of dtype {}", type_name(value), dtype.str()?),
            " (numpy StringDType strings live outside the array's buffer: convert with \
             value.astype(str) for fixed-width strings, pass a list, or allow_pickle=True)",
        ));
    }
    if kind == "O" || kind == "V" || !dtype.getattr("fields")?.is_none() {
        return Err(unsupported(
            key,
            &format!("{} of dtype {}", type_name(value), dtype.str()?),
            " (object and structured arrays have no portable layout: use a list, a frame, or allow_pickle=True)",
        ));
    }
    let flags = array.getattr("flags")?;
    let fortran = flags.getattr("f_contiguous")?.is_truthy()?
        && !flags.getattr("c_contiguous")?.is_truthy()?;
    let kwargs = [("order", if fortran { "F" } else { "C" })].into_py_dict(py)?;
    let data = array.call_method("tobytes", (), Some(&kwargs))?;
    let data = data.cast::<PyBytes>()?.as_bytes();
    let dtype_str: String = dtype.getattr("str")?.extract()?;
    let item_size: usize = dtype.getattr("itemsize")?.extract()?;
    let shape: Vec<u64> = array.getattr("shape")?.extract()?;
    let envelope = ArrayEnvelope::new(
        dtype_str.clone(),
        item_size,
        shape.clone(),
        fortran,
        is_scalar,
        data,
    )
    .map_err(codec_error)?;
    let payload = crate::runtime::compute(py, || envelope.encode()).map_err(codec_error)?;
    Ok(
        Described::new(payload, "bin", TypeTag::Ndarray, "bincode", "numpy").with(move |m| {
            m.dtype = Some(dtype_str);
            m.rows = shape.first().copied();
            m.shape = Some(shape);
        }),
    )
}

pub fn decode<'py>(py: Python<'py>, payload: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let envelope = ArrayEnvelope::decode(payload).map_err(codec_error)?;
    let numpy = py.import("numpy")?;
    let dtype = numpy.call_method1("dtype", (envelope.dtype.as_str(),))?;
    // A bytearray makes the result writable, as the array that was stored was.
    let buffer = PyByteArray::new(py, envelope.data);
    let flat = numpy.call_method(
        "frombuffer",
        (buffer,),
        Some(&[("dtype", dtype)].into_py_dict(py)?),
    )?;
    let order = if envelope.fortran_order { "F" } else { "C" };
    let array = flat.call_method(
        "reshape",
        (envelope.shape.clone(),),
        Some(&[("order", order)].into_py_dict(py)?),
    )?;
    if envelope.scalar {
        return array.get_item(pyo3::types::PyTuple::empty(py));
    }
    Ok(array)
}
