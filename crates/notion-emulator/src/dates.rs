//! Date values as Notion writes, stores, renders and compares them.
//!
//! Notion's documented behaviour (changelog "Time zone support", Dec 2021,
//! still how the API renders dates): a write may name an IANA `time_zone`,
//! in which case `start`/`end` must be local date-times without a UTC offset
//! and may not be bare dates. Reads always answer `time_zone: null` and carry
//! the zone as a UTC offset on `start`/`end` instead, in the form
//! `2026-09-15T09:00:00.000-07:00`. A date-time written without offset or zone
//! is taken as UTC (`+00:00`). Bare dates stay bare (`2026-09-15`).
//!
//! Comparisons (filters, sorts) therefore work on instants, except that a bare
//! date on either side makes the comparison one of calendar days. Bare dates
//! and days of instants are both read in UTC: Notion does not document which
//! zone it uses there, and UTC is what a stored bare date means to the API.

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;

/// A date string as a client wrote it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum WrittenDate {
    /// `2026-09-15`
    Day(NaiveDate),
    /// `2026-09-15T09:00:00-07:00` or `...Z`
    WithOffset(DateTime<FixedOffset>),
    /// `2026-09-15T09:00:00`: local to `time_zone`, or UTC without one.
    Local(NaiveDateTime),
}

/// Parses the ISO 8601 forms Notion accepts in values and filters. The date
/// is always `YYYY-MM-DD` with every digit: Notion refuses `2022-7-10`
/// (makenotion/notion-sdk-js#315).
pub(crate) fn parse_written(s: &str) -> Option<WrittenDate> {
    let day = s.get(..10)?.as_bytes();
    let digits = |r: std::ops::Range<usize>| day[r].iter().all(u8::is_ascii_digit);
    if !(digits(0..4) && day[4] == b'-' && digits(5..7) && day[7] == b'-' && digits(8..10)) {
        return None;
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(WrittenDate::Day(d));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(WrittenDate::WithOffset(t));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M%:z") {
        return Some(WrittenDate::WithOffset(t));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(WrittenDate::Local(t));
        }
    }
    None
}

/// A date as Notion stores and renders it: a day, or an instant that keeps
/// the offset it is shown with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum StoredDate {
    Day(NaiveDate),
    At(DateTime<FixedOffset>),
}

/// Why a written date cannot be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DateRuleError {
    #[error("a date-time with a UTC offset cannot be combined with time_zone")]
    OffsetWithTimeZone,
    #[error("a date without a time cannot be combined with time_zone")]
    DayWithTimeZone,
}

/// Applies `time_zone` to a written date, as Notion does on write.
pub(crate) fn resolve(written: WrittenDate, zone: Option<Tz>) -> Result<StoredDate, DateRuleError> {
    match (written, zone) {
        (WrittenDate::Day(d), None) => Ok(StoredDate::Day(d)),
        (WrittenDate::WithOffset(t), None) => Ok(StoredDate::At(t)),
        (WrittenDate::Local(t), None) => Ok(StoredDate::At(t.and_utc().fixed_offset())),
        (WrittenDate::Day(_), Some(_)) => Err(DateRuleError::DayWithTimeZone),
        (WrittenDate::WithOffset(_), Some(_)) => Err(DateRuleError::OffsetWithTimeZone),
        (WrittenDate::Local(t), Some(tz)) => Ok(StoredDate::At(in_zone(t, tz))),
    }
}

/// A wall-clock time in `tz`. Ambiguous times (DST fall-back) take the
/// earlier instant; times skipped by a DST jump move forward by the jump, as
/// moment-timezone (which Notion's zone list comes from) does.
fn in_zone(local: NaiveDateTime, tz: Tz) -> DateTime<FixedOffset> {
    let fix = |t: DateTime<Tz>| t.with_timezone(&t.offset().fix());
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => fix(t),
        LocalResult::Ambiguous(earlier, _) => fix(earlier),
        LocalResult::None => {
            // Gaps are at most a few hours; step forward until time exists.
            (1..=4)
                .find_map(|h| {
                    tz.from_local_datetime(&(local + Duration::hours(h)))
                        .earliest()
                })
                .map(fix)
                .unwrap_or_else(|| local.and_utc().fixed_offset())
        }
    }
}

impl StoredDate {
    /// Parses a value this module rendered (or any written form, read as UTC).
    pub fn parse(s: &str) -> Option<Self> {
        parse_written(s).and_then(|w| resolve(w, None).ok())
    }

    /// Notion's read form: `2026-09-15` or `2026-09-15T09:00:00.000-07:00`.
    pub fn render(self) -> String {
        match self {
            StoredDate::Day(d) => d.format("%Y-%m-%d").to_string(),
            StoredDate::At(t) => t.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
        }
    }

    /// The instant, for sorting; a bare date is the start of its UTC day.
    pub fn instant(self) -> DateTime<Utc> {
        match self {
            StoredDate::Day(d) => d.and_time(chrono::NaiveTime::MIN).and_utc(),
            StoredDate::At(t) => t.to_utc(),
        }
    }

    fn utc_day(self) -> NaiveDate {
        match self {
            StoredDate::Day(d) => d,
            StoredDate::At(t) => t.to_utc().date_naive(),
        }
    }

    fn is_day(self) -> bool {
        matches!(self, StoredDate::Day(_))
    }
}

impl From<DateTime<Utc>> for StoredDate {
    fn from(t: DateTime<Utc>) -> Self {
        StoredDate::At(t.fixed_offset())
    }
}

/// A date filter operator that compares against one bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateOp {
    Equals,
    Before,
    After,
    OnOrBefore,
    OnOrAfter,
}

impl DateOp {
    pub fn parse(op: &str) -> Option<Self> {
        Some(match op {
            "equals" => Self::Equals,
            "before" => Self::Before,
            "after" => Self::After,
            "on_or_before" => Self::OnOrBefore,
            "on_or_after" => Self::OnOrAfter,
            _ => return None,
        })
    }
}

/// Whether `value` satisfies `op bound`: instants compare as instants; a bare
/// date on either side compares UTC calendar days.
pub(crate) fn compare(op: DateOp, value: StoredDate, bound: StoredDate) -> bool {
    use std::cmp::Ordering::*;
    let ord = if value.is_day() || bound.is_day() {
        value.utc_day().cmp(&bound.utc_day())
    } else {
        value.instant().cmp(&bound.instant())
    };
    match op {
        DateOp::Equals => ord == Equal,
        DateOp::Before => ord == Less,
        DateOp::After => ord == Greater,
        DateOp::OnOrBefore => ord != Greater,
        DateOp::OnOrAfter => ord != Less,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(s: &str, zone: Option<&str>) -> Result<StoredDate, DateRuleError> {
        let zone = zone.map(|z| z.parse::<Tz>().unwrap());
        resolve(parse_written(s).unwrap(), zone)
    }

    fn render(s: &str, zone: Option<&str>) -> String {
        stored(s, zone).unwrap().render()
    }

    #[test]
    fn renders_as_notion_reads_them() {
        assert_eq!(render("2026-09-15", None), "2026-09-15");
        assert_eq!(
            render("2026-09-15T09:00:00-07:00", None),
            "2026-09-15T09:00:00.000-07:00"
        );
        assert_eq!(
            render("2020-12-08T12:00:00Z", None),
            "2020-12-08T12:00:00.000+00:00"
        );
        assert_eq!(
            render("2026-09-15T09:00:00", None),
            "2026-09-15T09:00:00.000+00:00"
        );
        assert_eq!(
            render("2026-09-15T09:30", None),
            "2026-09-15T09:30:00.000+00:00"
        );
    }

    #[test]
    fn time_zone_becomes_the_offset_in_force_at_that_time() {
        assert_eq!(
            render("2026-09-15T09:00:00", Some("America/Los_Angeles")),
            "2026-09-15T09:00:00.000-07:00"
        );
        assert_eq!(
            render("2026-12-15T09:00:00", Some("America/Los_Angeles")),
            "2026-12-15T09:00:00.000-08:00"
        );
        assert_eq!(
            render("2026-07-01T18:30:00.250", Some("Asia/Kolkata")),
            "2026-07-01T18:30:00.250+05:30"
        );
    }

    #[test]
    fn dst_edges_resolve_deterministically() {
        // 2026-11-01 01:30 happens twice in Los Angeles: the first (PDT).
        assert_eq!(
            render("2026-11-01T01:30:00", Some("America/Los_Angeles")),
            "2026-11-01T01:30:00.000-07:00"
        );
        // 2026-03-08 02:30 never happens there: moved forward past the jump.
        assert_eq!(
            render("2026-03-08T02:30:00", Some("America/Los_Angeles")),
            "2026-03-08T03:30:00.000-07:00"
        );
    }

    #[test]
    fn time_zone_rules_are_enforced() {
        assert_eq!(
            stored("2026-09-15T09:00:00-07:00", Some("Europe/Berlin")),
            Err(DateRuleError::OffsetWithTimeZone)
        );
        assert_eq!(
            stored("2026-09-15", Some("Europe/Berlin")),
            Err(DateRuleError::DayWithTimeZone)
        );
    }

    #[test]
    fn instants_compare_across_offsets_and_zones() {
        let la = stored("2026-09-15T09:00:00", Some("America/Los_Angeles")).unwrap();
        let utc = StoredDate::parse("2026-09-15T16:00:00Z").unwrap();
        let berlin = stored("2026-09-15T18:00:00", Some("Europe/Berlin")).unwrap();
        assert!(compare(DateOp::Equals, la, utc));
        assert!(compare(DateOp::Equals, berlin, la));
        let later = StoredDate::parse("2026-09-15T16:00:01Z").unwrap();
        assert!(compare(DateOp::Before, la, later));
        assert!(compare(DateOp::OnOrBefore, la, utc));
        assert!(!compare(DateOp::After, la, utc));
        // The same wall time in two zones is two instants.
        let ny = stored("2026-09-15T09:00:00", Some("America/New_York")).unwrap();
        assert!(compare(DateOp::Before, ny, la));
        assert!(ny.instant() < la.instant());
    }

    #[test]
    fn bare_dates_compare_by_utc_day() {
        let day = StoredDate::parse("2026-09-15").unwrap();
        let evening_la = stored("2026-09-15T20:00:00", Some("America/Los_Angeles")).unwrap();
        // 20:00 in LA is 03:00 UTC on the 16th.
        assert!(compare(DateOp::After, evening_la, day));
        let morning = StoredDate::parse("2026-09-15T10:00:00Z").unwrap();
        assert!(compare(DateOp::Equals, morning, day));
        assert!(compare(DateOp::OnOrAfter, day, morning));
        assert!(!compare(DateOp::Before, day, morning));
        assert!(compare(DateOp::OnOrBefore, morning, day));
    }

    #[test]
    fn garbage_is_not_a_date() {
        assert_eq!(parse_written("tomorrow"), None);
        assert_eq!(parse_written("2026-13-01"), None);
        assert_eq!(parse_written(""), None);
        assert_eq!(parse_written("2022-7-10"), None);
        assert_eq!(parse_written("2022-07-1T10:00:00Z"), None);
    }
}
