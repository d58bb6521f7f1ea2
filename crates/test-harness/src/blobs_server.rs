//! The official local Netlify Blobs server (`@netlify/blobs/server`, the one
//! `netlify dev` runs) as a real stand-in for production Blobs.
//!
//! Each [`BlobsServer::start`] spawns `node scripts/blobs-server.mjs` on a
//! free port with its own temporary directory and a random token, waits for
//! the script's readiness line, and kills the process when the handle drops.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use netlify_blobs::BlobsClient;
use serde::Deserialize;

/// The site id every test server pretends to belong to. The local server
/// accepts any; a fixed one keeps paths and logs readable.
pub const FAKE_SITE_ID: &str = "5ea7c0de-0000-4000-8000-b10b5b10b500";

/// Node needs a moment to load; a cold disk cache can make it several.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Only the end of the server's stderr is kept, for error messages.
const STDERR_KEEP_BYTES: usize = 8 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BlobsServerError {
    #[error("cannot find the repo root (a parent of {0} holding scripts/blobs-server.mjs)")]
    NoRepoRoot(PathBuf),

    #[error(
        "the pinned npm packages are not installed (node_modules lacks one of package.json's) \
         and `npm ci` did not fix it: {detail}; run scripts/setup"
    )]
    NotInstalled { detail: String },

    #[error("could not start `node scripts/blobs-server.mjs`: {0}; is Node.js 20+ installed? run scripts/setup")]
    Spawn(#[source] std::io::Error),

    #[error("the Blobs server did not report ready: {reason}; its stderr: {stderr}")]
    NotReady { reason: String, stderr: String },

    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// The readiness line printed by scripts/blobs-server.mjs.
#[derive(Deserialize)]
struct ReadyLine {
    port: u16,
    url: String,
}

pub struct BlobsServer;

impl BlobsServer {
    pub fn start() -> Result<RunningBlobsServer, BlobsServerError> {
        let root = repo_root()?;
        ensure_installed(&root)?;
        let dir = tempfile::Builder::new()
            .prefix("blobs-server-")
            .tempdir()
            .map_err(|source| BlobsServerError::Io {
                what: "creating the Blobs server's temp dir",
                source,
            })?;
        let token = random_token();

        let mut child = Command::new("node")
            .arg(root.join("scripts/blobs-server.mjs"))
            .args(["--port", "0", "--dir"])
            .arg(dir.path())
            .args(["--token", &token])
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(BlobsServerError::Spawn)?;

        let stderr = Arc::new(Mutex::new(String::new()));
        let stderr_reader = child
            .stderr
            .take()
            .map(|pipe| spawn_stderr_collector(pipe, Arc::clone(&stderr)));
        let ready = match child.stdout.take() {
            Some(pipe) => wait_for_ready_line(pipe),
            None => Err("stdout was not captured".to_owned()),
        };
        let ready = match ready {
            Ok(ready) => ready,
            Err(reason) => {
                let _ = child.kill();
                let _ = child.wait();
                // The pipe is closed now; let the collector take what is left.
                if let Some(reader) = stderr_reader {
                    let _ = reader.join();
                }
                return Err(BlobsServerError::NotReady {
                    reason,
                    stderr: snapshot(&stderr),
                });
            }
        };
        tracing::debug!(port = ready.port, "official Blobs server ready");
        Ok(RunningBlobsServer {
            child,
            _dir: dir,
            url: ready.url,
            port: ready.port,
            token,
        })
    }
}

/// A running server; stopped (killed) when dropped.
pub struct RunningBlobsServer {
    child: Child,
    // Dropped after the child is killed (fields drop after `drop`).
    _dir: tempfile::TempDir,
    url: String,
    port: u16,
    token: String,
}

impl std::fmt::Debug for RunningBlobsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningBlobsServer")
            .field("url", &self.url)
            .field("pid", &self.child.id())
            .finish_non_exhaustive()
    }
}

impl RunningBlobsServer {
    /// `http://127.0.0.1:PORT`, the edge URL and the API URL alike.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn site_id(&self) -> &str {
        FAKE_SITE_ID
    }

    /// A client in edge mode, built the way a function builds it: from the
    /// event's `blobs` field.
    pub fn edge_client(&self) -> BlobsClient {
        BlobsClient::from_event_blobs(&self.event_blobs_field(), FAKE_SITE_ID)
            .expect("the harness's own event blobs field decodes")
    }

    /// A client in API mode (signed-URL flow) pointed at this server.
    pub fn api_client(&self) -> BlobsClient {
        BlobsClient::from_api(FAKE_SITE_ID, &self.token, Some(&self.url))
            .expect("the harness's own API configuration is valid")
    }

    /// What Netlify puts in a function event's `blobs` field: base64 of
    /// `{"url","url_uncached","token","primary_region"}`.
    pub fn event_blobs_field(&self) -> String {
        let json = serde_json::json!({
            "url": self.url,
            "url_uncached": self.url,
            "token": self.token,
            "primary_region": "dev",
        });
        STANDARD.encode(json.to_string())
    }

    /// A `NETLIFY_BLOBS_CONTEXT` value in Netlify's format (edge layout, as
    /// production functions get it).
    pub fn context_env(&self) -> String {
        let json = serde_json::json!({
            "apiURL": self.url,
            "edgeURL": self.url,
            "uncachedEdgeURL": self.url,
            "siteID": FAKE_SITE_ID,
            "deployID": "0000000000000000000000de",
            "token": self.token,
            "primaryRegion": "dev",
        });
        STANDARD.encode(json.to_string())
    }
}

impl Drop for RunningBlobsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn repo_root() -> Result<PathBuf, BlobsServerError> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .find(|dir| dir.join("scripts/blobs-server.mjs").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| BlobsServerError::NoRepoRoot(manifest_dir.to_path_buf()))
}

/// Whether every npm package pinned in package.json is in node_modules.
fn is_installed(root: &Path) -> bool {
    pinned_packages(root).iter().all(|name| {
        root.join("node_modules")
            .join(name)
            .join("package.json")
            .is_file()
    })
}

/// The names in package.json's dependencies and devDependencies
/// (`@netlify/blobs` alone if package.json cannot be read).
fn pinned_packages(root: &Path) -> Vec<String> {
    let manifest: Option<serde_json::Value> = std::fs::read(root.join("package.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let names: Vec<String> = ["dependencies", "devDependencies"]
        .iter()
        .filter_map(|section| manifest.as_ref()?.get(section)?.as_object())
        .flat_map(|deps| deps.keys().cloned())
        .collect();
    if names.is_empty() {
        vec!["@netlify/blobs".to_owned()]
    } else {
        names
    }
}

/// Runs `npm ci` once when a pinned package is missing. Test binaries run
/// in parallel, so a file lock makes the others wait for the first.
pub(crate) fn ensure_installed(root: &Path) -> Result<(), BlobsServerError> {
    if is_installed(root) {
        return Ok(());
    }
    let lock_path = std::env::temp_dir().join("dialer-notion-sync-npm-ci.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| BlobsServerError::Io {
            what: "opening the npm ci lock file",
            source,
        })?;
    lock.lock().map_err(|source| BlobsServerError::Io {
        what: "locking the npm ci lock file",
        source,
    })?;
    if is_installed(root) {
        return Ok(());
    }
    tracing::info!("node_modules/@netlify/blobs missing; running npm ci");
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BlobsServerError::NotInstalled {
            detail: format!("could not run npm: {e}"),
        })?;
    if !output.status.success() || !is_installed(root) {
        return Err(BlobsServerError::NotInstalled {
            detail: format!(
                "npm ci exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(())
}

/// Reads stdout until the first line, on a thread, so the wait can be bounded.
/// The thread then keeps draining stdout so the server never blocks on it.
fn wait_for_ready_line(stdout: impl Read + Send + 'static) -> Result<ReadyLine, String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = match lines.next() {
            Some(Ok(line)) => Ok(line),
            Some(Err(e)) => Err(format!("reading its stdout failed: {e}")),
            None => Err("it exited before printing its readiness line".to_owned()),
        };
        let _ = sender.send(first);
        for _ in lines {}
    });
    let line = receiver
        .recv_timeout(READY_TIMEOUT)
        .map_err(|_| format!("no readiness line within {READY_TIMEOUT:?}"))??;
    serde_json::from_str(&line).map_err(|e| format!("unexpected readiness line {line:?}: {e}"))
}

fn spawn_stderr_collector(
    stderr: impl Read + Send + 'static,
    sink: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(mut text) = sink.lock() {
                text.push_str(&line);
                text.push('\n');
                if text.len() > STDERR_KEEP_BYTES {
                    let mut cut = text.len() - STDERR_KEEP_BYTES;
                    while !text.is_char_boundary(cut) {
                        cut += 1;
                    }
                    text.drain(..cut);
                }
            }
        }
    })
}

fn snapshot(stderr: &Arc<Mutex<String>>) -> String {
    stderr
        .lock()
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn random_token() -> String {
    (0..32)
        .map(|_| fastrand::alphanumeric())
        .collect::<String>()
}
