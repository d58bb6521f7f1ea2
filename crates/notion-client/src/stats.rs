//! Counters for benchmarks and tests: how much traffic the sync really made.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::route::Route;

/// A snapshot of a client's counters (shared by all its clones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotionStats {
    /// HTTP attempts per route (`"pages.update"`), retries included.
    pub requests: BTreeMap<&'static str, u64>,
    /// Attempts on routes that change data.
    pub writes: u64,
    /// Attempts that were repeats of a failed one.
    pub retries: u64,
    /// 429 and 529 answers received.
    pub rate_limited_responses: u64,
    /// Time spent waiting for the limiter and in backoff, summed over calls.
    pub waited_ms: u64,
}

impl NotionStats {
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    pub fn route(&self, route: Route) -> u64 {
        self.requests.get(route.as_str()).copied().unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub(crate) struct StatsCounters {
    per_route: [AtomicU64; Route::ALL.len()],
    writes: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    waited_ms: AtomicU64,
}

impl StatsCounters {
    pub fn record_attempt(&self, route: Route) {
        self.per_route[route.index()].fetch_add(1, Ordering::Relaxed);
        if route.is_write() {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn record_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_wait(&self, waited: Duration) {
        let ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
        self.waited_ms.fetch_add(ms, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> NotionStats {
        NotionStats {
            requests: Route::ALL
                .iter()
                .map(|r| {
                    (
                        r.as_str(),
                        self.per_route[r.index()].load(Ordering::Relaxed),
                    )
                })
                .filter(|(_, n)| *n > 0)
                .collect(),
            writes: self.writes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited_responses: self.rate_limited.load(Ordering::Relaxed),
            waited_ms: self.waited_ms.load(Ordering::Relaxed),
        }
    }
}
