//! The store as the UI reads it: flows, their versions' specs, and runs with their op states
//! merged by [`slipstream_core::records::merge_run`], the merge the SDK and CLI use too.
//! Specs never change once published, so they are read once and kept.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt, stream};
use slipstream_core::records::{
    AirflowRun, FlowSpec, OpSpec, OpState, Preview, RawJson, Record, RunRecord, RunStatus,
    RunSummary, TryRecord, merge_run, newest_version, versions_ran,
};
use slipstream_core::{ArtifactKey, FlowFile, FlowName, RunFile, RunId, TryNumber, VersionId};
use slipstream_store::run_index::{self, Indexed, SegmentCache};
use slipstream_store::{ObjectStore, StoreError, artifacts};

use crate::error::{Result, UiError};
use crate::time::newest_first;

/// How many store reads one page keeps in flight.
const CONCURRENT_READS: usize = 32;

/// One run as the pages show it: the merged record, the spec of the version it started
/// with, and those of the versions its cleared tasks ran since (a recompile).
#[derive(Debug, Clone)]
pub struct Run {
    pub record: RunRecord,
    pub spec: Arc<FlowSpec>,
    pub later: Vec<Arc<FlowSpec>>,
}

impl Run {
    pub fn id(&self) -> &str {
        &self.record.run_id
    }

    /// The state of op `name`, if the run has it.
    pub fn op_state(&self, name: &str) -> Option<&OpState> {
        self.record.ops.get(name)
    }

    /// The version whose structure the run has now, when a cleared task moved it to a newer
    /// one (the merge's choice).
    pub fn newest(&self) -> Option<&FlowSpec> {
        let specs: Vec<&FlowSpec> = std::iter::once(self.spec.as_ref())
            .chain(self.later.iter().map(AsRef::as_ref))
            .collect();
        newest_version(&self.record, &specs, self.record.ops.values())
    }

    /// The definition of op `name` as this run ran it: that of the version its last try
    /// ran, else of the version the run moved to, else of the run's own version.
    pub fn op_spec(&self, name: &str) -> Option<&OpSpec> {
        let ran = self.op_state(name).and_then(|s| s.version.as_deref());
        let specs = || std::iter::once(&self.spec).chain(&self.later);
        specs()
            .find(|s| Some(s.version.as_str()) == ran)
            .and_then(|s| s.op(name))
            .or_else(|| self.newest().and_then(|s| s.op(name)))
            .or_else(|| specs().find_map(|s| s.op(name)))
    }

    /// The run's ops in drawing order (upstream first), each as the version that ran it
    /// defines it: the order of the version the run moved to, then the ops it removed.
    pub fn ops(&self) -> Vec<&OpSpec> {
        let order = self.newest().unwrap_or(self.spec.as_ref());
        let names = order
            .ops
            .iter()
            .map(|o| &o.name)
            .filter(|n| self.record.ops.contains_key(*n))
            .chain(self.record.ops.keys().filter(|n| order.op(n).is_none()));
        names.filter_map(|name| self.op_spec(name)).collect()
    }

    /// The run as the runs list shows it.
    pub fn summary(&self) -> RunSummary {
        RunSummary::of(&self.record, "")
    }
}

/// Flow names with how many versions and runs each has.
#[derive(Debug, Clone)]
pub struct FlowSummary {
    pub name: String,
    pub versions: usize,
    pub runs: usize,
}

/// Runs as the index read them, and the same newest first.
type Sorted = (Arc<Vec<RunSummary>>, Arc<Vec<RunSummary>>);

/// A run's `run.json` before merging: the folder it is in and, when known, its files.
struct Header {
    dir: String,
    record: RunRecord,
    files: Option<Vec<String>>,
}

#[derive(Debug)]
pub struct Index {
    store: Arc<dyn ObjectStore>,
    specs: Mutex<HashMap<(String, String), Arc<FlowSpec>>>,
    /// Run index segments read so far (they never change).
    segments: SegmentCache,
    /// Per flow: the runs the index last said (as read), newest first.
    sorted: Mutex<HashMap<String, Sorted>>,
}

impl Index {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            specs: Mutex::new(HashMap::new()),
            segments: SegmentCache::default(),
            sorted: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &dyn ObjectStore {
        self.store.as_ref()
    }

    pub async fn flows(&self) -> Result<Vec<FlowSummary>> {
        let mut flows: BTreeMap<String, FlowSummary> = BTreeMap::new();
        for path in self.store.list("flows/").await? {
            let (name, is_spec) = match FlowFile::classify(&path) {
                Some(FlowFile::Spec { flow, .. }) => (flow, true),
                Some(FlowFile::RunRecord { flow, .. }) => (flow, false),
                None => continue,
            };
            let entry = flows.entry(name.to_owned()).or_insert_with(|| FlowSummary {
                name: name.to_owned(),
                versions: 0,
                runs: 0,
            });
            entry.versions += usize::from(is_spec);
            entry.runs += usize::from(!is_spec);
        }
        Ok(flows.into_values().filter(|f| f.versions > 0).collect())
    }

    pub async fn spec(&self, flow: &str, version: &str) -> Result<Arc<FlowSpec>> {
        let cache_key = (flow.to_owned(), version.to_owned());
        if let Some(spec) = self.cached_spec(&cache_key) {
            return Ok(spec);
        }
        let path = slipstream_core::version_spec_path(&flow_name(flow)?, &version_id(version)?);
        let spec = Arc::new(self.record::<FlowSpec>(&path).await.map_err(|e| match e {
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

    /// The spec of the version op `name`'s last try ran (the run's own unless the task was
    /// cleared and run again after a recompile; a later one for an op only it has).
    pub async fn op_version(&self, flow: &str, run: &Run, name: &str) -> Result<Arc<FlowSpec>> {
        match run.op_state(name).and_then(|s| s.version.as_deref()) {
            Some(v) if v != run.spec.version => self.spec(flow, v).await,
            _ if run.spec.op(name).is_some() => Ok(run.spec.clone()),
            _ => Ok(run
                .later
                .iter()
                .find(|s| s.op(name).is_some())
                .unwrap_or(&run.spec)
                .clone()),
        }
    }

    fn cached_spec(&self, key: &(String, String)) -> Option<Arc<FlowSpec>> {
        self.specs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// Published versions of `flow`, newest first.
    pub async fn versions(&self, flow: &str) -> Result<Vec<Arc<FlowSpec>>> {
        let dir = format!("{}/", slipstream_core::versions_dir(&flow_name(flow)?));
        let ids: Vec<String> = self
            .store
            .list(&dir)
            .await?
            .iter()
            .filter_map(|p| match FlowFile::classify(p)? {
                FlowFile::Spec { version, .. } => Some(version.to_owned()),
                FlowFile::RunRecord { .. } => None,
            })
            .collect();
        let mut specs: Vec<Arc<FlowSpec>> = stream::iter(ids)
            .map(|id| async move { self.spec(flow, &id).await })
            .buffer_unordered(CONCURRENT_READS)
            .try_collect()
            .await?;
        specs.sort_by(|a, b| {
            let key = |s: &FlowSpec| {
                (
                    s.published_at.clone().unwrap_or_default(),
                    s.version.clone(),
                )
            };
            let (a, b) = (key(a), key(b));
            newest_first((&a.0, &a.1), (&b.0, &b.1))
        });
        Ok(specs)
    }

    /// One page of the runs of `flow`, newest first, and how many runs it has in all.
    ///
    /// With a run index, the page costs two listings, the index segments not read yet and
    /// the records of the runs not yet indexed, whatever the number of runs. Without one,
    /// every run's `run.json` is read to order them, and only the runs on the page are
    /// merged with their op and sync files.
    pub async fn runs(
        &self,
        flow: &str,
        page: std::ops::Range<usize>,
    ) -> Result<(Vec<RunSummary>, usize)> {
        let take = |total: usize| (page.start, page.end.saturating_sub(page.start).min(total));
        if let Some(all) = self.indexed(flow).await? {
            let total = all.len();
            let (skip, count) = take(total);
            return Ok((all.iter().skip(skip).take(count).cloned().collect(), total));
        }
        let headers = self.headers(flow).await?;
        let total = headers.len();
        let (skip, count) = take(total);
        let runs: Vec<Run> = stream::iter(headers.into_iter().skip(skip).take(count))
            .map(|header| self.complete(flow, header))
            .buffered(CONCURRENT_READS)
            .try_collect()
            .await?;
        Ok((runs.iter().map(Run::summary).collect(), total))
    }

    /// Every run of `flow`, newest first, from its run index: `None` when it has none that
    /// can be trusted (never built, or a segment unreadable: the records are read then).
    async fn indexed(&self, flow: &str) -> Result<Option<Arc<Vec<RunSummary>>>> {
        let name = flow_name(flow)?;
        let (runs, active) = match run_index::read(self.store(), &name, &self.segments).await? {
            Indexed::Ready { runs, active } => (runs, active),
            Indexed::Missing => return Ok(None),
            Indexed::Unreadable(why) => {
                tracing::warn!(
                    flow,
                    "the run index is not used: {why}; rebuild it with `slipstream reindex {flow}`"
                );
                return Ok(None);
            }
        };
        let sorted = self.newest_first(flow, runs);
        if active.is_empty() {
            return Ok(Some(sorted));
        }
        let dir = format!("{}/", slipstream_core::runs_dir(&name));
        let reads: Vec<_> = active
            .into_iter()
            .map(|escaped| self.live(flow, format!("{dir}{escaped}/")))
            .collect();
        let live: Vec<Option<Run>> = stream::iter(reads)
            .buffer_unordered(CONCURRENT_READS)
            .try_collect()
            .await?;
        let live: Vec<RunSummary> = live.iter().flatten().map(Run::summary).collect();
        let shown: HashSet<&str> = live.iter().map(|l| l.run_id.as_str()).collect();
        let mut runs: Vec<RunSummary> = sorted
            .iter()
            .filter(|r| !shown.contains(r.run_id.as_str()))
            .cloned()
            .collect();
        runs.extend(live);
        sort_newest_first(&mut runs);
        Ok(Some(Arc::new(runs)))
    }

    /// `runs` newest first, sorted once for as long as the index reads the same.
    fn newest_first(&self, flow: &str, runs: Arc<Vec<RunSummary>>) -> Arc<Vec<RunSummary>> {
        let mut sorted = self.sorted.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((source, done)) = sorted.get(flow)
            && Arc::ptr_eq(source, &runs)
        {
            return done.clone();
        }
        let mut copy = runs.as_ref().clone();
        sort_newest_first(&mut copy);
        let done = Arc::new(copy);
        sorted.insert(flow.to_owned(), (runs, done.clone()));
        done
    }

    /// A run read from its records in `dir`: `None` when its header is not there (a run
    /// marked before its header is written, or deleted since).
    async fn live(&self, flow: &str, dir: String) -> Result<Option<Run>> {
        match self.header(dir, None).await {
            Ok(header) => self.complete(flow, header).await.map(Some),
            Err(UiError::Store(StoreError::NotFound { .. })) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The value of metric `name` in every run of `flow` that recorded it, oldest first.
    /// A run still open in Airflow is read from its metric's op file alone.
    pub async fn metric_history(&self, flow: &str, name: &str) -> Result<Vec<(String, f64)>> {
        let value = |metric: Option<&RawJson>| metric.and_then(|m| m.get().parse::<f64>().ok());
        if let Some(runs) = self.indexed(flow).await? {
            return Ok(runs
                .iter()
                .rev()
                .filter_map(|r| Some((r.run_id.clone(), value(r.metrics.get(name))?)))
                .collect());
        }
        let headers = self.headers(flow).await?;
        let op_file = RunFile::OpState(name.to_owned()).relative();
        let mut points: Vec<(String, f64)> = stream::iter(headers)
            .map(|header| {
                let op_file = &op_file;
                async move {
                    let mut metric = header.record.ops.get(name).and_then(|s| s.metric.clone());
                    if header.record.status == RunStatus::Running
                        && header.files.as_ref().is_some_and(|f| f.contains(op_file))
                    {
                        let path = format!("{}{op_file}", header.dir);
                        metric = self.record::<OpState>(&path).await?.metric;
                    }
                    Ok::<_, UiError>(value(metric.as_ref()).map(|v| (header.record.run_id, v)))
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
        let mut headers: Vec<Header> = stream::iter(files.into_iter().filter(|(_, f)| {
            f.iter()
                .any(|p| RunFile::classify(p) == Some(RunFile::Record))
        }))
        .map(|(run, rest)| async move { self.header(format!("{dir}{run}/"), Some(rest)).await })
        .buffer_unordered(CONCURRENT_READS)
        .try_collect()
        .await?;
        headers.sort_by(|a, b| {
            newest_first(
                (&a.record.started_at, &a.record.run_id),
                (&b.record.started_at, &b.record.run_id),
            )
        });
        Ok(headers)
    }

    /// A run by its id, or (as the CLI and SDK take them) `latest`, `latest-failed`,
    /// `latest-success` or a unique start of an id.
    pub async fn run(&self, flow: &str, run_id: &str) -> Result<Run> {
        let id = RunId::new(run_id).map_err(bad_request)?;
        let dir = slipstream_core::flow_run_dir(&flow_name(flow)?, &id);
        match self.header(dir, None).await {
            Ok(header) => self.complete(flow, header).await,
            Err(UiError::Store(StoreError::NotFound { .. })) => self.named_run(flow, run_id).await,
            Err(other) => Err(other),
        }
    }

    /// The run `name` stands for when it is not a run id.
    async fn named_run(&self, flow: &str, name: &str) -> Result<Run> {
        let not_found = || UiError::NotFound(format!("flow {flow:?} has no run {name:?}"));
        let wanted = match name {
            "latest" => Some(None),
            "latest-failed" => Some(Some([RunStatus::Failed, RunStatus::Interrupted])),
            "latest-success" => Some(Some([RunStatus::Success, RunStatus::Success])),
            _ => None,
        };
        if let Some(runs) = self.indexed(flow).await? {
            // newest first, each run's status as the list shows it
            let found: Vec<&RunSummary> = match wanted {
                Some(statuses) => runs
                    .iter()
                    .filter(|r| statuses.is_none_or(|s| s.contains(&r.status)))
                    .take(1)
                    .collect(),
                None => runs.iter().filter(|r| r.run_id.starts_with(name)).collect(),
            };
            return match found.as_slice() {
                [] => Err(not_found()),
                // its header, read as such: an indexed run whose records are gone is not found
                [one] => {
                    let id = RunId::new(one.run_id.as_str()).map_err(bad_request)?;
                    let dir = slipstream_core::flow_run_dir(&flow_name(flow)?, &id);
                    match self.live(flow, dir).await? {
                        Some(run) => Ok(run),
                        None => Err(not_found()),
                    }
                }
                many => Err(UiError::BadRequest(format!(
                    "{name:?} is the start of {} runs of flow {flow:?}: give more of it",
                    many.len()
                ))),
            };
        }
        let headers = self.headers(flow).await?; // newest first
        if let Some(statuses) = wanted {
            for header in headers {
                let run = self.complete(flow, header).await?;
                if statuses.is_none_or(|s| s.contains(&run.record.status)) {
                    return Ok(run);
                }
            }
            return Err(not_found());
        }
        let mut matches: Vec<Header> = headers
            .into_iter()
            .filter(|h| h.record.run_id.starts_with(name))
            .collect();
        match matches.len() {
            0 => Err(not_found()),
            1 => self.complete(flow, matches.remove(0)).await,
            n => Err(UiError::BadRequest(format!(
                "{name:?} is the start of {n} runs of flow {flow:?}: give more of it"
            ))),
        }
    }

    /// The `run.json` in `dir`; `files` (relative to `dir`) when the caller has listed them.
    async fn header(&self, dir: String, files: Option<Vec<String>>) -> Result<Header> {
        let path = format!("{dir}{}", RunFile::Record.relative());
        let record = self.record::<RunRecord>(&path).await?;
        Ok(Header { dir, record, files })
    }

    /// The run as the pages show it: a whole run as recorded, a running one merged with its
    /// op and sync files (listed here unless the header came with them).
    async fn complete(&self, flow: &str, header: Header) -> Result<Run> {
        let Header { dir, record, files } = header;
        let spec = self.spec(flow, &record.version).await?;
        if record.status != RunStatus::Running {
            return Ok(Run {
                record,
                spec,
                later: Vec::new(),
            });
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
        let kinds: Vec<RunFile> = files.iter().filter_map(|f| RunFile::classify(f)).collect();
        let op_paths: Vec<(String, String)> = kinds
            .iter()
            .filter_map(|k| match k {
                RunFile::OpState(name) => Some((format!("{dir}{}", k.relative()), name.clone())),
                _ => None,
            })
            .collect();
        let op_files: Vec<(String, OpState)> = stream::iter(op_paths)
            .map(|(path, name)| async move {
                Ok::<_, UiError>((name, self.record::<OpState>(&path).await?))
            })
            .buffer_unordered(CONCURRENT_READS)
            .try_collect()
            .await?;
        let airflow = if kinds.contains(&RunFile::Airflow) {
            Some(
                self.record::<AirflowRun>(&format!("{dir}{}", RunFile::Airflow.relative()))
                    .await?,
            )
        } else {
            None
        };
        let mut later = Vec::new();
        for version in versions_ran(&record, op_files.iter().map(|(_, s)| s)) {
            // a version whose spec cannot be read is left out of the structure, not the run
            if let Ok(spec) = self.spec(flow, &version).await {
                later.push(spec);
            }
        }
        let specs: Vec<&FlowSpec> = std::iter::once(spec.as_ref())
            .chain(later.iter().map(AsRef::as_ref))
            .collect();
        let record = merge_run(record, &specs, op_files, airflow.as_ref());
        Ok(Run {
            record,
            spec,
            later,
        })
    }

    /// The record of one try of one op.
    pub async fn try_record(
        &self,
        prefix: &str,
        run_id: &str,
        try_number: u32,
    ) -> Result<TryRecord> {
        let key = ArtifactKey::new(prefix, run_id, "out").map_err(bad_request)?;
        let n = TryNumber::new(try_number).map_err(bad_request)?;
        let path = slipstream_core::record_path(&key.op_prefix, &key.run_id, n);
        self.record(&path).await
    }

    pub async fn manifest(&self, key: &ArtifactKey) -> Result<Option<slipstream_core::Manifest>> {
        match artifacts::read_manifest(self.store.as_ref(), key).await {
            Ok(m) => Ok(Some(m)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// An output's preview; one that cannot be read is shown as why (a preview is a
    /// courtesy: it never takes the op's page down), and so is one retention deleted.
    pub async fn preview(&self, key: &ArtifactKey) -> Result<Option<Preview>> {
        match self.record(&key.preview_path()).await {
            Ok(v) => Ok(Some(v)),
            Err(UiError::Store(StoreError::NotFound { .. })) => {
                // Retention deletes previews with payloads, and says so.
                let reason = match artifacts::read_expiry(self.store.as_ref(), key).await {
                    Ok(None) => return Ok(None),
                    Ok(Some(e)) => {
                        format!("expired by retention on {} ({})", e.expired_at, e.reason)
                    }
                    Err(e) => format!("no preview, and its expiry marker cannot be read: {e}"),
                };
                Ok(Some(Preview::None {
                    format: Preview::FORMAT,
                    reason,
                }))
            }
            Err(e @ UiError::Corrupt { .. }) => Ok(Some(Preview::None {
                format: Preview::FORMAT,
                reason: e.to_string(),
            })),
            Err(e) => Err(e),
        }
    }

    /// The record at `path`, read as its kind (its format checked).
    async fn record<R: Record>(&self, path: &str) -> Result<R> {
        let bytes = self.store.get(path).await?;
        R::parse(&bytes).map_err(|e| UiError::Corrupt {
            what: R::KIND,
            path: path.to_owned(),
            reason: e.to_string(),
        })
    }
}

/// Newest first by start (as instants), then run id; each start parsed once.
fn sort_newest_first(runs: &mut [RunSummary]) {
    runs.sort_by_cached_key(|r| {
        (
            std::cmp::Reverse(crate::time::instant(&r.started_at)),
            std::cmp::Reverse(r.run_id.clone()),
        )
    });
}

/// Op `name` of the version `spec`.
pub fn find_op<'a>(spec: &'a FlowSpec, flow: &str, name: &str) -> Result<&'a OpSpec> {
    spec.op(name).ok_or_else(|| {
        UiError::NotFound(format!(
            "flow {flow:?} version {} has no op {name:?}",
            spec.version
        ))
    })
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
