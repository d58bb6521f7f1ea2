//! The emulator's clock. Tests move it to cross polling windows without
//! sleeping; by default it follows real time. Only page/block timestamps use
//! it: rate limiting deliberately uses real time so client waits are real.

use chrono::{DateTime, Duration, DurationRound, Utc};

#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    /// Added to real time while not frozen.
    offset: Duration,
    frozen_at: Option<DateTime<Utc>>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        self.frozen_at.unwrap_or_else(|| Utc::now() + self.offset)
    }

    pub fn advance(&mut self, by: Duration) {
        match &mut self.frozen_at {
            Some(t) => *t += by,
            None => self.offset += by,
        }
    }

    pub fn freeze_at(&mut self, at: DateTime<Utc>) {
        self.frozen_at = Some(at);
    }

    /// Real time resumes from the frozen instant (no jump back).
    pub fn unfreeze(&mut self) {
        if let Some(t) = self.frozen_at.take() {
            self.offset = t - Utc::now();
        }
    }
}

/// Notion stores `created_time`/`last_edited_time` rounded down to the minute.
pub(crate) fn round_to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::minutes(1)).unwrap_or(t)
}

/// Notion's timestamp format: `2026-09-01T10:07:00.000Z`.
pub(crate) fn format_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Databases (2025-09-03+) show exact times with a numeric offset:
/// `2026-07-04T09:12:14.150+00:00`.
pub(crate) fn format_exact_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_down_to_the_minute() {
        let t: DateTime<Utc> = "2026-09-01T10:07:59.999Z".parse().unwrap();
        assert_eq!(
            format_timestamp(round_to_minute(t)),
            "2026-09-01T10:07:00.000Z"
        );
    }

    #[test]
    fn frozen_clock_advances_only_when_told() {
        let mut c = Clock::default();
        let t: DateTime<Utc> = "2026-09-01T10:00:00Z".parse().unwrap();
        c.freeze_at(t);
        assert_eq!(c.now(), t);
        c.advance(Duration::seconds(90));
        assert_eq!(c.now(), t + Duration::seconds(90));
        c.unfreeze();
        assert!(c.now() >= t + Duration::seconds(90));
    }
}
