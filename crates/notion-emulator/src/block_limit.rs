//! The Free workspace block limit (workspace-block-limits reference): a
//! Free workspace with more than one member has 1,000 lifetime blocks
//! (pages and every block in a body count; deleting gives nothing back).
//! The write that first reaches the limit succeeds and starts a three-day
//! grace period; after it, every request that would create blocks fails
//! with 403 `restricted_resource` and `additional_data.block_limit`, while
//! reads, deletes and edits that create no block keep working.
//!
//! Off by default (a paid workspace). Time is the emulator's clock.

use chrono::{DateTime, Duration, Utc};

use crate::error::ApiError;

/// Notion's grace period once the limit is reached.
const GRACE: Duration = Duration::days(3);

#[derive(Debug, Clone, Default)]
pub(crate) struct BlockQuota {
    /// Lifetime blocks allowed; `None`: unlimited.
    limit: Option<u64>,
    used: u64,
    grace_ends: Option<DateTime<Utc>>,
}

impl BlockQuota {
    /// A Free workspace with `limit` blocks, `used` of them spent.
    pub fn limited(limit: u64, used: u64) -> Self {
        Self {
            limit: Some(limit),
            used,
            grace_ends: None,
        }
    }

    /// A Free workspace at its limit whose grace period ended at `now`.
    pub fn past_grace(limit: u64, now: DateTime<Utc>) -> Self {
        Self {
            limit: Some(limit),
            used: limit,
            grace_ends: Some(now),
        }
    }

    /// Charges a request that creates `blocks` blocks, or refuses it as
    /// Notion does once the grace period is over.
    pub fn charge(&mut self, blocks: u64, now: DateTime<Utc>) -> Result<(), ApiError> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        if blocks == 0 {
            return Ok(());
        }
        if self.grace_ends.is_some_and(|end| now >= end) {
            return Err(ApiError::block_limit());
        }
        self.used += blocks;
        if self.used >= limit && self.grace_ends.is_none() {
            self.grace_ends = Some(now + GRACE);
        }
        Ok(())
    }

    pub fn used(&self) -> u64 {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_reaching_the_limit_succeeds_and_grace_follows() {
        let t0: DateTime<Utc> = "2026-09-10T10:00:00Z".parse().unwrap();
        let mut q = BlockQuota::limited(1000, 995);
        assert!(
            q.charge(10, t0).is_ok(),
            "the write that reaches it succeeds"
        );
        assert!(q.charge(10, t0 + Duration::days(2)).is_ok(), "grace");
        let refused = q.charge(1, t0 + GRACE).unwrap_err();
        assert_eq!(
            (refused.status, refused.code.as_str()),
            (403, "restricted_resource")
        );
        assert!(
            q.charge(0, t0 + GRACE).is_ok(),
            "edits that create no block"
        );
    }

    #[test]
    fn unlimited_by_default() {
        let mut q = BlockQuota::default();
        assert!(q.charge(5000, Utc::now()).is_ok());
    }
}
