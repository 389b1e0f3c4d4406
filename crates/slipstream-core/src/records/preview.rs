//! `ops/<prefix>/<run>/outputs/<output>/preview.json`: what the UI shows of an output without
//! reading its payload, written beside its manifest.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Record;

/// A preview; `kind` says which.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Preview {
    /// The first rows of a frame and a profile of each column shown.
    Frame {
        format: u32,
        rows: u64,
        columns: u64,
        columns_shown: u64,
        head: FrameHead,
        profile: Vec<ColumnProfile>,
        /// Rows the head and profile were taken from, when fewer than `rows`: a frame
        /// streamed as it was stored keeps only its first rows.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        profiled_rows: Option<u64>,
    },
    /// A thumbnail (base64 PNG) of an image.
    Image {
        format: u32,
        width: u64,
        height: u64,
        mode: String,
        thumbnail: String,
    },
    /// A numpy array printed by numpy, capped.
    Array {
        format: u32,
        shape: Vec<u64>,
        dtype: String,
        #[serde(flatten)]
        text: Capped,
    },
    /// The first 256 bytes in hex.
    Bytes {
        format: u32,
        length: u64,
        hex: String,
    },
    /// A number (non-finite floats as text).
    Number { format: u32, value: Value },
    Text {
        format: u32,
        #[serde(flatten)]
        text: Capped,
    },
    /// Lists, dicts, None and booleans as indented JSON, capped.
    Json {
        format: u32,
        #[serde(flatten)]
        text: Capped,
    },
    /// Why there is no preview.
    None { format: u32, reason: String },
}

impl Record for Preview {
    const KIND: &'static str = "preview";
    /// 2: `distinct_exact` in column profiles.
    const FORMAT: u32 = 2;
}

/// Text cut at a fixed length; `length` is the whole text's.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Capped {
    pub text: String,
    pub length: u64,
    pub truncated: bool,
}

/// Column names and rows of cells (numbers, booleans, null, capped text).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FrameHead {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// One column's profile: nulls, distinct values, range and histogram of numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ColumnProfile {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub nulls: u64,
    /// Distinct non-null values: counted, or (`distinct_exact` false, and always before
    /// format 2) estimated.
    pub distinct: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schemars(extend("default" = false))] // schemars leaves out a default that is skipped
    pub distinct_exact: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Histogram>,
}

/// Equal-width bins: `edges` has one more entry than `counts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}
