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
mod kinds;
mod merge;
mod pin;
mod preview;
mod retention;
mod run;
mod run_index;
mod schema;
mod spec;
mod try_record;
mod version_diff;

use serde::Deserialize;
use serde::de::DeserializeOwned;

pub use airflow::{AirflowRun, AirflowTask, AirflowTry};
pub use cache::CacheEntry;
pub use expiry::Expiry;
pub use kinds::{RECORD_KINDS, canonical, first_reader, newest_format, record_kind};
pub use merge::{merge_run, newest_version, op_status_from_airflow, versions_ran};
pub use pin::Pin;
pub use preview::{Capped, ColumnProfile, FrameHead, Histogram, Preview};
pub use retention::RetentionPolicy;
pub use run::{
    Attempt, CheckResult, ErrorSummary, OpKind, OpState, OpStatus, OutputsAt, RunRecord, RunStatus,
    Runner, Severity,
};
pub use run_index::{
    Deleted, IndexSegment, IndexedRuns, RunSummary, UnreadableRun, UnreadableStatus,
};
pub use schema::records_schema;
pub use spec::{
    Environment, FlowOutput, FlowSpec, FunctionSpec, MetricAlert, OpSpec, OutputRef, ParamSpec,
};
pub use try_record::{ErrorRecord, InputRef, Phases, StackFrame, TryRecord, TryStatus};
pub use version_diff::VersionDiff;

use crate::error::{CoreError, Result};

/// Raw JSON text of a value only Python interprets.
pub type RawJson = Box<serde_json::value::RawValue>;

/// A versioned record file: its name in messages and the newest format this build reads.
///
/// Rolling upgrades: a reader ignores fields it does not know, so a record that only gained
/// fields keeps its format number and reads in the release before; a format bumps only for
/// a change an older reader would misread, and [`Record::needed_format`] says which
/// records need it (the others keep the older number). Writers are strict: a record about
/// to be written must have only known fields and the format its content needs.
pub trait Record: DeserializeOwned {
    /// What the file is, for messages: "run record", "flow spec", …
    const KIND: &'static str;
    /// The newest format this build writes; every format from 1 up to it is read.
    const FORMAT: u32;
    /// The format this record's content needs: the oldest one whose readers read it right.
    fn needed_format(&self) -> u32 {
        Self::FORMAT
    }

    /// Parses `bytes`, refusing a format newer than [`Self::FORMAT`] before anything else.
    /// Fields this build does not know are ignored (a newer release added them).
    fn parse(bytes: &[u8]) -> Result<Self> {
        check_format(Self::KIND, Self::FORMAT, bytes)?;
        serde_json::from_slice(bytes).map_err(|source| CoreError::Record {
            kind: Self::KIND,
            source,
        })
    }

    /// Parses a record about to be written: every field must be known (a misspelled one is
    /// refused, not dropped) and its format must be the one its content needs, so that a
    /// reader that knows only older formats refuses it by its number.
    fn parse_current(bytes: &[u8]) -> Result<Self> {
        let found = read_format(Self::KIND, bytes)?;
        check_format(Self::KIND, Self::FORMAT, bytes)?;
        let mut unknown = Vec::new();
        let record: Self =
            serde_ignored::deserialize(&mut serde_json::Deserializer::from_slice(bytes), |path| {
                unknown.push(path.to_string())
            })
            .map_err(|source| CoreError::Record {
                kind: Self::KIND,
                source,
            })?;
        if !unknown.is_empty() {
            return Err(CoreError::UnknownFields {
                kind: Self::KIND,
                fields: unknown.join(", "),
            });
        }
        let needed = record.needed_format();
        if found != needed {
            return Err(CoreError::NotCurrentFormat {
                kind: Self::KIND,
                found,
                current: needed,
            });
        }
        Ok(record)
    }

    /// The format a record needs, read from `bytes` whatever format they say.
    fn format_of(bytes: &[u8]) -> Result<u32>
    where
        Self: Sized,
    {
        let record: Self = serde_json::from_slice(bytes).map_err(|source| CoreError::Record {
            kind: Self::KIND,
            source,
        })?;
        Ok(record.needed_format())
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
    fn a_misspelled_field_is_refused_when_written_and_ignored_when_read() {
        let summary = br#"{"type": "E", "message": "m", "mesage": "m"}"#;
        let read: ErrorSummary = serde_json::from_slice(summary).unwrap();
        assert_eq!(read.message, "m");
        let header = br#"{"format": 3, "flow": "f", "version": "v", "run_id": "r",
            "trigger": "local", "status": "running", "params": {}, "started_at": "t",
            "ended_at": null, "ops": {}, "metrics": {}, "checks": {}, "colour": "red"}"#;
        assert!(
            RunRecord::parse(header).is_ok(),
            "a newer release's field is ignored"
        );
        let err = RunRecord::parse_current(header).unwrap_err();
        assert!(
            matches!(&err, CoreError::UnknownFields { fields, .. } if fields == "colour"),
            "{err}"
        );
    }
}
