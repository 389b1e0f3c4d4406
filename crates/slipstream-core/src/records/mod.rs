//! The records slipstream keeps beside the data: one typed definition of every JSON file
//! under `flows/` and of the try records and previews under `ops/`. Each carries a `format`
//! number; readers accept every format up to the one they know and refuse a newer one,
//! so that a store written by a newer slipstream is never misread. `docs/formats.md`
//! documents each file field by field.
//!
//! Values that only Python gives meaning to (param defaults, op constants, params, metric
//! values) are kept as raw JSON text: they round-trip exactly, whatever their size.

mod airflow;
mod cache;
mod expiry;
mod merge;
mod pin;
mod preview;
mod retention;
mod run;
mod run_index;
mod spec;
mod try_record;
mod version_diff;

use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use airflow::{AirflowRun, AirflowTask, AirflowTry};
pub use cache::CacheEntry;
pub use expiry::Expiry;
pub use merge::{merge_run, newest_version, op_status_from_airflow, versions_ran};
pub use pin::Pin;
pub use preview::{Capped, ColumnProfile, FrameHead, Histogram, Preview};
pub use retention::RetentionPolicy;
pub use run::{
    Attempt, CheckResult, ErrorSummary, OpKind, OpState, OpStatus, OutputsAt, RunRecord, RunStatus,
    Runner, Severity,
};
pub use run_index::{Deleted, IndexSegment, IndexedRuns, RunSummary};
pub use spec::{Environment, FlowOutput, FlowSpec, FunctionSpec, OpSpec, OutputRef, ParamSpec};
pub use try_record::{ErrorRecord, InputRef, Phases, StackFrame, TryRecord, TryStatus};
pub use version_diff::VersionDiff;

use crate::error::{CoreError, Result};

/// Raw JSON text of a value only Python interprets.
pub type RawJson = Box<serde_json::value::RawValue>;

/// A versioned record file: its name in messages and the newest format this build reads.
pub trait Record: DeserializeOwned {
    /// What the file is, for messages: "run record", "flow spec", …
    const KIND: &'static str;
    /// The format this build writes; every format from 1 up to it is read.
    const FORMAT: u32;
    /// The oldest format this build still writes: a record that needs nothing newer may keep
    /// it (a flow spec does, so that its version id stays what it was).
    const WRITES_FROM: u32 = Self::FORMAT;

    /// Parses `bytes`, refusing a format newer than [`Self::FORMAT`] before anything else.
    fn parse(bytes: &[u8]) -> Result<Self> {
        check_format(Self::KIND, Self::FORMAT, bytes)?;
        serde_json::from_slice(bytes).map_err(|source| CoreError::Record {
            kind: Self::KIND,
            source,
        })
    }

    /// Parses a record about to be written: it must be of the format this build writes, so
    /// that a reader that knows only older formats refuses it by its number.
    fn parse_current(bytes: &[u8]) -> Result<Self> {
        let found = read_format(Self::KIND, bytes)?;
        if !(Self::WRITES_FROM..=Self::FORMAT).contains(&found) {
            return Err(CoreError::NotCurrentFormat {
                kind: Self::KIND,
                found,
                current: Self::FORMAT,
            });
        }
        Self::parse(bytes)
    }
}

/// Only the `format` field, read first so that a newer record is refused with a message
/// that says so rather than with whatever field it no longer has. Records written before
/// the field existed are format 1.
#[derive(Deserialize)]
struct FormatOnly {
    #[serde(default = "first_format")]
    format: u32,
}

pub(crate) fn first_format() -> u32 {
    1
}

fn read_format(kind: &'static str, bytes: &[u8]) -> Result<u32> {
    Ok(serde_json::from_slice::<FormatOnly>(bytes)
        .map_err(|source| CoreError::Record { kind, source })?
        .format)
}

fn check_format(kind: &'static str, known: u32, bytes: &[u8]) -> Result<()> {
    let found = read_format(kind, bytes)?;
    if found > known {
        return Err(CoreError::NewerFormat { kind, found, known });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_format_is_refused_by_name() {
        let err = RunRecord::parse(br#"{"format": 999, "flow": "x"}"#).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, CoreError::NewerFormat { found: 999, .. }),
            "{message}"
        );
        assert!(
            message.contains("newer slipstream (format 999)"),
            "{message}"
        );
        assert!(message.contains("upgrade"), "{message}");
    }

    #[test]
    fn a_misspelled_field_is_refused() {
        let err =
            serde_json::from_str::<ErrorSummary>(r#"{"type": "E", "mesage": "m"}"#).unwrap_err();
        assert!(err.to_string().contains("mesage"), "{err}");
    }
}
