//! The whole product on one machine, for end-to-end tests and the demo:
//! the Notion emulator, the official Blobs server, and the real function
//! binaries behind a Lambda Runtime API, wired with the same environment
//! variables Netlify would give them.

use std::collections::HashMap;
use std::time::Duration;

use netlify_blobs::{BlobsClient, SetOptions, Store};
use notion_emulator::{Emulator, EmulatorConfig, EmulatorControl, RunningEmulator};
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::blobs_server::{BlobsServer, RunningBlobsServer};
use crate::event::ApiEvent;
use crate::lambda::{FunctionProcess, Invocation};

/// The `SYNC_API_KEY` the functions get in tests; [`TestApp::invoke`]
/// sends it as the dialer would.
pub const TEST_API_KEY: &str = "test-sync-api-key-0123456789";

/// Options for [`TestApp::spawn_with`].
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// Notion's request budget per window (generous by default, so tests
    /// that are not about limits are not slowed by them).
    pub rate_limit: u32,
    pub rate_window: Duration,
    pub latency: Duration,
    /// Extra environment for the functions (`SYNC_CONFLICT_POLICY`, ...).
    pub env: Vec<(String, String)>,
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            rate_limit: 10_000,
            rate_window: Duration::from_secs(60),
            latency: Duration::ZERO,
            env: Vec::new(),
        }
    }
}

pub struct TestApp {
    pub notion: RunningEmulator,
    pub blobs: RunningBlobsServer,
    options: AppOptions,
    functions: Mutex<HashMap<String, FunctionProcess>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(AppOptions::default()).await
    }

    /// [`TestApp::spawn`] with extra environment for the functions.
    pub async fn spawn_with_env(env: &[(&str, &str)]) -> TestApp {
        TestApp::spawn_with(AppOptions {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..AppOptions::default()
        })
        .await
    }

    pub async fn spawn_with(options: AppOptions) -> TestApp {
        let notion = Emulator::start(EmulatorConfig {
            rate_limit: options.rate_limit,
            rate_window: options.rate_window,
            latency: options.latency,
            ..EmulatorConfig::default()
        })
        .await
        .expect("the Notion emulator starts");
        let blobs = BlobsServer::start()
            .expect("the Blobs server starts (run scripts/setup once if node_modules is missing)");
        TestApp {
            notion,
            blobs,
            options,
            functions: Mutex::new(HashMap::new()),
        }
    }

    pub fn control(&self) -> EmulatorControl {
        self.notion.control()
    }

    /// The environment Netlify would give the functions (Functions scope).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "NOTION_API_TOKEN".to_string(),
                notion_emulator::DEFAULT_TOKEN.to_string(),
            ),
            (
                "NOTION_DATABASE_ID".to_string(),
                self.control().database_id(),
            ),
            ("NOTION_API_URL".to_string(), self.notion.base_url()),
            ("SITE_ID".to_string(), self.blobs.site_id().to_string()),
            ("RUST_LOG".to_string(), "info".to_string()),
            ("SYNC_API_KEY".to_string(), TEST_API_KEY.to_string()),
            // Every scheduled tick is due, whatever the hour or day the tests
            // run at (the default cadence skips ticks after hours and on
            // weekends); tests of the cadence set their own.
            ("SYNC_WORK_HOURS".to_string(), "0-24".to_string()),
            ("SYNC_WEEKEND_EVERY".to_string(), "5".to_string()),
        ];
        // The Notion API version under test: the client's default unless the
        // test run pins another (`NOTION_API_VERSION=2025-09-03 cargo test ...`).
        if let Some(version) = pinned_notion_version() {
            env.push(("NOTION_API_VERSION".to_string(), version));
        }
        for (k, v) in &self.options.env {
            env.retain(|(key, _)| key != k);
            env.push((k.clone(), v.clone()));
        }
        env
    }

    /// The same environment as a lookup, for building an engine in the test process.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> {
        let env = self.env();
        move |k| env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
    }

    /// An engine over the same stand-ins, for tests that drive it directly.
    pub fn engine(&self) -> sync_engine::Engine {
        let config = sync_engine::EngineConfig::from_lookup(self.lookup())
            .expect("test configuration is valid");
        sync_engine::Engine::new(config, self.blobs.edge_client()).expect("engine")
    }

    pub fn blobs_client(&self) -> BlobsClient {
        self.blobs.edge_client()
    }

    /// The dialer's store.
    pub fn contacts(&self) -> Store {
        self.blobs.edge_client().store("contacts")
    }

    /// The sync's own store.
    pub fn sync_state(&self) -> Store {
        self.blobs.edge_client().store("notion-sync")
    }

    /// Saves a contact as the dialer does (one blob per contact, key = id).
    pub async fn put_contact(&self, contact: Value) {
        let id = match &contact["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.contacts()
            .set_json(&id, &contact, SetOptions::default())
            .await
            .expect("contact saved");
    }

    pub async fn contact(&self, id: &str) -> Option<Value> {
        self.contacts().get_json(id).await.expect("contact read")
    }

    pub async fn delete_contact(&self, id: &str) {
        self.contacts().delete(id).await.expect("contact deleted");
    }

    /// Invokes a function binary with a proxy event carrying `blobs` and the
    /// site id, as Netlify does. The process is started once and kept warm.
    pub async fn invoke(&self, function: &str, event: ApiEvent) -> Invocation {
        let event = if event.has_header("authorization") || event.has_header("x-sync-key") {
            event
        } else {
            event.header("authorization", &format!("Bearer {TEST_API_KEY}"))
        };
        self.invoke_as_is(function, event).await
    }

    /// [`TestApp::invoke`] without adding the API key (access-control tests).
    pub async fn invoke_as_is(&self, function: &str, event: ApiEvent) -> Invocation {
        self.invoke_within(function, event, None).await
    }

    /// Invokes `function` telling it it has `deadline` (the platform's
    /// limit: past it, plus a little slack, the process is killed and this
    /// panics), or the harness's default of 30 s.
    pub async fn invoke_within(
        &self,
        function: &str,
        event: ApiEvent,
        deadline: Option<std::time::Duration>,
    ) -> Invocation {
        let event = event
            .blobs(&self.blobs.event_blobs_field())
            .site_id(self.blobs.site_id())
            .build();
        let mut functions = self.functions.lock().await;
        if !functions.contains_key(function) {
            let env = self.env();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let path = crate::lambda::build(function)
                .await
                .unwrap_or_else(|e| panic!("{function} builds: {e}"));
            let process = FunctionProcess::start_path(&path, &env)
                .await
                .unwrap_or_else(|e| panic!("{function} starts: {e}"));
            functions.insert(function.to_string(), process);
        }
        let process = &functions[function];
        let answer = match deadline {
            Some(d) => process.invoke_with_deadline(event, d).await,
            None => process.invoke(event).await,
        };
        answer.unwrap_or_else(|e| panic!("{function} answers: {e}\n{}", process.logs()))
    }

    /// From now on runs `function` from the binary at `path` (a packaged
    /// `bootstrap`, say) instead of the workspace's debug build, with
    /// [`TestApp::env`] and `overrides`.
    pub async fn run_function_from(
        &self,
        function: &str,
        path: &std::path::Path,
        overrides: &[(&str, &str)],
    ) {
        let mut env = self.env();
        env.retain(|(k, _)| !overrides.iter().any(|(o, _)| o == k));
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(overrides.iter().copied())
            .collect();
        let process = FunctionProcess::start_as(function, path, &env)
            .await
            .unwrap_or_else(|e| panic!("{function} starts from {}: {e}", path.display()));
        self.functions
            .lock()
            .await
            .insert(function.to_string(), process);
    }

    /// POSTs `body` to a function at `/.netlify/functions/<name>`.
    pub async fn post(&self, function: &str, body: Value) -> Invocation {
        self.invoke(
            function,
            ApiEvent::post(&format!("/.netlify/functions/{function}")).json(&body),
        )
        .await
    }

    pub async fn get(&self, function: &str) -> Invocation {
        self.invoke(
            function,
            ApiEvent::get(&format!("/.netlify/functions/{function}")),
        )
        .await
    }

    /// The scheduler's invocation of `scheduled-sync`.
    pub async fn scheduled(&self) -> Invocation {
        self.invoke(
            "scheduled-sync",
            ApiEvent::post("/.netlify/functions/scheduled-sync").scheduled(),
        )
        .await
    }

    /// The scheduler's invocation of `scheduled-sync`, with `deadline` as
    /// the platform's limit for it.
    pub async fn scheduled_within(&self, deadline: std::time::Duration) -> Invocation {
        let event = ApiEvent::post("/.netlify/functions/scheduled-sync")
            .scheduled()
            .header("authorization", &format!("Bearer {TEST_API_KEY}"));
        self.invoke_within("scheduled-sync", event, Some(deadline))
            .await
    }

    /// Logs the function processes wrote so far.
    pub async fn logs(&self, function: &str) -> String {
        self.functions
            .lock()
            .await
            .get(function)
            .map(|f| f.logs())
            .unwrap_or_default()
    }

    /// The id of the live page holding Dialer ID `id` (panics if none).
    pub fn page_id(&self, id: u64) -> String {
        let page = self
            .page_by_dialer_id(id)
            .unwrap_or_else(|| panic!("no live page has Dialer ID {id}"));
        page["id"].as_str().expect("page id").to_string()
    }

    /// All live pages' properties by Dialer ID.
    pub fn page_by_dialer_id(&self, id: u64) -> Option<Value> {
        self.control().pages().into_iter().find(|p| {
            p["in_trash"] != json!(true)
                && p["properties"]["Dialer ID"]["number"].as_f64() == Some(id as f64)
        })
    }
}

/// The Notion API version a test run pins (`NOTION_API_VERSION`, or its
/// older name `NOTION_VERSION`), if any.
pub fn pinned_notion_version() -> Option<String> {
    ["NOTION_API_VERSION", "NOTION_VERSION"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}
