//! When to try again and how long to wait. Pure: the clock is a parameter.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Retries for 429 and 5xx answers (every request) and for network errors
/// (idempotent requests only), as the official client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (the official client: 5).
    pub max_retries: u32,
    /// First backoff when the server gives no `x-ratelimit-reset`; doubles
    /// per retry.
    pub base_backoff: Duration,
    /// Upper bound for any single wait, including one asked for by
    /// `x-ratelimit-reset`: a function has seconds, not minutes, to finish.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_backoff: Duration::from_millis(250),
            max_wait: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// No retries at all; for callers that handle failures themselves.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Exponential backoff for retry number `retry` (0 = first retry).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX);
        self.base_backoff.saturating_mul(factor).min(self.max_wait)
    }

    /// The wait before retry number `retry`: until `x-ratelimit-reset`
    /// (epoch seconds) when the server sent one in the future, else the
    /// backoff; never more than `max_wait`.
    pub(crate) fn wait(
        &self,
        retry: u32,
        rate_limit_reset: Option<&str>,
        now: SystemTime,
    ) -> Duration {
        let until_reset = rate_limit_reset
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|secs| secs.is_finite() && *secs > 0.0)
            .and_then(|secs| {
                let reset = UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(secs).ok()?)?;
                reset.duration_since(now).ok()
            });
        match until_reset {
            Some(wait) if !wait.is_zero() => wait.min(self.max_wait),
            _ => self.backoff(retry),
        }
    }
}

pub(crate) fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 5,
            base_backoff: Duration::from_millis(100),
            max_wait: Duration::from_millis(1000),
        };
        let waits: Vec<_> = (0..6).map(|r| policy.backoff(r).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy.backoff(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn rate_limit_reset_is_honoured_and_capped() {
        let policy = RetryPolicy::default();
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(policy.wait(0, Some("1003"), now), Duration::from_secs(3));
        assert_eq!(policy.wait(0, Some("99999"), now), policy.max_wait);
        // In the past, zero or garbage: fall back to the backoff.
        for header in ["999", "0", "soon", "-5", "NaN"] {
            assert_eq!(
                policy.wait(1, Some(header), now),
                policy.backoff(1),
                "{header}"
            );
        }
        assert_eq!(policy.wait(2, None, now), policy.backoff(2));
    }

    #[test]
    fn retryable_statuses() {
        for s in [429, 500, 502, 503, 504, 599] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 304, 400, 401, 403, 404, 412] {
            assert!(!is_retryable_status(s));
        }
    }
}
