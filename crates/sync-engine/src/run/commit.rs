//! Phase 4: what the run learnt goes into the sync's state: the index (so
//! the next run reads only what moves), the next free Dialer ID, and the
//! Notion cursor. The state is saved only if no other run saved it since
//! this one read it, and only while this run still holds its lease.

use chrono::{DateTime, Duration, Utc};
use sync_core::{ContactId, Plan, RecordPlan};

use super::apply::{Applied, Outcome};
use super::{Engine, Reading, RunOptions, CURSOR_OVERLAP_MINUTES};
use crate::error::EngineError;
use crate::lock::RunLock;
use crate::report::{count, record_report, RecordStatus, RunReport};
use crate::state::{fingerprint, IndexEntry, SyncState};

impl Engine {
    pub(crate) async fn commit(
        &self,
        reading: Reading,
        plan: &Plan,
        outcomes: Vec<(RecordPlan, Outcome)>,
        options: &RunOptions,
        lock: Option<&RunLock>,
        report: &mut RunReport,
    ) -> Result<(), EngineError> {
        let Reading {
            mapping,
            data_source_id,
            mut state,
            state_version,
            contacts,
            pages,
            full_scan,
            scan_complete,
            seen_until,
            ..
        } = reading;
        let (undone_since, deferred) =
            record_outcomes(&mut state, &mapping, &pages, outcomes, report);
        // Records that needed nothing still refresh the index, so the next
        // run does not read them again.
        for (id, (_, version)) in &contacts {
            if plan.records.iter().any(|r| r.contact_id == *id) {
                continue;
            }
            if let (Some(entry), Some(v)) = (state.index.get_mut(id), version) {
                entry.dialer = v.clone();
            }
        }
        state.next_id = state.next_id.max(plan.next_id);
        state.data_source_id = Some(data_source_id);
        if !options.scope.is_targeted() {
            // Everything edited before this run's query has been seen, but for
            // pages of records left undone: the next query starts at the
            // earliest of those (a failing record never makes every run a full
            // read), else at the end of this one (an idle database is not
            // read again every run).
            let until = match undone_since {
                Some(t) => (sync_core::time::floor_to_minute(t)
                    - Duration::minutes(CURSOR_OVERLAP_MINUTES))
                .min(seen_until),
                None => seen_until,
            };
            state.notion_cursor = Some(until);
            if full_scan && scan_complete {
                state.last_full_scan = Some(report.started_at);
            }
            if !deferred {
                state.first_sync_done = true;
            }
        }
        if let Some(lock) = lock {
            lock.check().await?;
        }
        match self.state.save(&state, &state_version).await {
            Ok(_) => Ok(()),
            // Another run saved the state meanwhile (this one stalled past its
            // lease): its records are saved; the index and cursor are its to keep.
            Err(EngineError::Moved(what)) => {
                report.error = Some(EngineError::Moved(what).to_string());
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

/// Each record's outcome into the report and the index. Returns the
/// earliest edit time of a page whose record was left undone (the cursor
/// must not pass it), and whether any record was left for the next run.
fn record_outcomes(
    state: &mut SyncState,
    mapping: &sync_core::Mapping,
    pages: &[sync_core::NotionRecord],
    mut outcomes: Vec<(RecordPlan, Outcome)>,
    report: &mut RunReport,
) -> (Option<DateTime<Utc>>, bool) {
    outcomes.sort_by_key(|(r, _)| r.contact_id);
    // Pages whose record is not done: the cursor must not pass them.
    let mut undone_since: Option<DateTime<Utc>> = None;
    let mut deferred = false;
    for (r, outcome) in outcomes {
        let undone = !matches!(outcome, Outcome::Done(_));
        if undone {
            let page = r.page_id.as_deref().and_then(|p| pages.iter().find(|x| x.page_id == p));
            if let Some(page) = page {
                let t = page.last_edited_time;
                undone_since = Some(undone_since.map_or(t, |u| u.min(t)));
            }
        }
        match outcome {
            Outcome::Done(applied) => {
                count(&mut report.summary, &r);
                let mut rr = record_report(&r, RecordStatus::Synced, None);
                crate::report::calls_waiting(&mut rr, &mut report.summary, applied.calls_waiting);
                rr.page_id = applied.base.page_id.clone();
                report.records.push(rr);
                remember(state, mapping, r.contact_id, applied);
            }
            Outcome::Partial(applied) => {
                deferred = true;
                report.summary.remaining += 1;
                report.records.push(record_report(
                    &r,
                    RecordStatus::Deferred,
                    Some("Notion updated; the dialer's part waits: the contact changed meanwhile".into()),
                ));
                remember(state, mapping, r.contact_id, applied);
            }
            Outcome::Deferred(why) => {
                deferred = true;
                report.summary.remaining += 1;
                report
                    .records
                    .push(record_report(&r, RecordStatus::Deferred, Some(why)));
            }
            Outcome::Failed(e) => {
                report.summary.failed += 1;
                // Notion refused a write: the database may have changed; re-read its schema next time.
                if matches!(e, EngineError::Notion(notion_client::NotionError::Validation { .. })) {
                    state.schema_fetched_at = None;
                }
                tracing::warn!(contact = %r.contact_id, error = %e, "record failed");
                report
                    .records
                    .push(record_report(&r, RecordStatus::Failed, Some(e.to_string())));
            }
        }
    }
    (undone_since, deferred)
}

/// What the next run needs to know of a record this one wrote.
fn remember(state: &mut SyncState, mapping: &sync_core::Mapping, id: ContactId, applied: Applied) {
    if let Some(page) = &applied.base.page_id {
        state.handouts.remove(page);
    }
    if applied.base.status.is_deleted_in_dialer() {
        // The tombstone stays in its base; the index forgets it, so later
        // runs do not read it again, and remembers whose its page is.
        state.index.remove(&id);
        if let Some(page) = applied.base.page_id {
            state.tombstones.insert(page, id);
        }
        return;
    }
    state.index.insert(
        id,
        IndexEntry {
            // Not known (the contact changed meanwhile): the next run reads it.
            dialer: applied.dialer_version.unwrap_or_default(),
            page_id: applied.base.page_id.clone(),
            notion: fingerprint(mapping, &applied.base.notion),
            archived: applied.base.status == sync_core::RecordStatus::ArchivedInNotion,
            conflict: applied.conflict_open,
        },
    );
}
