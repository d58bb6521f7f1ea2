//! What the sync functions do around a run, kept here so every caller (the
//! functions, the CLI, the model-based test) does exactly the same.

use sync_core::ContactId;

use crate::error::EngineError;
use crate::queue::QueuedPush;
use crate::report::RunReport;
use crate::run::{Engine, RunOptions, Scope};

/// What became of a push.
#[derive(Clone, Debug)]
pub enum Pushed {
    Ran(RunReport),
    /// Notion could not be reached, or another run held the lock: the push
    /// waits in the queue for the next scheduled run.
    Queued {
        key: String,
        reason: String,
    },
}

impl Engine {
    /// `sync-to-notion`: these contacts (all when empty), merged both ways.
    pub async fn push(
        &self,
        ids: Vec<ContactId>,
        options: RunOptions,
    ) -> Result<Pushed, EngineError> {
        let scope = if ids.is_empty() {
            Scope::All
        } else {
            Scope::Contacts(ids.clone())
        };
        match self.run(RunOptions { scope, ..options }).await {
            Ok(report) => Ok(Pushed::Ran(report)),
            Err(e) if e.is_transient() => {
                let reason = e.to_string();
                let push = QueuedPush {
                    contact_ids: ids,
                    queued_at: self.now(),
                    reason: reason.clone(),
                };
                let key = self.state.enqueue(&push).await?;
                Ok(Pushed::Queued { key, reason })
            }
            Err(e) => Err(e),
        }
    }

    /// `scheduled-sync`: both ways; a run that left nothing undone has
    /// covered every queued push, so the queue is drained up to its start.
    pub async fn run_and_drain(&self, options: RunOptions) -> Result<RunReport, EngineError> {
        let report = self.run(options).await?;
        if report.ok() && report.summary.remaining == 0 && !report.out_of_time {
            self.state.drain_before(report.started_at).await?;
        }
        Ok(report)
    }
}
