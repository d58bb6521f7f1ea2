//! When to try a failed request again, and after how long. Pure, so the
//! policy is tested without a server.

use std::time::Duration;

use crate::error::Failure;

/// Retry knobs, copied from the config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    pub max_rate_limit_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub max_retry_after: Duration,
}

/// Retries used so far by one call.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RetryCount {
    pub transient: u32,
    pub rate_limited: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Decision {
    /// The server asked everyone to wait: pause the shared limiter.
    PauseAll(Duration),
    /// Only this call waits before trying again.
    Backoff(Duration),
    GiveUp,
}

impl RetryPolicy {
    /// `idempotent` says whether repeating a request that may have reached
    /// Notion is harmless; `jitter` is a number in `[0, 1)`.
    pub fn decide(
        &self,
        failure: &Failure,
        idempotent: bool,
        count: RetryCount,
        jitter: f64,
    ) -> Decision {
        match failure {
            Failure::Status { body, .. } if body.is_blocked() => Decision::GiveUp,
            Failure::Status {
                status: 429 | 529,
                retry_after,
                ..
            } => {
                if count.rate_limited >= self.max_rate_limit_retries {
                    return Decision::GiveUp;
                }
                let wait = retry_after.unwrap_or_else(|| self.backoff(count.rate_limited, jitter));
                if wait > self.max_retry_after {
                    Decision::GiveUp
                } else {
                    Decision::PauseAll(wait)
                }
            }
            Failure::Status {
                status: 500 | 502 | 503 | 504,
                ..
            }
            | Failure::Timeout
            | Failure::Network(_)
                if idempotent =>
            {
                self.transient(count, jitter)
            }
            // Nothing reached Notion, so even a create is safe to send again.
            Failure::Connect(_) => self.transient(count, jitter),
            _ => Decision::GiveUp,
        }
    }

    fn transient(&self, count: RetryCount, jitter: f64) -> Decision {
        if count.transient >= self.max_retries {
            Decision::GiveUp
        } else {
            Decision::Backoff(self.backoff(count.transient, jitter))
        }
    }

    /// Exponential backoff with "equal jitter": half the delay fixed, half
    /// random, so many clients failing together spread out but none retries
    /// immediately.
    pub fn backoff(&self, retries_so_far: u32, jitter: f64) -> Duration {
        let factor = 2u32.saturating_pow(retries_so_far.min(20));
        let full = self.base_delay.saturating_mul(factor).min(self.max_delay);
        full / 2 + full.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiErrorBody;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            max_rate_limit_retries: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(120),
        }
    }

    fn status(status: u16, code: &str, retry_after: Option<u64>) -> Failure {
        Failure::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            body: ApiErrorBody {
                code: code.into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn rate_limits_pause_everyone_for_any_method() {
        let p = policy();
        let f = status(429, "rate_limited", Some(7));
        assert_eq!(
            p.decide(&f, false, RetryCount::default(), 0.5),
            Decision::PauseAll(Duration::from_secs(7))
        );
        let too_long = status(429, "rate_limited", Some(600));
        assert_eq!(
            p.decide(&too_long, true, RetryCount::default(), 0.5),
            Decision::GiveUp
        );
        let exhausted = RetryCount {
            rate_limited: 3,
            transient: 0,
        };
        assert_eq!(p.decide(&f, true, exhausted, 0.5), Decision::GiveUp);
    }

    #[test]
    fn server_errors_retry_only_idempotent_requests() {
        let p = policy();
        let f = status(503, "service_unavailable", None);
        assert!(matches!(
            p.decide(&f, true, RetryCount::default(), 0.0),
            Decision::Backoff(_)
        ));
        assert_eq!(
            p.decide(&f, false, RetryCount::default(), 0.0),
            Decision::GiveUp
        );
        assert_eq!(
            p.decide(&Failure::Timeout, false, RetryCount::default(), 0.0),
            Decision::GiveUp
        );
        assert!(matches!(
            p.decide(
                &Failure::Connect("refused".into()),
                false,
                RetryCount::default(),
                0.0
            ),
            Decision::Backoff(_)
        ));
        let exhausted = RetryCount {
            transient: 2,
            rate_limited: 0,
        };
        assert_eq!(p.decide(&f, true, exhausted, 0.0), Decision::GiveUp);
    }

    #[test]
    fn blocked_and_client_errors_never_retry() {
        let p = policy();
        for f in [
            status(429, "public_api_request_blocked", Some(1)),
            status(400, "validation_error", None),
            status(401, "unauthorized", None),
        ] {
            assert_eq!(
                p.decide(&f, true, RetryCount::default(), 0.0),
                Decision::GiveUp
            );
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = policy();
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff(0, 1.0), Duration::from_secs(1));
        assert_eq!(p.backoff(3, 1.0), Duration::from_secs(8));
        assert_eq!(p.backoff(30, 1.0), Duration::from_secs(60));
    }
}
