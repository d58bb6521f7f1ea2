//! When the scheduled sync runs. Netlify's cron ticks every 5 minutes; the
//! cadence decides which ticks do work: every tick in working hours, every
//! 30 minutes after hours, hourly at weekends (the roadmap's recommended
//! schedule), in the team's time zone.

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use chrono_tz::Tz;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cadence {
    pub zone: Tz,
    /// Working hours, `[start, end)` in local hours, Monday to Friday.
    pub work_start: u32,
    pub work_end: u32,
    /// Minutes between runs outside working hours on weekdays.
    pub after_hours_every: u32,
    /// Minutes between runs at weekends.
    pub weekend_every: u32,
    /// The cron's own interval (netlify.toml): a tick is due when it is the
    /// first tick inside its slot.
    pub tick: u32,
}

impl Cadence {
    pub fn new(zone: Tz) -> Cadence {
        Cadence {
            zone,
            work_start: 9,
            work_end: 18,
            after_hours_every: 30,
            weekend_every: 60,
            tick: 5,
        }
    }

    fn interval(&self, now: DateTime<Utc>) -> u32 {
        let local = now.with_timezone(&self.zone);
        let weekend = matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
        if weekend {
            self.weekend_every
        } else if (self.work_start..self.work_end).contains(&local.hour()) {
            self.tick
        } else {
            self.after_hours_every
        }
    }

    /// Whether the tick at `now` should run a sync.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        let every = self.interval(now).max(1);
        let local = now.with_timezone(&self.zone);
        let minute_of_day = local.hour() * 60 + local.minute();
        minute_of_day % every < self.tick.max(1)
    }

    pub fn describe(&self, now: DateTime<Utc>) -> String {
        format!(
            "not due: the sync runs every {} minutes at this time ({} in {})",
            self.interval(now),
            now.with_timezone(&self.zone).format("%a %H:%M"),
            self.zone
        )
    }

    /// Parses `9-18` style working hours.
    pub fn parse_hours(s: &str) -> Result<(u32, u32), String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("{s:?} is not a range of hours such as 9-18"))?;
        let parse = |x: &str| x.trim().parse::<u32>().ok().filter(|h| *h <= 24);
        match (parse(a), parse(b)) {
            (Some(a), Some(b)) if a < b => Ok((a, b)),
            _ => Err(format!("{s:?} is not a range of hours such as 9-18")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::America::New_York;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        New_York
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_roadmaps_schedule() {
        let c = Cadence::new(New_York);
        // Tuesday 2026-09-15: working hours, every tick.
        assert!(c.is_due(at(2026, 9, 15, 10, 5)));
        assert!(c.is_due(at(2026, 9, 15, 17, 55)));
        // After hours: on the hour and half hour only.
        assert!(c.is_due(at(2026, 9, 15, 19, 30)));
        assert!(!c.is_due(at(2026, 9, 15, 19, 35)));
        assert!(!c.is_due(at(2026, 9, 15, 8, 55)));
        // Saturday: hourly.
        assert!(c.is_due(at(2026, 9, 19, 14, 0)));
        assert!(!c.is_due(at(2026, 9, 19, 14, 30)));
        assert!(c
            .describe(at(2026, 9, 19, 14, 30))
            .contains("every 60 minutes"));
    }

    #[test]
    fn hours_are_local_across_daylight_saving() {
        let c = Cadence::new(New_York);
        // 9:05 local is 13:05 UTC in summer and 14:05 UTC in winter: due both times.
        assert!(c.is_due(at(2026, 7, 14, 9, 5)));
        assert!(c.is_due(at(2026, 12, 1, 9, 5)));
        assert_eq!(Cadence::parse_hours("8-20"), Ok((8, 20)));
        assert!(Cadence::parse_hours("20-8").is_err());
    }
}
