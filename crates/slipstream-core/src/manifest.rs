//! The manifest: the small JSON document written after each payload. Readers trust only
//! manifests, so a payload without one (a crash mid-write) is never read as data.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ArtifactKey;
use crate::error::Result;
use crate::records::Record;

/// Version of the manifest format; bumped on incompatible changes.
pub const MANIFEST_FORMAT: u32 = 1;

/// What kind of Python value an artifact holds; decides the codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TypeTag {
    /// A data frame or Arrow table/batch/stream, stored as Parquet.
    Frame,
    /// A PIL image, stored as PNG.
    Image,
    /// A numpy array or scalar, stored as dtype + shape + buffer.
    Ndarray,
    /// Raw bytes.
    Bytes,
    /// A tree of builtin values (None, bool, int, float, str, bytes, list, tuple, dict).
    Value,
    /// Anything else, pickled because the caller allowed it.
    Pickle,
}

/// Image geometry and PIL mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImageInfo {
    pub mode: String,
    pub width: u32,
    pub height: u32,
}

/// How a pickled artifact was written; reading it back needs a compatible Python.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PickleInfo {
    pub python: String,
    pub protocol: u32,
}

/// Everything recorded about one stored output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Manifest {
    pub format: u32,
    pub op_prefix: String,
    pub run_id: String,
    pub output: String,
    #[serde(rename = "type")]
    pub type_tag: TypeTag,
    /// `parquet`, `png`, `bincode` or `pickle`.
    pub codec: String,
    /// The Python library the value came from and goes back to (`pandas.DataFrame`,
    /// `polars.DataFrame`, `pyarrow.Table`, `PIL.Image`, `numpy.ndarray`, `builtins`…).
    pub flavor: String,
    /// The exact Python type of the value that was stored.
    pub python_type: String,
    /// Object name of the payload, relative to the output's folder.
    pub payload: String,
    /// Size of the payload in bytes.
    pub bytes: u64,
    /// Checksum of the payload, verified on every read.
    pub checksum: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Frames: one entry per column, `{name, type, nullable}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickle: Option<PickleInfo>,
    pub try_number: u32,
    /// Versions of Python, slipstream and the value's library at write time.
    pub libraries: BTreeMap<String, String>,
    pub encode_seconds: f64,
    pub write_seconds: f64,
    /// RFC 3339 UTC time the manifest was written.
    pub written_at: String,
    /// Fields added by callers (producing op, code hash…), kept as given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Manifest {
    /// A manifest for `key` with what the encoder knows; payload fields, timings and the
    /// timestamp are filled in when the artifact is written.
    pub fn new(
        key: &ArtifactKey,
        type_tag: TypeTag,
        codec: &str,
        flavor: &str,
        python_type: &str,
    ) -> Self {
        Self {
            format: MANIFEST_FORMAT,
            op_prefix: key.op_prefix.as_str().to_owned(),
            run_id: key.run_id.as_str().to_owned(),
            output: key.output.as_str().to_owned(),
            type_tag,
            codec: codec.to_owned(),
            flavor: flavor.to_owned(),
            python_type: python_type.to_owned(),
            payload: String::new(),
            bytes: 0,
            checksum: String::new(),
            rows: None,
            schema: None,
            shape: None,
            dtype: None,
            image: None,
            pickle: None,
            try_number: 1,
            libraries: BTreeMap::new(),
            encode_seconds: 0.0,
            write_seconds: 0.0,
            written_at: String::new(),
            extra: BTreeMap::new(),
        }
    }

    /// Pretty JSON, as stored.
    pub fn to_json(&self) -> Vec<u8> {
        // A Manifest holds only strings, numbers, maps and JSON values: serializing cannot fail.
        serde_json::to_vec_pretty(self).expect("manifest serializes")
    }

    /// Parses a stored manifest, refusing one of a newer format.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        <Self as Record>::parse(bytes)
    }
}

impl Record for Manifest {
    const KIND: &'static str = "manifest";
    const FORMAT: u32 = MANIFEST_FORMAT;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_every_field() {
        let m = Manifest {
            format: MANIFEST_FORMAT,
            op_prefix: "p".into(),
            run_id: "r".into(),
            output: "out".into(),
            type_tag: TypeTag::Image,
            codec: "png".into(),
            flavor: "PIL.Image".into(),
            python_type: "PIL.Image.Image".into(),
            payload: "payload-00000000.png".into(),
            bytes: 10,
            checksum: "crc32c:00000000".into(),
            rows: None,
            schema: None,
            shape: None,
            dtype: None,
            image: Some(ImageInfo {
                mode: "RGB".into(),
                width: 2,
                height: 3,
            }),
            pickle: None,
            try_number: 2,
            libraries: BTreeMap::from([("python".into(), "3.11.7".into())]),
            encode_seconds: 0.5,
            write_seconds: 0.25,
            written_at: "2026-11-23T18:50:11Z".into(),
            extra: BTreeMap::new(),
        };
        let json = m.to_json();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(text.contains("\"type\": \"image\""));
        assert!(!text.contains("\"rows\""), "absent fields are omitted");
        assert_eq!(Manifest::from_json(&json).unwrap(), m);
        assert!(Manifest::from_json(b"{\"format\": 1}").is_err());
    }
}
