//! `flows/<flow>/retention.json`: the retention policy a flow declares
//! (`ss.Flow(..., retention=ss.Retention(...))`), written when the flow is published, which
//! `slipstream gc` applies when no policy is given on its command line.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Record;

/// Which runs' payloads expire: beyond the newest `keep_last` and, when both are set, older
/// than `older_than_days`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RetentionPolicy {
    pub format: u32,
    pub flow: String,
    #[serde(default)]
    pub keep_last: Option<u64>,
    #[serde(default)]
    pub older_than_days: Option<f64>,
    /// The version whose publication set it.
    pub version: String,
}

impl Record for RetentionPolicy {
    const KIND: &'static str = "retention policy";
    const FORMAT: u32 = 1;
}
