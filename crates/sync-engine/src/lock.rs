//! One sync at a time: a lease in the state store, taken with a conditional
//! write and given an expiry, so a run that crashed blocks nobody for long.

use chrono::{DateTime, Duration, Utc};
use netlify_blobs::{GetOptions, GetOutcome, SetOptions, SetOutcome, Store};
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
    /// Takes the lease for `ttl`, or says who holds it. `settle`: how long
    /// to wait before reading the lease back (see [`RunLock::confirm`]).
    pub async fn acquire(
        store: &Store,
        owner: &str,
        now: DateTime<Utc>,
        ttl: Duration,
        settle: std::time::Duration,
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
        let busy = |since: DateTime<Utc>| EngineError::Busy {
            since: since.to_rfc3339(),
        };
        if let SetOutcome::Written { .. } = store
            .set_json(LOCK_KEY, &lease, SetOptions::if_new())
            .await?
        {
            return held.confirm(settle).await;
        }
        // Someone holds it, or held it and crashed: replace an expired lease,
        // conditionally on its etag, so two runs cannot both take it over.
        let current: Option<Lease> = crate::state::read_json(store, LOCK_KEY).await?;
        let etag = store
            .list(Some(LOCK_KEY))
            .await?
            .into_iter()
            .find(|b| b.key == LOCK_KEY)
            .map(|b| b.etag);
        let condition = match (&current, etag) {
            (Some(old), Some(etag)) if old.expires_at <= now => SetOptions::if_match(etag),
            (Some(old), _) => return Err(busy(old.taken_at)),
            // Released between our two reads: try once more.
            (None, _) => SetOptions::if_new(),
        };
        match store.set_json(LOCK_KEY, &lease, condition).await? {
            SetOutcome::Written { .. } => held.confirm(settle).await,
            SetOutcome::ConditionFailed => Err(busy(now)),
        }
    }

    /// Reads the lease back (strongly consistent) and keeps it only if it is
    /// ours. Netlify's conditional writes are atomic, but the official local
    /// server checks and writes in two steps, so two writers racing can both
    /// be told "written"; after `settle` both have landed, and only the one
    /// whose lease is there holds the lock.
    async fn confirm(self, settle: std::time::Duration) -> Result<RunLock, EngineError> {
        if !settle.is_zero() {
            tokio::time::sleep(settle).await;
        }
        let current = match self
            .store
            .get_with(
                LOCK_KEY,
                GetOptions {
                    strong: true,
                    if_none_match: None,
                },
            )
            .await?
        {
            GetOutcome::Found(blob) => serde_json::from_slice::<Lease>(&blob.bytes).ok(),
            _ => None,
        };
        match current {
            Some(lease) if lease.owner == self.owner => Ok(self),
            Some(lease) => Err(EngineError::Busy {
                since: lease.taken_at.to_rfc3339(),
            }),
            None => Err(EngineError::Busy {
                since: Utc::now().to_rfc3339(),
            }),
        }
    }

    pub async fn release(self) -> Result<(), EngineError> {
        let current: Option<Lease> = crate::state::read_json(&self.store, LOCK_KEY).await?;
        if current.is_some_and(|l| l.owner == self.owner) {
            self.store.delete(LOCK_KEY).await?;
        }
        Ok(())
    }
}

/// Who holds the run lock, as the dialer's status shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseView {
    /// "scheduled-sync:{run id}", "cli:{run id}", ...
    pub owner: String,
    pub taken_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The lease as it stands, `None` when no run holds it (an expired lease
/// left by a crashed run counts as none).
pub async fn current_lease(
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Option<LeaseView>, EngineError> {
    let lease: Option<Lease> = crate::state::read_json(store, LOCK_KEY).await?;
    Ok(lease.filter(|l| l.expires_at > now).map(|l| LeaseView {
        owner: l.owner,
        taken_at: l.taken_at,
        expires_at: l.expires_at,
    }))
}
