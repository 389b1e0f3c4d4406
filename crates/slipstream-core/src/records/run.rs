//! `flows/<flow>/runs/<run>/run.json` (the run record) and `ops/<op>.json` (one op's state).
//!
//! The local runner writes the whole run into `run.json`. In Airflow the first task writes
//! a header (every op `pending`) and each task writes only its own op file, so parallel
//! tasks never race; readers merge them ([`super::merge_run`]).

use std::fmt;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AirflowTry, RawJson, Record, first_format};

/// One run of a flow version.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunRecord {
    pub format: u32,
    pub flow: String,
    /// The flow version the run started with.
    pub version: String,
    /// Airflow's `run_id`, or the id a local run was given.
    pub run_id: String,
    /// `local` or `airflow`.
    pub trigger: String,
    pub status: RunStatus,
    /// The params the run used, as the flow spec encodes values.
    pub params: IndexMap<String, RawJson>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub ended_at: Option<String>,
    /// Every op of the version, in the version's order.
    pub ops: IndexMap<String, OpState>,
    /// Metric values by op name (a whole run; a merged run takes them from its ops).
    pub metrics: IndexMap<String, RawJson>,
    /// Check results by op name.
    pub checks: IndexMap<String, CheckResult>,
    /// How the version was found when `slipstream sync` wrote the header (no task had).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_from: Option<String>,
    /// The process of a local run (format 3), so that readers can tell a run whose process
    /// is gone (killed) from one still going.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<Runner>,
}

/// The process of a local run: its host and id, and (on Linux) what tells it from another
/// process of the same id: the boot, the pid namespace (a container), its start time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Runner {
    pub host: String,
    pub pid: u32,
    /// `/proc/sys/kernel/random/boot_id` when the run started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// `/proc/self/ns/pid` of the process, e.g. `pid:[4026531836]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_namespace: Option<String>,
    /// Its start time, in clock ticks after boot (`/proc/<pid>/stat`, field 22).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<u64>,
}

impl Runner {
    /// Whether the process is known to be gone: it ran on this host, in this boot and pid
    /// namespace, and no process with its id and start time is left (or the host has
    /// restarted since). Where that cannot be told (another host or container, a system
    /// without `/proc`), the run is taken to be going.
    pub fn is_gone(&self) -> bool {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        let host = read("/proc/sys/kernel/hostname");
        if host.as_deref().map(str::trim) != Some(self.host.as_str()) {
            return false;
        }
        let boot = read("/proc/sys/kernel/random/boot_id");
        if let (Some(then), Some(now)) = (&self.boot_id, boot.as_deref().map(str::trim))
            && then != now
        {
            return true; // the host restarted since
        }
        if let Some(then) = &self.pid_namespace {
            let now = std::fs::read_link("/proc/self/ns/pid").ok();
            if now.as_deref().and_then(|p| p.to_str()) != Some(then.as_str()) {
                return false; // another container's processes are not visible here
            }
        }
        match read(&format!("/proc/{}/stat", self.pid)) {
            None => true,
            Some(stat) => self.started.is_some_and(|t| start_time(&stat) != Some(t)),
        }
    }
}

/// Field 22 of `/proc/<pid>/stat` (the fields after the command name start at field 3).
fn start_time(stat: &str) -> Option<u64> {
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

impl Record for RunRecord {
    const KIND: &'static str = "run record";
    /// 2: op states say which version ran them (`version`, `code_hash`, `attempts`);
    /// 3: `runner` of local runs. 4: ops of kind `upstream` (another flow's output, its
    /// `cached_from` naming that flow); runs without them are still written as format 3.
    const FORMAT: u32 = 4;

    /// 4 for a run with an `upstream` op (another flow's output), else 3.
    fn needed_format(&self) -> u32 {
        if self.ops.values().any(|o| o.kind == OpKind::Upstream) {
            4
        } else {
            3
        }
    }
}

/// The state of one op in one run, in `run.json` and in `ops/<op>.json`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OpState {
    #[serde(default = "first_format")]
    pub format: u32,
    pub status: OpStatus,
    pub kind: OpKind,
    /// The op prefix its outputs and try records are stored under.
    pub prefix: String,
    /// How many tries have started (0: none yet).
    pub tries: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// The last try's exception, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorSummary>,
    /// A metric's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<RawJson>,
    /// A check's verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckResult>,
    /// Upstream ops whose failure kept this one from running.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    /// Airflow's record of every try (merged from `airflow.json`; kept in a run's summary,
    /// never in an op file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub airflow_tries: Option<Vec<AirflowTry>>,
    /// The flow version whose code the last try ran (format 2; before, the run's version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The code hash of the op in that version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_hash: Option<String>,
    /// Every try that started, first to last, with the version it ran and where its record
    /// is (format 2; before, tries `1..=tries` under `prefix`). A task cleared after a
    /// recompile runs a newer version than the tries before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// The cache key of its outputs: what the op's code, inputs, arguments and environment
    /// were (a successful op).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_key: Option<String>,
    /// Where its outputs are when the op did not run but reused those of an earlier run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_from: Option<OutputsAt>,
}

/// The outputs of one op in one run: under `prefix`, in run `run_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutputsAt {
    pub run_id: String,
    pub prefix: String,
    /// Another flow's, for an op of kind `upstream` (absent: this flow's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<String>,
}

impl Record for OpState {
    const KIND: &'static str = "op state";
    /// 2: `version`, `code_hash`, `attempts`. 3: an op of kind `upstream`, its
    /// `cached_from.flow` (other op states are still written as format 2).
    const FORMAT: u32 = 3;

    /// 3 for an `upstream` op (`cached_from.flow`), else 2.
    fn needed_format(&self) -> u32 {
        if self.kind == OpKind::Upstream { 3 } else { 2 }
    }
}

/// One try of an op in a run: which version ran it and where its record and outputs are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Attempt {
    pub try_number: u32,
    pub version: String,
    pub prefix: String,
    pub code_hash: String,
}

impl OpState {
    /// A check's verdict, if it failed, with its severity.
    pub fn failed_check(&self) -> Option<Severity> {
        self.check
            .as_ref()
            .filter(|c| !c.passed)
            .map(|c| c.severity)
    }
}

/// `running` until every op has ended (or Airflow says otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Success,
    Failed,
    /// A local run whose process is gone before it ended (killed): told by readers from its
    /// `runner`, never written.
    Interrupted,
}

/// Where an op stands in a run. Airflow's task states map onto these
/// ([`super::op_status_from_airflow`]); a state neither knows is kept as Airflow spelled it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    Pending,
    Queued,
    Running,
    Success,
    Failed,
    UpForRetry,
    UpstreamFailed,
    Skipped,
    #[serde(untagged)]
    Other(String),
}

impl OpStatus {
    /// After these an op does not change again in this run.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::Failed | Self::UpstreamFailed | Self::Skipped
        )
    }

    /// A try ended in it: the op is final, or waits for its next try.
    pub fn ends_try(&self) -> bool {
        self.is_final() || *self == Self::UpForRetry
    }

    /// Failed, itself or above: its consumers cannot run.
    pub fn blocks_consumers(&self) -> bool {
        matches!(self, Self::Failed | Self::UpstreamFailed)
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::UpForRetry => "up_for_retry",
            Self::UpstreamFailed => "upstream_failed",
            Self::Skipped => "skipped",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for OpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RunStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an op is: an ordinary op, a metric (returns a number), a check (returns a verdict),
/// or another flow's output taken as input (`upstream`: it runs no code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Op,
    Metric,
    Check,
    Upstream,
}

/// A failing `error` check stops the consumers of what it checks; a `warning` does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// The exception of a failed try, in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorSummary {
    /// The exception's qualified class name (`ValueError`, `slipstream.errors.CheckFailed`).
    #[serde(rename = "type")]
    pub type_name: String,
    pub message: String,
}

/// What a check found: `failed` of `total` elements were false (1 of 1 for a bool).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    pub passed: bool,
    pub severity: Severity,
    pub failed: u64,
    pub total: u64,
}
