//! The store as the UI reads it: flows, their versions' specs, and runs with their op states
//! merged by [`slipstream_core::records::merge_run`], the merge the SDK and CLI use too.
//! Specs never change once published, so they are read once and kept.

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt, stream};
use slipstream_core::records::{
    AirflowRun, FlowSpec, OpSpec, OpState, Preview, Record, RunRecord, RunStatus, RunSummary,
    TryRecord, merge_run, newest_version, versions_ran,
};
use slipstream_core::{ArtifactKey, FlowFile, FlowName, RunFile, RunId, TryNumber, VersionId};
use slipstream_store::run_index::SegmentCache;
use slipstream_store::{ObjectStore, StoreError, artifacts};

use crate::error::{Result, UiError};
use crate::time::newest_first;

mod damaged;
pub mod filter;
mod latest;
mod listing;

pub use damaged::{DamagedVersion, Row, Unreadable, Versions, why};
pub use latest::{Latest, latest};

/// How many store reads one page keeps in flight.
pub(crate) const CONCURRENT_READS: usize = 32;

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
    /// Its newest run.
    pub last: Option<RunSummary>,
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
    /// Why a flow's run index was not used (a segment cannot be read), for the SDK to say.
    damaged: Mutex<Option<String>>,
}

impl Index {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            specs: Mutex::new(HashMap::new()),
            segments: SegmentCache::default(),
            sorted: Mutex::new(HashMap::new()),
            damaged: Mutex::new(None),
        }
    }

    /// Why a run index this reader met was not used, if one was not: its runs were read from
    /// their records instead (`slipstream reindex FLOW` rebuilds it).
    pub fn damaged_index(&self) -> Option<String> {
        self.damaged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn store(&self) -> &dyn ObjectStore {
        self.store.as_ref()
    }

    /// Every flow with a published version: its versions, runs and newest run. One listing
    /// of names, then per flow its versions and (with a run index) the index; a flow without
    /// an index counts its run folders and shows no newest run, rather than have this page
    /// read every run record of every flow.
    pub async fn flows(&self) -> Result<Vec<FlowSummary>> {
        let names = self.store.list_dirs("flows/").await?;
        let flows: Vec<Option<FlowSummary>> = stream::iter(names)
            .map(|name| async move {
                let Ok(flow) = FlowName::new(&name) else {
                    return Ok(None); // not a flow's folder
                };
                let versions_dir = format!("{}/", slipstream_core::versions_dir(&flow));
                let versions = self
                    .store
                    .list(&versions_dir)
                    .await?
                    .iter()
                    .filter(|p| matches!(FlowFile::classify(p), Some(FlowFile::Spec { .. })))
                    .count();
                if versions == 0 {
                    return Ok(None);
                }
                // the list of flows stays up when one flow's index cannot be read
                let (runs, last) = match self.indexed(&name).await.ok().flatten() {
                    Some(l) => (l.runs.len() + l.unreadable.len(), l.runs.first().cloned()),
                    None => {
                        let dir = slipstream_core::runs_dir(&flow);
                        (self.store.list_dirs(&dir).await?.len(), None)
                    }
                };
                Ok::<_, UiError>(Some(FlowSummary {
                    name,
                    versions,
                    runs,
                    last,
                }))
            })
            .buffered(CONCURRENT_READS)
            .try_collect()
            .await?;
        Ok(flows.into_iter().flatten().collect())
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

    /// The specs of `versions` that can be read: one that cannot is left out of a run's
    /// structure, not the run.
    async fn specs(&self, flow: &str, versions: BTreeSet<String>) -> Vec<Arc<FlowSpec>> {
        let mut specs = Vec::new();
        for version in versions {
            if let Ok(spec) = self.spec(flow, &version).await {
                specs.push(spec);
            }
        }
        specs
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

    /// Published versions of `flow`: those whose spec reads, newest first, and the others
    /// with why (one damaged spec never hides the rest).
    pub async fn versions(&self, flow: &str) -> Result<Versions> {
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
        let read: Vec<(String, Result<Arc<FlowSpec>>)> = stream::iter(ids)
            .map(|id| async move { (id.clone(), self.spec(flow, &id).await) })
            .buffer_unordered(CONCURRENT_READS)
            .collect()
            .await;
        let (mut specs, mut unreadable) = (Vec::new(), Vec::new());
        for (version, spec) in read {
            match spec {
                Ok(spec) => specs.push(spec),
                // deleted since it was listed
                Err(UiError::NotFound(_)) => {}
                Err(e) => unreadable.push(DamagedVersion {
                    version,
                    reason: damaged::why(&e),
                }),
            }
        }
        unreadable.sort_by(|a, b| a.version.cmp(&b.version));
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
        Ok(Versions { specs, unreadable })
    }

    /// A run by its id, or (as the CLI and SDK take them) `latest`, `latest-failed`,
    /// `latest-success` ([`Latest`]: the one rule) or a unique start of an id.
    pub async fn run(&self, flow: &str, run_id: &str) -> Result<Run> {
        let id = RunId::new(run_id).map_err(bad_request)?;
        let dir = slipstream_core::flow_run_dir(&flow_name(flow)?, &id);
        match self.header(dir, None).await {
            Ok(header) => self.complete(flow, header).await,
            Err(UiError::Store(StoreError::NotFound { .. })) => self.named_run(flow, run_id).await,
            Err(other) => Err(other),
        }
    }

    /// The `run.json` in `dir`; `files` (relative to `dir`) when the caller has listed them.
    async fn header(&self, dir: String, files: Option<Vec<String>>) -> Result<Header> {
        let path = format!("{dir}{}", RunFile::Record.relative());
        let record = self.record::<RunRecord>(&path).await?;
        Ok(Header { dir, record, files })
    }

    /// The run as the pages show it: a whole run as recorded, a running one merged with its
    /// op and sync files (listed here unless the header came with them). Without the spec
    /// of its version, [`UiError::SpecUnreadable`] with its record.
    async fn complete(&self, flow: &str, header: Header) -> Result<Run> {
        let Header { dir, record, files } = header;
        let spec = match self.spec(flow, &record.version).await {
            Ok(spec) => spec,
            // the store failing to answer is not the spec's fault
            Err(e @ UiError::Store(_)) => return Err(e),
            Err(e) => {
                return Err(UiError::SpecUnreadable {
                    version: record.version.clone(),
                    reason: damaged::why(&e),
                    record: Box::new(record),
                });
            }
        };
        if record.status != RunStatus::Running {
            // Over: its summary names the versions its ops ran (a run moved to a newer one).
            let ran = versions_ran(&record, record.ops.values());
            let later = self.specs(flow, ran).await;
            return Ok(Run {
                record,
                spec,
                later,
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
        let later = self
            .specs(flow, versions_ran(&record, op_files.iter().map(|(_, s)| s)))
            .await;
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
            newer: matches!(e, slipstream_core::CoreError::NewerFormat { .. }),
            reason: e.to_string(),
        })
    }
}

/// The run `name` names in `flow` of `store` (an id, `latest…` or a unique start of an id),
/// as the pages read it: its record (merged while it is not over) and its version's spec.
/// The SDK and the CLI read one run through this too.
pub async fn read_run(
    store: Arc<dyn ObjectStore>,
    flow: &str,
    name: &str,
) -> Result<(RunRecord, Arc<FlowSpec>)> {
    let run = Index::new(store).run(flow, name).await?;
    Ok((run.record, run.spec))
}

/// The runs list of `flow` as the UI shows it, whole (unreadable runs first, then newest
/// first): `slipstream runs` and `History.summaries` list the same rows.
/// With the rows, why the flow's run index was not used, if it was not.
pub async fn list_runs(
    store: Arc<dyn ObjectStore>,
    flow: &str,
) -> Result<(Vec<Row>, Option<String>)> {
    let index = Index::new(store);
    let (rows, _) = index
        .runs(flow, 0..usize::MAX, &filter::Checked::default())
        .await?;
    Ok((rows, index.damaged_index()))
}

/// Every run of `flow` read whole, newest first, with its version's spec; and the runs that
/// cannot be read (see [`Index::all_runs`]).
pub async fn read_runs(
    store: Arc<dyn ObjectStore>,
    flow: &str,
) -> Result<(Vec<(RunRecord, Arc<FlowSpec>)>, Vec<Unreadable>)> {
    let (runs, unreadable) = Index::new(store).all_runs(flow).await?;
    Ok((
        runs.into_iter().map(|r| (r.record, r.spec)).collect(),
        unreadable,
    ))
}

/// One output of an op in a run: its name, and its manifest and preview if it was stored.
#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub manifest: Option<slipstream_core::Manifest>,
    pub preview: Option<Preview>,
}

impl Index {
    /// Where output `output` of `op` is for `run`: in the run it reused it from (a cached
    /// op), else under the prefix its last try wrote to.
    pub fn output_key(run: &Run, op: &OpSpec, output: &str) -> Result<ArtifactKey> {
        let state = run.op_state(&op.name);
        let (prefix, run_id) = match state.and_then(|s| s.cached_from.as_ref()) {
            Some(at) => (at.prefix.as_str(), at.run_id.as_str()),
            None => (
                state.map_or(op.prefix.as_str(), |s| s.prefix.as_str()),
                run.id(),
            ),
        };
        ArtifactKey::new(prefix, run_id, output).map_err(bad_request)
    }

    /// Every output of `op` in `run`, with its manifest and preview when stored.
    pub async fn outputs(&self, run: &Run, op: &OpSpec) -> Result<Vec<Output>> {
        let reads = op.outputs.iter().map(|name| async move {
            let key = Self::output_key(run, op, name)?;
            let (manifest, preview) = tokio::try_join!(self.manifest(&key), self.preview(&key))?;
            Ok::<_, UiError>(Output {
                name: name.clone(),
                manifest,
                preview,
            })
        });
        futures::future::try_join_all(reads).await
    }
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
