//! The store as the UI reads it: flows, their versions' specs, and runs with their op
//! states merged the way the SDK merges them (`slipstream._runs.merged`):
//!
//! 1. `run.json`, written by the local runner (whole run) or by the first task (header);
//! 2. `ops/<op>.json`, each written by its op's task, override the header's op states;
//! 3. `airflow.json`, written by `slipstream sync`, is Airflow's word on the run state and
//!    on any task whose Airflow try is as new as the task's own file (a killed task never
//!    writes its file);
//! 4. what is still open is derived: ops below a failure are `upstream_failed`, and a run
//!    whose ops all ended has a final status.
//!
//! Specs never change once published, so they are read once and kept.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt, stream};
use serde_json::{Map, Value};
use slipstream_core::{ArtifactKey, FlowName, RunId, TryNumber, VersionId};
use slipstream_store::{ObjectStore, StoreError, artifacts};

use crate::error::{Result, UiError};
use crate::time::newest_first;

/// How many store reads one page keeps in flight.
const CONCURRENT_READS: usize = 32;
/// Op states after which an op does not change again in this run.
const FINAL: [&str; 4] = ["success", "failed", "upstream_failed", "skipped"];

/// One run as the pages show it: the merged record and the spec of the version it ran.
#[derive(Debug, Clone)]
pub struct Run {
    pub record: Value,
    pub spec: Arc<Value>,
}

impl Run {
    pub fn str(&self, field: &str) -> &str {
        self.record[field].as_str().unwrap_or("")
    }

    pub fn ops(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.record["ops"]
            .as_object()
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
    }

    /// Names of the checks that did not pass, with their severity.
    pub fn failed_checks(&self) -> Vec<(String, String)> {
        self.ops()
            .iter()
            .filter_map(|(name, state)| {
                let check = state.get("check")?;
                (check["passed"] == Value::Bool(false)).then(|| {
                    let severity = check["severity"].as_str().unwrap_or("error");
                    (name.clone(), severity.to_owned())
                })
            })
            .collect()
    }
}

/// Flow names with how many versions and runs each has.
#[derive(Debug, Clone)]
pub struct FlowSummary {
    pub name: String,
    pub versions: usize,
    pub runs: usize,
}

/// A run's `run.json` before merging: the folder it is in and, when known, its files.
struct Header {
    dir: String,
    record: Value,
    files: Option<Vec<String>>,
}

#[derive(Debug)]
pub struct Index {
    store: Arc<dyn ObjectStore>,
    specs: Mutex<HashMap<(String, String), Arc<Value>>>,
}

impl Index {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            specs: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &dyn ObjectStore {
        self.store.as_ref()
    }

    pub async fn flows(&self) -> Result<Vec<FlowSummary>> {
        let mut flows: BTreeMap<String, FlowSummary> = BTreeMap::new();
        for path in self.store.list("flows/").await? {
            let parts: Vec<&str> = path.split('/').collect();
            let (name, is_spec, is_run) = match parts.as_slice() {
                ["flows", name, "versions", _, "spec.json"] => (*name, true, false),
                ["flows", name, "runs", _, "run.json"] => (*name, false, true),
                _ => continue,
            };
            let entry = flows.entry(name.to_owned()).or_insert_with(|| FlowSummary {
                name: name.to_owned(),
                versions: 0,
                runs: 0,
            });
            entry.versions += usize::from(is_spec);
            entry.runs += usize::from(is_run);
        }
        Ok(flows.into_values().filter(|f| f.versions > 0).collect())
    }

    pub async fn spec(&self, flow: &str, version: &str) -> Result<Arc<Value>> {
        let cache_key = (flow.to_owned(), version.to_owned());
        if let Some(spec) = self.cached_spec(&cache_key) {
            return Ok(spec);
        }
        let path = slipstream_core::version_spec_path(&flow_name(flow)?, &version_id(version)?);
        let spec = Arc::new(self.json(&path, "flow spec").await.map_err(|e| match e {
            UiError::Store(StoreError::NotFound { .. }) => UiError::NotFound(format!(
                "flow {flow:?} has no published version {version:?}"
            )),
            other => other,
        })?);
        self.specs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(cache_key, spec.clone());
        Ok(spec)
    }

    fn cached_spec(&self, key: &(String, String)) -> Option<Arc<Value>> {
        self.specs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// Published versions of `flow`, newest first.
    pub async fn versions(&self, flow: &str) -> Result<Vec<Arc<Value>>> {
        let dir = format!("{}/", slipstream_core::versions_dir(&flow_name(flow)?));
        let ids: Vec<String> = self
            .store
            .list(&dir)
            .await?
            .into_iter()
            .filter_map(|p| Some(p.strip_prefix(&dir)?.strip_suffix("/spec.json")?.to_owned()))
            .collect();
        let mut specs: Vec<Arc<Value>> = stream::iter(ids)
            .map(|id| async move { self.spec(flow, &id).await })
            .buffer_unordered(CONCURRENT_READS)
            .try_collect()
            .await?;
        specs.sort_by(|a, b| {
            let key = |s: &Value| {
                let field = |f: &str| s[f].as_str().unwrap_or("").to_owned();
                (field("published_at"), field("version"))
            };
            let (a, b) = (key(a), key(b));
            newest_first((&a.0, &a.1), (&b.0, &b.1))
        });
        Ok(specs)
    }

    /// One page of the runs of `flow`, newest first, and how many runs it has in all.
    ///
    /// Every run's `run.json` is read to order them, but only the runs on the page are
    /// merged with their op and sync files, so a page costs the same with 10 runs or 10,000
    /// of them still running in Airflow.
    pub async fn runs(
        &self,
        flow: &str,
        page: std::ops::Range<usize>,
    ) -> Result<(Vec<Run>, usize)> {
        let headers = self.headers(flow).await?;
        let total = headers.len();
        let shown = headers
            .into_iter()
            .skip(page.start)
            .take(page.end.saturating_sub(page.start));
        let runs = stream::iter(shown)
            .map(|header| self.complete(flow, header))
            .buffered(CONCURRENT_READS)
            .try_collect()
            .await?;
        Ok((runs, total))
    }

    /// The value of metric `name` in every run of `flow` that recorded it, oldest first.
    /// A run still open in Airflow is read from its metric's op file alone.
    pub async fn metric_history(&self, flow: &str, name: &str) -> Result<Vec<(String, f64)>> {
        let headers = self.headers(flow).await?;
        let op_file = format!("ops/{name}.json");
        let mut points: Vec<(String, f64)> = stream::iter(headers)
            .map(|header| {
                let op_file = &op_file;
                async move {
                    let run_id = header.record["run_id"].as_str().unwrap_or("").to_owned();
                    let mut state = header.record["ops"][name].clone();
                    if header.record["status"] == "running"
                        && header.files.as_ref().is_some_and(|f| f.contains(op_file))
                    {
                        state = self
                            .json(&format!("{}{op_file}", header.dir), "op state")
                            .await?;
                    }
                    Ok::<_, UiError>(state["metric"].as_f64().map(|v| (run_id, v)))
                }
            })
            .buffered(CONCURRENT_READS)
            .try_filter_map(|point| async move { Ok(point) })
            .try_collect()
            .await?;
        points.reverse();
        Ok(points)
    }

    /// The `run.json` of every run of `flow`, newest first, with the files of each run.
    async fn headers(&self, flow: &str) -> Result<Vec<Header>> {
        let dir = format!("{}/", slipstream_core::runs_dir(&flow_name(flow)?));
        let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for path in self.store.list(&dir).await? {
            if let Some((run, rest)) = path[dir.len()..].split_once('/') {
                files
                    .entry(run.to_owned())
                    .or_default()
                    .push(rest.to_owned());
            }
        }
        let dir = &dir;
        let mut headers: Vec<Header> = stream::iter(
            files
                .into_iter()
                .filter(|(_, f)| f.iter().any(|p| p == "run.json")),
        )
        .map(|(run, rest)| async move { self.header(format!("{dir}{run}/"), Some(rest)).await })
        .buffer_unordered(CONCURRENT_READS)
        .try_collect()
        .await?;
        headers.sort_by(|a, b| {
            let key = |h: &Header| {
                let field = |f: &str| h.record[f].as_str().unwrap_or("").to_owned();
                (field("started_at"), field("run_id"))
            };
            let (a, b) = (key(a), key(b));
            newest_first((&a.0, &a.1), (&b.0, &b.1))
        });
        Ok(headers)
    }

    pub async fn run(&self, flow: &str, run_id: &str) -> Result<Run> {
        let id = RunId::new(run_id).map_err(|e| UiError::BadRequest(e.to_string()))?;
        let path = slipstream_core::flow_run_path(&flow_name(flow)?, &id);
        let dir = path.trim_end_matches("run.json").to_owned();
        let header = self.header(dir, None).await.map_err(|e| match e {
            UiError::Store(StoreError::NotFound { .. }) => {
                UiError::NotFound(format!("flow {flow:?} has no run {run_id:?}"))
            }
            other => other,
        })?;
        self.complete(flow, header).await
    }

    /// The `run.json` in `dir`; `files` (relative to `dir`) when the caller has listed them.
    async fn header(&self, dir: String, files: Option<Vec<String>>) -> Result<Header> {
        let record = self.json(&format!("{dir}run.json"), "run record").await?;
        Ok(Header { dir, record, files })
    }

    /// The run as the pages show it: a whole run as recorded, a running one merged with its
    /// op and sync files (listed here unless the header came with them).
    async fn complete(&self, flow: &str, header: Header) -> Result<Run> {
        let Header {
            dir,
            mut record,
            files,
        } = header;
        let version = record["version"].as_str().unwrap_or_default().to_owned();
        let spec = self.spec(flow, &version).await?;
        if record["status"] != "running" {
            return Ok(Run { record, spec });
        }
        let files = match files {
            Some(files) => files,
            None => self
                .store
                .list(&dir)
                .await?
                .into_iter()
                .map(|p| p[dir.len()..].to_owned())
                .collect(),
        };
        let dir = &dir;
        let op_files: Vec<String> = files
            .iter()
            .filter(|f| f.starts_with("ops/") && f.ends_with(".json"))
            .cloned()
            .collect();
        let states: Vec<(String, Value)> = stream::iter(op_files)
            .map(|f: String| async move {
                let name = f["ops/".len()..f.len() - ".json".len()].to_owned();
                Ok::<_, UiError>((name, self.json(&format!("{dir}{f}"), "op state").await?))
            })
            .buffer_unordered(CONCURRENT_READS)
            .try_collect()
            .await?;
        let airflow = if files.iter().any(|f| f == "airflow.json") {
            Some(
                self.json(&format!("{dir}airflow.json"), "synced Airflow state")
                    .await?,
            )
        } else {
            None
        };
        merge(&mut record, &spec, states, airflow.as_ref());
        Ok(Run { record, spec })
    }

    /// The record of one try of one op.
    pub async fn try_record(&self, prefix: &str, run_id: &str, try_number: u32) -> Result<Value> {
        let key = ArtifactKey::new(prefix, run_id, "out").map_err(bad_request)?;
        let n = TryNumber::new(try_number).map_err(bad_request)?;
        let path = slipstream_core::record_path(&key.op_prefix, &key.run_id, n);
        self.json(&path, "try record").await
    }

    pub async fn manifest(&self, key: &ArtifactKey) -> Result<Option<slipstream_core::Manifest>> {
        match artifacts::read_manifest(self.store.as_ref(), key).await {
            Ok(m) => Ok(Some(m)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn preview(&self, key: &ArtifactKey) -> Result<Option<Value>> {
        match self.json(&key.preview_path(), "preview").await {
            Ok(v) => Ok(Some(v)),
            Err(UiError::Store(StoreError::NotFound { .. })) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn json(&self, path: &str, what: &'static str) -> Result<Value> {
        let bytes = self.store.get(path).await?;
        serde_json::from_slice(&bytes).map_err(|e| UiError::Corrupt {
            what,
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }
}

/// Steps 2–4 of the module docs, on a run record that is still `running`.
pub fn merge(
    record: &mut Value,
    spec: &Value,
    states: Vec<(String, Value)>,
    airflow: Option<&Value>,
) {
    let ops = record["ops"].as_object_mut();
    let Some(ops) = ops else { return };
    for (name, state) in states {
        if let (Some(current), Value::Object(state)) = (ops.get_mut(&name), state) {
            for (k, v) in state {
                current[k] = v;
            }
        }
    }
    if let Some(tasks) = airflow.and_then(|a| a["tasks"].as_object()) {
        for (name, task) in tasks {
            let Some(current) = ops.get_mut(name) else {
                continue;
            };
            let theirs = task["try_number"].as_u64().unwrap_or(0);
            let ours = current["tries"].as_u64().unwrap_or(0);
            if theirs >= ours {
                current["status"] = Value::from(airflow_state(task["state"].as_str()));
                current["tries"] = Value::from(theirs.max(ours));
            }
            current["airflow_tries"] = task["tries"].clone();
        }
    }
    for op in spec["ops"].as_array().into_iter().flatten() {
        let name = op["name"].as_str().unwrap_or_default();
        let blocked: Vec<Value> = op["upstream"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|u| {
                let s = u.as_str().and_then(|u| ops.get(u)).map(|s| &s["status"]);
                matches!(
                    s.and_then(Value::as_str),
                    Some("failed" | "upstream_failed")
                )
            })
            .cloned()
            .collect();
        if let Some(state) = ops.get_mut(name)
            && state["status"] == "pending"
            && !blocked.is_empty()
        {
            state["status"] = Value::from("upstream_failed");
            state["blocked_by"] = Value::Array(blocked);
        }
    }
    let statuses: Vec<&str> = ops
        .values()
        .map(|s| s["status"].as_str().unwrap_or(""))
        .collect();
    let all_final = statuses.iter().all(|s| FINAL.contains(s));
    let run_state = airflow.and_then(|a| a["state"].as_str());
    let status = match run_state {
        Some(s @ ("success" | "failed")) => s,
        Some("queued") => "queued",
        _ if all_final && statuses.iter().all(|s| *s == "success") => "success",
        _ if all_final => "failed",
        _ => "running",
    };
    record["status"] = Value::from(status);
    if let Some(end) = airflow.and_then(|a| a["end_date"].as_str()) {
        record["ended_at"] = Value::from(end);
    }
}

/// An Airflow task-instance state as an op status (`null`: not scheduled yet).
fn airflow_state(state: Option<&str>) -> &str {
    match state {
        None | Some("none" | "") => "pending",
        Some("scheduled" | "queued" | "deferred" | "restarting" | "up_for_reschedule") => "queued",
        Some("removed") => "skipped",
        Some(other) => other,
    }
}

fn flow_name(flow: &str) -> Result<FlowName> {
    FlowName::new(flow).map_err(bad_request)
}

fn version_id(version: &str) -> Result<VersionId> {
    VersionId::new(version).map_err(bad_request)
}

fn bad_request(e: impl std::fmt::Display) -> UiError {
    UiError::BadRequest(e.to_string())
}
