//! What a run did, as JSON the dialer can show and as text a person reads.

use std::fmt;

use chrono::{DateTime, Utc};
use notion_client::{NotionStats, RateLimit};
use serde::{Deserialize, Serialize};
use sync_core::CallNotesTarget;
use sync_core::{
    ContactId, DialerWrite, FieldConflict, LostValue, NotionWrite, Problem, RecordPlan,
};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub created_in_notion: usize,
    pub updated_in_notion: usize,
    pub archived_in_notion: usize,
    pub created_in_dialer: usize,
    pub updated_in_dialer: usize,
    pub marked_archived_in_dialer: usize,
    pub calls_logged: usize,
    pub conflicts: usize,
    pub unchanged: usize,
    pub failed: usize,
    /// Records left for the next run (deadline reached, or changed under us).
    pub remaining: usize,
    /// Contacts that could not be read (bad JSON or values): reported, never written.
    pub invalid: usize,
}

impl Summary {
    /// What each side got: "Notion +1 ~2 archived 0 | dialer +0 ~1 archived 0".
    pub fn sides(&self) -> String {
        format!(
            "Notion +{} ~{} archived {} | dialer +{} ~{} archived {}",
            self.created_in_notion,
            self.updated_in_notion,
            self.archived_in_notion,
            self.created_in_dialer,
            self.updated_in_dialer,
            self.marked_archived_in_dialer
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Planned only (dry run, or held by the brake).
    Planned,
    Synced,
    Failed,
    /// Left for the next run.
    Deferred,
    Invalid,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordReport {
    pub contact_id: Option<ContactId>,
    pub company_name: String,
    pub page_id: Option<String>,
    pub status: RecordStatus,
    /// "created in Notion", "phone -> dialer", ...
    pub actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<FieldConflict>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<LostValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub run_id: String,
    pub mode: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub dry_run: bool,
    pub full_scan: bool,
    /// Set when the brake held the plan: nothing was applied.
    pub held: Option<String>,
    pub summary: Summary,
    pub records: Vec<RecordReport>,
    pub problems: Vec<Problem>,
    /// The plan as a readable dry run.
    pub plan: String,
    pub notion_requests: u64,
    pub blobs_requests: u64,
    /// Notion's limits the run ran into, each with what to do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notion_limits: Vec<NotionLimit>,
    /// Set when the run stopped before its work: what went wrong, as the
    /// engine's error says it (never a token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The run could not start a request before its deadline (Notion's
    /// budget was spent): it did nothing, and nothing it was asked for is
    /// done yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub out_of_time: bool,
}

/// How much of the plans' text a report keeps (a first import plans
/// thousands of records; the records themselves are listed anyway).
const PLAN_TEXT_LINES: usize = 400;

impl RunReport {
    /// An empty report of a run starting now.
    pub(crate) fn begin(
        run_id: &str,
        options: &crate::RunOptions,
        started_at: DateTime<Utc>,
        full_scan: bool,
    ) -> RunReport {
        RunReport {
            run_id: run_id.to_string(),
            mode: options.scope.describe(),
            started_at,
            finished_at: started_at,
            dry_run: options.dry_run,
            full_scan,
            held: None,
            summary: Summary::default(),
            records: Vec::new(),
            problems: Vec::new(),
            plan: String::new(),
            notion_requests: 0,
            blobs_requests: 0,
            notion_limits: Vec::new(),
            error: None,
            out_of_time: false,
        }
    }

    /// A batch's plan: its problems, what it left unchanged, its text.
    pub(crate) fn add_plan(&mut self, plan: &sync_core::Plan) {
        self.summary.unchanged += plan.unchanged;
        self.problems.extend(plan.problems.iter().cloned());
        let lines = self.plan.lines().count();
        if lines < PLAN_TEXT_LINES {
            let text = plan.to_string();
            let take: Vec<&str> = text.lines().take(PLAN_TEXT_LINES - lines).collect();
            self.plan.push_str(&take.join("\n"));
            self.plan.push('\n');
        }
    }

    pub fn ok(&self) -> bool {
        self.summary.failed == 0 && self.held.is_none() && self.error.is_none()
    }

    /// The record of a run that failed before it could plan.
    pub fn failed(
        run_id: &str,
        options: &crate::RunOptions,
        started_at: DateTime<Utc>,
        error: &crate::EngineError,
    ) -> RunReport {
        RunReport {
            finished_at: Utc::now(),
            error: Some(error.to_string()),
            ..RunReport::begin(run_id, options, started_at, options.full_scan)
        }
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.summary;
        let took = (self.finished_at - self.started_at).num_milliseconds();
        writeln!(
            f,
            "{} {} in {took} ms{}: {} | {} calls logged, {} conflicts, {} unchanged, {} failed, {} left for next run, {} invalid",
            if self.dry_run { "Dry run" } else { "Sync" },
            self.mode,
            if self.full_scan { " (full scan)" } else { "" },
            s.sides(),
            s.calls_logged,
            s.conflicts,
            s.unchanged,
            s.failed,
            s.remaining,
            s.invalid,
        )?;
        writeln!(
            f,
            "  {} Notion requests, {} Blobs requests",
            self.notion_requests, self.blobs_requests
        )?;
        for limit in &self.notion_limits {
            writeln!(f, "  ! {}", limit.message)?;
        }
        if let Some(held) = &self.held {
            writeln!(f, "  !! {held}")?;
        }
        if let Some(error) = &self.error {
            writeln!(f, "  !! failed: {error}")?;
        }
        for r in &self.records {
            let who = match r.contact_id {
                Some(id) => format!("#{id} {}", r.company_name),
                None => r.company_name.clone(),
            };
            let status = match r.status {
                RecordStatus::Planned => "planned",
                RecordStatus::Synced => "ok",
                RecordStatus::Failed => "FAILED",
                RecordStatus::Deferred => "deferred",
                RecordStatus::Invalid => "invalid",
            };
            write!(f, "  [{status}] {who}: {}", r.actions.join("; "))?;
            if let Some(e) = &r.error {
                write!(f, " -- {e}")?;
            }
            writeln!(f)?;
            for c in &r.conflicts {
                writeln!(
                    f,
                    "      conflict on {}: Notion {} vs dialer {} ({})",
                    c.field,
                    c.notion.display(),
                    c.dialer.display(),
                    c.reason
                )?;
            }
        }
        for p in &self.problems {
            writeln!(f, "  ? {}", p.message)?;
        }
        Ok(())
    }
}

/// A limit of Notion's a run ran into: which, how often, and what it means.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotionLimit {
    /// `connection`, `workspace`, `endpoint`, `overload` or `other` (rate
    /// limits), or `block_limit` (the Free plan's block limit).
    pub limit: String,
    /// How many of Notion's answers said so.
    pub responses: u64,
    /// The waits Notion asked for, summed.
    #[serde(default)]
    pub asked_to_wait_ms: u64,
    /// What happened and what to do, for a person.
    pub message: String,
}

impl NotionLimit {
    pub const BLOCK_LIMIT: &'static str = "block_limit";

    pub fn is_block_limit(&self) -> bool {
        self.limit == Self::BLOCK_LIMIT
    }
}

/// The limits in `stats` (what one run's requests met), said for a person:
/// which rate limit slowed the run and what remains, and the Free plan's
/// block limit with what to do about it under `call_notes`.
pub fn notion_limits(
    stats: &NotionStats,
    remaining: usize,
    call_notes: CallNotesTarget,
) -> Vec<NotionLimit> {
    let left = match remaining {
        0 => "nothing was left for the next run".to_string(),
        n => format!("{n} record(s) are left for the next run"),
    };
    let mut out: Vec<NotionLimit> = stats
        .rate_limits
        .iter()
        .map(|(limit, s)| NotionLimit {
            limit: limit.as_str().to_string(),
            responses: s.responses,
            asked_to_wait_ms: s.asked_to_wait_ms,
            message: format!(
                "Notion slowed this run: {} ({} answer(s), asked to wait {} s in all); {left}. {}",
                rate_limit_name(*limit),
                s.responses,
                s.asked_to_wait_ms.div_ceil(1000),
                limit.advice()
            ),
        })
        .collect();
    if stats.block_limit_refusals > 0 {
        out.push(NotionLimit {
            limit: NotionLimit::BLOCK_LIMIT.to_string(),
            responses: stats.block_limit_refusals,
            asked_to_wait_ms: 0,
            message: block_limit_message(call_notes).to_string(),
        });
    }
    out
}

fn rate_limit_name(limit: RateLimit) -> &'static str {
    match limit {
        RateLimit::Connection => "the integration's own limit of requests per minute",
        RateLimit::Workspace => "the workspace's limit, shared by every integration in it",
        RateLimit::Endpoint => "an endpoint's own limit",
        RateLimit::Overload => "Notion was overloaded",
        RateLimit::Other => "a limit Notion did not name",
    }
}

/// What the Free plan's block limit means for the sync, and what to do.
fn block_limit_message(call_notes: CallNotesTarget) -> &'static str {
    match call_notes {
        CallNotesTarget::PageBody => {
            "Notion's Free plan block limit: this workspace has used all of its free blocks, so call notes cannot be added to pages and new contacts cannot get a page (they wait, nothing is lost); the properties of existing pages keep syncing. Upgrade the workspace's plan in Notion, or set SYNC_CALL_NOTES=notes_property to keep call notes in the Notes property instead."
        }
        CallNotesTarget::NotesProperty => {
            "Notion's Free plan block limit: this workspace has used all of its free blocks, so new contacts cannot get a page until a workspace owner upgrades its plan in Notion (they wait, nothing is lost); existing pages and their call notes keep syncing."
        }
    }
}

/// Calls of a synced record that wait for the block limit to lift.
pub(crate) fn calls_waiting(record: &mut RecordReport, summary: &mut Summary, n: usize) {
    if n == 0 {
        return;
    }
    summary.calls_logged -= n.min(summary.calls_logged);
    record.actions.retain(|a| !a.ends_with("call(s) logged"));
    record.actions.push(format!(
        "{n} call(s) wait to be logged (Notion's block limit)"
    ));
}

/// A planned record as the report shows it.
pub(crate) fn record_report(
    r: &RecordPlan,
    status: RecordStatus,
    error: Option<String>,
) -> RecordReport {
    let mut actions = Vec::new();
    match &r.notion {
        NotionWrite::Create { .. } => actions.push("created in Notion".to_string()),
        NotionWrite::Update {
            values,
            set_dialer_id,
            notes,
        } => {
            let mut fields: Vec<&str> = values.keys().map(String::as_str).collect();
            if *set_dialer_id {
                fields.push("Dialer ID");
            }
            if notes.is_some() {
                fields.push("Notes (call log)");
            }
            actions.push(format!("updated in Notion: {}", fields.join(", ")));
        }
        NotionWrite::Trash => actions.push("archived in Notion".to_string()),
        NotionWrite::None => {}
    }
    match &r.dialer {
        DialerWrite::Create { .. } => actions.push("created in the dialer".to_string()),
        DialerWrite::Update { values, archived } => {
            if !values.is_empty() {
                actions.push(format!(
                    "updated in the dialer: {}",
                    values.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
            match archived {
                Some(true) => {
                    actions.push("marked archived in the dialer (trashed in Notion)".to_string())
                }
                Some(false) => {
                    actions.push("archived mark removed (restored in Notion)".to_string())
                }
                None => {}
            }
        }
        DialerWrite::None => {}
    }
    if !r.calls_to_log.is_empty() {
        actions.push(format!("{} call(s) logged", r.calls_to_log.len()));
    }
    if actions.is_empty() {
        actions.push("no changes".to_string());
    }
    RecordReport {
        contact_id: Some(r.contact_id),
        company_name: r.company_name.clone(),
        page_id: r.page_id.clone(),
        status,
        actions,
        conflicts: r.conflicts.clone(),
        lost: r.lost.clone(),
        error,
    }
}

/// Adds a record's writes to the summary.
pub(crate) fn count(s: &mut Summary, r: &RecordPlan) {
    match r.notion {
        NotionWrite::Create { .. } => s.created_in_notion += 1,
        NotionWrite::Update { .. } => s.updated_in_notion += 1,
        NotionWrite::Trash => s.archived_in_notion += 1,
        NotionWrite::None => {}
    }
    match &r.dialer {
        DialerWrite::Create { .. } => s.created_in_dialer += 1,
        DialerWrite::Update {
            archived: Some(true),
            ..
        } => s.marked_archived_in_dialer += 1,
        DialerWrite::Update { .. } => s.updated_in_dialer += 1,
        DialerWrite::None => {}
    }
    s.calls_logged += r.calls_to_log.len();
    s.conflicts += r.conflicts.len();
}
