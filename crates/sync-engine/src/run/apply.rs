//! Phase 3: apply the plan, a few records at a time under the shared Notion
//! limiter, until the deadline. One record's writes go in this order:
//!
//! 1. the lease is checked (and renewed when due);
//! 2. a backup of every value the writes replace;
//! 3. a contact made from a page is created in the dialer (`if-none-match`,
//!    so an id taken meanwhile never reaches the page);
//! 4. Notion: an intent first for a page to create (a resumed run looks it
//!    up instead of creating another) and for call-log entries (a resumed
//!    run checks the page body first), then the page and its call log;
//! 5. the dialer, conditionally on the version read: a contact changed
//!    meanwhile is not overwritten; the base then records that Notion's
//!    writes are done and the dialer's are not (the next run merges them);
//! 6. the record's conflicts, merged with those still open;
//! 7. its base, conditionally on the version read: a base another run
//!    wrote meanwhile is never overwritten.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures::stream::{self, StreamExt};
use notion_client::{CreateDedupe, NotionError, Page};
use serde_json::{Map, Value as Json};
use sync_core::calllog::LogEntry;
use sync_core::notion_value::write_property;
use sync_core::{
    merge_conflicts, Base, ContactId, DialerContact, DialerWrite, FieldMap, Mapping, NotionWrite,
    Plan, RecordPlan, Strategy, Value,
};

use super::{snapshot, Batch, Engine, Reading, RunOptions, IN_FLIGHT_GRACE};

use crate::dialer::{ContactWrite, Listed};
use crate::error::EngineError;
use crate::lock::RunLock;
use crate::state::{CallsIntent, ConflictRecord, CreateIntent, PageCopy, RepeatCheck, Version};

/// How long after an ambiguous, unconfirmed create the page may still be
/// missing from Notion's queries (read-after-write lag). Until then a run
/// that finds no page for such an intent waits instead of creating one;
/// after it, "not found" means the create never committed. Notion documents
/// no bound: this is an assumption (README, "Under these assumptions").
pub const CREATE_SETTLE_MINUTES: i64 = 2;

/// Why a record waits while Notion's Free plan block limit refuses content.
const BLOCK_LIMIT_WAIT: &str = "Notion's Free plan block limit: this contact's page waits until the workspace's plan is upgraded in Notion (the run's notes say more)";

pub(crate) struct ApplyContext<'a> {
    pub(crate) mapping: &'a Mapping,
    pub(crate) data_source_id: &'a str,
    pub(crate) contacts: &'a BTreeMap<ContactId, (DialerContact, Option<String>)>,
    pub(crate) listing: &'a BTreeMap<ContactId, Listed>,
    pub(crate) base_versions: &'a BTreeMap<ContactId, Version>,
    /// Records with a conflict still open ([`Reading::open_conflicts`]).
    pub(crate) open_conflicts: BTreeSet<ContactId>,
    pub(crate) run_id: &'a str,
    pub(crate) lock: Option<&'a RunLock>,
    /// [`Reading::blocks_refused`].
    pub(crate) blocks_refused: &'a AtomicBool,
    /// [`Reading::out_of_budget`].
    pub(crate) out_of_budget: &'a AtomicBool,
}

impl ApplyContext<'_> {
    /// Before each write: stop once another run has taken the lease.
    async fn check(&self) -> Result<(), EngineError> {
        match self.lock {
            Some(lock) => lock.check().await,
            None => Ok(()),
        }
    }

    fn base_version(&self, id: ContactId) -> Version {
        self.base_versions.get(&id).cloned().unwrap_or(Version::New)
    }
}

/// What became of one record.
pub(crate) enum Outcome {
    /// Every write done, the base saved.
    Done(Applied),
    /// Notion's writes done, the dialer's not (the contact changed since it
    /// was read): the base saved says so, and the next run merges the rest.
    Partial(Applied),
    /// Left for the next run: nothing was written, or nothing recorded as done.
    Deferred(String),
    Failed(EngineError),
}

pub(crate) struct Applied {
    pub(crate) base: Base,
    /// The contact's version after this run (`None`: not known).
    pub(crate) dialer_version: Option<String>,
    pub(crate) conflict_open: bool,
    /// Calls planned for the log that Notion's block limit kept out (the
    /// base says they are not logged).
    pub(crate) calls_waiting: usize,
}

/// Notion's part of a record.
enum NotionDone {
    Written {
        page_url: Option<String>,
        calls_waiting: usize,
    },
    /// Notion refused because the page is in its trash.
    PageTrashed(String),
}

impl Engine {
    /// Applies every record of `plan` until the deadline.
    pub(crate) async fn apply_all(
        &self,
        plan: &Plan,
        reading: &Reading,
        batch: &Batch,
        run_id: &str,
        options: &RunOptions,
        lock: Option<&RunLock>,
    ) -> Vec<(RecordPlan, Outcome)> {
        let ctx = ApplyContext {
            mapping: &reading.mapping,
            data_source_id: &reading.data_source_id,
            contacts: &batch.contacts,
            listing: &reading.listing,
            base_versions: &batch.base_versions,
            open_conflicts: reading.open_conflicts(),
            run_id,
            lock,
            blocks_refused: &reading.blocks_refused,
            out_of_budget: &reading.out_of_budget,
        };
        stream::iter(plan.records.iter().cloned())
            .map(|r| {
                let ctx = &ctx;
                async move {
                    let outcome = self.apply_until(&r, ctx, options.deadline).await;
                    (r, outcome)
                }
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await
    }

    /// One record, unless the deadline has passed or the lease is lost. A
    /// record still waiting (on Notion's rate limit, say) when the function
    /// must answer is cut off; intents make whatever it started safe to redo.
    async fn apply_until(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        deadline: Option<Instant>,
    ) -> Outcome {
        if deadline.is_some_and(|d| Instant::now() >= d)
            || ctx.out_of_budget.load(Ordering::Relaxed)
        {
            return Outcome::Deferred("left for the next run (deadline)".into());
        }
        if ctx.lock.is_some_and(RunLock::is_lost) {
            return Outcome::Deferred(EngineError::LeaseLost.to_string());
        }
        let result = match deadline {
            Some(d) => {
                let cutoff = tokio::time::Instant::from_std(d + IN_FLIGHT_GRACE);
                match tokio::time::timeout_at(cutoff, self.apply_record(r, ctx)).await {
                    Ok(result) => result,
                    Err(_) => Ok(Outcome::Deferred(
                        "cut off at the deadline; redone next run".into(),
                    )),
                }
            }
            None => self.apply_record(r, ctx).await,
        };
        if let Err(EngineError::Notion(NotionError::OutOfTime { .. })) = &result {
            ctx.out_of_budget.store(true, Ordering::Relaxed);
        }
        match result {
            Ok(outcome) => outcome,
            Err(
                e @ (EngineError::LeaseLost
                | EngineError::Moved(_)
                | EngineError::Waiting(_)
                | EngineError::Notion(
                    NotionError::CreateUnconfirmed { .. } | NotionError::OutOfTime { .. },
                )),
            ) => Outcome::Deferred(e.to_string()),
            Err(e) => Outcome::Failed(e),
        }
    }

    /// Applies one record's plan (see the module docs for the order).
    async fn apply_record(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
    ) -> Result<Outcome, EngineError> {
        ctx.check().await?;
        self.back_up(r, ctx).await?;
        let mut base = r.base.clone();
        let mut dialer_version = None;
        let creates_contact = matches!(r.dialer, DialerWrite::Create { .. });
        if creates_contact {
            dialer_version = Some(self.apply_dialer(r, ctx, &mut base, None).await?.ok_or_else(|| {
                EngineError::BadRequest(format!(
                    "Dialer ID {} was taken in the dialer meanwhile; the page gets another id on the next run",
                    r.contact_id
                ))
            })?);
        }
        ctx.check().await?;
        let (page_url, calls_waiting) = match self.apply_notion(r, ctx, &mut base).await {
            Ok(NotionDone::Written {
                page_url,
                calls_waiting,
            }) => (page_url, calls_waiting),
            Ok(NotionDone::PageTrashed(page_id)) => {
                return self.page_was_trashed(r, ctx, base, &page_id).await
            }
            // The contact made from the page exists now: its link is recorded
            // (the page's Dialer ID is written by the next run), so nothing
            // ever makes a second contact of the page, and a delete of this
            // one archives the page.
            Err(e) if creates_contact && !matches!(e, EngineError::LeaseLost) => {
                tracing::warn!(contact = %r.contact_id, error = %e, "contact created from its page; the page's Dialer ID is written next run");
                let applied = self.finish(r, ctx, base, dialer_version).await?;
                return Ok(Outcome::Partial(applied));
            }
            Err(e) => return Err(e),
        };
        if !creates_contact {
            ctx.check().await?;
            match self.apply_dialer(r, ctx, &mut base, page_url).await? {
                Some(version) => dialer_version = Some(version),
                None => return self.finish_without_dialer(r, ctx, base).await,
            }
        }
        let mut applied = self.finish(r, ctx, base, dialer_version).await?;
        applied.calls_waiting = calls_waiting;
        Ok(Outcome::Done(applied))
    }

    /// The contact changed in the dialer while Notion was written: record
    /// what Notion holds and what was logged; leave the dialer's part to the
    /// next run (see [`RecordPlan::base_without_dialer_write`]).
    async fn finish_without_dialer(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        base: Base,
    ) -> Result<Outcome, EngineError> {
        let wrote_notion = r.notion != NotionWrite::None || !r.calls_to_log.is_empty();
        let Some((contact, _)) = ctx.contacts.get(&r.contact_id).filter(|_| wrote_notion) else {
            return Ok(Outcome::Deferred(
                "changed in the dialer meanwhile; merged next run".into(),
            ));
        };
        let base = r.base_without_dialer_write(&base, &contact.values, ctx.mapping);
        let applied = self.finish(r, ctx, base, None).await?;
        Ok(Outcome::Partial(applied))
    }

    /// Saves the record's conflicts and base, then clears its intents.
    async fn finish(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        mut base: Base,
        dialer_version: Option<String>,
    ) -> Result<Applied, EngineError> {
        base.synced_at = self.now();
        ctx.check().await?;
        let conflict_open = self.save_conflicts(r, ctx, &base).await?;
        self.state
            .save_base_if(&base, &ctx.base_version(r.contact_id))
            .await?;
        if matches!(r.notion, NotionWrite::Create { .. }) {
            self.state.clear_intent(r.contact_id).await?;
        }
        if !r.calls_to_log.is_empty() {
            self.state.clear_calls_intent(r.contact_id).await?;
        }
        Ok(Applied {
            base,
            dialer_version,
            conflict_open,
            calls_waiting: 0,
        })
    }

    /// Merges the record's new conflicts into those still open (a second
    /// conflict never replaces the first); drops waiting ones both sides
    /// have since settled. Whether one stays open.
    async fn save_conflicts(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        base: &Base,
    ) -> Result<bool, EngineError> {
        let id = r.contact_id;
        // (A delete or a trashed page settles any conflict: looked for even
        // when the index does not say one is open.)
        let settles_all = base.status != sync_core::RecordStatus::Active;
        if r.conflicts.is_empty() && !ctx.open_conflicts.contains(&id) && !settles_all {
            return Ok(false);
        }
        let mut earlier = self.state.conflict(id).await?;
        let deleted_in_dialer =
            base.status == sync_core::RecordStatus::DeletedInDialerEditedInNotion;
        // A deletion settles every field conflict of the contact, and a
        // contact back in the dialer settles its deletion conflict: the old
        // conflict is filed with its values, no longer open.
        let status = base.status;
        let parked = status == sync_core::RecordStatus::ArchivedInNotion;
        // A conflict found on a page that is no longer the record's (it went
        // to the trash before a run saved the link, and the contact got a
        // new page) cannot be answered: it is filed with its values.
        let moved = |e: &ConflictRecord| {
            e.page_id.is_some() && base.page_id.is_some() && e.page_id != base.page_id
        };
        let why = match status {
            sync_core::RecordStatus::DeletedInDialer => "the contact was deleted in the dialer",
            sync_core::RecordStatus::DeletedInDialerEditedInNotion => {
                "the contact was deleted in the dialer; its deletion waits for a choice instead"
            }
            sync_core::RecordStatus::ArchivedInNotion => {
                "its page went to Notion's trash; a restored page is merged afresh"
            }
            _ if earlier.as_ref().is_some_and(moved) => {
                "the contact is on another page now; this conflict was about its earlier page"
            }
            _ => "the contact is back in the dialer",
        };
        if let Some(e) = earlier
            .take_if(|e| status.is_deleted_in_dialer() || parked || e.deleted_in_dialer || moved(e))
        {
            self.file_superseded(&e, why).await?;
            if r.conflicts.is_empty() {
                self.state.clear_conflict(id).await?;
                return Ok(false);
            }
        }
        let fields = match &earlier {
            Some(e) => merge_conflicts(&e.fields, &r.conflicts, base, ctx.mapping),
            None => r.conflicts.clone(),
        };
        if fields.is_empty() {
            if earlier.is_some() {
                self.state.clear_conflict(id).await?;
            }
            return Ok(false);
        }
        if earlier.as_ref().is_some_and(|e| e.fields == fields) {
            return Ok(true);
        }
        self.state
            .save_conflict(&ConflictRecord {
                contact_id: id,
                page_id: base.page_id.clone(),
                company_name: r.company_name.clone(),
                fields,
                detected_at: self.now(),
                deleted_in_dialer,
            })
            .await?;
        Ok(true)
    }

    /// Notion's writes for one record: create, update or archive the page,
    /// and append its call-log entries.
    async fn apply_notion(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        base: &mut Base,
    ) -> Result<NotionDone, EngineError> {
        let id = r.contact_id;
        match &r.notion {
            NotionWrite::Create { values, notes } => {
                let (page, calls_sent) = self.create_page(r, ctx, values, notes.as_deref()).await?;
                base.page_id = Some(page.id.clone());
                base.notion = notion_view(ctx.mapping, &page, &base.notion);
                let mut calls_waiting = 0;
                if !calls_sent && !r.calls_to_log.is_empty() {
                    calls_waiting = self.log_calls(r, ctx, &page.id, base).await?;
                }
                Ok(NotionDone::Written {
                    page_url: Some(page.url),
                    calls_waiting,
                })
            }
            NotionWrite::Update {
                values,
                set_dialer_id,
                notes,
            } => {
                let page_id = base
                    .page_id
                    .clone()
                    .ok_or_else(|| EngineError::State(format!("record {id} has no page")))?;
                let mut props = write_props(ctx.mapping, values, notes.as_deref())?;
                if *set_dialer_id {
                    if let Some((k, v)) = ctx.mapping.write_dialer_id(id) {
                        props.insert(k, v);
                    }
                }
                // The properties and the call log are independent writes: send both at once.
                let update = async {
                    self.notion
                        .update_page(&page_id, props)
                        .await
                        .map_err(EngineError::from)
                };
                let written = if r.calls_to_log.is_empty() {
                    update.await.map(|page| (page, 0))
                } else {
                    let (page, waiting) =
                        tokio::join!(update, self.append_unless_blocked(r, ctx, &page_id));
                    page.and_then(|page| waiting.map(|w| (page, w)))
                };
                match written {
                    Ok((page, calls_waiting)) => {
                        base.notion = notion_view(ctx.mapping, &page, &base.notion);
                        unlog_waiting(base, r, calls_waiting);
                        Ok(NotionDone::Written {
                            page_url: Some(page.url),
                            calls_waiting,
                        })
                    }
                    // Trashed in Notion since the last full scan.
                    Err(EngineError::Notion(NotionError::Validation { message, .. }))
                        if message.contains("archived") || message.contains("trash") =>
                    {
                        Ok(NotionDone::PageTrashed(page_id))
                    }
                    Err(e) => Err(e),
                }
            }
            NotionWrite::Trash => {
                if let Some(page_id) = &base.page_id {
                    match self.notion.set_in_trash(page_id, true).await {
                        Ok(_) | Err(NotionError::NotFound { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(NotionDone::Written {
                    page_url: None,
                    calls_waiting: 0,
                })
            }
            NotionWrite::None => {
                let mut calls_waiting = 0;
                if let (false, Some(page_id)) = (r.calls_to_log.is_empty(), base.page_id.clone()) {
                    calls_waiting = self.log_calls(r, ctx, &page_id, base).await?;
                }
                Ok(NotionDone::Written {
                    page_url: None,
                    calls_waiting,
                })
            }
        }
    }

    /// Creates the record's page with its call log, unless a run that died
    /// after creating it left its intent and the page is there. Whether the
    /// call log went with the create.
    async fn create_page(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        values: &FieldMap,
        notes: Option<&str>,
    ) -> Result<(Page, bool), EngineError> {
        let id = r.contact_id;
        if ctx.blocks_refused.load(Ordering::Relaxed) {
            return Err(EngineError::Waiting(BLOCK_LIMIT_WAIT.into()));
        }
        let id_prop = ctx
            .mapping
            .dialer_id_property()
            .unwrap_or("Dialer ID")
            .to_string();
        let intent = self.state.intent(id).await?;
        let tried_before = intent.is_some();
        if let Some(intent) = intent {
            let found = self
                .notion
                .query_by_number(ctx.data_source_id, &id_prop, id.get() as i64)
                .await?;
            if let Some(page) = first_page(found) {
                return Ok((page, false));
            }
            self.wait_for_unconfirmed(&intent)?;
        }
        let mut intent = CreateIntent {
            contact_id: id,
            started_at: self.now(),
            unconfirmed_at: None,
        };
        self.state.set_intent(&intent).await?;
        if !r.calls_to_log.is_empty() {
            // A create that committed without an answer has logged these: the
            // next run checks the page body before logging them again.
            self.state
                .set_calls_intent(
                    id,
                    &CallsIntent {
                        page_id: String::new(),
                        refs: r.calls_to_log.iter().map(LogEntry::reference).collect(),
                    },
                )
                .await?;
        }
        let mut props = write_props(ctx.mapping, values, notes)?;
        if let Some((k, v)) = ctx.mapping.write_dialer_id(id) {
            props.insert(k, v);
        }
        let children: Vec<Json> = r
            .calls_to_log
            .iter()
            .flat_map(|c| c.blocks(ctx.mapping.zone))
            .collect();
        let created = self
            .notion
            .create_page(
                ctx.data_source_id,
                props,
                children,
                Some(CreateDedupe {
                    property: id_prop.clone(),
                    number: id.get() as i64,
                }),
            )
            .await;
        let page = match created {
            Err(e @ NotionError::CreateUnconfirmed { .. }) => {
                // It may exist and not show yet: the next run waits for it.
                intent.unconfirmed_at = Some(self.now());
                self.state.set_intent(&intent).await?;
                return Err(e.into());
            }
            Err(NotionError::BlockLimit) => {
                ctx.blocks_refused.store(true, Ordering::Relaxed);
                return Err(EngineError::Waiting(BLOCK_LIMIT_WAIT.into()));
            }
            other => other?,
        };
        // Another run may have been creating this page too: one that tried
        // before and stalled past its lease (its intent is what this run
        // found), or the one that took over while this run stalled. Only the
        // run holding the lease records a page, so its page is the one kept.
        if ctx.check().await.is_err() {
            let check = RepeatCheck {
                contact_id: id,
                page_id: page.id.clone(),
                entries: Vec::new(),
                page_copy: Some(PageCopy {
                    data_source_id: ctx.data_source_id.to_string(),
                    id_property: id_prop,
                    created_at: self.now(),
                }),
            };
            self.check_now_or_later(&check).await?;
            return Err(EngineError::LeaseLost);
        }
        if tried_before {
            self.keep_one_page(ctx, &id_prop, id, &page).await?;
        }
        Ok((page, true))
    }

    /// A create Notion answered ambiguously, whose page no query shows yet:
    /// queries can lag behind writes, so "not found" only means "never
    /// created" once [`CREATE_SETTLE_MINUTES`] have passed since.
    fn wait_for_unconfirmed(&self, intent: &CreateIntent) -> Result<(), EngineError> {
        let Some(at) = intent.unconfirmed_at else {
            return Ok(());
        };
        let settled_at = at + chrono::Duration::minutes(CREATE_SETTLE_MINUTES);
        if self.now() >= settled_at {
            return Ok(());
        }
        Err(EngineError::Waiting(format!(
            "Notion did not confirm creating this contact's page at {} and its queries do not show it yet; it is looked for again after {} before it is created",
            at.format("%H:%M:%S UTC"),
            settled_at.format("%H:%M:%S UTC"),
        )))
    }

    /// After a create a run that stalled before may have raced (its intent
    /// is what this run found): this run holds the lease, so its page stays
    /// and the others go to the trash.
    async fn keep_one_page(
        &self,
        ctx: &ApplyContext<'_>,
        id_prop: &str,
        id: ContactId,
        mine: &Page,
    ) -> Result<(), EngineError> {
        let found = self
            .notion
            .query_by_number(ctx.data_source_id, id_prop, id.get() as i64)
            .await?;
        for page in found.iter().filter(|p| p.id != mine.id) {
            tracing::warn!(contact = %id, trashed = page.id, "two runs created a page for one contact; the copy goes to Notion's trash");
            super::repeats::trash(&self.notion, &page.id).await?;
        }
        Ok(())
    }

    /// Logs the record's calls on `page_id` (see [`Self::append_unless_blocked`]),
    /// marking in `base` the ones that wait; how many wait.
    async fn log_calls(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        page_id: &str,
        base: &mut Base,
    ) -> Result<usize, EngineError> {
        let waiting = self.append_unless_blocked(r, ctx, page_id).await?;
        unlog_waiting(base, r, waiting);
        Ok(waiting)
    }

    /// Appends the record's calls, unless Notion's Free plan block limit
    /// refuses content: then nothing is appended (and nothing more is tried
    /// this run) and the calls wait; how many wait.
    async fn append_unless_blocked(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        page_id: &str,
    ) -> Result<usize, EngineError> {
        if ctx.blocks_refused.load(Ordering::Relaxed) {
            return Ok(r.calls_to_log.len());
        }
        match self
            .append_calls(ctx, r.contact_id, page_id, &r.calls_to_log)
            .await
        {
            Ok(()) => Ok(0),
            Err(EngineError::Notion(NotionError::BlockLimit)) => {
                ctx.blocks_refused.store(true, Ordering::Relaxed);
                tracing::warn!(contact = %r.contact_id, "Notion's block limit refuses the call log; the calls wait");
                Ok(r.calls_to_log.len())
            }
            Err(e) => Err(e),
        }
    }

    /// Appends call-log entries once. An intent names the entries being
    /// appended, so a run that died mid-append checks the page body before
    /// appending again.
    async fn append_calls(
        &self,
        ctx: &ApplyContext<'_>,
        id: ContactId,
        page_id: &str,
        entries: &[LogEntry],
    ) -> Result<(), EngineError> {
        let zone = ctx.mapping.zone;
        let mut entries = entries.to_vec();
        if self.state.calls_intent(id).await?.is_some() {
            let body = body_text(&self.notion.list_children(page_id).await?);
            entries = still_to_log(entries, &body);
        }
        let intent = CallsIntent {
            page_id: page_id.to_string(),
            refs: entries.iter().map(LogEntry::reference).collect(),
        };
        self.state.set_calls_intent(id, &intent).await?;
        let blocks: Vec<Json> = entries.iter().flat_map(|c| c.blocks(zone)).collect();
        if blocks.is_empty() {
            return Ok(());
        }
        let appended = self.notion.append_children(page_id, blocks).await;
        // A run that stalled past its lease while appending (answered or not:
        // an append Notion failed may have gone through): the run that took
        // over may have logged the same entries. Each is left once; what to
        // check is saved first, so the next run does it if this one cannot.
        if ctx.check().await.is_err() {
            let check = RepeatCheck {
                contact_id: id,
                page_id: page_id.to_string(),
                entries: entries
                    .iter()
                    .map(|e| (e.reference(), Vec::new()))
                    .collect(),
                page_copy: None,
            };
            self.check_now_or_later(&check).await?;
            return Err(EngineError::LeaseLost);
        }
        appended?;
        Ok(())
    }

    /// Notion refused a write because the page is in its trash: the record
    /// is handled as a page trashed in Notion (the contact kept, marked
    /// archived) once the page confirms it.
    async fn page_was_trashed(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        base: Base,
        page_id: &str,
    ) -> Result<Outcome, EngineError> {
        let page = self.notion.retrieve_page(page_id).await?;
        if !page.in_trash {
            return Err(EngineError::BadRequest(format!(
                "Notion refused to update page {page_id} as archived, but it is not in the trash"
            )));
        }
        let trashed = RecordPlan {
            notion: NotionWrite::None,
            dialer: DialerWrite::Update {
                values: FieldMap::new(),
                archived: Some(true),
            },
            calls_to_log: Vec::new(),
            conflicts: Vec::new(),
            ..r.clone()
        };
        // Nothing planned reached the page: the next merge (once the page is
        // restored) sees every change again, calls included.
        let mut base = r.base_without_writes(&base, ctx.mapping);
        base.status = sync_core::RecordStatus::ArchivedInNotion;
        let Some(dialer_version) = self
            .apply_dialer(&trashed, ctx, &mut base, Some(page.url.clone()))
            .await?
        else {
            return Ok(Outcome::Deferred(
                "changed in the dialer meanwhile; merged next run".into(),
            ));
        };
        let applied = self
            .finish(&trashed, ctx, base, Some(dialer_version))
            .await?;
        tracing::info!(contact = %r.contact_id, page = page_id, "the page is in Notion's trash; contact marked archived");
        Ok(Outcome::Done(applied))
    }

    /// Writes the dialer side of a record, conditionally on the version
    /// this run read. Returns the contact's new version, or `None` when it
    /// changed under us (or, for a create, its id was taken): nothing was
    /// written then.
    async fn apply_dialer(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        base: &mut Base,
        page_url: Option<String>,
    ) -> Result<Option<String>, EngineError> {
        let id = r.contact_id;
        let read_version = ctx
            .contacts
            .get(&id)
            .and_then(|(_, v)| v.clone())
            .or_else(|| ctx.listing.get(&id).map(|l| l.version.clone()));
        let change = match &r.dialer {
            DialerWrite::Create { values } => Some((values.clone(), false, true)),
            DialerWrite::Update { values, archived } => {
                Some((values.clone(), archived.unwrap_or(false), false))
            }
            // A new page: tell the dialer where its contact lives in Notion.
            DialerWrite::None if matches!(r.notion, NotionWrite::Create { .. }) => {
                Some((FieldMap::new(), false, false))
            }
            DialerWrite::None => None,
        };
        let Some((values, archived, create)) = change else {
            return Ok(Some(read_version.unwrap_or_default()));
        };
        let page_id = base.page_id.clone().unwrap_or_default();
        let url = page_url.or_else(|| {
            (!page_id.is_empty())
                .then(|| format!("https://www.notion.so/{}", page_id.replace('-', "")))
        });
        let written: Vec<String> = values.keys().cloned().collect();
        let write = ContactWrite {
            values,
            mirror: Some((page_id, url, archived)),
        };
        let version = if create {
            None
        } else {
            read_version.as_deref()
        };
        match self.dialer.write(id, version, &write, create).await? {
            Some((raw, version)) => {
                if let Ok(contact) = DialerContact::parse(
                    &Json::Object(raw),
                    &id.to_string(),
                    self.config.sync.time_zone,
                ) {
                    // The fields written, as the dialer stored them; the others
                    // stay as the plan has them (a run that merged nothing, one
                    // marking a contact archived, must not take in an edit it
                    // did not sync).
                    for k in &written {
                        let v = contact.values.get(k).cloned().unwrap_or(Value::Empty);
                        base.dialer.insert(k.clone(), v);
                    }
                }
                Ok(Some(version))
            }
            None => Ok(None),
        }
    }
}

/// The base no longer says the record's calls are logged when `waiting` of
/// them could not be (they are logged by a later run).
fn unlog_waiting(base: &mut Base, r: &RecordPlan, waiting: usize) {
    if waiting > 0 {
        sync_core::calllog::unmark_logged(&mut base.logged_calls, &r.calls_to_log);
    }
}

/// A page body's text, every block's pieces run together (a long note
/// spans several pieces and blocks).
fn body_text(blocks: &[Json]) -> String {
    blocks
        .iter()
        .flat_map(|b| {
            let kind = b["type"].as_str().unwrap_or("paragraph");
            b[kind]["rich_text"].as_array().cloned().unwrap_or_default()
        })
        .filter_map(|t| {
            t["plain_text"]
                .as_str()
                .or(t["text"]["content"].as_str())
                .map(str::to_string)
        })
        .collect()
}

/// The entries a page body does not hold yet. A call already there whose
/// notes are not (typed after an append that went out but was not
/// recorded) gets its notes logged as an edit instead.
fn still_to_log(entries: Vec<LogEntry>, body: &str) -> Vec<LogEntry> {
    entries
        .into_iter()
        .filter_map(|e| {
            if !body.contains(&e.reference()) {
                return Some(e);
            }
            let notes = e.call.notes.as_deref().filter(|n| !n.is_empty())?;
            (!e.notes_edit && !body.contains(notes)).then_some(LogEntry {
                notes_edit: true,
                ..e
            })
        })
        .filter(|e| !(e.notes_edit && body.contains(&e.reference())))
        .collect()
}

/// The page a contact keeps when there are several: the first created,
/// then the lower id (edit times are minute-rounded, ids are not).
fn first_page(pages: Vec<Page>) -> Option<Page> {
    pages
        .into_iter()
        .min_by(|a, b| (a.created_time, &a.id).cmp(&(b.created_time, &b.id)))
}

/// The properties to send for `values`, with the Notes property's new text
/// when call notes go there.
fn write_props(
    mapping: &Mapping,
    values: &FieldMap,
    notes: Option<&str>,
) -> Result<Map<String, Json>, EngineError> {
    let mut props = mapping
        .write_properties(values)
        .map_err(|e| EngineError::BadRequest(e.to_string()))?;
    if let Some(text) = notes {
        if let Some(f) = mapping
            .field("notes")
            .filter(|f| f.spec.strategy == Strategy::NotionOwned)
        {
            let v = write_property(
                &f.property,
                f.kind,
                &Value::text(text.to_string()),
                mapping.zone,
            )
            .map_err(|e| EngineError::BadRequest(e.to_string()))?;
            props.insert(f.property.clone(), v);
        }
    }
    Ok(props)
}

/// The Notion side of the base, as Notion gave it back after the write:
/// whatever Notion normalised is what the next run compares with.
fn notion_view(mapping: &Mapping, page: &Page, predicted: &FieldMap) -> FieldMap {
    let read = mapping.read_page(&snapshot(page.clone())).values;
    predicted
        .keys()
        .map(|k| (k.clone(), read.get(k).cloned().unwrap_or(Value::Empty)))
        .collect()
}
