//! What the dialer shows about the sync without running one: a health line
//! for its banner, the run history, and whether a run is going right now.
//! Everything here only reads the state store: no lock, no Notion request,
//! so the dialer may poll it as often as it likes.
//!
//! Run records live at `runs/{run id}`; a run id starts with its start time
//! (`20261201T120000.000Z-1a2b`), so key order is time order. The newest
//! [`RECENT_KEPT`] runs are also kept as one small index blob (`history`),
//! so the banner and the history list cost one read however long the
//! history is. Records older than `SYNC_HISTORY_DAYS` are deleted, at most
//! once a day.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::lock::{current_lease, LeaseView};
use crate::report::{NotionLimit, RunReport, Summary};
use crate::run::Engine;

const RUNS: &str = "runs/";
const RECENT_KEY: &str = "history";

/// Runs in the index blob: the most the history list shows at once.
pub const RECENT_KEPT: usize = 100;

/// Old records deleted per run at most, so pruning never delays a sync.
const PRUNE_BATCH: usize = 200;

/// The index of the newest runs, newest first.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct RecentRuns {
    runs: Vec<RunLine>,
    pruned_at: Option<DateTime<Utc>>,
    /// What people were told (see `alerting.rs`).
    #[serde(default)]
    alerts: crate::alerting::AlertState,
}

/// The sync at a glance, for the dialer's status banner.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncStatus {
    pub health: Health,
    /// One sentence a salesperson can act on.
    pub message: String,
    /// The run going on now, if any.
    pub running: Option<LeaseView>,
    pub last_run: Option<RunLine>,
    /// When a run last finished with nothing failed.
    pub last_ok_at: Option<DateTime<Utc>>,
    /// Pushes waiting for Notion to be reachable again.
    pub queued_pushes: usize,
    /// Conflicts in the console: every open one, and those of them that
    /// wait for a person (the others a policy already settled; they stay
    /// to be reviewed, with the value it replaced).
    pub open_conflicts: usize,
    pub conflicts_waiting: usize,
    /// Notion changes at or after this are not all pulled yet.
    pub notion_cursor: Option<DateTime<Utc>>,
    pub checked_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// No run recorded yet.
    NeverRun,
    Ok,
    /// Working, but something waits for a person or for Notion.
    Attention,
    /// The last run failed.
    Failing,
}

/// One run in the history list: what it did, without its per-record detail
/// (that is one more request: [`Engine::run_record`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunLine {
    pub run_id: String,
    pub mode: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub ok: bool,
    pub full_scan: bool,
    pub summary: Summary,
    pub held: Option<String>,
    pub error: Option<String>,
    pub problems: usize,
    pub notion_requests: u64,
    /// Notion's limits the run ran into.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notion_limits: Vec<NotionLimit>,
}

impl From<&RunReport> for RunLine {
    fn from(r: &RunReport) -> Self {
        RunLine {
            run_id: r.run_id.clone(),
            mode: r.mode.clone(),
            started_at: r.started_at,
            finished_at: r.finished_at,
            ok: r.ok(),
            full_scan: r.full_scan,
            summary: r.summary.clone(),
            held: r.held.clone(),
            error: r.error.clone(),
            problems: r.problems.len(),
            notion_requests: r.notion_requests,
            notion_limits: r.notion_limits.clone(),
        }
    }
}

/// What waits besides the runs themselves, for [`assess`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Waiting {
    pub queued_pushes: usize,
    /// Conflicts no policy could settle: a person must choose.
    pub conflicts_waiting: usize,
    /// Conflicts a policy settled: to review, nothing blocked.
    pub conflicts_settled: usize,
}

/// The banner: pure, from the newest runs first and what waits.
pub fn assess(recent: &[RunLine], waiting_on: Waiting) -> (Health, String) {
    let Some(last) = recent.first() else {
        return (
            Health::NeverRun,
            "No sync has run yet. Press \"Sync to Notion\" or wait for the scheduled run.".into(),
        );
    };
    if let Some(error) = &last.error {
        return (Health::Failing, format!("The last sync failed: {error}"));
    }
    if last.summary.failed > 0 {
        return (
            Health::Failing,
            format!(
                "The last sync could not write {} record(s); see the sync history for why. The next run retries them.",
                last.summary.failed
            ),
        );
    }
    if let Some(held) = &last.held {
        return (Health::Attention, held.clone());
    }
    if let Some(limit) = block_limit(recent) {
        return (Health::Attention, limit.message.clone());
    }
    let Waiting {
        queued_pushes: queued,
        conflicts_waiting,
        conflicts_settled,
    } = waiting_on;
    let mut waiting = Vec::new();
    if conflicts_waiting > 0 {
        waiting.push(format!(
            "{conflicts_waiting} contact(s) changed on both sides and wait for you to choose"
        ));
    }
    if queued > 0 {
        waiting.push(format!(
            "{queued} push(es) wait for Notion and go out with the next run"
        ));
    }
    if last.summary.remaining > 0 {
        let slowed = last.notion_limits.iter().any(|l| !l.is_block_limit());
        waiting.push(format!(
            "{} record(s) are left for the next run{}",
            last.summary.remaining,
            if slowed {
                " (Notion's rate limits slowed the last one; see its history)"
            } else {
                ""
            }
        ));
    }
    if waiting.is_empty() && conflicts_settled > 0 {
        (
            Health::Ok,
            format!("In sync. {conflicts_settled} conflict(s) were settled by the policy; review them in the conflict console."),
        )
    } else if waiting.is_empty() {
        (Health::Ok, "In sync.".into())
    } else {
        (Health::Attention, format!("{}.", waiting.join("; ")))
    }
}

/// Notion's Free plan block limit, while the newest runs say it holds:
/// from the newest run that met it, unless a newer run created pages or
/// logged calls (the limit lifted). Runs with nothing to add say neither.
pub fn block_limit(recent: &[RunLine]) -> Option<&NotionLimit> {
    for run in recent {
        if let Some(limit) = run.notion_limits.iter().find(|l| l.is_block_limit()) {
            return Some(limit);
        }
        if run.summary.created_in_notion > 0 || run.summary.calls_logged > 0 {
            return None;
        }
    }
    None
}

/// When a run started, from its id; `None` for an id of another shape.
pub fn run_started_at(run_id: &str) -> Option<DateTime<Utc>> {
    let stamp = run_id.split('-').next()?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S%.3fZ")
        .ok()
        .map(|t| t.and_utc())
}

impl Engine {
    /// Saves a run's record and puts it at the top of the index; prunes
    /// old records once a day. A failure here is logged, never fatal: the
    /// run's own work is already saved.
    /// Past `deadline` only the record itself is written: pruning and
    /// alerts wait for a run with time to spare.
    pub(crate) async fn record_run(
        &self,
        report: &RunReport,
        deadline: Option<std::time::Instant>,
    ) {
        if let Err(e) = self.try_record_run(report, deadline).await {
            tracing::warn!(error = %e, "could not save the run history");
        }
    }

    async fn try_record_run(
        &self,
        report: &RunReport,
        deadline: Option<std::time::Instant>,
    ) -> Result<(), EngineError> {
        let spare = deadline.is_none_or(|d| std::time::Instant::now() < d);
        let store = &self.state.store;
        let options = netlify_blobs::SetOptions::default();
        store
            .set_json(&format!("{RUNS}{}", report.run_id), report, options.clone())
            .await?;
        let mut recent = self.recent().await?.unwrap_or_default();
        recent.runs.retain(|r| r.run_id != report.run_id);
        recent.runs.insert(0, RunLine::from(report));
        recent.runs.truncate(RECENT_KEPT);
        let now = self.now();
        if spare
            && recent
                .pruned_at
                .is_none_or(|at| now - at >= chrono::Duration::days(1))
        {
            self.prune_runs(now).await?;
            self.prune_backups(now).await?;
            self.retire_settled_conflicts(now).await?;
            recent.pruned_at = Some(now);
        }
        let (alert, told) = crate::alerting::alert_for(&recent.alerts, &recent.runs[0], now);
        if let (Some(alert), false) = (&alert, spare) {
            tracing::warn!(subject = %alert.subject, "alert left for the next run: no time left before the deadline");
        } else if let Some(alert) = alert {
            // Not delivered anywhere: keep the old state, so the next run tries again.
            if self.tell(&alert).await {
                recent.alerts = told;
            }
        } else {
            recent.alerts = told;
        }
        store.set_json(RECENT_KEY, &recent, options).await?;
        Ok(())
    }

    /// Sends an alert to every configured channel; true if any took it (or
    /// none is configured: then the log line is the alert).
    async fn tell(&self, alert: &alerts::Alert) -> bool {
        if !self.notifier.is_configured() {
            tracing::warn!(subject = %alert.subject, text = %alert.text, "alert (no ALERT_* channel configured)");
            return true;
        }
        self.notifier
            .send(alert)
            .await
            .iter()
            .any(|d| d.result.is_ok())
    }

    async fn recent(&self) -> Result<Option<RecentRuns>, EngineError> {
        // A damaged index is rebuilt from the records, not fatal.
        match crate::state::read_json::<RecentRuns>(&self.state.store, RECENT_KEY).await {
            Ok(recent) => Ok(recent),
            Err(EngineError::State(problem)) => {
                tracing::warn!(%problem, "rebuilding the run history index");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes run records older than the retention, oldest first.
    async fn prune_runs(&self, now: DateTime<Utc>) -> Result<usize, EngineError> {
        let cutoff = now - chrono::Duration::days(i64::from(self.config.history_days));
        let deleted = self
            .state
            .delete_oldest(RUNS, PRUNE_BATCH, |k| {
                k.strip_prefix(RUNS)
                    .and_then(run_started_at)
                    .is_some_and(|at| at < cutoff)
            })
            .await?;
        if deleted > 0 {
            tracing::info!(
                deleted,
                days = self.config.history_days,
                "pruned old run records"
            );
        }
        Ok(deleted)
    }

    /// The newest `limit` runs (at most [`RECENT_KEPT`]), newest first, from
    /// the index; without one (a state store from before it existed), from
    /// the records themselves.
    pub async fn history(&self, limit: usize) -> Result<Vec<RunLine>, EngineError> {
        let limit = limit.min(RECENT_KEPT);
        if let Some(recent) = self.recent().await? {
            return Ok(recent.runs.into_iter().take(limit).collect());
        }
        let store = &self.state.store;
        let mut keys: Vec<String> = store
            .list(Some(RUNS))
            .await?
            .into_iter()
            .map(|b| b.key)
            .filter(|k| k.starts_with(RUNS))
            .collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        keys.truncate(limit);
        let mut runs = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(blob) = store.get(&key).await? else {
                continue;
            };
            match serde_json::from_slice::<RunReport>(&blob.bytes) {
                Ok(report) => runs.push(RunLine::from(&report)),
                Err(e) => {
                    tracing::warn!(key = %key, error = %e, "skipping an unreadable run record")
                }
            }
        }
        Ok(runs)
    }

    /// One run in full (every record it touched), by its id.
    pub async fn run_record(&self, run_id: &str) -> Result<Option<RunReport>, EngineError> {
        if run_id.is_empty() || run_id.contains('/') {
            return Err(EngineError::BadRequest(format!(
                "{run_id:?} is not a run id; take one from the sync history"
            )));
        }
        Ok(self
            .state
            .store
            .get_json::<RunReport>(&format!("{RUNS}{run_id}"))
            .await?)
    }

    /// The sync at a glance. Reads the state store only.
    pub async fn status(&self) -> Result<SyncStatus, EngineError> {
        let now = self.now();
        let store = &self.state.store;
        let recent = self.history(RECENT_KEPT).await?;
        let queued_pushes = store.list(Some("queue/")).await?.len();
        let conflicts = self.state.conflicts().await?;
        let conflicts_waiting = conflicts.iter().filter(|c| c.waits_for_person()).count();
        let running = current_lease(store, now).await?;
        let (state, _) = self.state.load().await?;
        let waiting = Waiting {
            queued_pushes,
            conflicts_waiting,
            conflicts_settled: conflicts.len() - conflicts_waiting,
        };
        let (health, message) = assess(&recent, waiting);
        Ok(SyncStatus {
            health,
            message,
            running,
            last_run: recent.first().cloned(),
            last_ok_at: recent.iter().find(|r| r.ok).map(|r| r.finished_at),
            queued_pushes,
            open_conflicts: conflicts.len(),
            conflicts_waiting,
            notion_cursor: state.notion_cursor,
            checked_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(failed: usize, error: Option<&str>, remaining: usize) -> RunLine {
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        RunLine::from(&RunReport {
            run_id: "20261201T100000.000Z-0001".into(),
            mode: "both ways".into(),
            started_at: at,
            finished_at: at,
            dry_run: false,
            full_scan: false,
            held: None,
            summary: Summary {
                failed,
                remaining,
                ..Summary::default()
            },
            records: vec![],
            problems: vec![],
            plan: String::new(),
            notion_requests: 1,
            blobs_requests: 1,
            notion_limits: vec![],
            error: error.map(str::to_string),
            out_of_time: false,
        })
    }

    #[test]
    fn run_ids_carry_their_start_time() {
        let at = run_started_at("20261201T101530.250Z-1a2b").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-01T10:15:30.250+00:00");
        assert_eq!(run_started_at("latest"), None);
    }

    #[test]
    fn the_block_limit_needs_attention_until_a_run_shows_it_lifted() {
        let mut limited = run(0, None, 0);
        limited.notion_limits.push(NotionLimit {
            limit: NotionLimit::BLOCK_LIMIT.into(),
            responses: 1,
            asked_to_wait_ms: 0,
            message:
                "Notion's Free plan block limit: upgrade, or set SYNC_CALL_NOTES=notes_property"
                    .into(),
        });
        let quiet = run(0, None, 0);
        let (health, message) = assess(&[quiet.clone(), limited.clone()], Waiting::default());
        assert_eq!(health, Health::Attention);
        assert!(message.contains("SYNC_CALL_NOTES"), "{message}");
        let mut lifted = run(0, None, 0);
        lifted.summary.created_in_notion = 1;
        assert_eq!(assess(&[lifted, limited], Waiting::default()).0, Health::Ok);
    }

    #[test]
    fn no_runs_means_never_run() {
        assert_eq!(assess(&[], Waiting::default()).0, Health::NeverRun);
    }

    #[test]
    fn the_newest_run_decides_failing() {
        let none = Waiting::default();
        let (health, message) = assess(&[run(0, Some("Notion rejected the token"), 0)], none);
        assert_eq!(health, Health::Failing);
        assert!(message.contains("Notion rejected the token"), "{message}");
        let (health, message) = assess(&[run(2, None, 0), run(0, None, 0)], none);
        assert_eq!(health, Health::Failing);
        assert!(message.contains("2 record(s)"), "{message}");
        // An old failure does not colour a good newest run.
        assert_eq!(
            assess(&[run(0, None, 0), run(3, None, 0)], none).0,
            Health::Ok
        );
    }

    #[test]
    fn waiting_work_needs_attention_and_says_what() {
        let waiting = Waiting {
            queued_pushes: 1,
            conflicts_waiting: 2,
            conflicts_settled: 5,
        };
        let (health, message) = assess(&[run(0, None, 4)], waiting);
        assert_eq!(health, Health::Attention);
        for part in ["2 contact(s)", "1 push(es)", "4 record(s)"] {
            assert!(message.contains(part), "{message} lacks {part}");
        }
    }

    #[test]
    fn conflicts_a_policy_settled_are_for_review_not_alarm() {
        let settled = Waiting {
            conflicts_settled: 3,
            ..Waiting::default()
        };
        let (health, message) = assess(&[run(0, None, 0)], settled);
        assert_eq!(health, Health::Ok);
        assert!(message.contains("3 conflict(s) were settled"), "{message}");
    }
}
