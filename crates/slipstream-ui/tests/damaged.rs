//! One record the store holds but cannot read — a run's `run.json`, a version's `spec.json` —
//! is shown as unreadable with why, and every other page of its flow is served as usual:
//! with and without a run index, over HTTP as a browser asks.

// Tests run their own runtimes (`#[tokio::test]`); the one-runtime rule is for the library.
#![allow(clippy::disallowed_methods)]

use std::sync::Arc;

use axum::body::Bytes;
use serde_json::{Value, json};
use slipstream_core::records::{Record, RunRecord};
use slipstream_core::{FlowName, RunId};
use slipstream_store::{LocalStore, ObjectStore, run_index};
use slipstream_ui::{Config, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RUN: &str = include_str!("../../slipstream-core/tests/golden/format-1/run.json");
const SPEC: &str = include_str!("../../slipstream-core/tests/golden/format-1/spec.json");
/// The version of the golden run and spec.
const GOOD: &str = "048b2364cd65d847";
/// A version whose spec is cut short.
const CUT: &str = "0123456789abcdef";

/// The golden run, as run `id` of version `version` started at 08:0`minute`.
fn run(id: &str, version: &str, minute: u32) -> Value {
    let mut run: Value = serde_json::from_str(RUN).unwrap();
    run["run_id"] = json!(id);
    run["version"] = json!(version);
    run["started_at"] = json!(format!("2026-11-28T08:0{minute}:00+00:00"));
    run["ended_at"] = json!(format!("2026-11-28T08:0{minute}:30+00:00"));
    run
}

async fn put(store: &LocalStore, path: &str, data: impl Into<Bytes>) {
    store.put(path, data.into()).await.unwrap();
}

/// A store with runs `good-1` and `good-2` of a healthy version and a run `bad` damaged as
/// `damage` says; with a run index of the good runs when `indexed` (`bad` marked as not
/// indexed yet, as `slipstream reindex` leaves a run it cannot read).
async fn store(damage: &str, indexed: bool) -> (tempfile::TempDir, Arc<LocalStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::new(dir.path()).unwrap());
    put(
        &store,
        &format!("flows/sample/versions/{GOOD}/spec.json"),
        SPEC,
    )
    .await;
    let cut = SPEC.replace(GOOD, CUT);
    let cut = cut[..cut.len() / 2].to_owned();
    put(
        &store,
        &format!("flows/sample/versions/{CUT}/spec.json"),
        cut,
    )
    .await;
    let good = [run("good-1", GOOD, 1), run("good-2", GOOD, 3)];
    let mut bad = run("bad", GOOD, 2);
    let bad = match damage.strip_prefix("status ") {
        Some(status) => {
            bad["status"] = json!(status);
            bad.to_string()
        }
        None if damage == "spec" => run("bad", CUT, 2).to_string(),
        None => damage.to_owned(),
    };
    for r in &good {
        let id = r["run_id"].as_str().unwrap();
        put(
            &store,
            &format!("flows/sample/runs/{id}/run.json"),
            r.to_string(),
        )
        .await;
    }
    put(&store, "flows/sample/runs/bad/run.json", bad).await;
    if indexed {
        let flow = FlowName::new("sample").unwrap();
        let ended: Vec<RunRecord> = good
            .iter()
            .map(|r| RunRecord::parse(r.to_string().as_bytes()).unwrap())
            .collect();
        let now = run_index::now();
        run_index::rebuild(store.as_ref(), &flow, &ended, &[], &now)
            .await
            .unwrap();
        let id = RunId::new("bad").unwrap();
        run_index::mark_active(store.as_ref(), &flow, &id)
            .await
            .unwrap();
    }
    (dir, store)
}

/// The UI over `store`, until the test ends.
async fn ui(store: Arc<LocalStore>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        store,
        token: None,
        airflow: None,
        frame_ancestors: Vec::new(),
    };
    tokio::spawn(serve(listener, config, std::future::pending()));
    addr.to_string()
}

/// `GET path`: the status and the body.
async fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

/// The row of run `id` in a runs list.
fn row<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("<tr data-run=\"{id}\""))
        .or_else(|| page.find(&format!("<tr class=\"unreadable\" data-run=\"{id}\"")))
        .unwrap_or_else(|| panic!("no row of run {id} in {page}"));
    page[start..].split("</tr>").next().unwrap()
}

async fn check(damage: &str, indexed: bool, reason: &str) {
    let (_dir, store) = store(damage, indexed).await;
    let ui = ui(store).await;
    let (status, page) = get(&ui, "/flows/sample").await;
    assert_eq!(status, 200, "{damage}: {page}");
    assert!(
        row(&page, "good-1").contains("s-failed"),
        "{damage}: {page}"
    );
    assert!(
        row(&page, "good-2").contains("s-failed"),
        "{damage}: {page}"
    );
    let bad = row(&page, "bad");
    assert!(bad.contains("s-unreadable"), "{damage}: {bad}");
    assert!(bad.contains(reason), "{damage}: {reason:?} not in {bad}");
    // the damaged spec has its row among the versions, and says why
    let versions = page.split("id=\"versions\"").nth(1).unwrap();
    assert!(
        versions.contains(GOOD) && versions.contains(CUT),
        "{versions}"
    );
    assert!(versions.contains("EOF while parsing"), "{versions}");
    for id in ["good-1", "good-2"] {
        let (status, body) = get(&ui, &format!("/flows/sample/runs/{id}")).await;
        assert_eq!(status, 200, "{damage}: run {id}: {body}");
        let (status, body) = get(&ui, &format!("/flows/sample/runs/{id}/ops/mean_spend")).await;
        assert_eq!(status, 200, "{damage}: op of run {id}: {body}");
    }
    let (status, body) = get(&ui, "/").await;
    assert!(status == 200 && body.contains("/flows/sample"), "{body}");
    let (status, body) = get(&ui, &format!("/flows/sample/versions/{GOOD}")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&ui, "/flows/sample/runs/latest").await;
    assert_eq!(status, 200, "{damage}: {body}");
}

#[tokio::test]
async fn a_run_record_that_is_not_an_object_is_one_unreadable_row() {
    check(
        "[]",
        false,
        "flows/sample/runs/bad/run.json: run record is not valid",
    )
    .await;
    check(
        "[]",
        true,
        "flows/sample/runs/bad/run.json: run record is not valid",
    )
    .await;
}

#[tokio::test]
async fn a_run_record_that_is_not_json_is_one_unreadable_row() {
    check("{not json", false, "key must be a string").await;
    check("{not json", true, "key must be a string").await;
    // its own page is an error page that says why, as it was
    let (_dir, store) = store("{not json", false).await;
    let ui = ui(store).await;
    let (status, page) = get(&ui, "/flows/sample/runs/bad").await;
    assert_eq!(status, 502, "{page}");
    assert!(
        page.contains("flows/sample/runs/bad/run.json cannot be read"),
        "{page}"
    );
}

#[tokio::test]
async fn a_run_with_an_unknown_status_is_one_unreadable_row() {
    check("status exploded", false, "unknown variant `exploded`").await;
    check("status exploded", true, "unknown variant `exploded`").await;
}

#[tokio::test]
async fn a_truncated_spec_is_unreadable_and_so_are_the_runs_of_its_version() {
    let reason = format!("spec of version {CUT}: flows/sample/versions/{CUT}/spec.json");
    check("spec", false, &reason).await;
    check("spec", true, &reason).await;
    let (_dir, store) = store("spec", false).await;
    let ui = ui(store).await;
    // the run's page shows what its record says, and why its structure cannot be drawn
    let (status, page) = get(&ui, "/flows/sample/runs/bad").await;
    assert_eq!(status, 200, "{page}");
    let notice = format!("unreadable: spec of version {CUT}: flows/sample/versions/{CUT}/");
    assert!(page.contains(&notice), "{page}");
    assert!(page.contains("EOF while parsing"), "{page}");
    assert!(page.contains("<tr data-op=\"customers\">"), "{page}");
    // its op pages cannot be shown: an error page that says why, for that run alone
    let (status, page) = get(&ui, "/flows/sample/runs/bad/ops/customers").await;
    assert!(status == 502 && page.contains(&notice), "{status}: {page}");
    // the version's page says it cannot be read
    let (status, page) = get(&ui, &format!("/flows/sample/versions/{CUT}")).await;
    assert!(status == 200 && page.contains(&notice), "{status}: {page}");
    assert!(page.contains("s-unreadable"), "{page}");
}

#[tokio::test]
async fn html_in_a_reason_is_shown_as_text() {
    let (_dir, store) = store("status <script>alert(1)</script>", false).await;
    let ui = ui(store).await;
    let (status, page) = get(&ui, "/flows/sample").await;
    assert_eq!(status, 200, "{page}");
    let bad = row(&page, "bad");
    assert!(
        bad.contains("`&lt;script&gt;alert(1)&lt;/script&gt;`"),
        "{bad}"
    );
    assert!(!page.contains("<script>"), "{page}");
}
