//! `flows/<flow>/runs/<run>/airflow.json`: Airflow's word on a run and its tasks, as
//! `slipstream sync` last read it from the REST API. States are kept as Airflow spells them
//! (Airflow 2 and 3 alike; `null` before a task is scheduled).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Record;

/// A DAG run with its task instances.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AirflowRun {
    pub format: u32,
    #[serde(default)]
    pub dag_id: Option<String>,
    pub run_id: String,
    /// `queued`, `running`, `success` or `failed`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub run_type: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    /// Task instances by task id (= op name); mapped instances are left out.
    pub tasks: IndexMap<String, AirflowTask>,
}

impl Record for AirflowRun {
    const KIND: &'static str = "synced Airflow state";
    const FORMAT: u32 = 1;
}

/// One task instance: its current state and every try Airflow remembers.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AirflowTask {
    #[serde(default)]
    pub state: Option<String>,
    /// 0 before the first try.
    pub try_number: u32,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub tries: Vec<AirflowTry>,
}

/// One try of a task instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AirflowTry {
    pub try_number: u32,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    #[serde(default)]
    pub hostname: Option<String>,
}
