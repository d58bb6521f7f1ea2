//! A stateful stand-in for the Notion API (2025-09-03 and 2026-03-11, each
//! with its own shapes; 2022-06-28 for the old routes) for tests, the demo
//! and benchmarks.
//!
//! [`Emulator::start`] serves `/v1/...` like `api.notion.com` on 127.0.0.1,
//! plus test controls under `/_emulator/...`; [`EmulatorControl`] is the same
//! control surface in-process. Behaviour follows
//! `shared/reference/notion.md` and Notion's reference: minute-rounded
//! timestamps, Notion's error bodies, the request validation Notion does
//! (`rules/`), both rate limits in real time, trashed pages hidden from
//! queries; as options, read-after-write lag and the Free plan's block limit.

mod api;
mod block_limit;
mod blocks;
mod clock;
mod control;
mod control_http;
mod dates;
mod error;
mod ids;
mod lag;
mod params;
mod query;
mod rate_limit;
mod render;
mod rich_text;
mod rules;
mod schema;
mod store;
mod values;
mod version;
mod webhooks;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use control::{EmulatorControl, Fault, FaultKind, LoggedRequest};
pub use error::{ApiError, RateLimit};
pub use ids::normalize_id;
pub use schema::{BOT_USER_ID, PERSON_USER_IDS};
pub use version::ApiVersion;
pub use webhooks::{signature as webhook_signature, SentDelivery, WebhookOptions, WORKSPACE_ID};

use clock::Clock;
use control::{Inner, Shared};
use rate_limit::RateLimits;
use store::Store;

pub const DEFAULT_TOKEN: &str = "secret_emulator_token";
pub const DEFAULT_DATABASE_ID: &str = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b";
pub const DEFAULT_DATA_SOURCE_ID: &str = "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d";

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("could not bind the emulator to {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{var} is not a Notion id (dashed, undashed or a database URL): {value:?}")]
    InvalidId { var: &'static str, value: String },
}

/// How to start an emulator.
#[derive(Debug, Clone, PartialEq)]
pub struct EmulatorConfig {
    /// The only bearer token accepted.
    pub token: String,
    /// Dashed lowercase (normalised by [`EmulatorConfig::from_env`]).
    pub database_id: String,
    pub data_source_id: String,
    /// Requests allowed per window (Notion: 180 per 60 s on most plans).
    pub rate_limit: u32,
    pub rate_window: Duration,
    /// Fixed delay before answering each `/v1` request (benchmarks).
    pub latency: Duration,
    /// How long a write stays out of (or stale in) query results, on the
    /// emulator's clock; zero: none.
    pub query_lag: Duration,
    /// `None`: an ephemeral port.
    pub port: Option<u16>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            token: DEFAULT_TOKEN.into(),
            database_id: DEFAULT_DATABASE_ID.into(),
            data_source_id: DEFAULT_DATA_SOURCE_ID.into(),
            rate_limit: 180,
            rate_window: Duration::from_secs(60),
            latency: Duration::ZERO,
            query_lag: Duration::ZERO,
            port: None,
        }
    }
}

impl EmulatorConfig {
    /// Defaults, with `NOTION_API_TOKEN` and `NOTION_DATABASE_ID` (dashed,
    /// undashed or a pasted database URL) taken from the environment when set.
    pub fn from_env() -> Result<Self, EmulatorError> {
        let mut config = Self::default();
        if let Some(token) = std::env::var("NOTION_API_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
        {
            config.token = token;
        }
        if let Some(raw) = std::env::var("NOTION_DATABASE_ID")
            .ok()
            .filter(|t| !t.is_empty())
        {
            config.database_id = normalize_id(&raw).ok_or(EmulatorError::InvalidId {
                var: "NOTION_DATABASE_ID",
                value: raw,
            })?;
        }
        Ok(config)
    }
}

/// Entry point; see [`Emulator::start`].
pub struct Emulator;

impl Emulator {
    /// Binds 127.0.0.1 (given or ephemeral port) and serves in a tokio task
    /// until the returned handle is dropped.
    pub async fn start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port.unwrap_or(0)));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let control = EmulatorControl::new(Arc::new(Shared::new(initial_state(&config))));
        let app = router(control.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "notion emulator server stopped");
            }
        });
        Ok(RunningEmulator {
            addr: local,
            control,
            task,
        })
    }
}

fn initial_state(config: &EmulatorConfig) -> Inner {
    let clock = Clock::default();
    let mut store = Store::new(
        config.database_id.clone(),
        config.data_source_id.clone(),
        clock.now(),
    );
    store
        .lag
        .set(chrono::Duration::from_std(config.query_lag).unwrap_or(chrono::Duration::MAX));
    Inner {
        store,
        clock,
        limits: RateLimits::new(config.rate_limit, config.rate_window),
        latency: config.latency,
        faults: Vec::new(),
        log: Vec::new(),
        rate_limited: 0,
        tokens: vec![config.token.clone()],
        webhooks: Default::default(),
    }
}

fn router(control: EmulatorControl) -> Router {
    control_http::routes()
        .fallback(api::handle)
        // Larger than Notion's 500 KB so oversize bodies get Notion's error.
        .layer(DefaultBodyLimit::max(8 * 1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            control.clone(),
            date_header,
        ))
        .with_state(control)
}

/// Every response carries `Date` in the emulator's clock, as Notion's carry
/// its own: a client that keeps time by the server sees a moved clock.
async fn date_header(
    axum::extract::State(control): axum::extract::State<EmulatorControl>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    let date = control
        .now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    if let Ok(value) = axum::http::HeaderValue::from_str(&date) {
        response
            .headers_mut()
            .insert(axum::http::header::DATE, value);
    }
    response
}

/// A serving emulator. Dropping it stops the server.
pub struct RunningEmulator {
    addr: SocketAddr,
    control: EmulatorControl,
    task: JoinHandle<()>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT` (the SDK's `baseUrl`; API paths add `/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn control(&self) -> EmulatorControl {
        self.control.clone()
    }

    /// Serves until the task ends (never, unless it fails).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}
