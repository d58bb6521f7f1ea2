//! Dates both ways, safe across time zones and daylight-saving changes.
//!
//! The dialer stores JavaScript ISO strings (`2026-09-15T14:00:00.000Z`) or
//! plain days (`2026-09-15`). Notion takes `{"start": ...}` with an offset, or
//! a local time plus `time_zone`, or a day. Instants are written to Notion in
//! the team's configured zone with that instant's own offset, so a follow-up
//! at 9:00 New York time shows as 9:00 in Notion in March and in November.

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;
use serde_json::{json, Value as Json};

use crate::value::DateValue;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{input:?} is not a date: use ISO 8601, like 2026-09-15 or 2026-09-15T14:00:00Z")]
pub struct DateError {
    pub input: String,
}

/// Parses a dialer or Notion date string. A local time without an offset is
/// read in `zone` (Notion's `time_zone`, or the team's configured zone).
pub fn parse_date(input: &str, zone: Tz) -> Result<DateValue, DateError> {
    let s = input.trim();
    let err = || DateError {
        input: input.to_string(),
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(DateValue::Instant(to_millis(t.with_timezone(&Utc))));
    }
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(DateValue::Day(day));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(DateValue::Instant(to_millis(localize(naive, zone))));
        }
    }
    Err(err())
}

/// A wall-clock time in `zone` as an instant. In the autumn overlap the
/// earlier reading wins; a time inside the spring gap (which no clock shows)
/// moves forward by the gap, as calendar apps do.
pub fn localize(naive: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(earlier, _) => earlier.with_timezone(&Utc),
        LocalResult::None => {
            let mut probe = naive;
            for _ in 0..4 {
                probe += Duration::minutes(30);
                if let Some(t) = zone.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&naive)
        }
    }
}

fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = t.nanosecond() % 1_000_000_000;
    t.with_nanosecond(nanos - nanos % 1_000_000).unwrap_or(t)
}

/// The dialer's own format: what `new Date().toISOString()` gives.
pub fn format_for_dialer(date: &DateValue) -> String {
    match date {
        DateValue::Day(day) => day.format("%Y-%m-%d").to_string(),
        DateValue::Instant(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

/// Notion's write shape for a date property value.
pub fn notion_date(date: &DateValue, zone: Tz) -> Json {
    match date {
        DateValue::Day(day) => json!({ "start": day.format("%Y-%m-%d").to_string() }),
        DateValue::Instant(t) => {
            let offset = t.with_timezone(&zone).offset().fix();
            json!({ "start": t.with_timezone(&offset).to_rfc3339_opts(SecondsFormat::Millis, false) })
        }
    }
}

/// Reads Notion's date value (`{"start","end","time_zone"}`); `None` for a
/// cleared date. A `time_zone` on the value beats the configured zone.
pub fn read_notion_date(value: &Json, zone: Tz) -> Result<Option<DateValue>, DateError> {
    let Some(start) = value.get("start").and_then(Json::as_str) else {
        return Ok(None);
    };
    let zone = value
        .get("time_zone")
        .and_then(Json::as_str)
        .and_then(|name| name.parse::<Tz>().ok())
        .unwrap_or(zone);
    parse_date(start, zone).map(Some)
}

/// Notion rounds `last_edited_time` down to the minute; comparing a dialer
/// edit time with it is only fair at the same precision.
pub fn floor_to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    fn instant(s: &str) -> DateValue {
        DateValue::Instant(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn javascript_iso_strings_round_trip() {
        let d = parse_date("2026-09-15T14:00:00.123Z", New_York).unwrap();
        assert_eq!(format_for_dialer(&d), "2026-09-15T14:00:00.123Z");
    }

    #[test]
    fn days_stay_days_through_notion() {
        let d = parse_date("2026-09-15", New_York).unwrap();
        assert_eq!(
            d,
            DateValue::Day(NaiveDate::from_ymd_opt(2026, 9, 15).unwrap())
        );
        let written = notion_date(&d, New_York);
        assert_eq!(written, json!({"start": "2026-09-15"}));
        assert_eq!(read_notion_date(&written, New_York).unwrap(), Some(d));
    }

    #[test]
    fn instants_are_written_with_the_zones_offset_of_that_day() {
        // Winter: EST (-05:00); summer: EDT (-04:00).
        let winter = instant("2026-01-15T14:00:00Z");
        assert_eq!(
            notion_date(&winter, New_York)["start"],
            "2026-01-15T09:00:00.000-05:00"
        );
        let summer = instant("2026-07-15T13:00:00Z");
        assert_eq!(
            notion_date(&summer, New_York)["start"],
            "2026-07-15T09:00:00.000-04:00"
        );
        for d in [winter, summer] {
            assert_eq!(
                read_notion_date(&notion_date(&d, New_York), New_York).unwrap(),
                Some(d)
            );
        }
    }

    #[test]
    fn notion_local_times_with_time_zone_are_read_in_that_zone() {
        let v = json!({"start": "2026-09-15T09:00:00", "time_zone": "America/Los_Angeles"});
        assert_eq!(
            read_notion_date(&v, New_York).unwrap(),
            Some(instant("2026-09-15T16:00:00Z"))
        );
    }

    #[test]
    fn daylight_saving_gap_and_overlap() {
        // 2026-03-08 02:30 does not exist in New York: moves forward to 03:00 EDT.
        let gap = parse_date("2026-03-08T02:30:00", New_York).unwrap();
        assert_eq!(gap, instant("2026-03-08T07:00:00Z"));
        // 2026-11-01 01:30 happens twice: the earlier (EDT) reading.
        let overlap = parse_date("2026-11-01T01:30:00", New_York).unwrap();
        assert_eq!(overlap, instant("2026-11-01T05:30:00Z"));
        // Across the change the written offset follows the instant.
        let before = instant("2026-11-01T05:30:00Z");
        let after = instant("2026-11-01T06:30:00Z");
        assert_eq!(
            notion_date(&before, New_York)["start"],
            "2026-11-01T01:30:00.000-04:00"
        );
        assert_eq!(
            notion_date(&after, New_York)["start"],
            "2026-11-01T01:30:00.000-05:00"
        );
    }

    #[test]
    fn cleared_and_bad_dates() {
        assert_eq!(read_notion_date(&Json::Null, New_York).unwrap(), None);
        assert!(parse_date("next tuesday", New_York).is_err());
        assert!(parse_date("2026-02-30", New_York).is_err());
    }

    #[test]
    fn minute_floor() {
        let t = DateTime::parse_from_rfc3339("2026-09-15T14:07:59.999Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(floor_to_minute(t).to_rfc3339(), "2026-09-15T14:07:00+00:00");
    }
}
