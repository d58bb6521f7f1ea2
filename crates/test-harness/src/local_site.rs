//! A local copy of the deployed site for trying the sync without a Notion
//! account (`scripts/local-site`, used by docs/setup.md): the Notion emulator
//! stands in for Notion, with the CRM database laid out as the guide says
//! and shared with its integration; the official Blobs server holds the
//! dialer's contacts (two samples) and the sync's state; the real function
//! binaries answer at `/api/<function>` and `/.netlify/functions/<function>`
//! through the Lambda Runtime API, as on Netlify; the published files
//! (netlify.toml's `[build] publish`: the sync console at `/sync/`) are
//! served as Netlify's CDN serves them. The same `curl` commands, and the
//! same console, work here and against the real site.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Component, Path as FsPath, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use serde_json::{json, Value};

use crate::app::{AppOptions, TestApp};
use crate::event::ApiEvent;
use crate::site::{function_names, publish_dir};

#[derive(Debug, thiserror::Error)]
pub enum LocalSiteError {
    #[error("could not listen on {addr}: {source}; is another local site running? pick another port with --port")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the local site cannot serve: {0}")]
    Serve(#[source] std::io::Error),
}

/// The port the guide's examples show; another is taken when it is busy.
pub const DEFAULT_PORT: u16 = 8888;

/// What the local site needs from its caller.
#[derive(Debug, Clone)]
pub struct LocalSiteOptions {
    /// `None`: [`DEFAULT_PORT`], or any free port if that one is taken.
    pub port: Option<u16>,
    /// The `SYNC_API_KEY` the functions get.
    pub api_key: String,
    /// More environment for the functions (`SYNC_CONFLICT_POLICY`, ...).
    pub env: Vec<(String, String)>,
}

/// The site, its stand-ins, and the address it listens on.
pub struct LocalSite {
    pub app: Arc<TestApp>,
    listener: tokio::net::TcpListener,
    pub addr: SocketAddr,
    pub api_key: String,
}

impl LocalSite {
    /// Starts the stand-ins, seeds the samples, and binds the port.
    pub async fn start(options: LocalSiteOptions) -> Result<LocalSite, LocalSiteError> {
        let mut env = vec![("SYNC_API_KEY".to_string(), options.api_key.clone())];
        env.extend(options.env);
        let app = TestApp::spawn_with(AppOptions {
            env,
            ..AppOptions::default()
        })
        .await;
        seed(&app).await;
        LocalSite::serving(app, options.port).await
    }

    /// The site over stand-ins already started (the demo's, with its data).
    pub async fn serving(app: TestApp, port: Option<u16>) -> Result<LocalSite, LocalSiteError> {
        let listener = bind(port).await?;
        let addr = listener.local_addr().map_err(LocalSiteError::Serve)?;
        let api_key = app
            .env()
            .into_iter()
            .find(|(k, _)| k == "SYNC_API_KEY")
            .map(|(_, v)| v)
            .unwrap_or_default();
        Ok(LocalSite {
            app: Arc::new(app),
            listener,
            addr,
            api_key,
        })
    }

    /// `http://127.0.0.1:PORT`, the site's address (`$SITE` in the guide).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The sync console's address.
    pub fn console_url(&self) -> String {
        format!("{}/sync/", self.url())
    }

    /// What a person pastes into the second terminal.
    pub fn export_line(&self) -> String {
        format!("export SITE={} SYNC_API_KEY={}", self.url(), self.api_key)
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), LocalSiteError> {
        let publish = publish_dir();
        let router = Router::new()
            .route("/api/{function}", any(function))
            .route("/.netlify/functions/{function}", any(function))
            .with_state(Arc::clone(&self.app))
            .fallback(move |uri: Uri| published_file(publish.clone(), uri));
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(LocalSiteError::Serve)
    }
}

/// Completes on Ctrl-C or SIGTERM: how long a site for a person runs.
pub async fn until_stopped() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn bind(port: Option<u16>) -> Result<tokio::net::TcpListener, LocalSiteError> {
    let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let listen = |addr: SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| LocalSiteError::Bind { addr, source })
    };
    match port {
        Some(port) => listen(at(port)).await,
        None => match listen(at(DEFAULT_PORT)).await {
            Ok(listener) => Ok(listener),
            Err(_) => listen(at(0)).await,
        },
    }
}

/// Two contacts in the dialer, one page a person typed in Notion.
async fn seed(app: &TestApp) {
    for (id, name, phone) in [
        (1001, "Acme Corp", "(415) 555-0100"),
        (1002, "Blue Bottle Dental", "(415) 555-0123"),
    ] {
        app.put_contact(json!({
            "id": id.to_string(), "companyName": name, "phone": phone,
            "totalDials": 0, "callHistory": [], "createdAt": "2026-09-01T09:00:00.000Z"
        }))
        .await;
    }
    app.control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Cedar Roofing"}}]},
            "Phone": {"phone_number": "(415) 555-0188"}
        }))
        .expect("the emulator takes a page typed by a person");
}

/// One request to a function, as Netlify hands it over.
async fn function(
    State(app): State<Arc<TestApp>>,
    Path(name): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !function_names().contains(&name) {
        let known = function_names().join(", ");
        let error = json!({"error": {"code": "not_found", "message": format!("there is no function {name:?}"), "hint": format!("The functions are {known}.")}});
        return (StatusCode::NOT_FOUND, axum::Json(error)).into_response();
    }
    let mut event = ApiEvent::new(method.as_str(), &format!("/.netlify/functions/{name}"));
    for (header, value) in &headers {
        if let Ok(value) = value.to_str() {
            event = event.header(header.as_str(), value);
        }
    }
    for (key, value) in parse_query(query.as_deref().unwrap_or("")) {
        event = event.query(&key, &value);
    }
    if !body.is_empty() {
        event = event.body(String::from_utf8_lossy(&body).into_owned());
    }
    let answer = app.invoke_as_is(&name, event).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = (status, answer.body).into_response();
    for (header, value) in &answer.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(header.as_bytes()),
            axum::http::HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// A published file as Netlify's CDN answers for it: the file at the path,
/// a folder's `index.html`, a folder without its slash redirected to it.
async fn published_file(publish: PathBuf, uri: Uri) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "Not Found").into_response();
    let Some(path) = file_under(&publish, uri.path()) else {
        return not_found();
    };
    if path.is_dir() {
        if !uri.path().ends_with('/') {
            let to = format!("{}/", uri.path());
            return (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response();
        }
        return serve_file(&path.join("index.html"))
            .await
            .unwrap_or_else(not_found);
    }
    serve_file(&path).await.unwrap_or_else(not_found)
}

/// `url_path` under `publish`, or `None` if it would step outside it.
fn file_under(publish: &FsPath, url_path: &str) -> Option<PathBuf> {
    let relative = FsPath::new(url_path.trim_start_matches('/'));
    let inside = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    inside.then(|| publish.join(relative))
}

async fn serve_file(path: &FsPath) -> Option<Response> {
    let bytes = tokio::fs::read(path).await.ok()?;
    let kind = match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    let headers = [
        (header::CONTENT_TYPE, kind),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    Some((headers, bytes).into_response())
}

/// `a=1&b=two` as pairs (no percent-decoding beyond `+`: the functions'
/// parameters are plain numbers and ids).
fn parse_query(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.replace('+', " "), v.replace('+', " "))
        })
        .collect()
}

/// The emulator's values for the guide: its integration secret and the
/// database's link as Notion's Share > Copy link would give it.
pub fn notion_values(app: &TestApp) -> Value {
    json!({
        "notion_url": app.notion.base_url(),
        "token": notion_emulator::DEFAULT_TOKEN,
        "database_link": format!("https://www.notion.so/Sales-CRM-{}?v=0c1d2e3f4a5b4c6d8e9f0a1b2c3d4e5f", app.control().database_id().replace('-', "")),
    })
}
