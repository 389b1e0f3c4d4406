//! The runs of a flow as the runs list, run names and a metric's history read them: from the
//! run index where the flow has one (`slipstream_store::run_index`), else from every run's
//! `run.json`. A run that cannot be read is listed as such ([`super::damaged`]) and left out
//! of the rest: a filtered list, a check's or a metric's history, run names.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use futures::{StreamExt, stream};
use slipstream_core::records::{CheckResult, OpState, RawJson, RunStatus, RunSummary};
use slipstream_core::{RunFile, RunId};
use slipstream_store::StoreError;
use slipstream_store::run_index::{self, Indexed};

use super::damaged::{self, Row, Unreadable};
use super::filter::Checked;
use super::{CONCURRENT_READS, Header, Index, Latest, Run, bad_request, flow_name, latest};
use crate::error::{Result, UiError};
use crate::time::newest_first;

/// Every run of a flow as its run index and the records of its runs not indexed yet say:
/// those that read, newest first, and those that do not.
pub(super) struct Listing {
    pub runs: Arc<Vec<RunSummary>>,
    pub unreadable: Vec<Unreadable>,
}

/// A run's header before paging, or why it could not be read.
#[allow(clippy::large_enum_variant)] // nearly every entry is a header: see `Row`
enum Entry {
    Header(Header),
    Unreadable(Unreadable),
}

impl Index {
    /// One page of the runs of `flow`, newest first, and how many runs it has in all.
    ///
    /// With a run index, the page costs two listings, the index segments not read yet and
    /// the records of the runs not yet indexed, whatever the number of runs. Without one,
    /// every run's `run.json` is read to order them, and only the runs on the page are
    /// merged with their op and sync files.
    ///
    /// A filter is applied before paging: with an index it costs nothing more; without one,
    /// every run is merged to be filtered. Runs that cannot be read are listed (first when
    /// their start is not known), unless filtered: they match no filter.
    pub async fn runs(
        &self,
        flow: &str,
        page: std::ops::Range<usize>,
        filter: &Checked,
    ) -> Result<(Vec<Row>, usize)> {
        let take = |total: usize| (page.start, page.end.saturating_sub(page.start).min(total));
        if !filter.is_empty() {
            let all = self.summaries(flow).await?;
            let kept: Vec<&RunSummary> = all.iter().filter(|r| filter.keeps(r)).collect();
            let (skip, count) = take(kept.len());
            let shown = kept.iter().skip(skip).take(count);
            return Ok((shown.map(|r| Row::Run((*r).clone())).collect(), kept.len()));
        }
        if let Some(all) = self.indexed(flow).await? {
            let total = all.runs.len() + all.unreadable.len();
            let (skip, count) = take(total);
            return Ok((
                damaged::page(&all.runs, &all.unreadable, skip, count),
                total,
            ));
        }
        // (those whose record cannot be read have no known start: first, as `order` says)
        let (headers, unreadable) = self.headers(flow).await?;
        let mut entries: Vec<Entry> = unreadable.into_iter().map(Entry::Unreadable).collect();
        entries.extend(headers.into_iter().map(Entry::Header));
        let total = entries.len();
        let (skip, count) = take(total);
        let rows = stream::iter(entries.into_iter().skip(skip).take(count))
            .map(|entry| async move {
                match entry {
                    Entry::Header(header) => match self.read_run(flow, header).await {
                        Ok(run) => Row::Run(run.summary()),
                        Err(bad) => Row::Unreadable(bad),
                    },
                    Entry::Unreadable(bad) => Row::Unreadable(bad),
                }
            })
            .buffered(CONCURRENT_READS)
            .collect()
            .await;
        Ok((rows, total))
    }

    /// Every run of `flow` that can be read, newest first, as the runs list shows them: from
    /// the run index, or without one from every run's records.
    pub async fn summaries(&self, flow: &str) -> Result<Arc<Vec<RunSummary>>> {
        if let Some(all) = self.indexed(flow).await? {
            return Ok(all.runs);
        }
        let runs: Vec<RunSummary> = stream::iter(self.headers(flow).await?.0)
            .map(|header| self.read_run(flow, header))
            .buffered(CONCURRENT_READS)
            .filter_map(|run| async move { run.ok().map(|r| r.summary()) })
            .collect()
            .await;
        Ok(Arc::new(runs))
    }

    /// Every run of `flow` read whole (merged while not over), newest first, and the runs
    /// that cannot be read with why: what the SDK's `History.read_runs` gives retention,
    /// `reindex` and scripts. Unlike the runs list, it reads every run's records.
    pub async fn all_runs(&self, flow: &str) -> Result<(Vec<Run>, Vec<Unreadable>)> {
        let (headers, mut unreadable) = self.headers(flow).await?;
        let read: Vec<std::result::Result<Run, Unreadable>> = stream::iter(headers)
            .map(|header| self.read_run(flow, header))
            .buffered(CONCURRENT_READS)
            .collect()
            .await;
        let mut runs = Vec::with_capacity(read.len());
        for run in read {
            match run {
                Ok(run) => runs.push(run),
                Err(bad) => unreadable.push(bad),
            }
        }
        runs.sort_by(|a, b| {
            crate::time::newest_first(
                (&a.record.started_at, &a.record.run_id),
                (&b.record.started_at, &b.record.run_id),
            )
        });
        Ok((runs, unreadable))
    }

    /// The run of `header`, merged; or, when that cannot be done, why.
    async fn read_run(&self, flow: &str, header: Header) -> std::result::Result<Run, Unreadable> {
        let (id, started) = (
            header.record.run_id.clone(),
            header.record.started_at.clone(),
        );
        self.complete(flow, header)
            .await
            .map_err(|e| damaged::unreadable_run(id, started, &e))
    }

    /// The verdict of check `name` in every run of `flow` that ran it, oldest first.
    pub async fn check_history(
        &self,
        flow: &str,
        name: &str,
    ) -> Result<Vec<(RunSummary, CheckResult)>> {
        let all = self.summaries(flow).await?;
        Ok(all
            .iter()
            .rev()
            .filter_map(|r| Some((r.clone(), r.checks.get(name)?.clone())))
            .collect())
    }

    /// Every run of `flow`, newest first, from its run index: `None` when it has none that
    /// can be trusted (never built, or a segment unreadable: the records are read then).
    pub(super) async fn indexed(&self, flow: &str) -> Result<Option<Listing>> {
        let name = flow_name(flow)?;
        let (runs, active) = match run_index::read(self.store(), &name, &self.segments).await? {
            Indexed::Ready { runs, active } => (runs, active),
            Indexed::Missing => return Ok(None),
            Indexed::Unreadable(why) => {
                let said = format!(
                    "the run index of flow {} is not used: {why}; rebuild it with \
                     `slipstream reindex {flow}`",
                    quoted(flow)
                );
                tracing::warn!(flow, "{said}");
                *self.damaged.lock().unwrap_or_else(|p| p.into_inner()) = Some(said);
                return Ok(None);
            }
        };
        let sorted = self.newest_first(flow, runs);
        if active.is_empty() {
            return Ok(Some(Listing {
                runs: sorted,
                unreadable: Vec::new(),
            }));
        }
        let dir = format!("{}/", slipstream_core::runs_dir(&name));
        let reads: Vec<_> = active
            .into_iter()
            .map(|escaped| {
                let dir = format!("{dir}{escaped}/");
                async move {
                    match self.header(dir, None).await {
                        Ok(header) => Some(self.read_run(flow, header).await),
                        Err(UiError::Store(StoreError::NotFound { .. })) => None,
                        Err(e) => Some(Err(damaged::in_folder(&escaped, &e))),
                    }
                }
            })
            .collect();
        let read: Vec<Option<std::result::Result<Run, Unreadable>>> = stream::iter(reads)
            .buffer_unordered(CONCURRENT_READS)
            .collect()
            .await;
        let (mut live, mut unreadable) = (Vec::new(), Vec::new());
        for run in read.into_iter().flatten() {
            match run {
                Ok(run) => live.push(run.summary()),
                Err(bad) => unreadable.push(bad),
            }
        }
        // what the records say now, readable or not, stands for what the index says
        let shown: HashSet<&str> = live
            .iter()
            .map(|l| l.run_id.as_str())
            .chain(unreadable.iter().map(|u| u.run_id.as_str()))
            .collect();
        let mut runs: Vec<RunSummary> = sorted
            .iter()
            .filter(|r| !shown.contains(r.run_id.as_str()))
            .cloned()
            .collect();
        runs.extend(live);
        sort_newest_first(&mut runs);
        damaged::sort(&mut unreadable);
        Ok(Some(Listing {
            runs: Arc::new(runs),
            unreadable,
        }))
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
        if let Some(all) = self.indexed(flow).await? {
            return Ok(all
                .runs
                .iter()
                .rev()
                .filter_map(|r| Some((r.run_id.clone(), value(r.metrics.get(name))?)))
                .collect());
        }
        let (headers, _) = self.headers(flow).await?; // (those that cannot be read have none)
        let op_file = RunFile::OpState(name.to_owned()).relative();
        let mut points: Vec<(String, f64)> = stream::iter(headers)
            .map(|header| {
                let op_file = &op_file;
                async move {
                    let mut metric = header.record.ops.get(name).and_then(|s| s.metric.clone());
                    if header.record.status == RunStatus::Running
                        && header.files.as_ref().is_some_and(|f| f.contains(op_file))
                    {
                        // one that cannot be read has no point, and takes no page down
                        let path = format!("{}{op_file}", header.dir);
                        let state = self.record::<OpState>(&path).await;
                        metric = state.ok().and_then(|s| s.metric);
                    }
                    value(metric.as_ref()).map(|v| (header.record.run_id, v))
                }
            })
            .buffered(CONCURRENT_READS)
            .filter_map(|point| async move { point })
            .collect()
            .await;
        points.reverse();
        Ok(points)
    }

    /// The `run.json` of every run of `flow`, newest first, with the files of each run; and
    /// the runs whose `run.json` cannot be read, in [`damaged::order`].
    async fn headers(&self, flow: &str) -> Result<(Vec<Header>, Vec<Unreadable>)> {
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
        let read: Vec<(String, Result<Header>)> =
            stream::iter(files.into_iter().filter(|(_, f)| {
                f.iter()
                    .any(|p| RunFile::classify(p) == Some(RunFile::Record))
            }))
            .map(|(run, rest)| async move {
                let header = self.header(format!("{dir}{run}/"), Some(rest)).await;
                (run, header)
            })
            .buffer_unordered(CONCURRENT_READS)
            .collect()
            .await;
        let (mut headers, mut unreadable) = (Vec::new(), Vec::new());
        for (run, header) in read {
            match header {
                Ok(header) => headers.push(header),
                Err(UiError::Store(StoreError::NotFound { .. })) => {} // deleted since listed
                Err(e) => unreadable.push(damaged::in_folder(&run, &e)),
            }
        }
        damaged::sort(&mut unreadable);
        headers.sort_by(|a, b| {
            newest_first(
                (&a.record.started_at, &a.record.run_id),
                (&b.record.started_at, &b.record.run_id),
            )
        });
        Ok((headers, unreadable))
    }

    /// The id of the run `which` names in `flow` ([`Latest`]: the one rule, which the SDK
    /// calls too), if it has one: among the runs the runs list shows.
    pub async fn latest_id(&self, flow: &str, which: Latest) -> Result<Option<String>> {
        let runs = self.summaries(flow).await?;
        Ok(latest(runs.iter(), which).map(|r| r.run_id.clone()))
    }

    /// The run `name` stands for when it is not a run id.
    pub(super) async fn named_run(&self, flow: &str, name: &str) -> Result<Run> {
        let not_found = || {
            UiError::NotFound(match Latest::parse(name) {
                Some(which) => format!("flow {} has no {}", quoted(flow), which.what()),
                None => format!("flow {} has no run {}", quoted(flow), quoted(name)),
            })
        };
        if let Some(which) = Latest::parse(name) {
            let id = self.latest_id(flow, which).await?.ok_or_else(not_found)?;
            // its header, read as such: an indexed run whose records are gone is not found
            let id = RunId::new(id.as_str()).map_err(bad_request)?;
            let dir = slipstream_core::flow_run_dir(&flow_name(flow)?, &id);
            return self.live(flow, dir).await?.ok_or_else(not_found);
        }
        if let Some(Listing { runs, .. }) = self.indexed(flow).await? {
            let found: Vec<&RunSummary> = runs
                .iter()
                .filter(|r| !name.is_empty() && r.run_id.starts_with(name))
                .collect();
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
                many => Err(ambiguous(
                    flow,
                    name,
                    many.iter().map(|r| r.run_id.as_str()).collect(),
                )),
            };
        }
        let (headers, _) = self.headers(flow).await?;
        let mut matches: Vec<Header> = headers
            .into_iter()
            .filter(|h| !name.is_empty() && h.record.run_id.starts_with(name))
            .collect();
        match matches.len() {
            0 => Err(not_found()),
            1 => self.complete(flow, matches.remove(0)).await,
            _ => Err(ambiguous(
                flow,
                name,
                matches.iter().map(|h| h.record.run_id.as_str()).collect(),
            )),
        }
    }
}

/// A name as the SDK's messages quote it (Python's `repr` of a string): in single quotes,
/// with control characters escaped.
pub(crate) fn quoted(name: &str) -> String {
    let escaped: String = name
        .chars()
        .flat_map(|c| match c {
            '\\' | '\'' => vec!['\\', c],
            c if c.is_control() => c.escape_debug().collect(),
            c => vec![c],
        })
        .collect();
    format!("'{escaped}'")
}

/// `name` is the start of several run ids: they are listed (the first five, in order).
fn ambiguous(flow: &str, name: &str, mut ids: Vec<&str>) -> UiError {
    ids.sort_unstable();
    let more = if ids.len() > 5 { ", ..." } else { "" };
    UiError::Ambiguous(format!(
        "{} is the start of {} runs of flow {}: {}{more}; give more of it",
        quoted(name),
        ids.len(),
        quoted(flow),
        ids[..ids.len().min(5)].join(", "),
    ))
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
