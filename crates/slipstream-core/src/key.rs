//! The key layout: where everything a task writes lives, computable from the op prefix and
//! the Airflow run id alone.
//!
//! ```text
//! ops/<op prefix>/<escaped run id>/outputs/<output>/manifest.json
//! ops/<op prefix>/<escaped run id>/outputs/<output>/payload-<crc32c>.<ext>
//! ops/<op prefix>/<escaped run id>/outputs/<output>/preview.json
//! ops/<op prefix>/<escaped run id>/try-<n>/record.json
//! ```

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

use crate::error::{CoreError, Result};

/// Bytes of a run id that pass through unescaped. `.` is escaped so that no component can
/// be `.` or `..`; `%` is escaped so that escaping is reversible; `:` `+` `/` and every
/// non-ASCII byte are escaped so that the key is safe on every filesystem and object store.
const RUN_ID_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// Longest escaped run id kept verbatim. Longer ones keep this many bytes and get a hash
/// suffix, so that the path component stays under the 255-byte filename limit of ext4/xfs.
const MAX_ESCAPED_RUN_ID: usize = 160;

/// An Airflow run id (`manual__2026-11-23T18:50:11.286216+00:00`, `scheduled__…`, any
/// user-supplied text) and its escaped form, which is a single safe path component.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunId {
    raw: String,
    escaped: String,
}

impl RunId {
    /// Validates and escapes a run id. Empty ids and ids with control characters are refused.
    pub fn new(raw: impl Into<String>) -> Result<Self> {
        let raw = raw.into();
        let invalid = |reason: &str| CoreError::InvalidKey {
            what: "run id",
            value: raw.clone(),
            reason: reason.to_owned(),
        };
        if raw.is_empty() {
            return Err(invalid("a run id must not be empty"));
        }
        if raw.chars().any(char::is_control) {
            return Err(invalid("a run id must not contain control characters"));
        }
        let escaped = escape_run_id(&raw);
        Ok(Self { raw, escaped })
    }

    /// The run id as Airflow knows it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The run id as it appears in keys.
    pub fn escaped(&self) -> &str {
        &self.escaped
    }

    /// Recovers a run id from its escaped form; `None` for hashed (very long) ids, whose
    /// original text is kept in their manifests and records instead.
    pub fn unescape(escaped: &str) -> Option<String> {
        if escaped.contains('~') {
            return None;
        }
        percent_decode_str(escaped)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    }
}

fn escape_run_id(raw: &str) -> String {
    let escaped = utf8_percent_encode(raw, RUN_ID_ESCAPES).to_string();
    if escaped.len() <= MAX_ESCAPED_RUN_ID {
        return escaped;
    }
    // Cut on a boundary that does not split a %XX triplet, then make the result unique.
    let mut cut = MAX_ESCAPED_RUN_ID - 24;
    while escaped.as_bytes()[..cut]
        .iter()
        .rev()
        .take(2)
        .any(|&b| b == b'%')
    {
        cut -= 1;
    }
    let digest = Sha256::digest(raw.as_bytes());
    let suffix: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}~{suffix}", &escaped[..cut])
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Checks a name made of ASCII letters, digits, `_` and `-`, as op prefixes and outputs are.
pub(crate) fn check_name(what: &'static str, value: &str, max: usize) -> Result<()> {
    let reason = if value.is_empty() {
        Some("it must not be empty".to_owned())
    } else if value.len() > max {
        Some(format!("it must be at most {max} characters long"))
    } else if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Some("only ASCII letters, digits, '_' and '-' are allowed".to_owned())
    } else if value.starts_with('-') {
        Some("it must not start with '-'".to_owned())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(CoreError::InvalidKey {
            what,
            value: value.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Defines a validated name type: ASCII letters, digits, `_` and `-`, at most `$max` bytes.
macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            #[doc = concat!("Validates a ", $what, " (letters, digits, `_`, `-`; at most ",
                            stringify!($max), " characters).")]
            pub fn new(value: impl Into<String>) -> $crate::error::Result<Self> {
                let value = value.into();
                $crate::key::check_name($what, &value, $max)?;
                Ok(Self(value))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use name_type;

name_type!(
    /// The prefix of one op of one flow version: a UUID minted at publish time.
    OpPrefix, "op prefix", 64
);
name_type!(
    /// The name of one output of an op (`out` for a single output).
    OutputName, "output name", 128
);

/// Airflow's attempt counter: 1 for the first try, 2 for the first retry, and so on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TryNumber(u32);

impl TryNumber {
    /// Validates a try number (at least 1).
    pub fn new(value: u32) -> Result<Self> {
        if value == 0 {
            return Err(CoreError::InvalidKey {
                what: "try number",
                value: value.to_string(),
                reason: "tries are numbered from 1".to_owned(),
            });
        }
        Ok(Self(value))
    }

    /// The number.
    pub fn get(&self) -> u32 {
        self.0
    }
}

/// One output of one op in one run: the address of an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArtifactKey {
    pub op_prefix: OpPrefix,
    pub run_id: RunId,
    pub output: OutputName,
}

impl ArtifactKey {
    /// Builds a key from its three parts, validating each.
    pub fn new(op_prefix: &str, run_id: &str, output: &str) -> Result<Self> {
        Ok(Self {
            op_prefix: OpPrefix::new(op_prefix)?,
            run_id: RunId::new(run_id)?,
            output: OutputName::new(output)?,
        })
    }

    /// `ops/<op prefix>/<escaped run id>`: everything one op wrote in one run.
    pub fn run_dir(&self) -> String {
        run_dir(&self.op_prefix, &self.run_id)
    }

    /// `ops/<op prefix>/<escaped run id>/expired.json`: present once retention deleted the
    /// payloads of this op in this run (see [`crate::records::Expiry`]).
    pub fn expiry_path(&self) -> String {
        format!("{}/expired.json", self.run_dir())
    }

    /// The folder holding this output's manifest and payload.
    pub fn output_dir(&self) -> String {
        format!("{}/outputs/{}", self.run_dir(), self.output.as_str())
    }

    /// The manifest, written after the payload; readers trust nothing else.
    pub fn manifest_path(&self) -> String {
        format!("{}/manifest.json", self.output_dir())
    }

    /// The preview (first rows and profile, thumbnail, truncated rendering) written with the
    /// artifact, so that a viewer never has to download the payload to show it.
    pub fn preview_path(&self) -> String {
        format!("{}/preview.json", self.output_dir())
    }

    /// The payload object, named after its checksum so that a retry never overwrites bytes
    /// that an existing manifest points at.
    pub fn payload_path(&self, payload_name: &str) -> String {
        format!("{}/{payload_name}", self.output_dir())
    }
}

impl fmt::Display for ArtifactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.op_prefix.as_str(),
            self.run_id.as_str(),
            self.output.as_str()
        )
    }
}

/// `ops/<op prefix>/<escaped run id>`.
pub fn run_dir(op_prefix: &OpPrefix, run_id: &RunId) -> String {
    format!("ops/{}/{}", op_prefix.as_str(), run_id.escaped())
}

/// `ops/<op prefix>/<escaped run id>/try-<n>/record.json`: the record of one task attempt.
pub fn record_path(op_prefix: &OpPrefix, run_id: &RunId, try_number: TryNumber) -> String {
    format!(
        "{}/try-{}/record.json",
        run_dir(op_prefix, run_id),
        try_number.get()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(run_id: &str) -> String {
        RunId::new(run_id).unwrap().escaped().to_owned()
    }

    fn is_safe(c: &str) -> bool {
        !c.is_empty()
            && c != "."
            && c != ".."
            && c.len() <= 200
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_%~".contains(&b))
    }

    #[test]
    fn airflow_run_ids_become_one_safe_component() {
        for id in [
            "manual__2026-11-23T18:50:11.286216+00:00",
            "scheduled__2026-11-23T00:00:00+00:00",
            "a/b",
            "../x",
            "..",
            ".",
            "100%",
            "ünïcødé-運行-🚀",
            "with space",
        ] {
            let c = component(id);
            assert!(is_safe(&c), "{id:?} escaped to unsafe {c:?}");
            assert_eq!(
                RunId::unescape(&c).as_deref(),
                Some(id),
                "{id:?} not reversible"
            );
        }
        assert_eq!(
            component("manual__2026-11-23T18:50:11.286216+00:00"),
            "manual__2026-11-23T18%3A50%3A11%2E286216%2B00%3A00"
        );
    }

    #[test]
    fn distinct_ids_never_collide() {
        let ids = ["a/b", "a%2Fb", "a_b", "a-b", "a.b", "a%b"];
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            assert!(seen.insert(component(id)), "collision for {id:?}");
        }
    }

    #[test]
    fn long_ids_are_shortened_uniquely() {
        let long_a = "é".repeat(240);
        let long_b = format!("{}x", "é".repeat(239));
        let (a, b) = (component(&long_a), component(&long_b));
        assert!(is_safe(&a) && is_safe(&b));
        assert_ne!(a, b);
        assert!(a.len() <= MAX_ESCAPED_RUN_ID);
        assert_eq!(RunId::unescape(&a), None);
    }

    #[test]
    fn bad_parts_are_refused_with_reasons() {
        assert!(
            RunId::new("")
                .unwrap_err()
                .to_string()
                .contains("must not be empty")
        );
        assert!(RunId::new("a\nb").is_err());
        assert!(OpPrefix::new("../etc").is_err());
        assert!(OpPrefix::new("").is_err());
        assert!(OutputName::new("out/put").is_err());
        assert!(OutputName::new("-x").is_err());
        assert!(TryNumber::new(0).is_err());
        assert!(ArtifactKey::new("9a1f", "manual__x", "out").is_ok());
    }

    #[test]
    fn layout_matches_the_contract() {
        let key = ArtifactKey::new("9a1f", "manual__2026-11-23T18:50:11+00:00", "out").unwrap();
        let run = "ops/9a1f/manual__2026-11-23T18%3A50%3A11%2B00%3A00";
        assert_eq!(key.run_dir(), run);
        assert_eq!(
            key.manifest_path(),
            format!("{run}/outputs/out/manifest.json")
        );
        assert_eq!(
            key.payload_path("payload-0000abcd.parquet"),
            format!("{run}/outputs/out/payload-0000abcd.parquet")
        );
        assert_eq!(
            key.preview_path(),
            format!("{run}/outputs/out/preview.json")
        );
        let rec = record_path(&key.op_prefix, &key.run_id, TryNumber::new(2).unwrap());
        assert_eq!(rec, format!("{run}/try-2/record.json"));
    }
}
