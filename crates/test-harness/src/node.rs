//! Runs the repo's Node helpers (`scripts/netlify/*.mjs`), which load
//! Netlify's own npm packages (pinned in package-lock.json) and print one
//! JSON line per result. Installs the pinned packages first if they are
//! missing, as the Blobs server does.

use std::ffi::OsStr;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::blobs_server::{ensure_installed, repo_root, BlobsServerError};

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Setup(#[from] BlobsServerError),
    #[error(
        "could not run `node {script}`: {source}; is Node.js 20+ installed? run scripts/setup"
    )]
    Spawn {
        script: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`node {script}` printed a line that is not JSON ({source}): {line}\n--- stderr ---\n{stderr}")]
    NotJson {
        script: String,
        line: String,
        stderr: String,
        #[source]
        source: serde_json::Error,
    },
}

/// What a helper printed: its JSON lines, and how it ended.
#[derive(Debug, Clone)]
pub struct NodeOutput {
    pub success: bool,
    pub status: String,
    pub lines: Vec<Value>,
    pub stderr: String,
}

/// Runs `node <script> <args>` from the repo root (`script` relative to it).
pub fn run_script<S: AsRef<OsStr>>(script: &str, args: &[S]) -> Result<NodeOutput, NodeError> {
    let root = repo_root()?;
    ensure_installed(&root)?;
    let output = Command::new("node")
        .arg(root.join(script))
        .args(args)
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| NodeError::Spawn {
            script: script.to_owned(),
            source,
        })?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let lines = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).map_err(|source| NodeError::NotJson {
                script: script.to_owned(),
                line: line.to_owned(),
                stderr: stderr.clone(),
                source,
            })
        })
        .collect::<Result<Vec<Value>, NodeError>>()?;
    Ok(NodeOutput {
        success: output.status.success(),
        status: output.status.to_string(),
        lines,
        stderr,
    })
}
