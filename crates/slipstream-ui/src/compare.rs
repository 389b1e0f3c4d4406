//! Two runs of a flow side by side: params, versions (with the structural diff), each op's
//! status and duration, metrics with their change, check verdicts, and each output's type,
//! shape, schema, rows and profile. The comparison page shows it; `slipstream diff FLOW RUN_A
//! RUN_B` prints it (as JSON with `--json`).

use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;
use slipstream_core::records::{CheckResult, ColumnProfile, Preview, VersionDiff};
use slipstream_core::{ArtifactKey, TypeTag};
use slipstream_store::ObjectStore;

use futures::{StreamExt, TryStreamExt, stream};

use crate::error::{Result, UiError};
use crate::index::{CONCURRENT_READS, Index, Output, Run};
use crate::time::seconds_between;

/// A value in each run, and whether they differ.
#[derive(Debug, Clone, Serialize)]
pub struct Pair<T> {
    pub name: String,
    pub a: Option<T>,
    pub b: Option<T>,
    pub changed: bool,
}

impl<T: PartialEq> Pair<T> {
    fn new(name: &str, a: Option<T>, b: Option<T>) -> Self {
        let changed = a != b;
        Self {
            name: name.to_owned(),
            a,
            b,
            changed,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunHead {
    pub run_id: String,
    pub status: String,
    pub version: String,
    pub trigger: String,
    pub started_at: String,
    pub seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpSide {
    pub status: String,
    pub tries: u32,
    pub seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    pub name: String,
    pub a: Option<f64>,
    pub b: Option<f64>,
    /// `b - a`, when both ran.
    pub change: Option<f64>,
}

/// What a stored output is, as far as comparing goes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputSide {
    #[serde(rename = "type")]
    pub type_name: String,
    pub rows: Option<u64>,
    pub shape: Option<Vec<u64>>,
    /// Frames: `name: type` per column.
    pub schema: Vec<String>,
    pub bytes: u64,
    pub checksum: String,
    #[serde(skip)]
    pub profile: Vec<ColumnProfile>,
    /// The rows the profile was taken from.
    #[serde(skip)]
    pub profiled: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputPair {
    pub op: String,
    pub output: String,
    pub a: Option<OutputSide>,
    pub b: Option<OutputSide>,
    /// Which facts differ: `type`, `rows`, `shape`, `schema`, `data` (the checksum).
    pub changed: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub flow: String,
    pub a: RunHead,
    pub b: RunHead,
    pub params: Vec<Pair<String>>,
    /// From a's version to b's, when they differ.
    pub versions: Option<VersionDiff>,
    pub ops: Vec<Pair<OpSide>>,
    pub metrics: Vec<Metric>,
    pub checks: Vec<Pair<CheckResult>>,
    pub outputs: Vec<OutputPair>,
}

/// Compares runs `a` and `b` of `flow` (ids, or `latest`, `latest-failed`… as the UI takes
/// them) as stored in `store`.
pub async fn compare_runs(
    store: Arc<dyn ObjectStore>,
    flow: &str,
    a: &str,
    b: &str,
) -> Result<Comparison> {
    Index::new(store).compare(flow, a, b).await
}

impl Index {
    pub async fn compare(&self, flow: &str, a: &str, b: &str) -> Result<Comparison> {
        let (a, b) = tokio::try_join!(self.run(flow, a), self.run(flow, b))?;
        let (outputs_a, outputs_b) = tokio::try_join!(self.all_outputs(&a), self.all_outputs(&b))?;
        let params = names(a.record.params.keys(), b.record.params.keys())
            .map(|k| {
                let value = |r: &Run| r.record.params.get(k).map(|v| v.get().to_owned());
                Pair::new(k, value(&a), value(&b))
            })
            .collect();
        let versions =
            (a.record.version != b.record.version).then(|| VersionDiff::of(&a.spec, &b.spec));
        let op_names: Vec<String> = names(
            a.ops().into_iter().map(|o| &o.name),
            b.ops().into_iter().map(|o| &o.name),
        )
        .cloned()
        .collect();
        let ops = op_names
            .iter()
            .map(|n| Pair::new(n, op_side(&a, n), op_side(&b, n)))
            .collect();
        let metrics = op_names
            .iter()
            .filter_map(|n| {
                let value = |r: &Run| r.op_state(n)?.metric.as_ref()?.get().parse::<f64>().ok();
                let (va, vb) = (value(&a), value(&b));
                (va.is_some() || vb.is_some()).then(|| Metric {
                    name: n.clone(),
                    a: va,
                    b: vb,
                    change: va.zip(vb).map(|(x, y)| y - x),
                })
            })
            .collect();
        let checks = op_names
            .iter()
            .filter_map(|n| {
                let check = |r: &Run| r.op_state(n)?.check.clone();
                let (ca, cb) = (check(&a), check(&b));
                (ca.is_some() || cb.is_some()).then(|| Pair::new(n, ca, cb))
            })
            .collect();
        let keys: Vec<&(String, String)> = names(outputs_a.keys(), outputs_b.keys()).collect();
        let outputs = keys
            .into_iter()
            .map(|key| output_pair(key, outputs_a.get(key), outputs_b.get(key)))
            .collect();
        Ok(Comparison {
            flow: flow.to_owned(),
            a: head(&a),
            b: head(&b),
            params,
            versions,
            ops,
            metrics,
            checks,
            outputs,
        })
    }

    /// Every stored output of every op of `run`, by (op, output): its manifest, and the
    /// preview of a frame (for its profile), a bounded number of reads at a time.
    async fn all_outputs(&self, run: &Run) -> Result<IndexMap<(String, String), OutputSide>> {
        // owned keys first: the reads below borrow nothing but `self`
        let mut wanted: Vec<((String, String), ArtifactKey)> = Vec::new();
        for op in run.ops() {
            for name in &op.outputs {
                wanted.push((
                    (op.name.clone(), name.clone()),
                    Index::output_key(run, op, name)?,
                ));
            }
        }
        let read: Vec<Option<((String, String), OutputSide)>> = stream::iter(wanted)
            .map(|(at, key)| async move {
                let Some(manifest) = self.manifest(&key).await? else {
                    return Ok(None);
                };
                let preview = match manifest.type_tag {
                    TypeTag::Frame => self.preview(&key).await?,
                    _ => None,
                };
                let output = Output {
                    name: at.1.clone(),
                    manifest: Some(manifest),
                    preview,
                };
                Ok::<_, UiError>(output_side(output).map(|side| (at, side)))
            })
            .buffered(CONCURRENT_READS)
            .try_collect()
            .await?;
        Ok(read.into_iter().flatten().collect())
    }
}

/// Names of both, those of `a` first, each once.
fn names<'a, T: Eq + std::hash::Hash + 'a>(
    a: impl IntoIterator<Item = &'a T>,
    b: impl IntoIterator<Item = &'a T>,
) -> impl Iterator<Item = &'a T> {
    let mut seen = indexmap::IndexSet::new();
    seen.extend(a);
    seen.extend(b);
    seen.into_iter()
}

fn head(run: &Run) -> RunHead {
    let r = &run.record;
    RunHead {
        run_id: r.run_id.clone(),
        status: r.status.as_str().to_owned(),
        version: r.version.clone(),
        trigger: r.trigger.clone(),
        started_at: r.started_at.clone(),
        seconds: r
            .ended_at
            .as_deref()
            .and_then(|e| seconds_between(&r.started_at, e)),
    }
}

fn op_side(run: &Run, name: &str) -> Option<OpSide> {
    let state = run.op_state(name)?;
    Some(OpSide {
        status: crate::pages::op_status(Some(state)).to_owned(),
        tries: state.tries,
        seconds: state
            .started_at
            .as_deref()
            .zip(state.ended_at.as_deref())
            .and_then(|(start, end)| seconds_between(start, end)),
    })
}

fn output_side(output: Output) -> Option<OutputSide> {
    let m = output.manifest?;
    let schema = m
        .schema
        .as_ref()
        .and_then(|s| s.as_array())
        .map(|columns| {
            columns
                .iter()
                .map(|c| {
                    let field = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("?");
                    format!("{}: {}", field("name"), field("type"))
                })
                .collect()
        })
        .unwrap_or_default();
    let (profile, profiled) = match output.preview {
        Some(Preview::Frame {
            profile,
            rows,
            profiled_rows,
            ..
        }) => (profile, profiled_rows.unwrap_or(rows)),
        _ => (Vec::new(), 0),
    };
    Some(OutputSide {
        type_name: format!("{:?}", m.type_tag).to_lowercase(),
        rows: m.rows,
        shape: m.shape,
        schema,
        bytes: m.bytes,
        checksum: m.checksum,
        profile,
        profiled,
    })
}

fn output_pair(
    key: &(String, String),
    a: Option<&OutputSide>,
    b: Option<&OutputSide>,
) -> OutputPair {
    let mut changed = Vec::new();
    if let (Some(x), Some(y)) = (a, b) {
        for (name, differs) in [
            ("type", x.type_name != y.type_name),
            ("rows", x.rows != y.rows),
            ("shape", x.shape != y.shape),
            ("schema", x.schema != y.schema),
            ("data", x.checksum != y.checksum),
        ] {
            if differs {
                changed.push(name);
            }
        }
    } else if a.is_some() != b.is_some() {
        changed.push("stored");
    }
    OutputPair {
        op: key.0.clone(),
        output: key.1.clone(),
        a: a.cloned(),
        b: b.cloned(),
        changed,
    }
}
