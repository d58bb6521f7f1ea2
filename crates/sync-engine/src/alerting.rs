//! When the sync tells a person, and what it says: pure, over the newest
//! run and what was said before. A failure is told once when it starts,
//! again once a day while it lasts, and its end is told too; a plan the
//! brake holds is told once per distinct hold; Notion's Free plan block
//! limit is told once, until a run shows it lifted. Delivery is the `alerts`
//! crate's; what was told lives beside the run history index.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::status::RunLine;

/// How often a failure that goes on is told again.
const REMIND_EVERY_HOURS: i64 = 24;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    /// The first failed run of the current streak.
    pub failing_since: Option<DateTime<Utc>>,
    /// When a person was last told about it.
    pub told_at: Option<DateTime<Utc>>,
    /// The brake's message last told, so a held plan is told once.
    pub held_told: Option<String>,
    /// Notion's block limit was told and has not been seen lifted since.
    #[serde(default)]
    pub block_limit_told: bool,
}

/// The alert the newest run calls for, if any, and the state once it is told.
pub fn alert_for(
    before: &AlertState,
    run: &RunLine,
    now: DateTime<Utc>,
) -> (Option<alerts::Alert>, AlertState) {
    let mut after = before.clone();
    let failure = match (&run.error, run.summary.failed) {
        (Some(error), _) => Some(format!("The sync could not run: {error}")),
        (None, 0) => None,
        (None, n) => Some(format!(
            "{n} record(s) could not be written to Notion or the dialer; the next run retries them. The sync history (GET /api/sync-history?run={}) says why for each.",
            run.run_id
        )),
    };
    if let Some(problem) = failure {
        let since = before.failing_since.unwrap_or(run.started_at);
        after.failing_since = Some(since);
        let due = before.told_at.is_none_or(|t| {
            before.failing_since.is_none() || now - t >= Duration::hours(REMIND_EVERY_HOURS)
        });
        if !due {
            return (None, after);
        }
        after.told_at = Some(now);
        let subject = if before.failing_since.is_none() {
            "Dialer <-> Notion sync is failing".to_string()
        } else {
            format!(
                "Dialer <-> Notion sync still failing (since {})",
                since.format("%Y-%m-%d %H:%M UTC")
            )
        };
        let text = format!(
            "{problem}\n\nRun {} ({}) at {}.\nThe Notion connection test (GET /api/notion-test) checks the token, the sharing and the properties and says what to fix.",
            run.run_id,
            run.mode,
            run.started_at.format("%Y-%m-%d %H:%M UTC")
        );
        return (Some(alerts::Alert { subject, text }), after);
    }
    if let Some(since) = before.failing_since {
        after.failing_since = None;
        after.told_at = Some(now);
        let alert = alerts::Alert {
            subject: "Dialer <-> Notion sync recovered".into(),
            text: format!(
                "The sync works again (run {} at {}); it had been failing since {}. Changes made meanwhile on either side are synced now.",
                run.run_id,
                run.started_at.format("%Y-%m-%d %H:%M UTC"),
                since.format("%Y-%m-%d %H:%M UTC")
            ),
        };
        return (Some(alert), after);
    }
    if let Some(alert) = block_limit_alert(&mut after, run) {
        return (Some(alert), after);
    }
    match &run.held {
        Some(held) if before.held_told.as_deref() != Some(held.as_str()) => {
            after.held_told = Some(held.clone());
            let alert = alerts::Alert {
                subject: "Dialer <-> Notion sync paused a big change".into(),
                text: format!(
                    "{held}\n\nNothing was written. If the change is intended, run the sync once with {{\"force\": true}} (or `dialer-sync sync --force`); otherwise fix the data it would change."
                ),
            };
            (Some(alert), after)
        }
        Some(_) => (None, after),
        None => {
            after.held_told = None;
            (None, after)
        }
    }
}

/// Notion's Free plan block limit, told once: when a run first meets it,
/// not again until a run has created pages or logged calls (it lifted).
fn block_limit_alert(state: &mut AlertState, run: &RunLine) -> Option<alerts::Alert> {
    let limit = run.notion_limits.iter().find(|l| l.is_block_limit());
    match limit {
        Some(limit) if !state.block_limit_told => {
            state.block_limit_told = true;
            Some(alerts::Alert {
                subject: "Dialer <-> Notion sync: the Notion workspace is out of free blocks"
                    .into(),
                text: format!(
                    "{}\n\nRun {} at {}. The sync keeps running; this is told once.",
                    limit.message,
                    run.run_id,
                    run.started_at.format("%Y-%m-%d %H:%M UTC")
                ),
            })
        }
        Some(_) => None,
        None => {
            if run.summary.created_in_notion > 0 || run.summary.calls_logged > 0 {
                state.block_limit_told = false;
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Summary;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + Duration::hours(h)
    }

    fn run(h: i64, error: Option<&str>, failed: usize, held: Option<&str>) -> RunLine {
        RunLine {
            run_id: format!("run-{h}"),
            mode: "both ways".into(),
            started_at: at(h),
            finished_at: at(h),
            ok: error.is_none() && failed == 0 && held.is_none(),
            full_scan: false,
            summary: Summary {
                failed,
                ..Summary::default()
            },
            held: held.map(str::to_string),
            error: error.map(str::to_string),
            problems: 0,
            notion_requests: 1,
            notion_limits: Vec::new(),
        }
    }

    /// Feeds runs in order; returns the subjects told.
    fn told(runs: &[RunLine]) -> Vec<String> {
        let mut state = AlertState::default();
        let mut out = Vec::new();
        for r in runs {
            let (alert, next) = alert_for(&state, r, r.started_at);
            if let Some(a) = alert {
                out.push(a.subject);
            }
            state = next;
        }
        out
    }

    #[test]
    fn quiet_while_all_is_well() {
        assert!(told(&[run(0, None, 0, None), run(1, None, 0, None)]).is_empty());
    }

    #[test]
    fn a_failure_is_told_once_then_daily_and_its_end_too() {
        let bad = Some("Notion rejected the token");
        let subjects = told(&[
            run(0, bad, 0, None),
            run(1, bad, 0, None),
            run(2, None, 3, None),
            run(25, bad, 0, None),
            run(26, None, 0, None),
            run(27, None, 0, None),
        ]);
        assert_eq!(subjects.len(), 3, "{subjects:?}");
        assert!(subjects[0].contains("failing"));
        assert!(
            subjects[1].contains("still failing (since 2026-12-01 00:00"),
            "{subjects:?}"
        );
        assert!(subjects[2].contains("recovered"));
    }

    #[test]
    fn a_held_plan_is_told_once_per_hold() {
        let held = Some("would archive 40 of 50 pages");
        let subjects = told(&[
            run(0, None, 0, held),
            run(1, None, 0, held),
            run(2, None, 0, None),
            run(3, None, 0, held),
        ]);
        assert_eq!(subjects.len(), 2, "{subjects:?}");
    }

    #[test]
    fn the_block_limit_is_told_once_until_it_lifts() {
        let limited = |h| {
            let mut r = run(h, None, 0, None);
            r.notion_limits.push(crate::report::NotionLimit {
                limit: crate::report::NotionLimit::BLOCK_LIMIT.into(),
                responses: 1,
                asked_to_wait_ms: 0,
                message: "Notion's Free plan block limit: ... set SYNC_CALL_NOTES=notes_property"
                    .into(),
            });
            r
        };
        let mut lifted = run(5, None, 0, None);
        lifted.summary.calls_logged = 1;
        let subjects = told(&[
            limited(0),
            limited(1),
            run(2, None, 0, None),
            limited(3),
            lifted,
            limited(6),
        ]);
        assert_eq!(subjects.len(), 2, "{subjects:?}");
        assert!(subjects[0].contains("out of free blocks"));
    }

    #[test]
    fn the_text_says_what_to_do() {
        let (alert, _) = alert_for(
            &AlertState::default(),
            &run(0, Some("Notion rejected the token"), 0, None),
            at(0),
        );
        let text = alert.unwrap().text;
        assert!(
            text.contains("Notion rejected the token") && text.contains("notion-test"),
            "{text}"
        );
    }
}
