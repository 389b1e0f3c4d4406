//! Which record kind a stored file is, from its path alone, and which releases read each
//! format of each kind: what `slipstream doctor` reports of a store, so that a team upgrading
//! one part of its deployment at a time (DAG processor, workers on pinned images, the UI,
//! laptops) knows which releases can still read everything the store holds.

use super::Record;
use crate::flow_layout::RunFile;

/// Runs `$body` with `$R` the record type of the kind named `$kind` (a `&str`: one of
/// [`RECORD_KINDS`]), or `$other` for any other name: the one map from a kind's name to its
/// type, for the SDK's binding and for this module.
#[macro_export]
macro_rules! with_record_type {
    ($kind:expr, $R:ident => $body:expr, _ => $other:expr) => {{
        use $crate::records as r;
        match $kind {
            "spec" => {
                type $R = r::FlowSpec;
                $body
            }
            "run" => {
                type $R = r::RunRecord;
                $body
            }
            "op_state" => {
                type $R = r::OpState;
                $body
            }
            "try" => {
                type $R = r::TryRecord;
                $body
            }
            "airflow" => {
                type $R = r::AirflowRun;
                $body
            }
            "preview" => {
                type $R = r::Preview;
                $body
            }
            "cache" => {
                type $R = r::CacheEntry;
                $body
            }
            "expiry" => {
                type $R = r::Expiry;
                $body
            }
            "pin" => {
                type $R = r::Pin;
                $body
            }
            "retention" => {
                type $R = r::RetentionPolicy;
                $body
            }
            "index" => {
                type $R = r::IndexSegment;
                $body
            }
            "manifest" => {
                type $R = $crate::Manifest;
                $body
            }
            _ => $other,
        }
    }};
}

/// Every record kind, by the name the SDK uses for it.
pub const RECORD_KINDS: [&str; 12] = [
    "spec",
    "run",
    "op_state",
    "try",
    "airflow",
    "preview",
    "cache",
    "expiry",
    "pin",
    "retention",
    "index",
    "manifest",
];

/// The kind of the record stored at `path`, or `None` for a payload, a marker or anything
/// else that is not a record.
pub fn record_kind(path: &str) -> Option<&'static str> {
    let parts: Vec<&str> = path.split('/').collect();
    Some(match parts.as_slice() {
        ["flows", _, "versions", _, "spec.json"] => "spec",
        ["flows", _, "retention.json"] => "retention",
        ["flows", _, "index", segment] if segment.ends_with(".json") => "index",
        ["flows", _, "cache", _, entry] if entry.ends_with(".json") => "cache",
        ["flows", _, "runs", _, "pinned.json"] => "pin",
        ["flows", _, "runs", _, rest @ ..] => match RunFile::classify(&rest.join("/"))? {
            RunFile::Record => "run",
            RunFile::OpState(_) => "op_state",
            RunFile::Airflow => "airflow",
        },
        ["ops", _, _, "expired.json"] => "expiry",
        ["ops", _, _, tried, "record.json"] if tried.starts_with("try-") => "try",
        ["ops", _, _, "outputs", _, "manifest.json"] => "manifest",
        ["ops", _, _, "outputs", _, "preview.json"] => "preview",
        _ => return None,
    })
}

/// A record of the kind named `kind` as this build reads it, written back whole: every field
/// this build knows (the defaults of an older format filled in), those of a newer release
/// dropped. What the SDK's record classes read (`slipstream.records.files`). `None` for a
/// name that is no record kind.
pub fn canonical(kind: &str, bytes: &[u8]) -> Option<crate::Result<Vec<u8>>> {
    crate::with_record_type!(kind, R => Some(R::parse(bytes).map(|record| {
        serde_json::to_vec(&record).expect("a record read serializes")
    })), _ => None)
}

/// The newest format of `kind` this build reads.
pub fn newest_format(kind: &str) -> Option<u32> {
    crate::with_record_type!(kind, R => Some(<R as Record>::FORMAT), _ => None)
}

/// The first release that reads format `format` of `kind` (it and every later one do), or
/// `None` for a format newer than this build knows. Every format up to today's was first
/// read by 0.1.0; when a format is bumped, the release that introduces it is added here.
pub fn first_reader(kind: &str, format: u32) -> Option<&'static str> {
    let newest = newest_format(kind)?;
    (1..=newest).contains(&format).then_some("0.1.0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_path_has_its_kind() {
        let cases = [
            ("flows/f/versions/abc/spec.json", Some("spec")),
            ("flows/f/retention.json", Some("retention")),
            ("flows/f/index/000-x.json", Some("index")),
            ("flows/f/cache/op/0123.json", Some("cache")),
            ("flows/f/runs/r%3A1/run.json", Some("run")),
            ("flows/f/runs/r/ops/clean.json", Some("op_state")),
            ("flows/f/runs/r/airflow.json", Some("airflow")),
            ("flows/f/runs/r/pinned.json", Some("pin")),
            ("flows/f/active/r", None),
            ("ops/p/r/expired.json", Some("expiry")),
            ("ops/p/r/try-2/record.json", Some("try")),
            ("ops/p/r/outputs/out/manifest.json", Some("manifest")),
            ("ops/p/r/outputs/out/preview.json", Some("preview")),
            ("ops/p/r/outputs/out/0123abcd.parquet", None),
        ];
        for (path, kind) in cases {
            assert_eq!(record_kind(path), kind, "{path}");
        }
        assert!(canonical("nope", b"{}").is_none());
        for kind in RECORD_KINDS {
            let newest = newest_format(kind).unwrap();
            assert_eq!(first_reader(kind, newest), Some("0.1.0"), "{kind}");
            assert_eq!(first_reader(kind, newest + 1), None, "{kind}");
        }
    }
}
