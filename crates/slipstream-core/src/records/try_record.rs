//! `ops/<prefix>/<run>/try-<n>/record.json`: what one try of one op did, written by the task
//! that ran it once the try has ended (interrupted tries too).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CheckResult, OpKind, OutputsAt, RawJson, Record};
use crate::Manifest;

/// One try of one op.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TryRecord {
    pub format: u32,
    pub op_prefix: String,
    pub run_id: String,
    pub try_number: u32,
    /// The qualified name of the function called.
    pub function: String,
    pub status: TryStatus,
    pub started_at: String,
    pub ended_at: String,
    pub duration_seconds: f64,
    pub peak_rss_bytes: u64,
    /// Parameter name → the artifact read for it.
    pub inputs: IndexMap<String, InputRef>,
    /// Output name → the manifest of what was stored (outputs stored before a failure too).
    pub outputs: IndexMap<String, Manifest>,
    /// What the op printed (C-level writes included), capped.
    pub stdout: String,
    pub stderr: String,
    pub stdout_dropped_bytes: u64,
    pub stderr_dropped_bytes: u64,
    pub error: Option<ErrorRecord>,
    /// Absent in the first records written: they were all ops.
    #[serde(default = "plain_op")]
    pub kind: OpKind,
    pub metric: Option<RawJson>,
    pub check: Option<CheckResult>,
    pub host: String,
    pub pid: u32,
    /// Where this record is stored.
    pub record_path: String,
    /// The flow version whose code this try ran (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The code hash of the op in that version (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_hash: Option<String>,
    /// A try that did not call the function: its outputs (`outputs`, with their manifests)
    /// are those of an earlier run with the same cache key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_from: Option<OutputsAt>,
    /// Where the try's time went (format 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<Phases>,
}

impl Record for TryRecord {
    const KIND: &'static str = "try record";
    /// 2: `version` and `code_hash`. 3: `phases`. 4: the try of an `upstream` op (kind
    /// `upstream`, `cached_from.flow`); other tries are still written as format 3.
    const FORMAT: u32 = 4;

    /// 4 for a try of an `upstream` op (`cached_from.flow`), else 3.
    fn needed_format(&self) -> u32 {
        if self.kind == OpKind::Upstream { 4 } else { 3 }
    }
}

/// Seconds a try spent reading its inputs (lazy inputs are read during the call), in the
/// function, and storing its outputs (checking a check's result included).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Phases {
    pub inputs: f64,
    pub call: f64,
    pub outputs: f64,
}

fn plain_op() -> OpKind {
    OpKind::Op
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TryStatus {
    Success,
    Failed,
}

/// An artifact by its key parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InputRef {
    pub op_prefix: String,
    pub run_id: String,
    pub output: String,
}

/// Why a try failed: the exception, in which phase, with the user's frames only.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ErrorRecord {
    #[serde(rename = "type")]
    pub type_name: String,
    pub message: String,
    /// `inputs`, `call`, `outputs` or `check`.
    pub phase: String,
    pub traceback: String,
    pub frames: Vec<StackFrame>,
}

/// One frame of the user's code.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StackFrame {
    pub file: String,
    pub line: Option<u32>,
    pub function: String,
    pub code: Option<String>,
}
