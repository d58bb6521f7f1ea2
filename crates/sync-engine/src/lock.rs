//! One sync at a time: a lease in the state store, with an expiry (a run
//! that crashed blocks nobody for long), a fencing counter, and renewal.
//!
//! - Taking the lease is a conditional write: `if-none-match` for the very
//!   first, else `if-match` on the etag of an expired or released lease. The
//!   etag is taken before the content is read, so a lease that changes in
//!   between makes the write fail rather than replace a live one.
//! - The lease is never deleted: a run releases it by writing it expired,
//!   so its `fence` counts every run that ever held it, and a run that
//!   lost its lease can tell (its fence is not the newest).
//! - A run renews its lease (conditionally on its own last write) once a
//!   third of it has passed, before each record; a renewal that fails means
//!   another run took over after the lease expired (this one stalled): the
//!   run stops at once and writes nothing more. Every write of the sync's
//!   own state is also conditional on the version it read (see `state.rs`),
//!   so a stale run's last write in flight cannot undo a newer run's.
//! - After taking it, the run reads the lease back (after `settle`, 0 by
//!   default) and holds it only if its own lease is there: a store whose
//!   conditional writes were not atomic (reported for Netlify Blobs in 2026)
//!   could tell two racing writers "written".

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use netlify_blobs::{SetOptions, SetOutcome, Store};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::error::EngineError;
use crate::state::{read_versioned, Version};

const LOCK_KEY: &str = "lock";

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Lease {
    owner: String,
    /// How many runs have held the lease, this one included.
    #[serde(default)]
    fence: u64,
    taken_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

/// A held lease. Release it when the run ends (it expires on its own
/// otherwise); check it before writing (see the module docs).
#[derive(Debug)]
pub struct RunLock {
    store: Store,
    owner: String,
    fence: u64,
    ttl: Duration,
    clock: Clock,
    held: Mutex<Held>,
}

#[derive(Debug, Clone)]
struct Held {
    etag: Option<String>,
    taken_at: DateTime<Utc>,
    lost: bool,
}

impl RunLock {
    /// Takes the lease for `ttl`, or says who holds it. `settle`: how long
    /// to wait before reading the lease back.
    pub async fn acquire(
        store: &Store,
        owner: &str,
        clock: &Clock,
        ttl: Duration,
        settle: std::time::Duration,
    ) -> Result<RunLock, EngineError> {
        let now = clock.now();
        let current = read_versioned::<Lease>(store, LOCK_KEY).await?;
        let (fence, condition) = match &current {
            None => (1, SetOptions::if_new()),
            Some((old, _)) if old.expires_at > now => {
                return Err(EngineError::Busy {
                    since: old.taken_at.to_rfc3339(),
                })
            }
            Some((old, Version::Etag(etag))) => (old.fence + 1, SetOptions::if_match(etag)),
            // A server that gives no version at all: last write wins, the read-back decides.
            Some((old, _)) => (old.fence + 1, SetOptions::default()),
        };
        let lease = Lease {
            owner: owner.to_string(),
            fence,
            taken_at: now,
            expires_at: now + ttl,
        };
        let etag = match store.set_json(LOCK_KEY, &lease, condition).await? {
            SetOutcome::Written { etag } => etag,
            SetOutcome::ConditionFailed => {
                return Err(EngineError::Busy {
                    since: now.to_rfc3339(),
                })
            }
        };
        let lock = RunLock {
            store: store.clone(),
            owner: owner.to_string(),
            fence,
            ttl,
            clock: clock.clone(),
            held: Mutex::new(Held {
                etag,
                taken_at: now,
                lost: false,
            }),
        };
        lock.confirm(settle).await
    }

    /// Reads the lease back after `settle` and keeps it only if it is ours.
    async fn confirm(self, settle: std::time::Duration) -> Result<RunLock, EngineError> {
        if !settle.is_zero() {
            tokio::time::sleep(settle).await;
        }
        match read_versioned::<Lease>(&self.store, LOCK_KEY).await? {
            Some((lease, version)) if lease.owner == self.owner && lease.fence == self.fence => {
                if let Version::Etag(etag) = version {
                    self.held().etag = Some(etag);
                }
                Ok(self)
            }
            Some((lease, _)) => Err(EngineError::Busy {
                since: lease.taken_at.to_rfc3339(),
            }),
            None => Err(EngineError::Busy {
                since: self.clock.now().to_rfc3339(),
            }),
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fencing counter of this run's lease.
    pub fn fence(&self) -> u64 {
        self.fence
    }

    /// Before a write: `Err(LeaseLost)` once another run has taken over.
    /// Renews the lease when a third of it has passed (one conditional write).
    pub async fn check(&self) -> Result<(), EngineError> {
        let held = self.held().clone();
        if held.lost {
            return Err(EngineError::LeaseLost);
        }
        let now = self.clock.now();
        if now < held.taken_at + self.ttl / 3 {
            return Ok(());
        }
        let lease = Lease {
            owner: self.owner.clone(),
            fence: self.fence,
            taken_at: now,
            expires_at: now + self.ttl,
        };
        let condition = match &held.etag {
            Some(etag) => SetOptions::if_match(etag),
            None => SetOptions::default(),
        };
        // Our own lease, expired or not, is ours until another run writes it.
        let outcome = self.store.set_json(LOCK_KEY, &lease, condition).await?;
        let mut h = self.held();
        match outcome {
            SetOutcome::Written { etag } => {
                h.etag = etag;
                h.taken_at = now;
                Ok(())
            }
            SetOutcome::ConditionFailed => {
                h.lost = true;
                tracing::warn!(
                    fence = self.fence,
                    "the run lost its lease to another run; it stops here"
                );
                Err(EngineError::LeaseLost)
            }
        }
    }

    /// Whether another run has taken the lease (known from a failed renewal).
    pub fn is_lost(&self) -> bool {
        self.held().lost
    }

    /// Ends the lease by writing it expired, conditionally on our own last
    /// write (a lease another run has taken is left alone).
    pub async fn release(self) -> Result<(), EngineError> {
        let held = self.held().clone();
        if held.lost {
            return Ok(());
        }
        let now = self.clock.now();
        let lease = Lease {
            owner: self.owner.clone(),
            fence: self.fence,
            taken_at: held.taken_at,
            expires_at: now,
        };
        let condition = match held.etag {
            Some(etag) => SetOptions::if_match(etag),
            None => SetOptions::default(),
        };
        self.store.set_json(LOCK_KEY, &lease, condition).await?;
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

/// The lease as it stands, `None` when no run holds it (a released lease,
/// or an expired one left by a crashed run, counts as none).
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
