//! Netlify's own local server, `netlify functions:serve --offline`
//! (netlify-cli 26.2.0, pinned in package-lock.json), over the repo's
//! functions, for end-to-end tests through Netlify's tooling rather than
//! our Lambda harness.
//!
//! The CLI serves a throw-away project: a copy of the repo's netlify.toml,
//! `netlify/functions` linked to the repo's (the CLI reads each Rust
//! function from there, builds it with `cargo build` in its directory and
//! invokes it through its functions proxy with `event.blobs` pointing at its
//! own Blobs server), and any JS fixture functions placed in
//! `.netlify/v1/functions` (the Frameworks API directory), e.g. a stand-in
//! for the dialer that writes contacts with `@netlify/blobs`.
//!
//! Cost: the CLI builds each function into `.netlify/functions-serve/<name>`
//! with `--target-dir`, which would compile every dependency again per
//! function (~350 MB each). `CARGO_BUILD_BUILD_DIR` points cargo's
//! intermediate artifacts at the workspace's target dir instead, so those
//! builds reuse the workspace's compiled dependencies and the per-function
//! dirs hold only the final binaries, hard links into the build dir.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::blobs_server::{ensure_installed, repo_root, BlobsServerError};
use crate::lambda::{is_per_package_cargo_var, target_dir};
use crate::logged_child::LoggedChild;
use crate::site::{function_names, functions_dir};

/// Not a timing assertion: only how long to wait before calling the CLI
/// hung. A first start may compile the functions (minutes on 2 cores).
const LOAD_LIMIT: Duration = Duration::from_secs(20 * 60);
const LOADED: &str = "Loaded function ";
const FAILED: &str = "Failed to load";

#[derive(Debug, thiserror::Error)]
pub enum NetlifyCliError {
    #[error(transparent)]
    Setup(#[from] BlobsServerError),
    #[error("could not prepare the CLI's project in {path}: {source}")]
    Project {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not start `netlify functions:serve`: {0}; is Node.js 20+ installed? run scripts/setup")]
    Spawn(#[source] std::io::Error),
    #[error("netlify-cli could not load every function ({reason}); waiting for {waiting:?}\n--- CLI log ---\n{logs}")]
    NotLoaded {
        reason: String,
        waiting: Vec<String>,
        logs: String,
    },
    #[error("{method} {url} failed: {source}\n--- CLI log ---\n{logs}")]
    Request {
        method: &'static str,
        url: String,
        logs: String,
        #[source]
        source: reqwest::Error,
    },
}

/// An answer from the CLI's functions server.
#[derive(Debug, Clone)]
pub struct CliResponse {
    pub status: u16,
    pub body: String,
    pub json: Option<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct CliOptions {
    /// The functions' environment (the CLI hands its own to them), on top
    /// of PATH, HOME and cargo's and rustup's settings.
    pub env: Vec<(String, String)>,
    /// JS functions to serve next to the repo's, by path.
    pub fixtures: Vec<PathBuf>,
}

/// A running `netlify functions:serve`; stopped with its process group
/// (the CLI, its Blobs server, function proxies) when dropped.
pub struct NetlifyCli {
    child: LoggedChild,
    project: tempfile::TempDir,
    port: u16,
    http: reqwest::Client,
}

impl NetlifyCli {
    /// Starts the CLI and waits until it logged "Loaded function" for every
    /// function under netlify/functions and every fixture.
    pub async fn serve(options: CliOptions) -> Result<NetlifyCli, NetlifyCliError> {
        let root = repo_root()?;
        ensure_installed(&root)?;
        let project = prepare_project(&root, &options.fixtures)?;
        let port = free_port().map_err(NetlifyCliError::Spawn)?;
        let mut child = LoggedChild::spawn(cli_command(&root, project.path(), port, &options.env))
            .map_err(NetlifyCliError::Spawn)?;
        let mut expected = function_names();
        expected.extend(
            options
                .fixtures
                .iter()
                .filter_map(|f| f.file_stem().map(|s| s.to_string_lossy().into_owned())),
        );
        let loaded_all = child
            .wait_for(LOAD_LIMIT, |logs| {
                if logs.contains(FAILED) {
                    Some(Err("it reported a failure".to_owned()))
                } else {
                    expected
                        .iter()
                        .all(|name| loaded(logs, name))
                        .then_some(Ok(()))
                }
            })
            .await;
        if let Err(failure) = loaded_all {
            let waiting = expected
                .iter()
                .filter(|name| !loaded(&failure.logs, name))
                .cloned()
                .collect();
            return Err(NetlifyCliError::NotLoaded {
                reason: failure.reason,
                waiting,
                logs: failure.logs,
            });
        }
        Ok(NetlifyCli {
            child,
            project,
            port,
            http: reqwest::Client::new(),
        })
    }

    /// `http://localhost:PORT/.netlify/functions/<function>`.
    pub fn url(&self, function: &str) -> String {
        format!(
            "http://localhost:{}/.netlify/functions/{function}",
            self.port
        )
    }

    /// Everything the CLI (and the functions it ran) printed so far.
    pub fn logs(&self) -> String {
        self.child.logs()
    }

    /// The throw-away project the CLI serves (its `.netlify` holds the
    /// Blobs server's files and the built functions).
    pub fn project_dir(&self) -> &Path {
        self.project.path()
    }

    /// GET `function` with `headers`.
    pub async fn get(
        &self,
        function: &str,
        headers: &[(&str, &str)],
    ) -> Result<CliResponse, NetlifyCliError> {
        self.send("GET", function, headers, None).await
    }

    /// `method` `body` (JSON) to `function` with `headers`.
    pub async fn send(
        &self,
        method: &'static str,
        function: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<CliResponse, NetlifyCliError> {
        let url = self.url(function);
        let method_value = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.http.request(method_value, &url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let failed = |source| NetlifyCliError::Request {
            method,
            url: url.clone(),
            logs: self.logs(),
            source,
        };
        let response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(failed)?;
        let json = serde_json::from_str(&body).ok();
        Ok(CliResponse { status, body, json })
    }
}

fn loaded(logs: &str, name: &str) -> bool {
    logs.lines().any(|line| {
        line.find(LOADED)
            .map(|at| &line[at + LOADED.len()..])
            .is_some_and(|rest| rest.split_whitespace().next() == Some(name))
    })
}

/// The project: netlify.toml copied, netlify/functions linked (the CLI
/// does not follow a link per function, but does a linked directory),
/// node_modules linked for the fixtures' imports, fixtures copied.
fn prepare_project(
    root: &Path,
    fixtures: &[PathBuf],
) -> Result<tempfile::TempDir, NetlifyCliError> {
    let project = tempfile::Builder::new()
        .prefix("netlify-cli-")
        .tempdir()
        .map_err(|source| NetlifyCliError::Project {
            path: std::env::temp_dir(),
            source,
        })?;
    let dir = project.path();
    let step = |result: std::io::Result<()>| {
        result.map_err(|source| NetlifyCliError::Project {
            path: dir.to_owned(),
            source,
        })
    };
    step(std::fs::copy(root.join("netlify.toml"), dir.join("netlify.toml")).map(drop))?;
    step(std::fs::create_dir_all(dir.join("netlify")))?;
    step(std::os::unix::fs::symlink(
        functions_dir(),
        dir.join("netlify").join("functions"),
    ))?;
    step(std::os::unix::fs::symlink(
        root.join("node_modules"),
        dir.join("node_modules"),
    ))?;
    let frameworks_functions = dir.join(".netlify").join("v1").join("functions");
    step(std::fs::create_dir_all(&frameworks_functions))?;
    for fixture in fixtures {
        let name = fixture.file_name().unwrap_or_default();
        step(std::fs::copy(fixture, frameworks_functions.join(name)).map(drop))?;
    }
    Ok(project)
}

fn cli_command(root: &Path, project: &Path, port: u16, env: &[(String, String)]) -> Command {
    let mut command = Command::new("node");
    command
        .arg(root.join("node_modules/netlify-cli/bin/run.js"))
        .args(["functions:serve", "--offline", "--port", &port.to_string()])
        .current_dir(project)
        .env_clear()
        .envs(passed_through())
        // As on Netlify with netlify.toml's flag: build Rust from source.
        .env("NETLIFY_EXPERIMENTAL_BUILD_RUST_SOURCE", "true")
        .env("CARGO_BUILD_BUILD_DIR", target_dir())
        .env("NETLIFY_TELEMETRY_DISABLED", "1")
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", project.join(".config"))
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

/// PATH, HOME, and the settings of cargo and rustup (never cargo test's
/// per-package variables, never any NETLIFY_* such as NETLIFY_BLOBS_CONTEXT:
/// the functions must find Blobs through `event.blobs`).
fn passed_through() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(name, _)| {
            matches!(name.as_str(), "PATH" | "HOME" | "RUSTFLAGS")
                || name.starts_with("RUSTUP_")
                || (name.starts_with("CARGO") && !is_per_package_cargo_var(name))
        })
        .collect()
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
