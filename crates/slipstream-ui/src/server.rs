//! The HTTP server: routes, the token gate, and serving until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::Markup;
use serde::Deserialize;
use slipstream_core::records::OpKind;
use slipstream_store::{ObjectStore, artifacts};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;

use crate::error::{Result, UiError};
use crate::index::filter::RunFilter;
use crate::index::{Index, find_op, why};
use crate::pages;

const COOKIE: &str = "slipstream_token";
/// Runs on one page of a flow's runs list.
const RUNS_PER_PAGE: usize = 50;

/// What the server needs: where to read, who may read, and where Airflow is (for links).
pub struct Config {
    pub store: Arc<dyn ObjectStore>,
    /// Required from every request when set: `Authorization: Bearer <token>`, the cookie set
    /// by visiting any page with `?token=<token>` once.
    pub token: Option<String>,
    pub airflow: Option<String>,
    /// Origins that may show the UI in a frame (Airflow's, for its slipstream tabs); none:
    /// no framing at all.
    pub frame_ancestors: Vec<String>,
}

struct App {
    index: Index,
    token: Option<String>,
    airflow: Option<String>,
    /// The Content-Security-Policy of every answer.
    policy: HeaderValue,
    framed: bool,
}

/// The origins that may frame the UI, checked: `http(s)://host[:port]` each, nothing that
/// could end the CSP directive.
pub fn check_frame_ancestors(origins: &[String]) -> std::result::Result<(), String> {
    for origin in origins {
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let host_ok = rest.is_some_and(|r| {
            !r.is_empty()
                && r.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '*')
                })
        });
        if !host_ok {
            return Err(format!(
                "frame ancestor {origin:?} is not an origin: give http(s)://host[:port], \
                 e.g. http://airflow.example.com:8080 (no path)"
            ));
        }
    }
    Ok(())
}

fn content_policy(frame_ancestors: &[String]) -> HeaderValue {
    let ancestors = if frame_ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        frame_ancestors.join(" ")
    };
    let policy = format!(
        "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
         script-src 'self'; connect-src 'self'; form-action 'self'; \
         frame-ancestors {ancestors}; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).expect("origins are checked to be plain ASCII")
}

pub fn router(config: Config) -> Router {
    // Origins that do not check out are dropped, all of them, rather than allowed: the
    // CLI refuses them before the server starts.
    let ancestors: Vec<String> = if check_frame_ancestors(&config.frame_ancestors).is_ok() {
        config.frame_ancestors
    } else {
        Vec::new()
    };
    let app = Arc::new(App {
        index: Index::new(config.store),
        token: config.token,
        airflow: config.airflow,
        policy: content_policy(&ancestors),
        framed: !ancestors.is_empty(),
    });
    Router::new()
        .route("/", get(flows))
        .route("/flows/{flow}", get(runs))
        .route("/flows/{flow}/runs/{run}", get(run))
        .route("/flows/{flow}/runs/{run}/live", get(live))
        .route("/flows/{flow}/compare", get(compare))
        .route("/flows/{flow}/versions/{version}", get(version))
        .route("/flows/{flow}/diff", get(diff))
        .route("/flows/{flow}/checks/{check}", get(check_history))
        .route(pages::shell::LIVE_SCRIPT, get(live_script))
        .route("/flows/{flow}/runs/{run}/ops/{op}", get(op))
        .route(
            "/flows/{flow}/runs/{run}/ops/{op}/outputs/{output}",
            get(output),
        )
        .route("/airflow/{dag}/{run}", get(from_airflow_run))
        .route("/airflow/{dag}/{run}/{task}", get(from_airflow_task))
        .route("/healthz", get(|| async { "ok" }))
        .layer(middleware::from_fn_with_state(app.clone(), gate))
        .layer(middleware::from_fn_with_state(app.clone(), secure_headers))
        .with_state(app)
}

/// What every answer says about how browsers may use it: no script but the UI's own
/// (`live.js`, on pages of runs not over), no framing but by the origins allowed (Airflow's),
/// no referrer leaving the UI (its URLs name runs and flows).
async fn secure_headers(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, app.policy.clone());
    if !app.framed {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Whether a request's `Host` names this machine's loopback (`localhost`, `127.0.0.1`,
/// `[::1]`, with any port): a UI without a token answers only those, so that a web page
/// cannot reach it through a DNS name rebound to 127.0.0.1.
fn host_is_loopback(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    // HTTP/2 names the host in the request's authority, HTTP/1.1 in `Host`.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let Some(host) = host else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(name, _)| name),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost") // RFC 6761: always loopback
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(config))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Whether `addr` is reachable only from this machine.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn gate(
    State(app): State<Arc<App>>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = app.token.as_deref() else {
        // Without a token the UI is bound to loopback: answer only requests made to it.
        if !host_is_loopback(&headers, request.uri()) {
            return (
                StatusCode::MISDIRECTED_REQUEST,
                "this slipstream UI answers only requests to localhost, 127.0.0.1 or [::1] (it \
                 has no token); behind a proxy or under another name, start it with --token",
            )
                .into_response();
        }
        return next.run(request).await;
    };
    let matches = |given: &str| bool::from(given.as_bytes().ct_eq(expected.as_bytes()));
    if let Some(given) = q.token.as_deref() {
        if !matches(given) {
            return (StatusCode::UNAUTHORIZED, "wrong token").into_response();
        }
        // Trade the token in the URL for a cookie, and drop it from the address bar.
        // One leading slash only: `//host` would send the browser to another site.
        let path = format!("/{}", request.uri().path().trim_start_matches('/'));
        let mut response = Redirect::to(&path).into_response();
        let cookie = format!("{COOKIE}={expected}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        return response;
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| {
            c.trim()
                .strip_prefix(&format!("{COOKIE}="))
                .map(str::to_owned)
        })
        .next();
    if bearer.is_some_and(matches) || cookie.as_deref().is_some_and(matches) {
        return next.run(request).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        "this slipstream UI needs its token: open it once with ?token=<token>, or send Authorization: Bearer <token>",
    )
        .into_response()
}

async fn flows(State(app): State<Arc<App>>) -> Result<Markup> {
    let flows = app.index.flows().await?;
    Ok(pages::flows::render(app.index.store().url(), &flows))
}

/// `?page=N` and the filter. (With `flatten`, the query's values all arrive as text.)
#[derive(Deserialize)]
struct RunsQuery {
    page: Option<String>,
    #[serde(flatten)]
    filter: RunFilter,
}

async fn runs(
    State(app): State<Arc<App>>,
    Path(flow): Path<String>,
    Query(q): Query<RunsQuery>,
) -> Result<Markup> {
    let page = match q.page.as_deref().filter(|p| !p.is_empty()) {
        None => 1,
        Some(p) => p
            .parse::<usize>()
            .map_err(|_| UiError::BadRequest(format!("page={p:?} is not a page number")))?,
    }
    .max(1);
    let filter = q.filter.check()?;
    let start = (page - 1).saturating_mul(RUNS_PER_PAGE);
    let shown = start..start.saturating_add(RUNS_PER_PAGE);
    let ((runs, total), versions) = tokio::try_join!(
        app.index.runs(&flow, shown.clone(), &filter),
        app.index.versions(&flow)
    )?;
    if versions.is_empty() {
        return Err(UiError::NotFound(format!("no flow {flow:?} in this store")));
    }
    if page > 1 && runs.is_empty() {
        let which = if filter.is_empty() { "" } else { " that match" };
        return Err(UiError::NotFound(format!(
            "flow {flow:?} has {total} runs{which}: page {page} is past the last one"
        )));
    }
    let pages = pages::runs::Pages {
        page,
        total,
        first: shown.start + 1,
        last: shown.start + runs.len(),
        has_older: shown.end < total,
    };
    Ok(pages::runs::render(
        &flow,
        &runs,
        &pages,
        &versions,
        filter.query(),
    ))
}

async fn run(
    State(app): State<Arc<App>>,
    Path((flow, run_id)): Path<(String, String)>,
) -> Result<Markup> {
    match app.index.run(&flow, &run_id).await {
        Ok(run) => Ok(pages::run::render(&flow, &run, app.airflow.as_deref())),
        // its record reads: shown, with why the rest cannot be
        Err(UiError::SpecUnreadable {
            version,
            reason,
            record,
        }) => Ok(pages::run::unreadable(&flow, &record, &version, &reason)),
        Err(e) => Err(e),
    }
}

/// Airflow's slipstream tab of a DAG run (`slipstream.airflow.plugin`): on to the run page
/// of the flow the DAG runs (a generated DAG's id is its flow's name).
async fn from_airflow_run(
    State(app): State<Arc<App>>,
    Path((dag, run_id)): Path<(String, String)>,
) -> Result<Response> {
    from_airflow(&app, &dag, &run_id, None).await
}

/// Airflow's slipstream tab of a task instance: on to the op page.
async fn from_airflow_task(
    State(app): State<Arc<App>>,
    Path((dag, run_id, task)): Path<(String, String, String)>,
) -> Result<Response> {
    from_airflow(&app, &dag, &run_id, Some(&task)).await
}

async fn from_airflow(app: &App, dag: &str, run_id: &str, task: Option<&str>) -> Result<Response> {
    let not_found = || {
        UiError::NotFound(format!(
            "Airflow's DAG {dag:?} has no slipstream run {run_id:?} in this store: the DAG is \
             not a slipstream flow, its DAG id is not its flow's name, or none of its tasks \
             has started yet"
        ))
    };
    let run = match app.index.run(dag, run_id).await {
        Ok(run) => run,
        // the run page says why it cannot show more (its op pages could not either)
        Err(UiError::SpecUnreadable { record, .. }) if record.run_id == run_id => {
            return Ok(Redirect::to(&pages::run_url(dag, run_id)).into_response());
        }
        Err(UiError::NotFound(_) | UiError::BadRequest(_)) => return Err(not_found()),
        Err(other) => return Err(other),
    };
    // Airflow names the run exactly: never another run found by prefix or as `latest`.
    if run.id() != run_id {
        return Err(not_found());
    }
    let to = match task {
        Some(op) if run.op_spec(op).is_some() => pages::op_url(dag, run_id, op),
        Some(op) => {
            return Err(UiError::NotFound(format!(
                "run {run_id:?} of flow {dag:?} has no op {op:?}"
            )));
        }
        None => pages::run_url(dag, run_id),
    };
    Ok(Redirect::to(&to).into_response())
}

/// The op states of a run, for its page to refresh itself while the run is not over.
async fn live(
    State(app): State<Arc<App>>,
    Path((flow, run_id)): Path<(String, String)>,
) -> Result<Response> {
    let run = app.index.run(&flow, &run_id).await?;
    let headers = [(header::CACHE_CONTROL, "no-store")];
    Ok((headers, axum::Json(pages::live::state(&run))).into_response())
}

async fn live_script() -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, include_str!("../static/live.js")).into_response()
}

#[derive(Deserialize)]
struct PairQuery {
    #[serde(default)]
    a: String,
    #[serde(default)]
    b: String,
}

async fn compare(
    State(app): State<Arc<App>>,
    Path(flow): Path<String>,
    Query(q): Query<PairQuery>,
) -> Result<Markup> {
    if q.a.is_empty() || q.b.is_empty() {
        app.index.versions(&flow).await.and_then(|v| {
            if v.is_empty() {
                Err(UiError::NotFound(format!("no flow {flow:?} in this store")))
            } else {
                Ok(())
            }
        })?;
        return Ok(pages::compare::pick(&flow, &q.a, &q.b));
    }
    let comparison = app.index.compare(&flow, &q.a, &q.b).await?;
    Ok(pages::compare::render(&comparison))
}

async fn version(
    State(app): State<Arc<App>>,
    Path((flow, version)): Path<(String, String)>,
) -> Result<Markup> {
    let spec = match app.index.spec(&flow, &version).await {
        Ok(spec) => spec,
        Err(e @ UiError::Corrupt { .. }) => {
            return Ok(pages::version::unreadable(&flow, &version, &why(&e)));
        }
        Err(e) => return Err(e),
    };
    let versions = app.index.versions(&flow).await?; // newest first
    let previous = versions
        .specs
        .iter()
        .skip_while(|v| v.version != spec.version)
        .nth(1);
    Ok(pages::version::render(
        &flow,
        &spec,
        previous.map(AsRef::as_ref),
    ))
}

async fn diff(
    State(app): State<Arc<App>>,
    Path(flow): Path<String>,
    Query(q): Query<PairQuery>,
) -> Result<Markup> {
    if q.a.is_empty() || q.b.is_empty() {
        return Err(UiError::BadRequest(
            "give the two versions to compare: ?a=<version>&b=<version>".to_owned(),
        ));
    }
    let (a, b) = tokio::try_join!(app.index.spec(&flow, &q.a), app.index.spec(&flow, &q.b))?;
    Ok(pages::version::diff(&flow, &a, &b))
}

async fn check_history(
    State(app): State<Arc<App>>,
    Path((flow, check)): Path<(String, String)>,
) -> Result<Markup> {
    let history = app.index.check_history(&flow, &check).await?;
    if history.is_empty() && app.index.versions(&flow).await?.is_empty() {
        return Err(UiError::NotFound(format!("no flow {flow:?} in this store")));
    }
    Ok(pages::checks::render(&flow, &check, &history))
}

#[derive(Deserialize)]
struct TryQuery {
    #[serde(rename = "try")]
    try_number: Option<usize>,
}

async fn op(
    State(app): State<Arc<App>>,
    Path((flow, run_id, name)): Path<(String, String, String)>,
    Query(q): Query<TryQuery>,
) -> Result<Markup> {
    let run = app.index.run(&flow, &run_id).await?;
    let state = run.op_state(&name);
    // The op as the version its last try ran defines it (a task cleared after a recompile
    // runs a newer version than the run started with), and where that try wrote.
    let ran_spec = app.index.op_version(&flow, &run, &name).await?;
    let op = find_op(&ran_spec, &flow, &name)?;
    let prefix = state.map_or(op.prefix.as_str(), |s| s.prefix.as_str());
    let tries = state.map_or(0, |s| s.tries);
    // A try that ran another version (cleared after a recompile) is under its prefix.
    let prefix_of = |n: u32| {
        state
            .and_then(|s| s.attempts.iter().find(|a| a.try_number == n))
            .map_or(prefix, |a| a.prefix.as_str())
    };
    let index = &app.index;
    let run_id = run.id().to_owned(); // the id itself, also when the URL named `latest`
    let run_id_ref = run_id.as_str();
    let records = futures::future::join_all((1..=tries).map(|n| {
        let prefix = prefix_of(n);
        async move { index.try_record(prefix, run_id_ref, n).await.ok() }
    }))
    .await;
    let outputs = app.index.outputs(&run, op).await?;
    let history = if op.kind == OpKind::Metric {
        Some(app.index.metric_history(&flow, &name).await?)
    } else {
        None
    };
    let shown = q
        .try_number
        .unwrap_or(records.len())
        .clamp(1, records.len().max(1));
    // The code the shown try ran: that of its own version, which a cleared task may have
    // changed since the run started.
    let ran = records
        .get(shown - 1)
        .and_then(Option::as_ref)
        .and_then(|r| r.version.clone())
        .or_else(|| state.and_then(|s| s.version.clone()))
        .unwrap_or_else(|| run.spec.version.clone());
    let code = if ran == ran_spec.version {
        op.function.source.clone()
    } else {
        let spec = app.index.spec(&flow, &ran).await?;
        find_op(&spec, &flow, &name)?.function.source.clone()
    };
    Ok(pages::op::render(&pages::op::OpPage {
        flow: &flow,
        run: &run,
        op,
        tries: records,
        shown,
        outputs,
        history,
        code: (ran, code),
        airflow: app.airflow.as_deref(),
    }))
}

/// The whole artifact, checksum verified. Images are shown as they are; other types are
/// offered as a download of their payload (Parquet, bincode).
async fn output(
    State(app): State<Arc<App>>,
    Path((flow, run_id, name, output)): Path<(String, String, String, String)>,
) -> Result<Response> {
    let run = app.index.run(&flow, &run_id).await?;
    let ran_spec = app.index.op_version(&flow, &run, &name).await?;
    let op = find_op(&ran_spec, &flow, &name)?;
    let key = Index::output_key(&run, op, &output)?;
    let (manifest, payload) =
        artifacts::read(app.index.store(), &key)
            .await
            .map_err(|e| match e {
                slipstream_store::StoreError::NotFound { .. } => UiError::NotFound(format!(
                    "op {name:?} stored no output {output:?} in run {run_id:?}"
                )),
                other => other.into(),
            })?;
    let (content_type, disposition) = match manifest.codec.as_str() {
        "png" => ("image/png", "inline"),
        _ => ("application/octet-stream", "attachment"),
    };
    let filename = format!(
        "{name}.{output}.{}",
        manifest.payload.rsplit('.').next().unwrap_or("bin")
    );
    let headers = [
        (header::CONTENT_TYPE, content_type.to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{}\"", filename.replace('"', "")),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
    ];
    Ok((headers, payload).into_response())
}
