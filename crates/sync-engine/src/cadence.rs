//! The scheduled sync's cadence, configured by environment variables.

use chrono_tz::Tz;
pub use sync_core::cadence::Cadence;

use crate::config::ConfigError;

impl CadenceFromEnv for Cadence {}

/// `SYNC_WORK_HOURS` (default `9-18`), `SYNC_AFTER_HOURS_EVERY` (30),
/// `SYNC_WEEKEND_EVERY` (60), in minutes, in the sync's time zone.
pub trait CadenceFromEnv {
    fn from_env(zone: Tz) -> Result<Cadence, ConfigError> {
        from_lookup(zone, |k| {
            std::env::var(k).ok().filter(|v| !v.trim().is_empty())
        })
    }
}

pub fn from_lookup(zone: Tz, get: impl Fn(&str) -> Option<String>) -> Result<Cadence, ConfigError> {
    let mut c = Cadence::new(zone);
    if let Some(v) = get("SYNC_WORK_HOURS") {
        (c.work_start, c.work_end) = Cadence::parse_hours(&v).map_err(|message| ConfigError {
            variable: "SYNC_WORK_HOURS",
            message,
        })?;
    }
    for (variable, slot) in [
        ("SYNC_AFTER_HOURS_EVERY", &mut c.after_hours_every),
        ("SYNC_WEEKEND_EVERY", &mut c.weekend_every),
    ] {
        if let Some(v) = get(variable) {
            *slot = v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|m| *m >= 5)
                .ok_or_else(|| ConfigError {
                    variable,
                    message: format!("{v:?} is not a number of minutes (5 or more)"),
                })?;
        }
    }
    Ok(c)
}
