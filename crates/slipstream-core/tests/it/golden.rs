//! Files as slipstream wrote them, kept under `tests/golden/format-<n>/`: each must still
//! read, and reading then writing it must lose nothing. When a format changes, the old
//! folder stays and a new one is added.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;
use slipstream_core::records::{
    AirflowRun, CacheEntry, Expiry, FlowSpec, IndexSegment, IndexedRuns, OpKind, OpState, OpStatus,
    Pin, Preview, Record, RetentionPolicy, RunRecord, RunStatus, TryRecord, TryStatus,
};
use slipstream_core::{CoreError, Manifest};

fn golden(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses `name` as `R`, writes it back and checks that every field of the file survived.
fn reads<R: Record + Serialize>(name: &str) -> R {
    let bytes = golden(name);
    let record = R::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let written = serde_json::to_value(&record).unwrap();
    let original: Value = serde_json::from_slice(&bytes).unwrap();
    assert_kept(&original, &written, name);
    record
}

/// Every field of `original` is in `written` with the same value; `written` may add or leave
/// out only nulls (absent optional fields), and may add a default `format`.
fn assert_kept(original: &Value, written: &Value, at: &str) {
    match (original, written) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                match b.get(k) {
                    Some(w) => assert_kept(v, w, &format!("{at}.{k}")),
                    None => assert!(v.is_null(), "{at}.{k} was dropped"),
                }
            }
            for (k, v) in b {
                let added_default = v.is_null() || (k == "format" && v == 1);
                assert!(
                    a.contains_key(k) || added_default,
                    "{at}.{k} was added: {v}"
                );
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{at}: length");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_kept(x, y, &format!("{at}[{i}]"));
            }
        }
        (a, b) => assert_eq!(a, b, "{at}"),
    }
}

#[test]
fn flow_specs_read() {
    let spec: FlowSpec = reads("format-1/spec.json");
    assert_eq!(spec.flow, "sample");
    assert!(spec.ops.iter().all(|o| o.prefix.len() == 36));
    let captured: FlowSpec = reads("format-1/spec-captured.json");
    let make = captured.op("make").unwrap();
    assert!(!make.function.importable && make.function.module_source.is_some());
    // A constant beyond 64 bits keeps every digit.
    let text = serde_json::to_string(&captured).unwrap();
    assert!(text.contains("1180591620717411303424"), "{text}");
    assert_eq!(captured.op("small").unwrap().kind, OpKind::Check);
    // `cache` is written only when off, so specs that never turn it off are unchanged; a
    // resource may be a number.
    let uncached: FlowSpec = reads("format-1/spec-no-cache.json");
    let fetch = uncached.op("fetch").unwrap();
    assert!(!uncached.cache && !fetch.cache && spec.ops.iter().all(|o| o.cache));
    assert_eq!(fetch.resources["cpu"].get(), "2");
}

#[test]
fn run_records_read() {
    let run: RunRecord = reads("format-1/run.json");
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.ops["explode"].status, OpStatus::Failed);
    assert_eq!(
        run.ops["explode"].error.as_ref().unwrap().type_name,
        "ValueError"
    );
    assert!(run.checks.contains_key("spend_positive"));
    let header: RunRecord = reads("format-1/run-header.json");
    assert_eq!(header.status, RunStatus::Running);
    assert!(
        header
            .ops
            .values()
            .all(|o| o.status == OpStatus::Pending && o.tries == 0)
    );
    assert!(header.version_from.is_some());
}

#[test]
fn op_states_read() {
    let failed: OpState = reads("format-1/op-state-failed.json");
    assert_eq!(failed.status, OpStatus::UpForRetry);
    let metric: OpState = reads("format-1/op-state-metric.json");
    assert_eq!(metric.kind, OpKind::Metric);
    assert!(metric.metric.is_some());
}

#[test]
fn try_records_read() {
    let failed: TryRecord = reads("format-1/try-record-failed.json");
    assert_eq!(failed.status, TryStatus::Failed);
    let error = failed.error.unwrap();
    assert_eq!(error.phase, "call");
    assert!(!error.frames.is_empty());
    for name in [
        "format-1/try-record-check.json",
        "format-1/try-record-metric.json",
        "format-1/try-record-frame.json",
    ] {
        let record: TryRecord = reads(name);
        assert_eq!(record.status, TryStatus::Success, "{name}");
    }
    let frame: TryRecord = reads("format-1/try-record-frame.json");
    assert!(frame.outputs.values().any(|m| m.rows.is_some()));
}

#[test]
fn synced_airflow_states_read() {
    let airflow: AirflowRun = reads("format-1/airflow.json");
    assert_eq!(airflow.tasks["explode"].tries.len(), 2);
    assert_eq!(airflow.tasks["summary"].state, None);
}

#[test]
fn previews_and_manifests_read() {
    for kind in [
        "array", "bytes", "frame", "image", "json", "none", "number", "text",
    ] {
        reads::<Preview>(&format!("format-1/preview-{kind}.json"));
    }
    let manifest: Manifest = reads("format-1/manifest.json");
    assert_eq!(manifest.codec, "parquet");
}

#[test]
fn streamed_frames_name_their_payload_uniquely_and_say_what_was_profiled() {
    let manifest: Manifest = reads("format-1/manifest-streamed.json");
    assert!(
        manifest.payload.starts_with("payload-s"),
        "{}",
        manifest.payload
    );
    assert_eq!(manifest.flavor, "pyarrow.RecordBatchReader");
    let preview: Preview = reads("format-1/preview-frame-streamed.json");
    let Preview::Frame {
        rows,
        profiled_rows,
        ..
    } = preview
    else {
        panic!("a frame preview")
    };
    assert_eq!((rows, profiled_rows), (40, Some(5)));
}

#[test]
fn format_2_records_say_which_version_ran_each_try() {
    let state: OpState = reads("format-2/op-state-cleared.json");
    let versions: Vec<&str> = state.attempts.iter().map(|a| a.version.as_str()).collect();
    assert_eq!(versions.len(), 2);
    assert_ne!(versions[0], versions[1], "try 2 ran the recompiled version");
    assert_eq!(state.version.as_deref(), Some(versions[1]));
    let header: RunRecord = reads("format-2/run-header.json");
    assert_eq!(
        header.version, versions[0],
        "the run started with the first version"
    );
    let run: RunRecord = reads("format-2/run.json");
    assert!(
        run.ops
            .values()
            .all(|o| o.attempts.len() == 1 && o.version.is_some())
    );
    let cleared: TryRecord = reads("format-2/try-record-cleared.json");
    assert_eq!(cleared.version.as_deref(), Some(versions[1]));
    let failed: TryRecord = reads("format-2/try-record-failed.json");
    assert_eq!(failed.version.as_deref(), Some(versions[0]));
    assert_eq!((failed.format, state.format, header.format), (2, 2, 2));
}

#[test]
fn cached_ops_point_at_the_outputs_they_reused() {
    let state: OpState = reads("format-2/op-state-cached.json");
    let from = state
        .cached_from
        .expect("a cached op says whose outputs it took");
    assert_eq!(from.run_id, "scheduled__1");
    assert!(state.cache_key.is_some() && state.metric.is_some());
    let record: TryRecord = reads("format-2/try-record-cached.json");
    assert_eq!(record.cached_from.as_ref(), Some(&from));
    let entry: CacheEntry = reads("format-2/cache-entry.json");
    assert_eq!((entry.at, Some(entry.key)), (from, state.cache_key));
}

#[test]
fn format_3_local_runs_name_their_process() {
    let run: RunRecord = reads("format-3/run.json");
    assert_eq!(run.status, RunStatus::Success);
    let runner = run.runner.as_ref().expect("a local run names its process");
    assert_eq!((runner.host.as_str(), runner.pid), ("build-7", 4242));
    assert_eq!(runner.started, Some(1_934_411));
    let killed: RunRecord = reads("format-3/run-killed.json");
    assert_eq!(killed.status, RunStatus::Running);
    assert_eq!(
        killed.ops["make"].status,
        OpStatus::Success,
        "written as it ended"
    );
    assert_eq!(killed.ops["use"].status, OpStatus::Pending);
}

#[test]
fn lifecycle_records_read() {
    let expiry: Expiry = reads("format-1/expiry.json");
    assert_eq!(expiry.reason, "keep the last 2 runs");
    let pin: Pin = reads("format-1/pin.json");
    assert_eq!(pin.note, "the board deck");
    let policy: RetentionPolicy = reads("format-1/retention.json");
    assert_eq!(
        (policy.keep_last, policy.older_than_days),
        (Some(30), Some(90.0))
    );
}

#[test]
fn run_index_segments_read() {
    let segment: IndexSegment = reads("format-1/index-segment.json");
    assert!(segment.base);
    let failed = &segment.runs[1];
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(
        failed.failed["predict"]
            .as_ref()
            .map(|e| e.message.as_str()),
        Some("spend column has gone missing")
    );
    assert!(
        failed.failed["killed"].is_none(),
        "a failure without an exception"
    );
    assert_eq!(segment.runs[0].metrics["auc"].get(), "0.8125");
    let found = IndexedRuns::of([&segment]);
    assert_eq!(found.runs.len(), 2);
    assert_eq!(found.deleted.len(), 1);
}

#[test]
fn format_3_tries_say_where_their_time_went_and_format_2_previews_count_distinct_values() {
    let record: TryRecord = reads("format-3/try-record.json");
    let phases = record.phases.expect("format 3 records its phases");
    assert_eq!(
        (phases.inputs, phases.call, phases.outputs),
        (0.012, 1.204, 0.0)
    );
    let older: TryRecord = reads("format-2/try-record-failed.json");
    assert!(older.phases.is_none());
    let Preview::Frame { profile, .. } = reads::<Preview>("format-2/preview-frame.json") else {
        panic!("a frame preview")
    };
    assert!(profile.iter().all(|c| c.distinct_exact));
    let Preview::Frame { profile, .. } = reads::<Preview>("format-1/preview-frame.json") else {
        panic!("a frame preview")
    };
    assert!(
        profile.iter().all(|c| !c.distinct_exact),
        "before format 2, every distinct count was an estimate"
    );
}

#[test]
fn format_2_specs_read_other_flows_outputs() {
    let spec: FlowSpec = reads("format-2/spec-upstream.json");
    assert_eq!(spec.format, 2);
    let on = &spec.schedule_on[0];
    assert_eq!(on.asset_uri(), "slipstream://churn/predict/out");
    let upstream = spec.op("churn-predict").unwrap();
    assert_eq!(upstream.kind, OpKind::Upstream);
    assert_eq!(upstream.source.as_ref(), Some(on));
    assert!(spec.op("summarize").unwrap().source.is_none());
    // Format 1 specs still read, with neither.
    let older: FlowSpec = reads("format-1/spec.json");
    assert!(older.schedule_on.is_empty() && older.ops.iter().all(|o| o.source.is_none()));

    // Their runs, op states and tries take the next format, which older readers refuse.
    let state: OpState = reads("format-3/op-state-upstream.json");
    let read = state
        .cached_from
        .expect("an upstream op names the run it read");
    assert_eq!(read.flow.as_deref(), Some("churn"));
    let record: TryRecord = reads("format-4/try-record-upstream.json");
    assert_eq!(record.cached_from, Some(read.clone()));
    assert_eq!(
        (record.kind, record.format, state.format),
        (OpKind::Upstream, 4, 3)
    );
    let run: RunRecord = reads("format-4/run-upstream.json");
    assert_eq!(run.format, 4);
    assert_eq!(run.ops["churn-predict"].cached_from, Some(read));
}

#[test]
fn format_2_cache_entries_keep_the_parts_of_their_key() {
    let entry: CacheEntry = reads("format-5/cache-entry.json");
    let parts: Value = serde_json::from_str(entry.parts.as_ref().unwrap().get()).unwrap();
    assert_eq!(parts["code"]["modules"]["factors"], "sha256:9a0c");
    assert_eq!(parts["packages"], "sha256:77b1");
    // Entries written before the parts existed still read, without them.
    let old: CacheEntry = reads("format-2/cache-entry.json");
    assert!(old.parts.is_none());
}

#[test]
fn format_3_specs_name_a_code_version() {
    let spec: FlowSpec = reads("format-5/spec-code-version.json");
    assert_eq!(
        spec.ops[0].code_version.as_deref(),
        Some("2026-12-factors-v3")
    );
    let older: FlowSpec = reads("format-1/spec.json");
    assert!(older.ops.iter().all(|o| o.code_version.is_none()));
}

#[test]
fn format_4_specs_give_metrics_an_alert() {
    let spec: FlowSpec = reads("format-6/spec-metric-alert.json");
    let metric = spec.op("mean_spend").unwrap();
    let alert = metric.alert.as_ref().expect("the metric's alert");
    assert_eq!((alert.below, alert.above), (Some(0.7), None));
    assert_eq!(spec.format, 4);
    // Specs written before alerts existed still read, without them.
    let older: FlowSpec = reads("format-5/spec-code-version.json");
    assert!(older.ops.iter().all(|o| o.alert.is_none()));
}

/// `parse_current` (the check before a write) takes a golden file exactly when its format is
/// the one its content needs: a file of an older format than its content needs today is
/// refused by number, and every field of every file is known (none is ignored).
fn written_as_needed<R: Record>(name: &str) {
    let bytes = golden(name);
    let said: Value = serde_json::from_slice(&bytes).unwrap();
    let said = said["format"].as_u64().unwrap_or(1) as u32;
    let needed = R::format_of(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    match R::parse_current(&bytes) {
        Ok(_) => assert_eq!(said, needed, "{name}"),
        Err(e) => {
            assert_ne!(said, needed, "{name}: {e}");
            assert!(
                matches!(e, CoreError::NotCurrentFormat { found, current, .. }
                    if found == said && current == needed),
                "{name}: refused for another reason than its number: {e}"
            );
        }
    }
}

#[test]
fn the_newest_golden_files_are_what_this_build_writes() {
    for dir in [
        "format-1", "format-2", "format-3", "format-4", "format-5", "format-6",
    ] {
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(dir);
        for entry in std::fs::read_dir(folder).unwrap() {
            let file = entry.unwrap().file_name().into_string().unwrap();
            let name = format!("{dir}/{file}");
            match file.split(['-', '.']).next().unwrap() {
                "spec" => written_as_needed::<FlowSpec>(&name),
                "run" => written_as_needed::<RunRecord>(&name),
                "op" => written_as_needed::<OpState>(&name),
                "try" => written_as_needed::<TryRecord>(&name),
                "cache" => written_as_needed::<CacheEntry>(&name),
                _ => {}
            }
        }
    }
    // Specs at each of their formats, as this build writes them today.
    for name in ["format-1/spec.json", "format-2/spec-upstream.json"] {
        assert!(FlowSpec::parse_current(&golden(name)).is_ok(), "{name}");
    }
}
