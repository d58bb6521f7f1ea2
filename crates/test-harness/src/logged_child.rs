//! A long-running command a test starts (Netlify's CLI, a guide's server
//! command): its output collected line by line, a wait for what it prints
//! (never a fixed sleep), and, when dropped, SIGTERM to its whole process
//! group, so the processes it started end with it.

use std::process::Stdio;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::watch;

/// Why [`LoggedChild::wait_for`] gave up, with everything printed so far.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}\n--- output ---\n{logs}")]
pub struct WaitFailure {
    pub reason: String,
    pub logs: String,
}

pub struct LoggedChild {
    child: Child,
    logs: Arc<StdMutex<String>>,
    lines: watch::Receiver<usize>,
}

impl LoggedChild {
    /// Spawns `command` as the leader of a new process group, its stdout
    /// and stderr collected.
    pub fn spawn(mut command: Command) -> std::io::Result<LoggedChild> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()?;
        let logs = Arc::new(StdMutex::new(String::new()));
        let (seen, lines) = watch::channel(0usize);
        let seen = Arc::new(seen);
        if let Some(out) = child.stdout.take() {
            tokio::spawn(collect(out, Arc::clone(&logs), Arc::clone(&seen)));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(collect(err, Arc::clone(&logs), seen));
        }
        Ok(LoggedChild { child, logs, lines })
    }

    /// Everything printed so far, stdout and stderr by line.
    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits until `check` on the output so far says `Some(Ok(_))` (done)
    /// or `Some(Err(reason))` (failed); `None` keeps waiting. Fails when
    /// the command ends first, or after `limit` (a guard against a hang,
    /// not a timing assertion).
    pub async fn wait_for<T>(
        &mut self,
        limit: Duration,
        mut check: impl FnMut(&str) -> Option<Result<T, String>>,
    ) -> Result<T, WaitFailure> {
        let logs = Arc::clone(&self.logs);
        let snapshot = move || logs.lock().map(|l| l.clone()).unwrap_or_default();
        let lines = &mut self.lines;
        let wait = async {
            loop {
                let output = snapshot();
                match check(&output) {
                    Some(Ok(value)) => return Ok(value),
                    Some(Err(reason)) => return Err(reason),
                    None => {}
                }
                if lines.changed().await.is_err() {
                    return match check(&snapshot()) {
                        Some(Ok(value)) => Ok(value),
                        _ => Err("it ended".to_owned()),
                    };
                }
            }
        };
        let outcome = tokio::time::timeout(limit, wait)
            .await
            .unwrap_or_else(|_| Err(format!("nothing after {limit:?}")));
        outcome.map_err(|reason| WaitFailure {
            reason,
            logs: self.logs(),
        })
    }
}

impl Drop for LoggedChild {
    fn drop(&mut self) {
        // The group is ours: the command and what it started.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.start_kill();
    }
}

async fn collect(
    stream: impl AsyncRead + Unpin,
    logs: Arc<StdMutex<String>>,
    seen: Arc<watch::Sender<usize>>,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Ok(mut logs) = logs.lock() {
            logs.push_str(&line);
            logs.push('\n');
        }
        seen.send_modify(|n| *n += 1);
    }
}
