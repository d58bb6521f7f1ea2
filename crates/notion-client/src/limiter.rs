//! The client-side request budget: a sliding window shared by every clone of
//! a client, plus a pause the server can impose with `Retry-After`.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Never more than `budget` request starts in any `window`-long interval.
///
/// A sliding window is stricter than any fixed window of the same length, so
/// a server counting in fixed windows never sees a lone client go over. The
/// small `margin` absorbs jitter between when we send and when the server
/// counts.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    budget: usize,
    window: Duration,
    /// Start times of the requests in the current window, oldest first. The
    /// async mutex is held while waiting for a slot, which queues callers in
    /// FIFO order (tokio's mutex is fair).
    starts: Mutex<VecDeque<Instant>>,
    paused_until: std::sync::Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub fn new(budget: u32, window: Duration) -> Self {
        let budget = budget.max(1) as usize;
        Self {
            budget,
            window: window + margin(window),
            starts: Mutex::new(VecDeque::with_capacity(budget)),
            paused_until: std::sync::Mutex::new(None),
        }
    }

    /// Waits until a request may start and records it; returns the time waited.
    pub async fn acquire(&self) -> Duration {
        let began = Instant::now();
        let mut starts = self.starts.lock().await;
        loop {
            let now = Instant::now();
            if let Some(until) = self.paused_until().filter(|until| *until > now) {
                tokio::time::sleep_until(until).await;
                continue;
            }
            match next_slot(&mut starts, now, self.budget, self.window) {
                None => {
                    starts.push_back(now);
                    return began.elapsed();
                }
                Some(free_at) => tokio::time::sleep_until(free_at).await,
            }
        }
    }

    /// Holds back every request not yet started until `wait` has passed;
    /// a shorter pause never shortens a longer one already in force.
    pub fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    fn paused_until(&self) -> Option<Instant> {
        *self
            .paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// 2% of the window, at least 20 ms: enough for scheduling and network
/// jitter, small enough to cost little throughput.
fn margin(window: Duration) -> Duration {
    (window / 50).max(Duration::from_millis(20))
}

/// Drops starts older than `window` and returns `None` when a request may
/// start at `now`, or the instant the oldest start leaves the window.
fn next_slot(
    starts: &mut VecDeque<Instant>,
    now: Instant,
    budget: usize,
    window: Duration,
) -> Option<Instant> {
    while starts
        .front()
        .is_some_and(|oldest| now.duration_since(*oldest) >= window)
    {
        starts.pop_front();
    }
    if starts.len() < budget {
        None
    } else {
        starts.front().map(|oldest| *oldest + window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_free_as_the_window_slides() {
        let t0 = Instant::now();
        let window = Duration::from_secs(2);
        let mut starts: VecDeque<Instant> = (0..3)
            .map(|i| t0 + Duration::from_millis(100 * i))
            .collect();
        assert_eq!(
            next_slot(&mut starts, t0 + Duration::from_millis(300), 3, window),
            Some(t0 + window)
        );
        assert_eq!(next_slot(&mut starts, t0 + window, 3, window), None);
        assert_eq!(starts.len(), 2);
        assert_eq!(
            next_slot(&mut starts, t0 + Duration::from_millis(300), 4, window),
            None
        );
    }

    #[tokio::test]
    async fn never_exceeds_the_budget_in_any_window() {
        let window = Duration::from_millis(200);
        let limiter = std::sync::Arc::new(RateLimiter::new(5, window));
        let mut handles = Vec::new();
        for _ in 0..17 {
            let limiter = limiter.clone();
            handles.push(tokio::spawn(async move {
                limiter.acquire().await;
                Instant::now()
            }));
        }
        let mut times = Vec::new();
        for h in handles {
            times.push(h.await.expect("task"));
        }
        times.sort();
        for pair in times.windows(6) {
            assert!(pair[5] - pair[0] >= window);
        }
    }

    #[tokio::test]
    async fn a_pause_holds_everyone_back() {
        let limiter = RateLimiter::new(100, Duration::from_secs(1));
        let start = Instant::now();
        limiter.pause_for(Duration::from_millis(300));
        limiter.pause_for(Duration::from_millis(10));
        limiter.acquire().await;
        assert!(start.elapsed() >= Duration::from_millis(300));
    }
}
