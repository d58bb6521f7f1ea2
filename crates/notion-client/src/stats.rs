//! Counters for benchmarks and tests: how much traffic the sync really made.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::RateLimit;
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
    /// Per limit that answered 429 or 529: how often, and the waits it
    /// asked for. Only limits that answered are present.
    pub rate_limits: BTreeMap<RateLimit, RateLimitStats>,
    /// Writes refused by the Free plan's block limit.
    pub block_limit_refusals: u64,
}

/// How one of Notion's limits slowed a client down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitStats {
    pub responses: u64,
    /// The `Retry-After` waits it asked for, summed (a missing one counts 0).
    pub asked_to_wait_ms: u64,
}

impl NotionStats {
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    pub fn route(&self, route: Route) -> u64 {
        self.requests.get(route.as_str()).copied().unwrap_or(0)
    }

    /// What happened between `before` (an earlier snapshot of the same
    /// client) and this snapshot.
    pub fn since(&self, before: &NotionStats) -> NotionStats {
        let requests = self
            .requests
            .iter()
            .map(|(r, n)| (*r, n - before.requests.get(r).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .collect();
        let rate_limits = self
            .rate_limits
            .iter()
            .map(|(limit, now)| {
                let was = before.rate_limits.get(limit).copied().unwrap_or_default();
                let diff = RateLimitStats {
                    responses: now.responses - was.responses,
                    asked_to_wait_ms: now.asked_to_wait_ms - was.asked_to_wait_ms,
                };
                (*limit, diff)
            })
            .filter(|(_, d)| d.responses > 0)
            .collect();
        NotionStats {
            requests,
            writes: self.writes - before.writes,
            retries: self.retries - before.retries,
            rate_limited_responses: self.rate_limited_responses - before.rate_limited_responses,
            waited_ms: self.waited_ms - before.waited_ms,
            rate_limits,
            block_limit_refusals: self.block_limit_refusals - before.block_limit_refusals,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct StatsCounters {
    per_route: [AtomicU64; Route::ALL.len()],
    writes: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    waited_ms: AtomicU64,
    per_limit: [(AtomicU64, AtomicU64); RateLimit::ALL.len()],
    block_limit: AtomicU64,
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

    /// A 429 or 529 from `limit`, asking to wait `retry_after`.
    pub fn record_rate_limited(&self, limit: RateLimit, retry_after: Option<Duration>) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
        let (responses, waits) = &self.per_limit[limit as usize];
        responses.fetch_add(1, Ordering::Relaxed);
        let ms = retry_after.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        waits.fetch_add(ms, Ordering::Relaxed);
    }

    pub fn record_block_limit(&self) {
        self.block_limit.fetch_add(1, Ordering::Relaxed);
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
            rate_limits: RateLimit::ALL
                .iter()
                .map(|l| {
                    let (responses, waits) = &self.per_limit[*l as usize];
                    let stats = RateLimitStats {
                        responses: responses.load(Ordering::Relaxed),
                        asked_to_wait_ms: waits.load(Ordering::Relaxed),
                    };
                    (*l, stats)
                })
                .filter(|(_, s)| s.responses > 0)
                .collect(),
            block_limit_refusals: self.block_limit.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_limit_and_diffs_snapshots() {
        let counters = StatsCounters::default();
        counters.record_attempt(Route::PagesUpdate);
        counters.record_rate_limited(RateLimit::Connection, Some(Duration::from_secs(3)));
        let before = counters.snapshot();
        counters.record_attempt(Route::PagesUpdate);
        counters.record_rate_limited(RateLimit::Workspace, Some(Duration::from_secs(90)));
        counters.record_rate_limited(RateLimit::Workspace, None);
        let diff = counters.snapshot().since(&before);
        assert_eq!(diff.route(Route::PagesUpdate), 1);
        assert_eq!(diff.rate_limited_responses, 2);
        assert_eq!(
            diff.rate_limits.into_iter().collect::<Vec<_>>(),
            [(
                RateLimit::Workspace,
                RateLimitStats {
                    responses: 2,
                    asked_to_wait_ms: 90_000
                }
            )]
        );
    }
}
