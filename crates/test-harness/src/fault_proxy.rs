//! A reverse proxy in front of a stand-in (the Blobs server, the Notion
//! emulator) that lets a test step in between a client's requests: do
//! something first (a person's edit, another run), fail the request, or
//! never answer it (the process running the client died).
//!
//! Proxies made with one [`Timeline`] number their requests together, so
//! "the 7th request of this run" means the same moment whichever service it
//! went to.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as the hook sees it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Which proxy: the name given to [`FaultProxy::start`].
    pub upstream: &'static str,
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// Position on the shared timeline (0 = first request since the last reset).
    pub index: u64,
}

impl Seen {
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "PUT" | "POST" | "PATCH" | "DELETE")
    }
}

/// What to do with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Forward,
    /// Answer this status without forwarding.
    Fail(u16),
    /// Never answer, and do not forward: the client died before sending.
    Hang,
    /// Forward (the upstream applies it), then never answer: the client
    /// died while waiting for the response.
    ForwardThenHang,
}

/// Decides each request's fate; may act (await a person's edit) first.
pub type Hook = Arc<dyn Fn(Seen) -> BoxFuture<'static, Verdict> + Send + Sync>;

/// The request counter and the hook shared by a set of proxies.
#[derive(Clone, Default)]
pub struct Timeline {
    counter: Arc<AtomicU64>,
    hook: Arc<Mutex<Option<Hook>>>,
}

impl Timeline {
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// Installs `hook` and restarts the count at 0.
    pub fn set_hook(&self, hook: Hook) {
        self.counter.store(0, Ordering::SeqCst);
        *self.hook.lock().unwrap_or_else(|e| e.into_inner()) = Some(hook);
    }

    /// Every request is forwarded again.
    pub fn clear_hook(&self) {
        *self.hook.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Requests seen since the last [`Timeline::set_hook`].
    pub fn count(&self) -> u64 {
        self.counter.load(Ordering::SeqCst)
    }

    fn hook(&self) -> Option<Hook> {
        self.hook.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[derive(Clone)]
struct ProxyState {
    name: &'static str,
    upstream: String,
    timeline: Timeline,
    client: reqwest::Client,
}

/// A running proxy; stopped when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Serves on an ephemeral port, forwarding to `upstream`
    /// (`http://127.0.0.1:PORT`).
    pub async fn start(
        name: &'static str,
        upstream: &str,
        timeline: &Timeline,
    ) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await?;
        let addr = listener.local_addr()?;
        let state = ProxyState {
            name,
            upstream: upstream.trim_end_matches('/').to_string(),
            timeline: timeline.clone(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .map_err(std::io::Error::other)?,
        };
        let app = axum::Router::new().fallback(proxy).with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FaultProxy { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy(State(state): State<ProxyState>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let headers = request.headers().clone();
    let body = match axum::body::to_bytes(request.into_body(), usize::MAX).await {
        Ok(b) => b,
        Err(_) => return status(StatusCode::BAD_REQUEST),
    };
    let seen = Seen {
        upstream: state.name,
        method: method.to_string(),
        path: path.clone(),
        index: state.timeline.counter.fetch_add(1, Ordering::SeqCst),
    };
    let verdict = match state.timeline.hook() {
        Some(hook) => hook(seen).await,
        None => Verdict::Forward,
    };
    match verdict {
        Verdict::Fail(code) => {
            return status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        }
        Verdict::Hang => return hang().await,
        Verdict::Forward | Verdict::ForwardThenHang => {}
    }
    // A request that has left is delivered whole even if its client dies
    // meanwhile (as over a real network): the forward runs on its own task.
    let client = state.client.clone();
    let url = format!("{}{path}", state.upstream);
    let forwarded = tokio::spawn(async move {
        let response = client
            .request(method, url)
            .headers(without_host(headers))
            .body(body)
            .send()
            .await?;
        let code = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        Ok::<_, reqwest::Error>((code, headers, bytes))
    })
    .await;
    let (code, headers, bytes) = match forwarded {
        Ok(Ok(r)) => r,
        _ => return status(StatusCode::BAD_GATEWAY),
    };
    if verdict == Verdict::ForwardThenHang {
        return hang().await;
    }
    let mut out = Response::new(Body::from(bytes));
    *out.status_mut() = code;
    for (k, v) in headers.iter() {
        if k != "content-length" && k != "transfer-encoding" && k != "connection" {
            out.headers_mut().append(k, v.clone());
        }
    }
    out
}

fn without_host(mut headers: HeaderMap) -> HeaderMap {
    headers.remove("host");
    headers.remove("content-length");
    headers
}

fn status(code: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = code;
    r
}

/// A client that died never reads an answer; its connection goes away first.
async fn hang() -> Response {
    tokio::time::sleep(Duration::from_secs(120)).await;
    status(StatusCode::GATEWAY_TIMEOUT)
}
