//! Where flows live: the published versions of each flow and the record of each run.
//!
//! ```text
//! flows/<flow>/versions/<version>/spec.json     the flow as published (content-addressed)
//! flows/<flow>/runs/<escaped run id>/run.json   one run: version, params, per-op states
//! flows/<flow>/runs/<escaped run id>/ops/<op>.json   one op's state, written by its task
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

/// `flows/<flow>/runs/`: the record of every run of a flow.
pub fn runs_dir(flow: &FlowName) -> String {
    format!("flows/{}/runs", flow.as_str())
}

/// `flows/<flow>/runs/<escaped run id>/run.json`: the record of one run.
pub fn flow_run_path(flow: &FlowName, run_id: &RunId) -> String {
    format!("{}/{}/run.json", runs_dir(flow), run_id.escaped())
}

/// `flows/<flow>/runs/<escaped run id>/ops/<op>.json`: the state of one op in one run, as
/// its task last wrote it (each task writes only its own file, so tasks never race).
pub fn flow_run_op_path(flow: &FlowName, run_id: &RunId, op: &str) -> Result<String> {
    check_name("op name", op, 100)?;
    Ok(format!(
        "{}/{}/ops/{op}.json",
        runs_dir(flow),
        run_id.escaped()
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
