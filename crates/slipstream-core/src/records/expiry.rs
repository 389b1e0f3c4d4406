//! `ops/<op prefix>/<escaped run id>/expired.json`: written by retention (`slipstream gc`)
//! before it deletes the payloads and previews of one op in one run. Manifests, try records
//! and the run's records stay; a read of an output whose payload is gone then says it expired,
//! and when, instead of calling the artifact corrupt.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Record;

/// The payloads of one op's outputs in one run were deleted by retention.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Expiry {
    pub format: u32,
    pub flow: String,
    pub run_id: String,
    /// When retention deleted them (RFC 3339, UTC).
    pub expired_at: String,
    /// The policy that selected the run, for people: "keep the last 30 runs".
    pub reason: String,
}

impl Record for Expiry {
    const KIND: &'static str = "expiry marker";
    const FORMAT: u32 = 1;
}
