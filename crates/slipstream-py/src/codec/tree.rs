//! Trees of builtin values ↔ [`Value`]. Only exact builtin types are taken: a subclass
//! (an `IntEnum`, an `OrderedDict`, `numpy.float64`) would come back as its base type, which
//! is the kind of silent change slipstream refuses.

use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use slipstream_codec::value::{Value, decode_value, encode_value};
use slipstream_core::{ArtifactKey, TypeTag};

use super::{Described, type_name, unsupported};

/// Deepest nesting accepted; deeper values are almost certainly cyclic.
const MAX_DEPTH: usize = 256;

/// Encodes `value`, a builtin tree ([`is_tree_type`] of its root).
pub fn encode(py: Python<'_>, key: &ArtifactKey, value: &Bound<'_, PyAny>) -> PyResult<Described> {
    let tree = to_value(py, key, value, 0, &mut String::new())?;
    let payload =
        encode_value(&tree).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    Ok(Described::new(
        payload,
        "bin",
        TypeTag::Value,
        "bincode",
        "builtins",
    ))
}

/// Whether `v` is of a type the value codec stores (exactly: subclasses are not).
pub fn is_tree_type(v: &Bound<'_, PyAny>) -> bool {
    v.is_none()
        || v.is_exact_instance_of::<PyBool>()
        || v.is_exact_instance_of::<PyInt>()
        || v.is_exact_instance_of::<PyFloat>()
        || v.is_exact_instance_of::<PyString>()
        || v.is_exact_instance_of::<PyBytes>()
        || v.is_exact_instance_of::<PyList>()
        || v.is_exact_instance_of::<PyTuple>()
        || v.is_exact_instance_of::<PyDict>()
}

fn to_value(
    py: Python<'_>,
    key: &ArtifactKey,
    v: &Bound<'_, PyAny>,
    depth: usize,
    path: &mut String,
) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(unsupported(
            key,
            &type_name(v),
            &format!(" nested deeper than {MAX_DEPTH} levels at value{path} (is it cyclic?)"),
        ));
    }
    if v.is_none() {
        return Ok(Value::None);
    }
    if v.is_exact_instance_of::<PyBool>() {
        return Ok(Value::Bool(v.extract()?));
    }
    if v.is_exact_instance_of::<PyInt>() {
        return match v.extract::<i64>() {
            Ok(i) => Ok(Value::Int(i)),
            Err(_) => {
                // Two's complement needs one bit more than the magnitude.
                let bits: usize = v.call_method0("bit_length")?.extract()?;
                let signed = [("signed", true)].into_py_dict(py)?;
                let bytes = v.call_method("to_bytes", (bits / 8 + 1, "little"), Some(&signed))?;
                Ok(Value::BigInt(bytes.extract()?))
            }
        };
    }
    if v.is_exact_instance_of::<PyFloat>() {
        return Ok(Value::Float(v.extract()?));
    }
    if v.is_exact_instance_of::<PyString>() {
        let text: String = v.extract().map_err(|_| {
            unsupported(
                key,
                "str",
                &format!(
                    " (at value{path}: it holds a lone surrogate, which is not Unicode text: \
                     encode it, e.g. text.encode(\"utf-8\", \"surrogatepass\"), and store bytes)"
                ),
            )
        })?;
        return Ok(Value::Str(text));
    }
    if v.is_exact_instance_of::<PyBytes>() {
        return Ok(Value::Bytes(v.extract()?));
    }
    if let Ok(list) = v.cast_exact::<PyList>() {
        return Ok(Value::List(items(py, key, list.iter(), depth, path)?));
    }
    if let Ok(tuple) = v.cast_exact::<PyTuple>() {
        return Ok(Value::Tuple(items(py, key, tuple.iter(), depth, path)?));
    }
    if let Ok(dict) = v.cast_exact::<PyDict>() {
        let mut entries = Vec::with_capacity(dict.len());
        for (k, item) in dict.iter() {
            let len = path.len();
            path.push_str(&format!(
                "[{}]",
                k.repr()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|_| "?".into())
            ));
            let entry = (
                to_value(py, key, &k, depth + 1, path)?,
                to_value(py, key, &item, depth + 1, path)?,
            );
            path.truncate(len);
            entries.push(entry);
        }
        return Ok(Value::Dict(entries));
    }
    Err(unsupported(
        key,
        &type_name(v),
        &format!(" (at value{path})"),
    ))
}

fn items<'py>(
    py: Python<'py>,
    key: &ArtifactKey,
    iter: impl Iterator<Item = Bound<'py, PyAny>>,
    depth: usize,
    path: &mut String,
) -> PyResult<Vec<Value>> {
    iter.enumerate()
        .map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let value = to_value(py, key, &item, depth + 1, path);
            path.truncate(len);
            value
        })
        .collect()
}

/// Rebuilds the Python tree.
pub fn decode<'py>(py: Python<'py>, payload: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let tree = decode_value(payload)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    from_value(py, &tree)
}

fn from_values<'py>(py: Python<'py>, items: &[Value]) -> PyResult<Vec<Bound<'py, PyAny>>> {
    items.iter().map(|i| from_value(py, i)).collect()
}

fn from_value<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::None => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::BigInt(bytes) => py.get_type::<PyInt>().call_method(
            "from_bytes",
            (PyBytes::new(py, bytes), "little"),
            Some(&[("signed", true)].into_py_dict(py)?),
        )?,
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::Bytes(b) => PyBytes::new(py, b).into_any(),
        Value::List(items) => PyList::new(py, from_values(py, items)?)?.into_any(),
        Value::Tuple(items) => PyTuple::new(py, from_values(py, items)?)?.into_any(),
        Value::Dict(entries) => {
            let dict = PyDict::new(py);
            for (k, v) in entries {
                dict.set_item(from_value(py, k)?, from_value(py, v)?)?;
            }
            dict.into_any()
        }
    })
}
