//! `flows/<flow>/versions/<version>/spec.json`: a flow version as published, never
//! rewritten. Its version id is a hash of its content (without where the code sits and when
//! it was published), computed by the SDK that publishes it.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{OpKind, RawJson, Record, Severity};

/// A published flow version.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FlowSpec {
    pub format: u32,
    pub flow: String,
    pub description: Option<String>,
    /// The Airflow schedule (`@daily`, a cron line) or none.
    pub schedule: Option<String>,
    pub params: IndexMap<String, ParamSpec>,
    /// Every op in dependency order: an op comes after everything it reads.
    pub ops: Vec<OpSpec>,
    /// The artifacts the flow was built from.
    pub outputs: Vec<OutputRef>,
    pub version: String,
    pub environment: Environment,
    /// When the version was first published to this store (RFC 3339, UTC).
    #[serde(default)]
    pub published_at: Option<String>,
    /// Whether ops may reuse earlier outputs (absent: yes).
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    #[schemars(extend("default" = true))] // schemars leaves out a default that is skipped
    pub cache: bool,
    /// Outputs of other flows whose new data triggers a run: the DAG is scheduled on their
    /// Airflow Assets (format 2; absent: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule_on: Vec<FlowOutput>,
}

impl Record for FlowSpec {
    const KIND: &'static str = "flow spec";
    /// 2: `schedule_on`, and ops of kind `upstream` with a `source`. 3: ops with a
    /// `code_version`. 4: metrics with an `alert`. Specs without them are still written as
    /// format 1, so that their version ids stay what they were.
    const FORMAT: u32 = 4;

    fn needed_format(&self) -> u32 {
        if self.ops.iter().any(|o| o.alert.is_some()) {
            4
        } else if self.ops.iter().any(|o| o.code_version.is_some()) {
            3
        } else if !self.schedule_on.is_empty()
            || self.ops.iter().any(|o| o.kind == OpKind::Upstream)
        {
            2
        } else {
            1
        }
    }
}

impl FlowSpec {
    pub fn op(&self, name: &str) -> Option<&OpSpec> {
        self.ops.iter().find(|o| o.name == name)
    }
}

/// A run parameter: overridable per run, with a default unless required.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ParamSpec {
    pub description: String,
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<RawJson>,
}

/// One op of a version.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OpSpec {
    pub name: String,
    pub kind: OpKind,
    /// Checks only.
    pub severity: Option<Severity>,
    pub description: String,
    pub function: FunctionSpec,
    /// Parameter name → the artifact it receives.
    pub inputs: IndexMap<String, OutputRef>,
    /// Parameter name → the run param it receives.
    pub params: IndexMap<String, String>,
    /// Parameter name → a plain value, as the spec encodes values.
    pub constants: IndexMap<String, RawJson>,
    /// Parameter name → the frame library the input is converted to.
    pub convert: IndexMap<String, String>,
    pub outputs: Vec<String>,
    /// Ops that must end first: producers of its inputs and the error checks gating them.
    pub upstream: Vec<String>,
    pub allow_pickle: bool,
    pub retries: u32,
    /// Kubernetes requests and limits (`cpu`, `memory`, `nvidia.com/gpu`), strings or
    /// numbers as given.
    pub resources: IndexMap<String, RawJson>,
    /// The container image of its pod, if not the DAG's.
    pub image: Option<String>,
    /// `file:line` of the call that added the op to the flow.
    pub defined_at: String,
    /// The UUID its artifacts are stored under in every run of this version.
    pub prefix: String,
    /// Whether the op may reuse an earlier output with the same cache key (absent: yes;
    /// SQL extracts and publishes say no).
    #[serde(default = "yes", skip_serializing_if = "is_yes")]
    #[schemars(extend("default" = true))] // schemars leaves out a default that is skipped
    pub cache: bool,
    /// The other flow's output an op of kind `upstream` stands for (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<FlowOutput>,
    /// (3) The version of its code the user names (`@ss.op(code_version=...)`): the cache key
    /// takes it instead of the code hash and the modules the code imports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_version: Option<String>,
    /// (4) A metric's alert: the value it must stay within (`@ss.metric(alert_below=...,
    /// alert_above=...)`); crossing it calls the flow's notifiers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<MetricAlert>,
}

/// The bounds a metric's value is expected within; outside them, an alert is sent.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MetricAlert {
    /// Alert when the value is below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// Alert when the value is above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
}

fn yes() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if takes a reference
fn is_yes(value: &bool) -> bool {
    *value
}

/// The function an op calls and how to load it where it runs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FunctionSpec {
    pub module: String,
    pub qualname: String,
    pub file: String,
    pub line: u32,
    /// Imported by module path where it runs; otherwise `module_source` is run.
    pub importable: bool,
    /// The function's own source, for people.
    pub source: String,
    /// `sha256:` of the code the op runs: the function and the helpers captured with it.
    pub code_hash: String,
    /// The captured module of an op defined in a script or notebook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_source: Option<String>,
}

/// One output of one op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutputRef {
    pub op: String,
    pub output: String,
}

/// One output of one op of a flow: another flow's, read through an `upstream` op, and the
/// Airflow Asset `slipstream://<flow>/<op>/<output>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FlowOutput {
    pub flow: String,
    pub op: String,
    pub output: String,
}

impl FlowOutput {
    /// The scheme of the Airflow Assets of outputs (`slipstream.spec.assets.SCHEME`).
    pub const ASSET_SCHEME: &'static str = "slipstream";

    /// The URI of its Airflow Asset.
    pub fn asset_uri(&self) -> String {
        let (scheme, flow, op, output) = (Self::ASSET_SCHEME, &self.flow, &self.op, &self.output);
        format!("{scheme}://{flow}/{op}/{output}")
    }
}

/// Where the version was published from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    pub python: String,
    pub libraries: IndexMap<String, String>,
}
