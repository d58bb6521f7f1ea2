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
    /// No request starts after this: the caller must have answered by then.
    deadline: std::sync::Mutex<Option<Instant>>,
}

/// A request could only start after the deadline set on the limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PastDeadline;

impl RateLimiter {
    pub fn new(budget: u32, window: Duration) -> Self {
        let budget = budget.max(1) as usize;
        Self {
            budget,
            window: window + margin(window),
            starts: Mutex::new(VecDeque::with_capacity(budget)),
            paused_until: std::sync::Mutex::new(None),
            deadline: std::sync::Mutex::new(None),
        }
    }

    /// Waits until a request may start and records it; returns the time
    /// waited. When that moment is past the deadline it does not wait: the
    /// budget is the next invocation's to spend.
    pub async fn acquire(&self) -> Result<Duration, PastDeadline> {
        let began = Instant::now();
        let mut starts = self.starts.lock().await;
        loop {
            let now = Instant::now();
            let until = match self.paused_until().filter(|until| *until > now) {
                Some(until) => until,
                None => match next_slot(&mut starts, now, self.budget, self.window) {
                    None => {
                        starts.push_back(now);
                        return Ok(began.elapsed());
                    }
                    Some(free_at) => free_at,
                },
            };
            if lock(&self.deadline).is_some_and(|deadline| until > deadline) {
                return Err(PastDeadline);
            }
            tokio::time::sleep_until(until).await;
        }
    }

    /// No request may start after `deadline` (`None`: no limit).
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        *lock(&self.deadline) = deadline;
    }

    /// How the window stands: the age of each request start in it, and how
    /// long the pause Notion asked for still runs. A process that ends can
    /// hand this to the next ([`RateLimiter::resume`]), so a run started
    /// right after another does not spend the same window twice.
    pub async fn usage(&self) -> (Vec<Duration>, Option<Duration>) {
        let now = Instant::now();
        let starts = self.starts.lock().await;
        let ages = starts
            .iter()
            .map(|s| now.duration_since(*s))
            .filter(|age| *age < self.window)
            .collect();
        let paused = self.paused_until().filter(|u| *u > now).map(|u| u - now);
        (ages, paused)
    }

    /// Takes in the window as an earlier process left it ([`RateLimiter::usage`]).
    pub async fn resume(&self, ages: &[Duration], paused: Option<Duration>) {
        let now = Instant::now();
        let mut starts = self.starts.lock().await;
        let mut earlier: Vec<Instant> = ages
            .iter()
            .filter(|age| **age < self.window)
            .filter_map(|age| now.checked_sub(*age))
            .collect();
        earlier.extend(starts.iter().copied());
        earlier.sort();
        let keep = earlier.len().saturating_sub(self.budget);
        *starts = earlier.into_iter().skip(keep).collect();
        drop(starts);
        if let Some(wait) = paused {
            self.pause_for(wait);
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
        *lock(&self.paused_until)
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
                limiter.acquire().await.expect("no deadline");
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
        limiter.acquire().await.expect("no deadline");
        assert!(start.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn a_slot_past_the_deadline_is_refused_without_waiting() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        limiter.set_deadline(Some(Instant::now() + Duration::from_secs(1)));
        limiter.acquire().await.expect("first slot");
        limiter.acquire().await.expect("second slot");
        assert_eq!(limiter.acquire().await, Err(PastDeadline));
    }

    #[tokio::test]
    async fn a_window_handed_on_is_not_spent_twice() {
        let window = Duration::from_secs(60);
        let first = RateLimiter::new(3, window);
        for _ in 0..3 {
            first.acquire().await.expect("slot");
        }
        let (ages, paused) = first.usage().await;
        assert_eq!(ages.len(), 3);
        let next = RateLimiter::new(3, window);
        next.resume(&ages, paused).await;
        next.set_deadline(Some(Instant::now() + Duration::from_secs(5)));
        assert_eq!(
            next.acquire().await,
            Err(PastDeadline),
            "the window is full"
        );
    }
}
