//! Python values in and out of the codecs. `encode` picks the codec from the value's type
//! (the type table in the README); `decode` rebuilds the same Python type from a manifest.

mod array;
mod blob;
mod frame;
mod image;
mod stream;
mod tree;

use std::time::Instant;

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use slipstream_core::{ArtifactKey, Manifest, TypeTag};

pub use crate::errors::codec_error;
use crate::errors::{CorruptArtifact, PickleNotAllowed, UnsupportedType};
pub use stream::{is_stream, put_stream};

/// A value encoded for storage: the payload and everything the manifest says about it.
pub struct Encoded {
    pub payload: Vec<u8>,
    pub extension: &'static str,
    pub manifest: Manifest,
}

/// What the type-specific encoders fill in; the rest of the manifest is common.
pub struct Described {
    pub payload: Vec<u8>,
    pub extension: &'static str,
    pub type_tag: TypeTag,
    pub codec: &'static str,
    pub flavor: String,
    pub fill: Box<dyn FnOnce(&mut Manifest) + Send>,
}

impl Described {
    pub fn new(
        payload: Vec<u8>,
        extension: &'static str,
        type_tag: TypeTag,
        codec: &'static str,
        flavor: impl Into<String>,
    ) -> Self {
        Self {
            payload,
            extension,
            type_tag,
            codec,
            flavor: flavor.into(),
            fill: Box::new(|_| {}),
        }
    }

    pub fn with(mut self, fill: impl FnOnce(&mut Manifest) + Send + 'static) -> Self {
        self.fill = Box::new(fill);
        self
    }
}

/// `module.QualName` of a value's type, as shown to users and recorded in manifests.
pub fn type_name(value: &Bound<'_, PyAny>) -> String {
    let ty = value.get_type();
    let module = ty.module().map(|m| m.to_string()).unwrap_or_default();
    let name = ty
        .qualname()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    if module.is_empty() || module == "builtins" {
        name
    } else {
        format!("{module}.{name}")
    }
}

fn root_module(value: &Bound<'_, PyAny>) -> String {
    let module = value
        .get_type()
        .module()
        .map(|m| m.to_string())
        .unwrap_or_default();
    module.split('.').next().unwrap_or_default().to_owned()
}

/// Encodes `value` for `key` with the codec its type calls for.
pub fn encode(
    py: Python<'_>,
    key: &ArtifactKey,
    value: &Bound<'_, PyAny>,
    allow_pickle: bool,
    try_number: u32,
) -> PyResult<Encoded> {
    let started = Instant::now();
    let python_type = type_name(value);
    if let Some(advice) = query_not_data(&python_type) {
        return Err(unsupported(key, &python_type, advice));
    }
    let described = if value.is_exact_instance_of::<PyBytes>()
        || value.is_exact_instance_of::<PyByteArray>()
    {
        blob::encode_bytes(py, value)?
    } else {
        let typed = match root_module(value).as_str() {
            _ if tree::is_tree_type(value) => tree::encode(py, key, value),
            _ if way_to_a_frame(&python_type).is_some() => Err(unsupported(
                key,
                &python_type,
                way_to_a_frame(&python_type).unwrap_or_default(),
            )),
            "numpy" if value.hasattr("dtype")? => array::encode(py, key, value),
            "PIL" if image::is_image(py, value)? => image::encode(py, key, value),
            _ if value.hasattr("__arrow_c_stream__")? || value.hasattr("__arrow_c_array__")? => {
                frame::encode(py, key, value)
            }
            _ => Err(unsupported(key, &python_type, "")),
        };
        match typed {
            // A value no codec takes (an object array, a frame of Python objects) is pickled
            // where the caller allows it.
            Err(e) if allow_pickle && e.is_instance_of::<UnsupportedType>(py) => {
                blob::encode_pickle(py, value)?
            }
            other => other?,
        }
    };
    let mut manifest = manifest(
        py,
        key,
        (described.type_tag, described.codec, &described.flavor),
        &python_type,
        try_number,
    )?;
    (described.fill)(&mut manifest);
    manifest.encode_seconds = started.elapsed().as_secs_f64();
    Ok(Encoded {
        payload: described.payload,
        extension: described.extension,
        manifest,
    })
}

/// The manifest of a value of `python_type` written by `codec` as `type_tag` and `flavor`,
/// without what only its payload tells.
fn manifest(
    py: Python<'_>,
    key: &ArtifactKey,
    (type_tag, codec, flavor): (TypeTag, &str, &str),
    python_type: &str,
    try_number: u32,
) -> PyResult<Manifest> {
    let mut manifest = Manifest::new(key, type_tag, codec, flavor, python_type);
    manifest.try_number = try_number;
    manifest.libraries = libraries(py, flavor)?;
    Ok(manifest)
}

/// Datasets (a `pyarrow.dataset.Dataset`): a plan over files, not data; pickled, it would
/// point at files that may be gone (a lazy input's copy is removed when its op ends).
/// Refused even where pickling is allowed. (A `polars.LazyFrame` is streamed, see `stream`.)
fn query_not_data(python_type: &str) -> Option<&'static str> {
    match python_type {
        t if t.starts_with("pyarrow._dataset.") && t.ends_with("Dataset") => {
            Some(" (a dataset, not data: return dataset.to_table())")
        }
        _ => None,
    }
}

/// The way out for a single column (a series, an Arrow array), which Arrow streams as
/// something else than a table: make it a frame.
fn way_to_a_frame(python_type: &str) -> Option<&'static str> {
    match python_type {
        "pandas.Series" | "pandas.core.series.Series" => {
            Some(" (a single column: store series.to_frame())")
        }
        "polars.series.series.Series" => Some(" (a single column: store series.to_frame())"),
        t if t.starts_with("pyarrow.lib.") && (t.ends_with("Array") || t.ends_with("Scalar")) => {
            Some(" (a single column: store pa.table({\"name\": array}))")
        }
        _ => None,
    }
}

/// What a manifest claims that cannot be so: a codec its type is not written with, or a
/// frame library other than the one its Python type comes from.
fn inconsistency(manifest: &Manifest) -> Option<String> {
    let codecs: &[&str] = match manifest.type_tag {
        TypeTag::Frame => &["parquet"],
        TypeTag::Image => &["png"],
        TypeTag::Ndarray | TypeTag::Value => &["bincode"],
        TypeTag::Bytes => &["bincode"],
        TypeTag::Pickle => &["pickle"],
    };
    if !codecs.contains(&manifest.codec.as_str()) {
        return Some(format!(
            "says codec {:?} for a {:?} value",
            manifest.codec, manifest.type_tag
        ));
    }
    if manifest.type_tag == TypeTag::Frame {
        let library = manifest.flavor.split('.').next().unwrap_or_default();
        let from = manifest.python_type.split('.').next().unwrap_or_default();
        let known = ["pandas", "polars", "pyarrow"];
        if known.contains(&library) && library != from {
            return Some(format!(
                "says the frame goes back to {} but it was a {}",
                manifest.flavor, manifest.python_type
            ));
        }
    }
    None
}

/// Rebuilds the Python value of a verified payload.
pub fn decode<'py>(
    py: Python<'py>,
    key: &ArtifactKey,
    manifest: &Manifest,
    payload: bytes::Bytes,
    allow_pickle: bool,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(problem) = inconsistency(manifest) {
        return Err(CorruptArtifact::new_err(format!(
            "artifact {key}: its manifest {problem}: it was edited; write the output again"
        )));
    }
    let decoded = match manifest.type_tag {
        TypeTag::Frame => frame::decode(py, manifest, payload),
        TypeTag::Image => image::decode(py, manifest, &payload),
        TypeTag::Ndarray => array::decode(py, &payload),
        TypeTag::Bytes => blob::decode_bytes(py, manifest, &payload),
        TypeTag::Value => tree::decode(py, &payload),
        TypeTag::Pickle => {
            if !allow_pickle {
                return Err(PickleNotAllowed::new_err(format!(
                    "artifact {key} was stored with pickle ({} from Python {}); unpickling runs \
                         code from the store, so pass allow_pickle=True to read it if you trust its writer",
                    manifest.python_type,
                    manifest.pickle.as_ref().map_or("?", |p| p.python.as_str())
                )));
            }
            blob::decode_pickle(py, &payload)
        }
    };
    decoded.map_err(|e| {
        if e.is_instance_of::<pyo3::exceptions::PyImportError>(py) {
            return e; // a missing library is the user's to install, not corruption
        }
        let corrupt = CorruptArtifact::new_err(format!(
            "artifact {key} cannot be decoded as {} ({}): {e}; re-run the op that produces it",
            manifest.flavor, manifest.codec
        ));
        corrupt.set_cause(py, Some(e));
        corrupt
    })
}

/// The error for a value no codec takes. `detail` says where in a nested value it was. The
/// key's output is named; the op, which only its caller knows by name, is named by the
/// caller (`run_op` prefixes "op 'x' returned ...").
pub fn unsupported(key: &ArtifactKey, python_type: &str, detail: &str) -> PyErr {
    UnsupportedType::new_err(format!(
        "cannot store a value of type {python_type}{detail} as output {:?}: slipstream stores \
         data frames (pandas, polars, pyarrow), PIL images, numpy arrays, bytes, and trees of \
         None/bool/int/float/str/bytes/list/tuple/dict; convert the value to one of these, or \
         pass allow_pickle=True to store it with pickle",
        key.output.as_str(),
    ))
}

/// Python, slipstream and the flavor's library versions, as recorded in manifests.
fn libraries(py: Python<'_>, flavor: &str) -> PyResult<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    out.insert(
        "slipstream".to_owned(),
        env!("CARGO_PKG_VERSION").to_owned(),
    );
    let sys = py.import("sys")?;
    let version = sys.getattr("version")?.to_string();
    out.insert(
        "python".to_owned(),
        version
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    );
    let modules = sys.getattr("modules")?;
    let root = flavor.split('.').next().unwrap_or_default();
    let mut wanted = vec![root];
    if matches!(root, "pandas" | "pyarrow") {
        wanted.push("pyarrow");
    }
    for name in wanted {
        if name == "builtins" || out.contains_key(name) {
            continue;
        }
        if let Ok(module) = modules.get_item(name)
            && let Ok(version) = module.getattr("__version__")
        {
            out.insert(name.to_lowercase(), version.to_string());
        }
    }
    Ok(out)
}
