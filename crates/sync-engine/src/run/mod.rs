//! One sync run, as a pipeline of phases under the run lock:
//!
//! 1. [`read`]: the sync's state, the schema, what changed on both sides,
//!    and the bases of every record involved (with their versions);
//! 2. plan: `sync_core::plan`, pure;
//! 3. [`apply`]: record by record, each record's writes, backup first and
//!    its base last, conditionally on what was read;
//! 4. [`commit`]: the index, the cursor and the state, conditionally on the
//!    version read in 1;
//!
//! then the run is recorded in the history and the lease released. Each
//! phase stops at the deadline: what is left is left for the next run, and
//! nothing half-done is ever recorded as done.

mod apply;
mod commit;
mod read;
mod repeats;

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use notion_client::{NotionClient, NotionError, Page};
use serde_json::Value as Json;
use sync_core::{
    ContactId, ContactSnapshot, DialerWrite, Mapping, PageSnapshot, Plan, PlanInput, Schema,
    SchemaReport,
};

use crate::config::EngineConfig;
use crate::dialer::DialerStore;
use crate::error::EngineError;
use crate::lock::RunLock;
use crate::report::{RecordStatus, RunReport};
use crate::state::StateStore;

pub(crate) use apply::ApplyContext;
pub use apply::CREATE_SETTLE_MINUTES;
use commit::Progress;
pub(crate) use read::{Batch, Reading};

/// Notion rounds edit times down to the minute and a query takes time: the
/// cursor is kept this far behind Notion's clock at the end of a query.
pub const CURSOR_OVERLAP_MINUTES: i64 = 1;

/// How long records already under way may run past the deadline (which
/// already leaves the function a margin) before they are cut off.
pub const IN_FLIGHT_GRACE: std::time::Duration = std::time::Duration::from_millis(1500);

/// How long a run trusts the schema it cached (a property renamed in Notion
/// is noticed within this time, or at once when Notion refuses a write).
pub const SCHEMA_CACHE_MINUTES: i64 = 10;

/// How long a run's lease lasts without renewal. Every function answers
/// long before; a longer run (the CLI) renews it as it goes.
pub const LEASE_MINUTES: i64 = 5;

/// Which changes a run looks for. Every record it touches is merged both
/// ways, so a push never overwrites a Notion edit and a pull never overwrites
/// a call: the scope only decides where to look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Both sides (the scheduled run, "sync", "Sync to Notion" for all).
    All,
    /// These contacts only (a push right after a call).
    Contacts(Vec<ContactId>),
    /// Pages changed in Notion ("Pull from Notion").
    NotionChanges,
    /// Contacts to bring back to the dialer from their pages (a deletion
    /// undone in the conflict console): like `Contacts`, but the contacts
    /// are expected to be missing.
    Restore(Vec<ContactId>),
    /// Pages Notion said changed (a webhook's event): read by id and planned
    /// with their contacts under the same rules, typed pages included. It
    /// moves no cursor: the scheduled run still reads everything since.
    Pages(Vec<String>),
}

impl Scope {
    /// The run's mode as reports and the history name it.
    pub fn describe(&self) -> String {
        match self {
            Scope::All => "both ways".into(),
            Scope::Contacts(ids) => format!("push of {} contact(s)", ids.len()),
            Scope::NotionChanges => "pull from Notion".into(),
            Scope::Restore(ids) => format!("restore of {} contact(s) from Notion", ids.len()),
            Scope::Pages(ids) if ids.is_empty() => {
                "schema check (Notion said the database changed)".into()
            }
            Scope::Pages(ids) => format!("{} page(s) Notion told of", ids.len()),
        }
    }

    /// A run that reads Notion by its cursor (and so moves it, and does the
    /// periodic full scan).
    fn moves_cursor(&self) -> bool {
        matches!(self, Scope::All | Scope::NotionChanges)
    }

    /// A run about a few named contacts (it moves no cursor).
    fn is_targeted(&self) -> bool {
        matches!(self, Scope::Contacts(_) | Scope::Restore(_))
    }
}

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub scope: Scope,
    /// Plan and report, write nothing.
    pub dry_run: bool,
    /// Apply a plan the brake would hold.
    pub force: bool,
    /// Read Notion in full (also done every `full_scan_every`).
    pub full_scan: bool,
    /// No new work starts after this.
    pub deadline: Option<Instant>,
    /// Who runs (for the lock and the history): "scheduled-sync", "cli", ...
    pub actor: String,
    /// Fetch the schema again even if the cached one is fresh (Notion said
    /// it changed).
    pub refresh_schema: bool,
}

impl RunOptions {
    pub fn new(scope: Scope, actor: &str) -> Self {
        RunOptions {
            scope,
            dry_run: false,
            force: false,
            full_scan: false,
            deadline: None,
            actor: actor.to_string(),
            refresh_schema: false,
        }
    }

    /// Whether the deadline has passed.
    pub(crate) fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// The engine: configuration plus the two clients.
#[derive(Clone)]
pub struct Engine {
    pub config: EngineConfig,
    pub notion: NotionClient,
    pub dialer: DialerStore,
    pub state: StateStore,
    pub notifier: alerts::Notifier,
    blobs: netlify_blobs::BlobsClient,
}

impl Engine {
    pub fn new(
        config: EngineConfig,
        blobs: netlify_blobs::BlobsClient,
    ) -> Result<Engine, EngineError> {
        let notion = NotionClient::new(config.notion.clone())?;
        let dialer = DialerStore {
            store: blobs.store(&config.contacts_store),
            layout: config.contacts_layout.clone(),
            zone: config.sync.time_zone,
            list_writer: Default::default(),
        };
        let state = StateStore::new(blobs.store(&config.state_store));
        let notifier = alerts::Notifier::new(config.alerts.clone());
        Ok(Engine {
            config,
            notion,
            dialer,
            state,
            notifier,
            blobs,
        })
    }

    pub fn blobs(&self) -> &netlify_blobs::BlobsClient {
        &self.blobs
    }

    /// The engine's clock (see [`crate::clock::Clock`]).
    pub fn now(&self) -> DateTime<Utc> {
        self.config.clock.now()
    }

    /// The data source, its schema report and the mapping to sync through.
    pub async fn schema(
        &self,
        cached_data_source: Option<&str>,
    ) -> Result<(String, Mapping, SchemaReport), EngineError> {
        let (id, _, mapping, report) = self.fetch_schema(cached_data_source).await?;
        Ok((id, mapping, report))
    }

    pub(crate) async fn fetch_schema(
        &self,
        cached_data_source: Option<&str>,
    ) -> Result<(String, Json, Mapping, SchemaReport), EngineError> {
        let data_source_id = match cached_data_source {
            Some(id) => id.to_string(),
            None => {
                let db = self
                    .notion
                    .retrieve_database(self.notion.database().as_str())
                    .await?;
                db.data_sources
                    .first()
                    .map(|d| d.id.clone())
                    .ok_or_else(|| EngineError::Schema("the database has no data source; open it in Notion and check it is a database".into()))?
            }
        };
        let ds = match self.notion.retrieve_data_source(&data_source_id).await {
            Ok(ds) => ds,
            // A cached id gone stale (the database was re-created): look it up again.
            Err(NotionError::NotFound { .. }) if cached_data_source.is_some() => {
                return Box::pin(self.fetch_schema(None)).await
            }
            Err(e) => return Err(e.into()),
        };
        let (mapping, report) =
            Mapping::resolve(&Schema::from_data_source(&ds.raw), &self.config.sync);
        Ok((data_source_id, ds.raw, mapping, report))
    }

    /// The run lock for a run of `owner`.
    pub(crate) async fn lock(&self, owner: &str, minutes: i64) -> Result<RunLock, EngineError> {
        RunLock::acquire(
            &self.state.store,
            owner,
            &self.config.clock,
            Duration::minutes(minutes),
            self.config.lock_settle,
        )
        .await
    }

    /// Runs a sync under the lock and records it in the history.
    pub async fn run(&self, options: RunOptions) -> Result<RunReport, EngineError> {
        let started_at = self.now();
        let run_id = format!(
            "{}-{:04x}",
            started_at.format("%Y%m%dT%H%M%S%.3fZ"),
            fastrand::u16(..)
        );
        let lock = if options.dry_run {
            None
        } else {
            Some(
                self.lock(&format!("{}:{run_id}", options.actor), LEASE_MINUTES)
                    .await?,
            )
        };
        let notion_before = self.notion.stats();
        let blobs_before = self.blobs.stats();
        // Nothing waits for Notion's budget past the time the run must stop.
        self.notion.set_deadline(options.deadline);
        let result = self
            .run_locked(&options, &run_id, started_at, lock.as_ref())
            .await;
        self.notion.set_deadline(None);
        let result = result.or_else(|e| out_of_time(e, &run_id, &options, started_at));
        let lost = lock.as_ref().is_some_and(RunLock::is_lost);
        // Recorded before the lock is released: the history index is
        // read-modify-write, and the lock keeps its writers one at a time.
        // A run that lost its lease records nothing shared any more.
        let result = match result {
            Ok(mut report) => {
                report.notion_requests = self.notion.stats().requests.values().sum::<u64>()
                    - notion_before.requests.values().sum::<u64>();
                report.blobs_requests = self.blobs.stats().since(&blobs_before).total();
                report.notion_limits = crate::report::notion_limits(
                    &self.notion.stats().since(&notion_before),
                    report.summary.remaining,
                    self.config.sync.call_notes,
                );
                report.finished_at = self.now();
                if !options.dry_run && !lost {
                    self.record_run(&report, options.deadline).await;
                }
                Ok(report)
            }
            Err(e) => {
                // A run that could not even start its work (bad token, schema,
                // Blobs down) is history too: the dialer's banner reads it.
                if !options.dry_run && !lost {
                    let failed = RunReport::failed(&run_id, &options, started_at, &e);
                    self.record_run(&failed, options.deadline).await;
                }
                Err(e)
            }
        };
        if let Some(lock) = lock {
            if let Err(e) = lock.release().await {
                tracing::warn!(error = %e, "could not release the run lock; it expires on its own");
            }
        }
        let report = result?;
        tracing::info!(
            run_id = %report.run_id,
            mode = %report.mode,
            created_in_notion = report.summary.created_in_notion,
            updated_in_notion = report.summary.updated_in_notion,
            created_in_dialer = report.summary.created_in_dialer,
            updated_in_dialer = report.summary.updated_in_dialer,
            conflicts = report.summary.conflicts,
            failed = report.summary.failed,
            remaining = report.summary.remaining,
            notion_requests = report.notion_requests,
            "sync run finished"
        );
        Ok(report)
    }

    async fn run_locked(
        &self,
        options: &RunOptions,
        run_id: &str,
        now: DateTime<Utc>,
        lock: Option<&RunLock>,
    ) -> Result<RunReport, EngineError> {
        // First, so this run reads Notion as the checks leave it.
        if !options.dry_run {
            self.finish_repeat_checks().await;
        }
        let mut reading = self.read(options, now).await?;
        let held = self.brake(&reading, options);
        let apply = !options.dry_run && (held.is_none() || options.force);
        let mut report = RunReport::begin(run_id, options, now, reading.full_scan);
        report.held = held.filter(|_| !apply);
        report.problems.append(&mut reading.problems);
        let mut progress = Progress::new(
            reading.state.next_id.max(
                reading
                    .listing
                    .keys()
                    .next_back()
                    .map_or(1, |id| id.get() + 1),
            ),
        );
        let keys = std::mem::take(&mut reading.keys);
        let mut chunks = keys.chunks(BATCH).peekable();
        while let Some(ids) = chunks.peek().copied() {
            if reading.must_stop(options) || lock.is_some_and(RunLock::is_lost) {
                break;
            }
            chunks.next();
            let batch = self.read_batch(&mut reading, ids, options, now).await?;
            let stage = Stage::Records(&options.scope);
            self.plan_and_apply(
                &mut reading,
                batch,
                stage,
                apply,
                run_id,
                options,
                lock,
                &mut progress,
                &mut report,
            )
            .await?;
            // A typed page a contact took is not offered to the next batches.
            reading
                .unlinked
                .retain(|p| !progress.taken_pages.contains(&p.page_id));
        }
        let left: Vec<ContactId> = chunks.flatten().copied().collect();
        let typed_stage = left.is_empty()
            && !reading.unlinked.is_empty()
            && !options.scope.is_targeted()
            && !reading.must_stop(options);
        if typed_stage {
            let batch = Batch::typed_pages(&reading.unlinked);
            self.plan_and_apply(
                &mut reading,
                batch,
                Stage::TypedPages,
                apply,
                run_id,
                options,
                lock,
                &mut progress,
                &mut report,
            )
            .await?;
        } else {
            progress.leave_typed_pages(&reading.unlinked);
        }
        progress.leave(&left, &reading, &mut report);
        report.summary.invalid = reading.invalid.len();
        report
            .records
            .splice(0..0, std::mem::take(&mut reading.invalid));
        if apply {
            self.commit(reading, progress, options, lock, &mut report)
                .await?;
        }
        Ok(report)
    }

    /// Plans one batch with the core, then applies it (or only reports it,
    /// for a dry run or a held plan).
    #[allow(clippy::too_many_arguments)]
    async fn plan_and_apply(
        &self,
        reading: &mut Reading,
        batch: Batch,
        stage: Stage<'_>,
        apply: bool,
        run_id: &str,
        options: &RunOptions,
        lock: Option<&RunLock>,
        progress: &mut Progress,
        report: &mut RunReport,
    ) -> Result<(), EngineError> {
        let plan = sync_core::plan(self.plan_input(reading, &batch, stage, progress.next_id));
        progress.next_id = progress.next_id.max(plan.next_id);
        progress
            .taken_pages
            .extend(plan.records.iter().filter_map(|r| r.page_id.clone()));
        report.add_plan(&plan);
        if !apply {
            for r in &plan.records {
                report
                    .records
                    .push(crate::report::record_report(r, RecordStatus::Planned, None));
                crate::report::count(&mut report.summary, r);
            }
            return Ok(());
        }
        self.hand_out_ids(&plan, reading).await?;
        if !plan.records.is_empty() && reading.listed_conflicts.is_none() {
            match self.state.conflict_ids().await {
                Ok(listed) => reading.listed_conflicts = Some(listed),
                Err(e) => {
                    tracing::warn!(error = %e, "open conflicts not listed; the index's are used")
                }
            }
        }
        let outcomes = self
            .apply_all(&plan, reading, &batch, run_id, options, lock)
            .await;
        progress.record(reading, &batch, &plan, outcomes, report);
        Ok(())
    }

    /// Records, before any is made, the Dialer ID each contact made from a
    /// page typed in Notion gets ([`crate::state::SyncState::handouts`]):
    /// one state write, only in batches that make such contacts.
    async fn hand_out_ids(&self, plan: &Plan, reading: &mut Reading) -> Result<(), EngineError> {
        let new: Vec<(String, ContactId)> = plan
            .records
            .iter()
            .filter(|r| matches!(r.dialer, DialerWrite::Create { .. }))
            .filter_map(|r| r.page_id.clone().map(|p| (p, r.contact_id)))
            .filter(|(p, id)| reading.state.handouts.get(p) != Some(id))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        reading.state.handouts.extend(new);
        reading.state_version = self
            .state
            .save(&reading.state, &reading.state_version)
            .await?;
        Ok(())
    }

    /// The mass-change brake over the whole run, from what it read: contacts
    /// new to the sync and pages typed in Notion (creates), contacts gone from
    /// the dialer and pages gone to Notion's trash (archives). Off until a
    /// first run has gone through (that is the first import).
    fn brake(&self, reading: &Reading, options: &RunOptions) -> Option<String> {
        if !reading.state.first_sync_done || options.scope.is_targeted() {
            return None;
        }
        let index = &reading.state.index;
        let creates = reading
            .wanted
            .iter()
            .filter(|id| !index.contains_key(id))
            .count()
            + reading.unlinked.len();
        let gone = index
            .keys()
            .filter(|id| !reading.listing.contains_key(id))
            .count();
        let trashed = reading
            .pages
            .values()
            .flatten()
            .filter(|p| p.in_trash)
            .count();
        let archives = if options.scope == Scope::All { gone } else { 0 } + trashed;
        let known = reading.listing.len().max(index.len());
        sync_core::plan::brake_hold(&self.config.sync.brake, creates, archives, known)
    }

    /// What the core plans a batch from.
    fn plan_input<'a>(
        &'a self,
        reading: &'a Reading,
        batch: &'a Batch,
        stage: Stage<'_>,
        next_id: u64,
    ) -> PlanInput<'a> {
        PlanInput {
            mapping: &reading.mapping,
            config: &self.config.sync,
            now: self.now(),
            contacts: batch
                .contacts
                .values()
                .map(|(c, _)| ContactSnapshot {
                    contact: c.clone(),
                    edited_at: c
                        .updated_at
                        .or_else(|| reading.listing.get(&c.id).and_then(|l| l.last_modified)),
                })
                .collect(),
            all_contact_ids: reading.listing.keys().copied().collect(),
            pages: batch.pages.clone(),
            full_scan: reading.full_scan,
            bases: batch.bases.clone(),
            next_id,
            // The brake is the run's, over every batch (`Engine::brake`).
            initial: true,
            link_by_phone: !matches!(stage, Stage::Records(Scope::Contacts(_))),
            contacts_from_typed_pages: matches!(stage, Stage::TypedPages),
            handed_out: reading.state.handouts.clone(),
        }
    }
}

/// How many records a batch holds: what is read, planned and applied
/// together, and what a run keeps in memory at a time.
pub const BATCH: usize = 200;

/// Which part of a run a batch is.
#[derive(Clone, Copy)]
enum Stage<'a> {
    /// Records by id, under the run's scope.
    Records(&'a Scope),
    /// The pages typed in Notion no contact took, once every batch has had
    /// them on offer: they become new contacts.
    TypedPages,
}

/// A run that could not start a request before its deadline (Notion's budget
/// was spent by the run before it) did nothing: that is a report, not a
/// failure; the next run goes on.
fn out_of_time(
    error: EngineError,
    run_id: &str,
    options: &RunOptions,
    started_at: DateTime<Utc>,
) -> Result<RunReport, EngineError> {
    if !matches!(error, EngineError::Notion(NotionError::OutOfTime { .. })) {
        return Err(error);
    }
    let mut report = RunReport::begin(run_id, options, started_at, false);
    report.out_of_time = true;
    report.problems.push(sync_core::Problem {
        contact_id: None,
        page_id: None,
        message: "Notion's request budget for this minute is spent until after this run must answer; nothing was changed, and the next run goes on".into(),
    });
    Ok(report)
}

pub(crate) fn snapshot(page: Page) -> PageSnapshot {
    PageSnapshot {
        id: page.id,
        url: Some(page.url).filter(|u| !u.is_empty()),
        created_time: page.created_time,
        last_edited_time: page.last_edited_time,
        in_trash: page.in_trash,
        properties: page.properties,
    }
}
