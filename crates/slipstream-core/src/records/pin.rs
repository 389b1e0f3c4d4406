//! `flows/<flow>/runs/<escaped run id>/pinned.json`: a run `slipstream pin` protects from
//! retention. Removing the file (`slipstream unpin`) removes the protection.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Record;

/// A run kept whatever the retention policy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Pin {
    pub format: u32,
    pub flow: String,
    pub run_id: String,
    /// When it was pinned (RFC 3339, UTC).
    pub pinned_at: String,
    /// Why, in the user's words; empty if none was given.
    #[serde(default)]
    pub note: String,
}

impl Record for Pin {
    const KIND: &'static str = "pin";
    const FORMAT: u32 = 1;
}
