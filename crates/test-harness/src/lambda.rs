//! Runs a function binary the way Netlify does: as a Lambda custom runtime
//! that long-polls a Runtime API for events. The Runtime API here is a fake
//! (axum on 127.0.0.1, a free port) that hands out queued events and takes
//! the function's responses, so a test can invoke the real binary, warm, as
//! often as it likes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), test_harness::lambda::LambdaHarnessError> {
//! use test_harness::{event::ApiEvent, lambda::FunctionProcess};
//! let function = FunctionProcess::start("notion-test", &[("NOTION_API_TOKEN", "secret")]).await?;
//! let answer = function.invoke(ApiEvent::get("/.netlify/functions/notion-test").build()).await?;
//! assert_eq!(answer.status, 200);
//! # Ok(()) }
//! ```

// The errors carry the function's logs so a failing test shows why; they
// are rare and end the test, so their size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, Mutex as AsyncMutex};
use tokio::task::JoinHandle;

/// Netlify's limit for scheduled functions; synchronous ones get up to 60 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long after the deadline we still wait for an answer before calling
/// it a timeout (the real platform kills at the deadline; a little slack
/// keeps slow CI machines from failing spuriously).
const DEADLINE_GRACE: Duration = Duration::from_secs(5);

/// How long to wait for a dead process's pipes to reach EOF, so its last
/// words are in the logs we report.
const LOG_DRAIN_LIMIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum LambdaHarnessError {
    #[error("could not bind the fake Lambda Runtime API: {0}")]
    Bind(#[source] std::io::Error),
    #[error("`{command}` failed ({status}):\n{output}")]
    Build {
        command: String,
        status: String,
        output: String,
    },
    #[error("could not run `{command}`: {source}")]
    BuildSpawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("function binary {path} does not exist")]
    BinaryMissing { path: PathBuf },
    #[error("could not start {path}: {source}")]
    Spawn {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("function `{name}` reported an invocation error {payload}\n--- logs ---\n{logs}")]
    FunctionError {
        name: String,
        payload: Value,
        logs: String,
    },
    #[error(
        "function `{name}` exited ({status}); init error: {init_error:?}\n--- logs ---\n{logs}"
    )]
    Exited {
        name: String,
        status: String,
        init_error: Option<Value>,
        logs: String,
    },
    #[error(
        "function `{name}` did not answer within {after:?}; it was killed\n--- logs ---\n{logs}"
    )]
    Timeout {
        name: String,
        after: Duration,
        logs: String,
    },
    #[error("function `{name}` answered something that is not an API Gateway proxy response ({reason}): {raw}\n--- logs ---\n{logs}")]
    BadResponse {
        name: String,
        reason: String,
        raw: String,
        logs: String,
    },
}

pub type Result<T, E = LambdaHarnessError> = std::result::Result<T, E>;

/// What the function answered, read from its `ApiGatewayProxyResponse`.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub request_id: String,
    pub status: u16,
    /// Lower-case names, from `headers` and `multiValueHeaders`.
    pub headers: BTreeMap<String, String>,
    /// The body (base64-decoded if the function flagged it).
    pub body: String,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<Value>,
}

impl Invocation {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A function binary running behind the fake Runtime API. Invocations are
/// served one at a time by the same process (warm starts), as Lambda does.
/// The process and the server stop when this is dropped.
pub struct FunctionProcess {
    name: String,
    runtime_api: SocketAddr,
    state: Arc<ApiState>,
    child: AsyncMutex<Child>,
    pid: Option<u32>,
    logs: Arc<StdMutex<String>>,
    log_readers: StdMutex<Vec<JoinHandle<()>>>,
    server: JoinHandle<()>,
    timeout: Duration,
}

impl FunctionProcess {
    /// Starts the workspace binary `name` (`<target>/debug/<name>`), building
    /// it with `cargo build -p <name>` first if it is missing. `env` is all
    /// the function sees besides the Lambda variables and `PATH`: the test's
    /// own NOTION_* / NETLIFY_* variables do not leak in.
    pub async fn start(name: &str, env: &[(&str, &str)]) -> Result<Self> {
        let path = ensure_built(name).await?;
        Self::spawn(name, &path, env).await
    }

    /// Starts the binary at `path` (e.g. an example from
    /// [`build_example`]); its function name is the file name.
    pub async fn start_path(path: impl AsRef<Path>, env: &[(&str, &str)]) -> Result<Self> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "function".to_owned());
        Self::start_as(&name, path, env).await
    }

    /// Starts the binary at `path` as function `name` (a packaged
    /// `bootstrap`, say, whose file name is not the function's).
    pub async fn start_as(
        name: &str,
        path: impl AsRef<Path>,
        env: &[(&str, &str)],
    ) -> Result<Self> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(LambdaHarnessError::BinaryMissing {
                path: path.to_owned(),
            });
        }
        Self::spawn(name, path, env).await
    }

    /// The deadline given to each [`invoke`](Self::invoke) (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn spawn(name: &str, path: &Path, env: &[(&str, &str)]) -> Result<Self> {
        let state = Arc::new(ApiState::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(LambdaHarnessError::Bind)?;
        let runtime_api = listener.local_addr().map_err(LambdaHarnessError::Bind)?;
        let app = runtime_api_router(Arc::clone(&state));
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "fake Lambda Runtime API stopped");
            }
        });

        let mut command = Command::new(path);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("2026/01/01/[$LATEST]{}", runtime_api.port()),
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| {
            server.abort();
            LambdaHarnessError::Spawn {
                path: path.to_owned(),
                source,
            }
        })?;

        let logs = Arc::new(StdMutex::new(String::new()));
        let mut log_readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            log_readers.push(tokio::spawn(collect_lines(out, Arc::clone(&logs))));
        }
        if let Some(err) = child.stderr.take() {
            log_readers.push(tokio::spawn(collect_lines(err, Arc::clone(&logs))));
        }
        tracing::debug!(function = name, %runtime_api, "function process started");
        Ok(Self {
            name: name.to_owned(),
            runtime_api,
            state,
            pid: child.id(),
            child: AsyncMutex::new(child),
            logs,
            log_readers: StdMutex::new(log_readers),
            server,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Invokes the function with `event` and the default deadline.
    pub async fn invoke(&self, event: Value) -> Result<Invocation> {
        self.invoke_with_deadline(event, self.timeout).await
    }

    /// Invokes the function with `event`; it is told it has `timeout`
    /// (`Lambda-Runtime-Deadline-Ms`). Errors carry the function's logs.
    pub async fn invoke_with_deadline(
        &self,
        event: Value,
        timeout: Duration,
    ) -> Result<Invocation> {
        // Held for the whole invocation: one event at a time per process.
        let mut child = self.child.lock().await;
        if let Ok(Some(status)) = child.try_wait() {
            return Err(self.exited(status.to_string()).await);
        }
        let request_id = self.state.next_request_id();
        let (reply, answer) = oneshot::channel();
        let queued = Queued {
            request_id: request_id.clone(),
            event,
            deadline_ms: epoch_ms(SystemTime::now() + timeout),
            reply,
        };
        // The receiver lives in `self.state`, so sending cannot fail.
        let _ = self.state.queue.send(queued);

        let limit = timeout + DEADLINE_GRACE;
        tokio::select! {
            biased;
            outcome = answer => match outcome {
                Ok(Outcome::Response(raw)) => self.parse_response(request_id, &raw),
                Ok(Outcome::Error(payload)) => Err(LambdaHarnessError::FunctionError {
                    name: self.name.clone(),
                    payload,
                    logs: self.logs(),
                }),
                // The server dropped the reply: only when it is shutting down.
                Err(_) => Err(self.exited("runtime API closed".to_owned()).await),
            },
            status = child.wait() => {
                let status = status.map_or_else(|e| format!("wait failed: {e}"), |s| s.to_string());
                Err(self.exited(status).await)
            }
            () = tokio::time::sleep(limit) => {
                // Lambda would kill it at the deadline; so do we, so the
                // next invoke does not get a half-finished process.
                let _ = child.kill().await;
                Err(LambdaHarnessError::Timeout { name: self.name.clone(), after: limit, logs: self.logs() })
            }
        }
    }

    /// Everything the process printed so far (stdout and stderr, by line).
    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The OS process id (to look at `/proc/<pid>`, say).
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The fake Runtime API's address, as given in `AWS_LAMBDA_RUNTIME_API`.
    pub fn runtime_api(&self) -> SocketAddr {
        self.runtime_api
    }

    /// The error for a process that is gone, with its last logs.
    async fn exited(&self, status: String) -> LambdaHarnessError {
        let readers: Vec<JoinHandle<()>> = self
            .log_readers
            .lock()
            .map(|mut r| r.drain(..).collect())
            .unwrap_or_default();
        for reader in readers {
            let _ = tokio::time::timeout(LOG_DRAIN_LIMIT, reader).await;
        }
        LambdaHarnessError::Exited {
            name: self.name.clone(),
            status,
            init_error: self.state.init_error.lock().ok().and_then(|e| e.clone()),
            logs: self.logs(),
        }
    }

    fn parse_response(&self, request_id: String, raw: &[u8]) -> Result<Invocation> {
        parse_proxy_response(request_id, raw).map_err(|reason| LambdaHarnessError::BadResponse {
            name: self.name.clone(),
            reason,
            raw: String::from_utf8_lossy(raw).into_owned(),
            logs: self.logs(),
        })
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        // The child is killed by `kill_on_drop`; the server goes with it.
        self.server.abort();
    }
}

/// Reads an `ApiGatewayProxyResponse` (`statusCode`, `headers`,
/// `multiValueHeaders`, `body`, `isBase64Encoded`).
fn parse_proxy_response(request_id: String, raw: &[u8]) -> Result<Invocation, String> {
    let value: Value = serde_json::from_slice(raw).map_err(|e| format!("not JSON: {e}"))?;
    let status = value
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .ok_or("no numeric statusCode")?;
    let mut headers = BTreeMap::new();
    if let Some(map) = value.get("headers").and_then(Value::as_object) {
        for (name, v) in map {
            if let Some(v) = v.as_str() {
                headers.insert(name.to_ascii_lowercase(), v.to_owned());
            }
        }
    }
    if let Some(map) = value.get("multiValueHeaders").and_then(Value::as_object) {
        for (name, values) in map {
            let joined: Vec<&str> = values
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if !joined.is_empty() {
                headers
                    .entry(name.to_ascii_lowercase())
                    .or_insert_with(|| joined.join(", "));
            }
        }
    }
    let raw_body = value.get("body").and_then(Value::as_str).unwrap_or("");
    let body = if value.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw_body)
            .map_err(|e| format!("isBase64Encoded but body is not base64: {e}"))?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        raw_body.to_owned()
    };
    let json = serde_json::from_str(&body).ok();
    Ok(Invocation {
        request_id,
        status,
        headers,
        body,
        json,
    })
}

async fn collect_lines(stream: impl AsyncRead + Unpin, logs: Arc<StdMutex<String>>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Ok(mut logs) = logs.lock() {
            logs.push_str(&line);
            logs.push('\n');
        }
    }
}

fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// The fake Runtime API

struct Queued {
    request_id: String,
    event: Value,
    deadline_ms: u64,
    reply: oneshot::Sender<Outcome>,
}

enum Outcome {
    /// The raw body posted to `/response`.
    Response(Bytes),
    /// The JSON posted to `/error` (`errorType`, `errorMessage`).
    Error(Value),
}

struct ApiState {
    queue: mpsc::UnboundedSender<Queued>,
    /// Locked by the one long-poll in progress.
    incoming: AsyncMutex<mpsc::UnboundedReceiver<Queued>>,
    in_flight: StdMutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: StdMutex<Option<Value>>,
    counter: AtomicU64,
}

impl ApiState {
    fn new() -> Self {
        let (queue, incoming) = mpsc::unbounded_channel();
        Self {
            queue,
            incoming: AsyncMutex::new(incoming),
            in_flight: StdMutex::new(HashMap::new()),
            init_error: StdMutex::new(None),
            counter: AtomicU64::new(0),
        }
    }

    /// A unique, UUID-shaped request id.
    fn next_request_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        format!("{nanos:08x}-0000-4000-8000-{n:012x}")
    }
}

fn runtime_api_router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(invocation_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(state)
}

/// Long-poll: blocks until a test queues an event.
async fn next_invocation(State(state): State<Arc<ApiState>>) -> axum::response::Response {
    let queued = state.incoming.lock().await.recv().await;
    let Some(queued) = queued else {
        return StatusCode::GONE.into_response();
    };
    if let Ok(mut in_flight) = state.in_flight.lock() {
        in_flight.insert(queued.request_id.clone(), queued.reply);
    }
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", queued.request_id.clone());
    set("lambda-runtime-deadline-ms", queued.deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:test".to_owned(),
    );
    set(
        "lambda-runtime-trace-id",
        format!(
            "Root=1-00000000-{};Sampled=0",
            queued.request_id.replace('-', "")
        ),
    );
    set("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, queued.event.to_string()).into_response()
}

fn take_in_flight(state: &ApiState, id: &str) -> Option<oneshot::Sender<Outcome>> {
    state.in_flight.lock().ok().and_then(|mut m| m.remove(id))
}

async fn invocation_response(
    State(state): State<Arc<ApiState>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    match take_in_flight(&state, &id) {
        Some(reply) => {
            let _ = reply.send(Outcome::Response(body));
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn invocation_error(
    State(state): State<Arc<ApiState>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    match take_in_flight(&state, &id) {
        Some(reply) => {
            let payload = serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
            let _ = reply.send(Outcome::Error(payload));
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn init_error(State(state): State<Arc<ApiState>>, body: Bytes) -> StatusCode {
    let payload = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    if let Ok(mut slot) = state.init_error.lock() {
        *slot = Some(payload);
    }
    StatusCode::ACCEPTED
}

// ---------------------------------------------------------------------------
// Finding and building binaries

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(Path::parent)
        .unwrap_or(here)
        .to_path_buf()
}

/// `CARGO_TARGET_DIR` (relative to the workspace root if relative), else
/// `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// Serialises builds across the tests of one process; remembers what was
/// already built so each package is built at most once.
/// Maps each cargo command to whether it succeeded.
static BUILT: AsyncMutex<Option<HashMap<String, bool>>> = AsyncMutex::const_new(None);

/// The path of the workspace binary `package`, running `cargo build -p
/// <package>` first if it does not exist yet.
pub async fn ensure_built(package: &str) -> Result<PathBuf> {
    let path = target_dir().join("debug").join(package);
    build_once(&path, &["build", "-p", package], BuildWhen::Missing).await?;
    Ok(path)
}

/// Like [`ensure_built`] but runs cargo once per test process even when the
/// binary exists, so end-to-end tests never run a stale function.
pub async fn build(package: &str) -> Result<PathBuf> {
    let path = target_dir().join("debug").join(package);
    build_once(&path, &["build", "-p", package], BuildWhen::OncePerProcess).await?;
    Ok(path)
}

/// The path of example `example` of `package`, running `cargo build -p
/// <package> --example <example>` first if it does not exist yet.
pub async fn ensure_example_built(package: &str, example: &str) -> Result<PathBuf> {
    let path = target_dir().join("debug").join("examples").join(example);
    let args = ["build", "-p", package, "--example", example];
    build_once(&path, &args, BuildWhen::Missing).await?;
    Ok(path)
}

/// Like [`ensure_example_built`] but runs cargo once per test process even
/// when the binary exists, so a test never runs a stale example after its
/// source changed (cargo is a no-op, about a second, when it is fresh).
pub async fn build_example(package: &str, example: &str) -> Result<PathBuf> {
    let path = target_dir().join("debug").join("examples").join(example);
    let args = ["build", "-p", package, "--example", example];
    build_once(&path, &args, BuildWhen::OncePerProcess).await?;
    Ok(path)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BuildWhen {
    Missing,
    OncePerProcess,
}

async fn build_once(path: &Path, args: &[&str], when: BuildWhen) -> Result<()> {
    let mut built = BUILT.lock().await;
    let key = args.join(" ");
    let built = built.get_or_insert_with(HashMap::new);
    if let Some(&succeeded) = built.get(&key) {
        // Tried before: never run cargo twice for one thing, and never hand
        // out a stale binary after a failed build.
        return match (succeeded, path.is_file()) {
            (true, true) => Ok(()),
            (true, false) => Err(LambdaHarnessError::BinaryMissing {
                path: path.to_owned(),
            }),
            (false, _) => Err(LambdaHarnessError::Build {
                command: format!("cargo {key}"),
                status: "failed earlier in this test process".to_owned(),
                output: String::new(),
            }),
        };
    }
    if when == BuildWhen::Missing && path.is_file() {
        return Ok(());
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let command = format!("cargo {key}");
    tracing::info!(%command, "building a function binary");
    let mut cargo_build = Command::new(&cargo);
    cargo_build.args(args).current_dir(workspace_root());
    // `cargo test` gives the test process per-package variables
    // (CARGO_PKG_NAME, CARGO_PRIMARY_PACKAGE, ...). Passed on, they change
    // the build's fingerprints, and the next plain `cargo build` rebuilds
    // everything again.
    for (name, _) in std::env::vars_os() {
        if is_per_package_cargo_var(&name.to_string_lossy()) {
            cargo_build.env_remove(name);
        }
    }
    let output = cargo_build
        .output()
        .await
        .map_err(|source| LambdaHarnessError::BuildSpawn {
            command: command.clone(),
            source,
        })?;
    built.insert(key, output.status.success());
    if !output.status.success() {
        return Err(LambdaHarnessError::Build {
            command,
            status: output.status.to_string(),
            output: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    if !path.is_file() {
        return Err(LambdaHarnessError::BinaryMissing {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// Variables `cargo test` sets for the package under test (as opposed to
/// configuration such as CARGO_HOME or CARGO_TARGET_DIR, which are kept).
pub(crate) fn is_per_package_cargo_var(name: &str) -> bool {
    const PREFIXES: [&str; 4] = [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_BIN_",
        "CARGO_CRATE_",
    ];
    const NAMES: [&str; 4] = [
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name)
}
