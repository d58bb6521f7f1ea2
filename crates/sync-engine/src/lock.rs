//! One sync at a time: a lease in the state store, taken with a conditional
//! write and given an expiry, so a run that crashed blocks nobody for long.

use chrono::{DateTime, Duration, Utc};
use netlify_blobs::{SetOptions, SetOutcome, Store};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;

const LOCK_KEY: &str = "lock";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Lease {
    owner: String,
    taken_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

/// A held lease; release it when the run ends (it expires on its own otherwise).
#[derive(Debug)]
pub struct RunLock {
    store: Store,
    owner: String,
}

impl RunLock {
    /// Takes the lease for `ttl`, or says who holds it.
    pub async fn acquire(
        store: &Store,
        owner: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<RunLock, EngineError> {
        let lease = Lease {
            owner: owner.to_string(),
            taken_at: now,
            expires_at: now + ttl,
        };
        let held = RunLock {
            store: store.clone(),
            owner: owner.to_string(),
        };
        if let SetOutcome::Written { .. } = store
            .set_json(LOCK_KEY, &lease, SetOptions::if_new())
            .await?
        {
            return Ok(held);
        }
        // Someone holds it, or held it and crashed: replace an expired lease,
        // conditionally on its etag, so two runs cannot both take it over.
        let current: Option<Lease> = store.get_json(LOCK_KEY).await?;
        let etag = store
            .list(Some(LOCK_KEY))
            .await?
            .into_iter()
            .find(|b| b.key == LOCK_KEY)
            .map(|b| b.etag);
        match (current, etag) {
            (Some(old), Some(etag)) if old.expires_at <= now => {
                match store
                    .set_json(LOCK_KEY, &lease, SetOptions::if_match(etag))
                    .await?
                {
                    SetOutcome::Written { .. } => Ok(held),
                    SetOutcome::ConditionFailed => Err(EngineError::Busy {
                        since: now.to_rfc3339(),
                    }),
                }
            }
            (Some(old), _) => Err(EngineError::Busy {
                since: old.taken_at.to_rfc3339(),
            }),
            // Released between our two reads: try once more from the top.
            (None, _) => match store
                .set_json(LOCK_KEY, &lease, SetOptions::if_new())
                .await?
            {
                SetOutcome::Written { .. } => Ok(held),
                SetOutcome::ConditionFailed => Err(EngineError::Busy {
                    since: now.to_rfc3339(),
                }),
            },
        }
    }

    pub async fn release(self) -> Result<(), EngineError> {
        let current: Option<Lease> = self.store.get_json(LOCK_KEY).await?;
        if current.is_some_and(|l| l.owner == self.owner) {
            self.store.delete(LOCK_KEY).await?;
        }
        Ok(())
    }
}
