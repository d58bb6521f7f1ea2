//! Phase 4: what the run learnt goes into the sync's state: the index (so
//! the next run reads only what moves), the next free Dialer ID, and the
//! Notion cursor. Each batch's outcomes are gathered in [`Progress`]; the
//! state is saved once, at the end, only if no other run saved it since
//! this one read it, and only while this run still holds its lease.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use sync_core::{ContactId, NotionRecord, Plan, RecordPlan};

use super::apply::{Applied, Outcome};
use super::{Batch, Engine, Reading, RunOptions, CURSOR_OVERLAP_MINUTES};
use crate::error::EngineError;
use crate::lock::RunLock;
use crate::report::{count, record_report, RecordStatus, RunReport};
use crate::state::{fingerprint, IndexEntry, SyncState};

/// What a run's batches did, for the commit.
pub(crate) struct Progress {
    /// The next free Dialer ID after the batches' new contacts.
    pub next_id: u64,
    /// Pages the batches' records use (typed pages taken are not offered again).
    pub taken_pages: BTreeSet<String>,
    /// The earliest edit of a page whose record was left undone: the
    /// cursor must not pass it.
    undone_since: Option<DateTime<Utc>>,
    /// Some record was left for the next run.
    deferred: bool,
    /// Index changes: an entry to set, or `None` to forget the record.
    index: Vec<(ContactId, Option<IndexEntry>)>,
    /// Contacts read that needed nothing: their new version.
    versions: Vec<(ContactId, String)>,
    /// Pages of contacts deleted in the dialer.
    tombstones: Vec<(String, ContactId)>,
    /// Notion refused a write: the schema may have changed.
    schema_stale: bool,
}

impl Progress {
    pub fn new(next_id: u64) -> Progress {
        Progress {
            next_id,
            taken_pages: BTreeSet::new(),
            undone_since: None,
            deferred: false,
            index: Vec::new(),
            versions: Vec::new(),
            tombstones: Vec::new(),
            schema_stale: false,
        }
    }

    fn undone(&mut self, page: Option<&NotionRecord>) {
        self.deferred = true;
        if let Some(t) = page.map(|p| p.last_edited_time) {
            self.undone_since = Some(self.undone_since.map_or(t, |u| u.min(t)));
        }
    }

    /// A batch's outcomes into the report and the index.
    pub fn record(
        &mut self,
        reading: &Reading,
        batch: &Batch,
        plan: &Plan,
        mut outcomes: Vec<(RecordPlan, Outcome)>,
        report: &mut RunReport,
    ) {
        outcomes.sort_by_key(|(r, _)| r.contact_id);
        for (r, outcome) in outcomes {
            let page = r
                .page_id
                .as_deref()
                .and_then(|p| batch.pages.iter().find(|x| x.page_id == p));
            match outcome {
                Outcome::Done(applied) => {
                    count(&mut report.summary, &r);
                    let mut rr = record_report(&r, RecordStatus::Synced, None);
                    crate::report::calls_waiting(
                        &mut rr,
                        &mut report.summary,
                        applied.calls_waiting,
                    );
                    rr.page_id = applied.base.page_id.clone();
                    report.records.push(rr);
                    self.remember(&reading.mapping, r.contact_id, applied);
                }
                Outcome::Partial(applied) => {
                    self.undone(page);
                    report.summary.remaining += 1;
                    report.records.push(record_report(
                        &r,
                        RecordStatus::Deferred,
                        Some("Notion updated; the dialer's part waits: the contact changed meanwhile".into()),
                    ));
                    self.remember(&reading.mapping, r.contact_id, applied);
                }
                Outcome::Deferred(why) => {
                    self.undone(page);
                    report.summary.remaining += 1;
                    report
                        .records
                        .push(record_report(&r, RecordStatus::Deferred, Some(why)));
                }
                Outcome::Failed(e) => {
                    // A failure is not "left for later": the brake and the first
                    // import's end do not wait for it, but its page is read again.
                    let deferred = self.deferred;
                    self.undone(page);
                    self.deferred = deferred;
                    report.summary.failed += 1;
                    if matches!(
                        e,
                        EngineError::Notion(notion_client::NotionError::Validation { .. })
                    ) {
                        self.schema_stale = true;
                    }
                    tracing::warn!(contact = %r.contact_id, error = %e, "record failed");
                    report.records.push(record_report(
                        &r,
                        RecordStatus::Failed,
                        Some(e.to_string()),
                    ));
                }
            }
        }
        // Contacts read that needed nothing still refresh the index, so the
        // next run does not read them again.
        for (id, (_, version)) in &batch.contacts {
            if let (false, Some(v)) = (plan.records.iter().any(|r| r.contact_id == *id), version) {
                self.versions.push((*id, v.clone()));
            }
        }
    }

    /// What the next run needs to know of a record this one wrote.
    fn remember(&mut self, mapping: &sync_core::Mapping, id: ContactId, applied: Applied) {
        if applied.base.status.is_deleted_in_dialer() {
            // The tombstone stays in its base; the index forgets it, so later
            // runs do not read it again, and remembers whose its page is.
            if let Some(page) = applied.base.page_id {
                self.tombstones.push((page, id));
            }
            self.index.push((id, None));
            return;
        }
        let entry = IndexEntry {
            // Not known (the contact changed meanwhile): the next run reads it.
            dialer: applied.dialer_version.unwrap_or_default(),
            page_id: applied.base.page_id.clone(),
            notion: fingerprint(mapping, &applied.base.notion),
            archived: applied.base.status == sync_core::RecordStatus::ArchivedInNotion,
            conflict: applied.conflict_open,
        };
        self.index.push((id, Some(entry)));
    }

    /// Records the run did not get to (the deadline): the next run reads
    /// them again, and the cursor waits for their pages.
    pub fn leave(&mut self, ids: &[ContactId], reading: &Reading, report: &mut RunReport) {
        if ids.is_empty() {
            return;
        }
        for id in ids {
            for page in reading.pages.get(id).into_iter().flatten() {
                self.undone(Some(page));
            }
        }
        self.deferred = true;
        report.summary.remaining += ids.len();
        report.problems.push(sync_core::Problem {
            contact_id: None,
            page_id: None,
            message: format!(
                "{} record(s) were left for the next run (time ran out); nothing is lost",
                ids.len()
            ),
        });
    }

    /// Typed pages the run did not get to turn into contacts.
    pub fn leave_typed_pages(&mut self, pages: &[NotionRecord]) {
        for page in pages {
            self.undone(Some(page));
        }
    }

    fn apply_to(self, state: &mut SyncState) -> (Option<DateTime<Utc>>, bool) {
        for (id, version) in self.versions {
            if let Some(entry) = state.index.get_mut(&id) {
                entry.dialer = version;
            }
        }
        for (id, entry) in self.index {
            match entry {
                Some(e) => state.index.insert(id, e),
                None => state.index.remove(&id),
            };
        }
        state.tombstones.extend(self.tombstones);
        // A typed page's contact is recorded now: its handed-out id is done.
        let linked = state.pages();
        let done: Vec<String> = state
            .handouts
            .keys()
            .filter(|p| linked.contains_key(p.as_str()))
            .cloned()
            .collect();
        for page in done {
            state.handouts.remove(&page);
        }
        state.next_id = state.next_id.max(self.next_id);
        if self.schema_stale {
            state.schema_fetched_at = None;
        }
        (self.undone_since, self.deferred)
    }
}

impl Engine {
    pub(crate) async fn commit(
        &self,
        reading: Reading,
        progress: Progress,
        options: &RunOptions,
        lock: Option<&RunLock>,
        report: &mut RunReport,
    ) -> Result<(), EngineError> {
        let Reading {
            data_source_id,
            mut state,
            state_version,
            full_scan,
            scan_complete,
            seen_until,
            ..
        } = reading;
        let (undone_since, deferred) = progress.apply_to(&mut state);
        state.data_source_id = Some(data_source_id);
        if options.scope.moves_cursor() {
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
            // (Records a run did not get to are looked at by the next full scan.)
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
        state.notion_window = self.notion.window().await;
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
