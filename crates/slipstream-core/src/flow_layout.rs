//! Where flows live: the published versions of each flow and the record of each run.
//!
//! ```text
//! flows/<flow>/versions/<version>/spec.json     the flow as published (content-addressed)
//! flows/<flow>/runs/<escaped run id>/run.json   one run: version, params, per-op states
//! flows/<flow>/runs/<escaped run id>/ops/<op>.json   one op's state, written by its task
//! flows/<flow>/runs/<escaped run id>/airflow.json    Airflow's states (`slipstream sync`)
//! flows/<flow>/index/<segment>.json              the run index: ended runs, summarised
//! flows/<flow>/active/<escaped run id>           a run not yet in the index (empty)
//! ```
//!
//! Together with the `ops/` layout of [`crate::ArtifactKey`] this locates every byte of a
//! run from the flow name, a version id and a run id.

use crate::error::Result;
use crate::key::{RunId, check_name, name_type};

name_type!(
    /// The name of a flow; it is also the Airflow DAG id.
    FlowName, "flow name", 200
);
name_type!(
    /// The id of a published flow version: a hash of its content.
    VersionId, "version id", 64
);

/// `flows/<flow>/versions/`: every published version of a flow.
pub fn versions_dir(flow: &FlowName) -> String {
    format!("flows/{}/versions", flow.as_str())
}

/// `flows/<flow>/versions/<version>/spec.json`: a flow version's spec.
pub fn version_spec_path(flow: &FlowName, version: &VersionId) -> String {
    format!("{}/{}/spec.json", versions_dir(flow), version.as_str())
}

/// `flows/<flow>/cache/<op>/<key>.json`: which run's outputs op `op` made from `key`.
pub fn cache_entry_path(flow: &FlowName, op: &str, key: &str) -> Result<String> {
    check_name("op name", op, 100)?;
    if key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(crate::CoreError::InvalidKey {
            what: "cache key",
            value: key.to_owned(),
            reason: "a cache key is 64 hex digits (a SHA-256)".to_owned(),
        });
    }
    Ok(format!("flows/{}/cache/{op}/{key}.json", flow.as_str()))
}

/// `flows/<flow>/runs/`: the record of every run of a flow.
pub fn runs_dir(flow: &FlowName) -> String {
    format!("flows/{}/runs", flow.as_str())
}

/// `flows/<flow>/runs/<escaped run id>/`: every file of one run's record.
pub fn flow_run_dir(flow: &FlowName, run_id: &RunId) -> String {
    format!("{}/{}/", runs_dir(flow), run_id.escaped())
}

/// `flows/<flow>/runs/<escaped run id>/run.json`: the record of one run.
pub fn flow_run_path(flow: &FlowName, run_id: &RunId) -> String {
    format!("{}{RUN_FILE}", flow_run_dir(flow, run_id))
}

/// `flows/<flow>/runs/<escaped run id>/airflow.json`: Airflow's states of one run.
pub fn flow_run_airflow_path(flow: &FlowName, run_id: &RunId) -> String {
    format!("{}{AIRFLOW_FILE}", flow_run_dir(flow, run_id))
}

/// `flows/<flow>/index/`: the segments of a flow's run index.
pub fn index_dir(flow: &FlowName) -> String {
    format!("flows/{}/index/", flow.as_str())
}

/// `flows/<flow>/index/<name>.json`: one segment of the run index.
pub fn index_segment_path(flow: &FlowName, name: &str) -> Result<String> {
    check_name("index segment name", name, 100)?;
    Ok(format!("{}{name}.json", index_dir(flow)))
}

/// `flows/<flow>/active/`: a marker for each run that is not over or not yet indexed.
pub fn active_dir(flow: &FlowName) -> String {
    format!("flows/{}/active/", flow.as_str())
}

/// `flows/<flow>/active/<escaped run id>`: run `run_id` is not over, or not yet indexed.
pub fn active_marker_path(flow: &FlowName, run_id: &RunId) -> String {
    format!("{}{}", active_dir(flow), run_id.escaped())
}

const RUN_FILE: &str = "run.json";
const AIRFLOW_FILE: &str = "airflow.json";
const OPS_DIR: &str = "ops/";

/// What a file in a run's folder is, from its path relative to that folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunFile {
    /// `run.json`
    Record,
    /// `ops/<op>.json`, with the op's name.
    OpState(String),
    /// `airflow.json`
    Airflow,
}

impl RunFile {
    /// `None` for a path that is none of the run's files.
    pub fn classify(relative: &str) -> Option<Self> {
        match relative {
            RUN_FILE => Some(Self::Record),
            AIRFLOW_FILE => Some(Self::Airflow),
            _ => {
                let name = relative.strip_prefix(OPS_DIR)?.strip_suffix(".json")?;
                check_name("op name", name, 100).ok()?;
                Some(Self::OpState(name.to_owned()))
            }
        }
    }

    /// Its path relative to the run's folder.
    pub fn relative(&self) -> String {
        match self {
            Self::Record => RUN_FILE.to_owned(),
            Self::Airflow => AIRFLOW_FILE.to_owned(),
            Self::OpState(name) => format!("{OPS_DIR}{name}.json"),
        }
    }
}

/// A path under `flows/`, split into its flow and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowFile<'a> {
    /// `flows/<flow>/versions/<version>/spec.json`
    Spec { flow: &'a str, version: &'a str },
    /// `flows/<flow>/runs/<escaped run id>/run.json`
    RunRecord {
        flow: &'a str,
        escaped_run_id: &'a str,
    },
}

impl<'a> FlowFile<'a> {
    pub fn classify(path: &'a str) -> Option<Self> {
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["flows", flow, "versions", version, "spec.json"] => Some(Self::Spec { flow, version }),
            ["flows", flow, "runs", run, RUN_FILE] => Some(Self::RunRecord {
                flow,
                escaped_run_id: run,
            }),
            _ => None,
        }
    }
}

/// `flows/<flow>/runs/<escaped run id>/ops/<op>.json`: the state of one op in one run, as
/// its task last wrote it (each task writes only its own file, so tasks never race).
pub fn flow_run_op_path(flow: &FlowName, run_id: &RunId, op: &str) -> Result<String> {
    check_name("op name", op, 100)?;
    Ok(format!(
        "{}{}",
        flow_run_dir(flow, run_id),
        RunFile::OpState(op.to_owned()).relative()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_contract() {
        let flow = FlowName::new("churn").unwrap();
        let version = VersionId::new("3f2a9c0d1e4b5a69").unwrap();
        let run = RunId::new("manual__2026-11-23T18:50:11+00:00").unwrap();
        assert_eq!(
            version_spec_path(&flow, &version),
            "flows/churn/versions/3f2a9c0d1e4b5a69/spec.json"
        );
        assert_eq!(
            flow_run_path(&flow, &run),
            "flows/churn/runs/manual__2026-11-23T18%3A50%3A11%2B00%3A00/run.json"
        );
        assert_eq!(
            flow_run_op_path(&flow, &run, "predict").unwrap(),
            "flows/churn/runs/manual__2026-11-23T18%3A50%3A11%2B00%3A00/ops/predict.json"
        );
        assert!(flow_run_op_path(&flow, &run, "../x").is_err());
        assert_eq!(
            active_marker_path(&flow, &run),
            "flows/churn/active/manual__2026-11-23T18%3A50%3A11%2B00%3A00"
        );
        assert_eq!(
            index_segment_path(&flow, "0001").unwrap(),
            "flows/churn/index/0001.json"
        );
        assert!(index_segment_path(&flow, "../x").is_err());
        assert_eq!(
            flow_run_airflow_path(&flow, &run),
            "flows/churn/runs/manual__2026-11-23T18%3A50%3A11%2B00%3A00/airflow.json"
        );
    }

    #[test]
    fn files_are_told_apart_by_their_path() {
        assert_eq!(RunFile::classify("run.json"), Some(RunFile::Record));
        assert_eq!(RunFile::classify("airflow.json"), Some(RunFile::Airflow));
        assert_eq!(
            RunFile::classify("ops/predict.json"),
            Some(RunFile::OpState("predict".into()))
        );
        for other in ["ops/a/b.json", "ops/.json", "ops/x.txt", "notes.json"] {
            assert_eq!(RunFile::classify(other), None, "{other}");
        }
        assert_eq!(
            FlowFile::classify("flows/churn/versions/abc/spec.json"),
            Some(FlowFile::Spec {
                flow: "churn",
                version: "abc"
            })
        );
        assert_eq!(FlowFile::classify("flows/churn/runs/r/ops/a.json"), None);
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in ["", "a/b", "..", "-x", "churn flow"] {
            assert!(
                FlowName::new(bad).is_err(),
                "{bad:?} accepted as a flow name"
            );
        }
        assert!(VersionId::new("x".repeat(65)).is_err());
    }
}
