//! The engine's errors: each says which side failed and what to do.

use notion_client::NotionError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("Notion: {0}")]
    Notion(#[from] NotionError),
    #[error("Netlify Blobs: {0}")]
    Blobs(#[from] netlify_blobs::BlobsError),
    /// The database lacks a required property: nothing can be synced until it is fixed.
    #[error("the Notion database is not ready: {0}")]
    Schema(String),
    #[error("the sync's saved state is damaged ({0}); it is rebuilt by the next full sync")]
    State(String),
    #[error("another sync is running (started {since}); try again in a minute")]
    Busy { since: String },
    /// This run stalled past its lease and another run took over: it stopped
    /// writing; the other run (or the next) does the rest.
    #[error("another sync took over after this one stalled past its lease; it stopped, and the next run does the rest")]
    LeaseLost,
    /// Another writer changed a blob of the sync's own state since this run
    /// read it (its conditional write failed): nothing was overwritten.
    #[error("{0} was changed by another sync meanwhile; this run's change to it is left to the next run")]
    Moved(String),
    /// A record that cannot be done yet for a reason that passes on its own
    /// (the text says which and until when): left for a later run, not failed.
    #[error("{0}")]
    Waiting(String),
    #[error("contact {0} was not found in the dialer")]
    UnknownContact(String),
    #[error("{0}")]
    BadRequest(String),
}

impl EngineError {
    /// A run that could not start or finish for a reason that passes on its
    /// own (Notion unreachable or out of budget, another run holding the
    /// lock): the work waits in the queue for the scheduled run.
    pub fn is_transient(&self) -> bool {
        self.is_notion_unreachable()
            || matches!(
                self,
                EngineError::Busy { .. } | EngineError::Notion(NotionError::OutOfTime { .. })
            )
    }

    /// Notion could not be reached at all: a push is queued for later instead of failing.
    pub fn is_notion_unreachable(&self) -> bool {
        matches!(
            self,
            EngineError::Notion(
                NotionError::Network { .. }
                    | NotionError::Timeout { .. }
                    | NotionError::Unavailable { .. }
                    | NotionError::RateLimited { .. }
            )
        )
    }
}
