//! Runs a guide's commands as a reader would type them: the blocks marked
//! ```` ```sh guide-test:<name> ```` in bash from the repo root, exactly as
//! written. The block named `server` is a command the reader leaves
//! running; it prints one `export ...` line for the reader to paste into a
//! second terminal, and that line runs before every other block.

use std::time::Duration;

use tokio::process::Command;

use crate::lambda::{is_per_package_cargo_var, workspace_root};
use crate::logged_child::{LoggedChild, WaitFailure};
use crate::markdown::CodeBlock;

/// The tag marking a block for the test.
pub const TAG: &str = "guide-test";
/// The name of the long-running block.
pub const SERVER: &str = "server";
/// A guard against a hang, not a timing assertion: a first run builds.
const SERVER_LIMIT: Duration = Duration::from_secs(20 * 60);
const EXPORT: &str = "export ";

#[derive(Debug, thiserror::Error)]
pub enum GuideError {
    #[error("could not run bash for the guide's block at line {line}: {source}")]
    Spawn {
        line: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("the guide's server block (line {line}) printed no `export ...` line: {failure}")]
    NoExportLine { line: usize, failure: WaitFailure },
}

/// The reader's first terminal: the server block, running.
pub struct GuideServer {
    _child: LoggedChild,
    /// The `export ...` line it printed.
    pub export_line: String,
}

impl GuideServer {
    pub async fn start(block: &CodeBlock) -> Result<GuideServer, GuideError> {
        let mut child =
            LoggedChild::spawn(bash(&block.body)).map_err(|source| GuideError::Spawn {
                line: block.line,
                source,
            })?;
        let export_line = child
            .wait_for(SERVER_LIMIT, |output| {
                output
                    .lines()
                    .find(|line| line.starts_with(EXPORT))
                    .map(|line| Ok(line.to_owned()))
            })
            .await
            .map_err(|failure| GuideError::NoExportLine {
                line: block.line,
                failure,
            })?;
        Ok(GuideServer {
            _child: child,
            export_line,
        })
    }
}

/// What a block printed.
#[derive(Debug, Clone)]
pub struct BlockRun {
    pub line: usize,
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `block` after `preamble` (the pasted `export` line) in one bash.
pub async fn run_block(block: &CodeBlock, preamble: &str) -> Result<BlockRun, GuideError> {
    let output = bash(&format!("{preamble}\n{}", block.body))
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|source| GuideError::Spawn {
            line: block.line,
            source,
        })?;
    Ok(BlockRun {
        line: block.line,
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// `bash -euo pipefail -c <script>` in the repo root, with the test's
/// environment minus `cargo test`'s per-package variables (as a reader's
/// terminal has none; passed on they would make cargo rebuild).
fn bash(script: &str) -> Command {
    let mut command = Command::new("bash");
    command
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(workspace_root());
    for (name, _) in std::env::vars_os() {
        if is_per_package_cargo_var(&name.to_string_lossy()) {
            command.env_remove(name);
        }
    }
    command
}
