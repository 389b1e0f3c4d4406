//! `flows/<flow>/cache/<op>/<key>.json`: the cache index. An entry says which run's outputs
//! an op produced from one cache key (its code, input checksums, arguments, environment);
//! a later run of the op with the same key reuses them instead of running.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CheckResult, OutputsAt, RawJson, Record};

/// The outputs an op wrote for one cache key.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CacheEntry {
    pub format: u32,
    /// The key, a SHA-256 of what the outputs were made from.
    pub key: String,
    pub op: String,
    /// Where the outputs are.
    pub at: OutputsAt,
    /// The version whose op wrote them.
    pub version: String,
    /// Output name → checksum of its payload when it was written.
    pub outputs: IndexMap<String, String>,
    /// A metric's value or a check's verdict, which a reusing run records as its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<RawJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckResult>,
    pub written_at: String,
    /// (2) What the key is the hash of, part by part (`slipstream cache explain`): `code`,
    /// `op`, `inputs`, `arguments`, `environment`, `packages`, `image` and the formats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<RawJson>,
}

impl Record for CacheEntry {
    const KIND: &'static str = "cache entry";
    /// 2: keys that cover the user modules an op imports, the installed packages and the
    /// image, with their `parts`. Entries of format 1 still read, but no format-2 key
    /// matches them.
    const FORMAT: u32 = 2;
}
