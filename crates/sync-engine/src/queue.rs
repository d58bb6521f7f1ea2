//! Pushes that could not reach Notion wait in the state store; the next
//! scheduled run, which looks at every changed contact anyway, drains them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sync_core::ContactId;

use crate::error::EngineError;
use crate::state::StateStore;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueuedPush {
    pub contact_ids: Vec<ContactId>,
    pub queued_at: DateTime<Utc>,
    pub reason: String,
}

impl StateStore {
    pub async fn enqueue(&self, push: &QueuedPush) -> Result<String, EngineError> {
        let key = format!(
            "queue/{}-{:08x}",
            push.queued_at.format("%Y%m%dT%H%M%S%.3fZ"),
            std::process::id() ^ push.queued_at.timestamp_subsec_nanos()
        );
        self.store
            .set_json(&key, push, netlify_blobs::SetOptions::default())
            .await?;
        Ok(key)
    }

    pub async fn queued(&self) -> Result<Vec<(String, QueuedPush)>, EngineError> {
        let mut out = Vec::new();
        for listed in self.store.list(Some("queue/")).await? {
            if let Some(push) = self.store.get_json::<QueuedPush>(&listed.key).await? {
                out.push((listed.key, push));
            }
        }
        Ok(out)
    }

    /// Removes the pushes a successful full run has covered.
    pub async fn drain_before(&self, before: DateTime<Utc>) -> Result<usize, EngineError> {
        let mut drained = 0;
        for (key, push) in self.queued().await? {
            if push.queued_at <= before {
                self.store.delete(&key).await?;
                drained += 1;
            }
        }
        Ok(drained)
    }
}
