//! One sync run: read what changed on both sides, plan with the core, apply
//! record by record, save each record's base as soon as its writes are done,
//! and move the cursor only when nothing before it is left undone.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use futures::stream::{self, StreamExt};
use notion_client::{CreateDedupe, NotionClient, NotionError, Page, Query};
use serde_json::{json, Map, Value as Json};
use sync_core::calllog::{call_ref, entry_blocks};
use sync_core::notion_value::write_property;
use sync_core::{
    Base, ContactId, ContactSnapshot, DialerContact, DialerWrite, FieldMap, Mapping, NotionRecord,
    NotionWrite, PageSnapshot, PlanInput, Problem, RecordPlan, Schema, SchemaReport, Strategy,
    Value,
};

use crate::config::EngineConfig;
use crate::dialer::{ContactWrite, DialerStore, Listed};
use crate::error::EngineError;
use crate::lock::RunLock;
use crate::report::{RecordReport, RecordStatus, RunReport, Summary};
use crate::state::{
    fingerprint, CallsIntent, ConflictRecord, CreateIntent, IndexEntry, StateStore, SyncState,
};

/// Notion rounds edit times down to the minute and a query takes time: the
/// cursor is kept this far behind Notion's clock at the end of a query.
pub const CURSOR_OVERLAP_MINUTES: i64 = 1;

/// How long records already under way may run past the deadline (which
/// already leaves the function a margin) before they are cut off.
pub const IN_FLIGHT_GRACE: std::time::Duration = std::time::Duration::from_millis(1500);

/// How long a run trusts the schema it cached (a property renamed in Notion
/// is noticed within this time, or at once when Notion refuses a write).
pub const SCHEMA_CACHE_MINUTES: i64 = 10;

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
}

impl Scope {
    /// The run's mode as reports and the history name it.
    pub fn describe(&self) -> String {
        match self {
            Scope::All => "both ways".into(),
            Scope::Contacts(ids) => format!("push of {} contact(s)", ids.len()),
            Scope::NotionChanges => "pull from Notion".into(),
            Scope::Restore(ids) => format!("restore of {} contact(s) from Notion", ids.len()),
        }
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
    /// No new writes start after this.
    pub deadline: Option<Instant>,
    /// Who runs (for the lock and the history): "scheduled-sync", "cli", ...
    pub actor: String,
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
        }
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

/// What a run read and what it decided, before anything is written.
struct Reading {
    mapping: Mapping,
    data_source_id: String,
    state: SyncState,
    listing: BTreeMap<ContactId, Listed>,
    contacts: BTreeMap<ContactId, (DialerContact, Option<String>)>,
    pages: Vec<NotionRecord>,
    full_scan: bool,
    invalid: Vec<RecordReport>,
    problems: Vec<Problem>,
    /// Pages edited before this were all returned by this run's query.
    seen_until: DateTime<Utc>,
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

    /// The data source, its schema report and the mapping to sync through.
    pub async fn schema(
        &self,
        cached_data_source: Option<&str>,
    ) -> Result<(String, Mapping, SchemaReport), EngineError> {
        let (id, _, mapping, report) = self.fetch_schema(cached_data_source).await?;
        Ok((id, mapping, report))
    }

    async fn fetch_schema(
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

    /// Runs a sync under the lock and records it in the history.
    pub async fn run(&self, options: RunOptions) -> Result<RunReport, EngineError> {
        let started_at = Utc::now();
        let run_id = format!(
            "{}-{:04x}",
            started_at.format("%Y%m%dT%H%M%S%.3fZ"),
            fastrand::u16(..)
        );
        let lock = if options.dry_run {
            None
        } else {
            Some(
                RunLock::acquire(
                    &self.state.store,
                    &format!("{}:{run_id}", options.actor),
                    started_at,
                    Duration::minutes(5),
                    self.config.lock_settle,
                )
                .await?,
            )
        };
        let notion_before = self.notion.stats();
        let blobs_before = self.blobs.stats();
        let result = self.run_locked(&options, &run_id, started_at).await;
        // Recorded before the lock is released: the history index is
        // read-modify-write, and the lock keeps its writers one at a time.
        let result = match result {
            Ok(mut report) => {
                report.notion_requests = self.notion.stats().requests.values().sum::<u64>()
                    - notion_before.requests.values().sum::<u64>();
                report.blobs_requests = self.blobs.stats().since(&blobs_before).total();
                report.finished_at = Utc::now();
                if !options.dry_run {
                    self.record_run(&report).await;
                }
                Ok(report)
            }
            Err(e) => {
                // A run that could not even start its work (bad token, schema,
                // Blobs down) is history too: the dialer's banner reads it.
                if !options.dry_run {
                    let failed = RunReport::failed(&run_id, &options, started_at, &e);
                    self.record_run(&failed).await;
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
    ) -> Result<RunReport, EngineError> {
        let mut reading = self.read(options, now).await?;
        let bases = self.load_bases(&reading, options).await?;
        let mapping = reading.mapping.clone();
        let max_listed = reading
            .listing
            .keys()
            .next_back()
            .map(|id| id.get() + 1)
            .unwrap_or(1);
        let plan = sync_core::plan(PlanInput {
            mapping: &mapping,
            config: &self.config.sync,
            now,
            contacts: reading
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
            pages: reading.pages.clone(),
            full_scan: reading.full_scan,
            bases: bases.clone(),
            next_id: reading.state.next_id.max(max_listed),
            // Until a first run has completed, a big create is the first sync, not an accident.
            initial: reading.state.notion_cursor.is_none(),
        });
        let mut report = RunReport {
            run_id: run_id.to_string(),
            mode: options.scope.describe(),
            started_at: now,
            finished_at: now,
            dry_run: options.dry_run,
            full_scan: reading.full_scan,
            held: plan.held.clone(),
            summary: Summary {
                unchanged: plan.unchanged,
                invalid: reading.invalid.len(),
                ..Summary::default()
            },
            records: std::mem::take(&mut reading.invalid),
            problems: reading
                .problems
                .drain(..)
                .chain(plan.problems.iter().cloned())
                .collect(),
            plan: plan.to_string(),
            notion_requests: 0,
            blobs_requests: 0,
            error: None,
        };

        let apply = !options.dry_run && (plan.held.is_none() || options.force);
        if !apply {
            for r in &plan.records {
                report
                    .records
                    .push(record_report(r, RecordStatus::Planned, None));
                count(&mut report.summary, r);
            }
            return Ok(report);
        }
        if plan.held.is_some() {
            report.held = None;
        }

        // Apply, a few records at a time, each under the shared Notion limiter.
        let pages_by_id: BTreeMap<&str, &NotionRecord> = reading
            .pages
            .iter()
            .map(|p| (p.page_id.as_str(), p))
            .collect();
        let ctx = ApplyContext {
            mapping: &mapping,
            data_source_id: &reading.data_source_id,
            contacts: &reading.contacts,
            listing: &reading.listing,
            pages: &pages_by_id,
            run_id,
        };
        let results: Vec<(RecordPlan, Result<Option<Applied>, EngineError>)> =
            stream::iter(plan.records.iter().cloned())
                .map(|r| {
                    let ctx = &ctx;
                    async move {
                        if options.deadline.is_some_and(|d| Instant::now() >= d) {
                            return (r, Ok(None));
                        }
                        // A record still waiting (on Notion's rate limit, say) when the
                        // function must answer is cut off and left for the next run;
                        // intents make whatever it had started safe to redo.
                        let result = match options.deadline {
                            Some(d) => {
                                let cutoff = tokio::time::Instant::from_std(d + IN_FLIGHT_GRACE);
                                tokio::time::timeout_at(cutoff, self.apply_record(&r, ctx))
                                    .await
                                    .unwrap_or(Ok(None))
                            }
                            None => self.apply_record(&r, ctx).await,
                        };
                        (r, result)
                    }
                })
                .buffer_unordered(self.config.concurrency.max(1))
                .collect()
                .await;

        let mut state = reading.state;
        let mut all_done = true;
        let mut results = results;
        results.sort_by_key(|(r, _)| r.contact_id);
        for (r, result) in results {
            match result {
                Ok(Some(applied)) => {
                    count(&mut report.summary, &r);
                    let mut rr = record_report(&r, RecordStatus::Synced, None);
                    rr.page_id = applied.base.page_id.clone();
                    report.records.push(rr);
                    if applied.base.status.is_deleted_in_dialer() {
                        // The tombstone stays in its base; the index forgets it, so
                        // later runs do not read it again.
                        state.index.remove(&r.contact_id);
                    } else {
                        state.index.insert(
                            r.contact_id,
                            IndexEntry {
                                dialer: applied.dialer_version,
                                page_id: applied.base.page_id.clone(),
                                notion: fingerprint(&mapping, &applied.base.notion),
                                archived: applied.base.status
                                    == sync_core::RecordStatus::ArchivedInNotion,
                            },
                        );
                    }
                }
                Ok(None) => {
                    all_done = false;
                    report.summary.remaining += 1;
                    report.records.push(record_report(
                        &r,
                        RecordStatus::Deferred,
                        Some("left for the next run".into()),
                    ));
                }
                Err(e) => {
                    all_done = false;
                    report.summary.failed += 1;
                    // Notion refused a write: the database may have changed; re-read its schema next time.
                    if matches!(e, EngineError::Notion(NotionError::Validation { .. })) {
                        state.schema_fetched_at = None;
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
        // Records that needed nothing still refresh the index, so the next
        // run does not read them again.
        for (id, (_, version)) in &reading.contacts {
            if plan.records.iter().any(|r| r.contact_id == *id) {
                continue;
            }
            if let (Some(entry), Some(v)) = (state.index.get_mut(id), version) {
                entry.dialer = v.clone();
            }
        }
        state.next_id = state.next_id.max(plan.next_id);
        state.data_source_id = Some(reading.data_source_id.clone());
        if all_done && !matches!(options.scope, Scope::Contacts(_) | Scope::Restore(_)) {
            // Everything edited before this run's query has been seen: the next
            // query starts there, not at the newest edit (or an idle database
            // would be read again every run).
            state.notion_cursor = Some(reading.seen_until);
            if reading.full_scan {
                state.last_full_scan = Some(now);
            }
        }
        self.state.save(&state).await?;
        Ok(report)
    }

    /// Reads what changed since the last run (or everything, on a full scan).
    async fn read(&self, options: &RunOptions, now: DateTime<Utc>) -> Result<Reading, EngineError> {
        let (mut state, _) = self.state.load().await?;
        let fresh = state
            .schema_fetched_at
            .is_some_and(|t| now - t < Duration::minutes(SCHEMA_CACHE_MINUTES) && t <= now);
        let (data_source_id, mapping, report) = match (&state.data_source_id, &state.schema, fresh)
        {
            (Some(id), Some(schema), true) => {
                let (mapping, report) =
                    Mapping::resolve(&Schema::from_data_source(schema), &self.config.sync);
                (id.clone(), mapping, report)
            }
            _ => {
                let (id, raw, mapping, report) =
                    self.fetch_schema(state.data_source_id.as_deref()).await?;
                state.schema = Some(
                    json!({ "properties": raw.get("properties").cloned().unwrap_or_default() }),
                );
                state.schema_fetched_at = Some(now);
                (id, mapping, report)
            }
        };
        if !report.ready {
            return Err(EngineError::Schema(report.summary));
        }
        // A field that became syncable (a property added or fixed) is compared
        // on every record: read both sides in full once.
        let mapping_now = mapping_fingerprint(&mapping);
        let remapped = state.mapping.as_deref().is_some_and(|m| m != mapping_now);
        state.mapping = Some(mapping_now);
        // Optional properties the database lacks are skipped; say so in every report.
        let problems: Vec<Problem> = report
            .problems()
            .map(|item| Problem {
                contact_id: None,
                page_id: None,
                message: format!(
                    "the field {} is not synced: {}",
                    item.field,
                    item.fix
                        .as_deref()
                        .unwrap_or("check the property in Notion")
                ),
            })
            .collect();
        let mut invalid = Vec::new();

        // The dialer: one listing, then only the contacts whose version moved.
        // A push of a few contacts lists just those (a call must not wait for
        // a listing of the whole store).
        let listed = match &options.scope {
            Scope::Contacts(ids) | Scope::Restore(ids) => {
                let keys: Vec<String> = ids.iter().map(ContactId::to_string).collect();
                self.dialer.list_only(&keys).await?
            }
            _ => self.dialer.list().await?,
        };
        let mut listing = BTreeMap::new();
        for (key, listed) in listed {
            match key.parse::<ContactId>() {
                Ok(id) => {
                    listing.insert(id, listed);
                }
                Err(problem) => invalid.push(RecordReport {
                    contact_id: None,
                    company_name: format!("contact {key:?}"),
                    page_id: None,
                    status: RecordStatus::Invalid,
                    actions: vec![],
                    conflicts: vec![],
                    lost: vec![],
                    error: Some(format!(
                        "its key is not a Dialer ID: {problem}; the contact is skipped"
                    )),
                }),
            }
        }
        let mut wanted: BTreeSet<ContactId> = match &options.scope {
            Scope::Contacts(ids) => {
                for id in ids {
                    if !listing.contains_key(id) {
                        return Err(EngineError::UnknownContact(id.to_string()));
                    }
                }
                ids.iter().copied().collect()
            }
            Scope::Restore(ids) => ids.iter().copied().collect(),
            Scope::NotionChanges => BTreeSet::new(),
            Scope::All => listing
                .iter()
                .filter(|(id, l)| {
                    remapped || state.index.get(id).is_none_or(|e| e.dialer != l.version)
                })
                .map(|(id, _)| *id)
                .collect(),
        };

        // Notion: the pages edited since the cursor (minus an overlap), or all.
        let full_scan = !matches!(options.scope, Scope::Contacts(_) | Scope::Restore(_))
            && (options.full_scan
                || remapped
                || state.notion_cursor.is_none()
                || state.last_full_scan.is_none_or(|t| {
                    now - t
                        >= Duration::from_std(self.config.full_scan_every)
                            .unwrap_or(Duration::hours(1))
                }));
        let mut pages: Vec<Page> = Vec::new();
        match &options.scope {
            Scope::Contacts(ids) | Scope::Restore(ids) => {
                let id_prop = mapping
                    .dialer_id_property()
                    .unwrap_or("Dialer ID")
                    .to_string();
                for id in ids {
                    let known = state.index.get(id).and_then(|e| e.page_id.clone());
                    let found = match known {
                        Some(page_id) => match self.notion.retrieve_page(&page_id).await {
                            Ok(p) => vec![p],
                            Err(NotionError::NotFound { .. }) => Vec::new(),
                            Err(e) => return Err(e.into()),
                        },
                        None => {
                            self.notion
                                .query_by_number(&data_source_id, &id_prop, id.get() as i64)
                                .await?
                        }
                    };
                    pages.extend(found);
                }
            }
            _ => {
                let query = if full_scan {
                    Query::default()
                } else {
                    let since = state.notion_cursor.unwrap_or(now);
                    Query {
                        filter: Some(
                            json!({"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": since.to_rfc3339()}}),
                        ),
                        sorts: vec![
                            json!({"timestamp": "last_edited_time", "direction": "ascending"}),
                        ],
                        page_size: None,
                    }
                };
                pages = self.notion.query(&data_source_id, &query).await?;
            }
        }
        // Notion rounds edit times down to the minute, and the query took a
        // while: everything edited from a minute before Notion's clock at the
        // end of the query on may be unseen. Notion's own clock (its `Date`
        // header) keeps this right whatever this machine's clock says; without
        // it, ours with a wider margin for skew.
        let seen_until = match self.notion.server_time() {
            Some(notion_now) => {
                sync_core::time::floor_to_minute(notion_now)
                    - Duration::minutes(CURSOR_OVERLAP_MINUTES)
            }
            None => {
                sync_core::time::floor_to_minute(now)
                    - Duration::minutes(CURSOR_OVERLAP_MINUTES + 2)
            }
        };
        let by_page: BTreeMap<&str, ContactId> = state
            .index
            .iter()
            .filter_map(|(id, e)| e.page_id.as_deref().map(|p| (p, *id)))
            .collect();
        let mut records: Vec<NotionRecord> = Vec::new();
        let mut seen_pages = BTreeSet::new();
        for page in &pages {
            let record = mapping.read_page(&snapshot(page));
            seen_pages.insert(record.page_id.clone());
            let id = record
                .dialer_id
                .or_else(|| by_page.get(record.page_id.as_str()).copied());
            // Unchanged since the last sync on the Notion side (values, not times) and
            // not asked for: nothing to read or plan.
            let entry = id.and_then(|id| state.index.get(&id));
            let unchanged = entry.is_some_and(|e| {
                e.page_id.as_deref() == Some(record.page_id.as_str())
                    && e.notion == fingerprint(&mapping, &record.values)
                    && record.dialer_id == id
                    && !e.archived
                    && !record.in_trash
            });
            if unchanged && !id.is_some_and(|id| wanted.contains(&id)) {
                continue;
            }
            if let Some(id) = id {
                // First sight of a page for a contact the dialer has, or a page back
                // from Notion's trash: read the contact too (it may have changed
                // while its record was parked).
                let first_sight = !state.index.contains_key(&id);
                if listing.contains_key(&id) && (first_sight || entry.is_some_and(|e| e.archived)) {
                    wanted.insert(id);
                }
            }
            records.push(record);
        }
        // A full scan that misses a linked page: it was trashed (or deleted) in Notion.
        if full_scan {
            for (id, entry) in &state.index {
                let Some(page_id) = &entry.page_id else {
                    continue;
                };
                if seen_pages.contains(page_id) || !listing.contains_key(id) {
                    continue;
                }
                match self.notion.retrieve_page(page_id).await {
                    Ok(p) => records.push(mapping.read_page(&snapshot(&p))),
                    Err(NotionError::NotFound { .. }) => records.push(NotionRecord {
                        page_id: page_id.clone(),
                        url: None,
                        dialer_id: Some(*id),
                        bad_dialer_id: None,
                        values: FieldMap::new(),
                        created_time: now,
                        last_edited_time: now,
                        in_trash: true,
                    }),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        // Pages without a Dialer ID may match an unlinked contact by phone: read those contacts.
        if records
            .iter()
            .any(|r| r.dialer_id.is_none() && !by_page.contains_key(r.page_id.as_str()))
        {
            wanted.extend(
                listing
                    .keys()
                    .filter(|id| !state.index.contains_key(id))
                    .copied(),
            );
        }

        let keys: Vec<String> = wanted
            .iter()
            .filter_map(|id| listing.get(id).map(|l| l.key.clone()))
            .collect();
        let mut contacts = BTreeMap::new();
        for (key, parsed, etag) in self.dialer.read(&keys).await? {
            match parsed {
                Ok(c) => {
                    let version = etag.or_else(|| listing.get(&c.id).map(|l| l.version.clone()));
                    contacts.insert(c.id, (c, version));
                }
                Err(e) => invalid.push(RecordReport {
                    contact_id: key.parse().ok(),
                    company_name: format!("contact {key}"),
                    page_id: None,
                    status: RecordStatus::Invalid,
                    actions: vec![],
                    conflicts: vec![],
                    lost: vec![],
                    error: Some(format!(
                        "{e}; fix it in the dialer, the contact is skipped until then"
                    )),
                }),
            }
        }
        // A bad contact is skipped entirely: it is neither created nor treated as deleted.
        let invalid_ids: BTreeSet<ContactId> =
            invalid.iter().filter_map(|r| r.contact_id).collect();
        records.retain(|r| r.dialer_id.is_none_or(|id| !invalid_ids.contains(&id)));
        Ok(Reading {
            mapping,
            data_source_id,
            state,
            listing,
            contacts,
            pages: records,
            full_scan,
            invalid,
            problems,
            seen_until,
        })
    }

    /// Bases for every record the run looks at, and for contacts gone from the dialer.
    async fn load_bases(
        &self,
        reading: &Reading,
        options: &RunOptions,
    ) -> Result<BTreeMap<ContactId, Base>, EngineError> {
        let by_page: BTreeMap<&str, ContactId> = reading
            .state
            .index
            .iter()
            .filter_map(|(id, e)| e.page_id.as_deref().map(|p| (p, *id)))
            .collect();
        let mut ids: BTreeSet<ContactId> = reading.contacts.keys().copied().collect();
        for p in &reading.pages {
            if let Some(id) = p
                .dialer_id
                .or_else(|| by_page.get(p.page_id.as_str()).copied())
            {
                ids.insert(id);
            }
        }
        if options.scope == Scope::All {
            ids.extend(
                reading
                    .state
                    .index
                    .keys()
                    .filter(|id| !reading.listing.contains_key(id))
                    .copied(),
            );
        }
        let loads = ids
            .into_iter()
            .map(|id| async move { Ok::<_, EngineError>((id, self.state.base(id).await?)) });
        let mut bases = BTreeMap::new();
        for chunk in futures::future::try_join_all(loads).await? {
            if let (id, Some(base)) = chunk {
                bases.insert(id, base);
            }
        }
        Ok(bases)
    }

    /// Applies one record's plan. `Ok(None)`: left for the next run (the
    /// contact changed under us). The base is saved only after every write.
    async fn apply_record(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
    ) -> Result<Option<Applied>, EngineError> {
        let id = r.contact_id;
        let mut base = r.base.clone();
        let mut page_url: Option<String> = None;
        let mut logged_with_create = false;
        let mut calls_logged = false;
        let id_prop = ctx
            .mapping
            .dialer_id_property()
            .unwrap_or("Dialer ID")
            .to_string();

        // Whatever this record's writes replace is saved first, to restore from.
        self.back_up(r, ctx).await?;

        // A contact made from a Notion page is created in the dialer first
        // (`if-none-match`), and only then is its new Dialer ID written to the
        // page: an id taken meanwhile never ends up on the page.
        let creates_contact = matches!(r.dialer, DialerWrite::Create { .. });
        let mut dialer_version_after_create = None;
        if creates_contact {
            match self.apply_dialer(r, ctx, &mut base, None).await? {
                Some(version) => dialer_version_after_create = Some(version),
                None => {
                    return Err(EngineError::BadRequest(format!(
                        "Dialer ID {id} was taken in the dialer meanwhile; the page gets another id on the next run"
                    )))
                }
            }
        }

        match &r.notion {
            NotionWrite::Create { values, notes } => {
                // A run that died after creating the page left this intent: look first.
                let existing = if self.state.intent(id).await?.is_some() {
                    self.notion
                        .query_by_number(ctx.data_source_id, &id_prop, id.get() as i64)
                        .await?
                        .into_iter()
                        .next()
                } else {
                    None
                };
                let page = match existing {
                    Some(page) => page,
                    None => {
                        self.state
                            .set_intent(&CreateIntent {
                                contact_id: id,
                                started_at: Utc::now(),
                            })
                            .await?;
                        let mut props = ctx
                            .mapping
                            .write_properties(values)
                            .map_err(|e| EngineError::BadRequest(e.to_string()))?;
                        if let Some((k, v)) = ctx.mapping.write_dialer_id(id) {
                            props.insert(k, v);
                        }
                        if let Some(text) = notes {
                            add_notes(&mut props, ctx.mapping, text)?;
                        }
                        let children: Vec<Json> = r
                            .calls_to_log
                            .iter()
                            .flat_map(|c| entry_blocks(c, ctx.mapping.zone))
                            .collect();
                        logged_with_create = true;
                        self.notion
                            .create_page(
                                ctx.data_source_id,
                                props,
                                children,
                                Some(CreateDedupe {
                                    property: id_prop.clone(),
                                    number: id.get() as i64,
                                }),
                            )
                            .await?
                    }
                };
                base.page_id = Some(page.id.clone());
                page_url = Some(page.url.clone());
                base.notion = notion_view(ctx.mapping, &page, &base.notion);
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
                let mut props = ctx
                    .mapping
                    .write_properties(values)
                    .map_err(|e| EngineError::BadRequest(e.to_string()))?;
                if *set_dialer_id {
                    if let Some((k, v)) = ctx.mapping.write_dialer_id(id) {
                        props.insert(k, v);
                    }
                }
                if let Some(text) = notes {
                    add_notes(&mut props, ctx.mapping, text)?;
                }
                // The properties and the call log are independent writes: send both at once.
                let written = if r.calls_to_log.is_empty() {
                    self.notion
                        .update_page(&page_id, props)
                        .await
                        .map_err(EngineError::from)
                } else {
                    tokio::try_join!(
                        async {
                            self.notion
                                .update_page(&page_id, props)
                                .await
                                .map_err(EngineError::from)
                        },
                        self.append_calls(id, &page_id, &r.calls_to_log, ctx.mapping.zone),
                    )
                    .map(|(page, ())| page)
                };
                let page = match written {
                    Ok(page) => page,
                    // Trashed in Notion since the last full scan: keep the contact, mark it archived.
                    Err(EngineError::Notion(NotionError::Validation { message, .. }))
                        if message.contains("archived") =>
                    {
                        return self.page_was_trashed(r, ctx, base, &page_id).await;
                    }
                    Err(e) => return Err(e),
                };
                calls_logged = !r.calls_to_log.is_empty();
                page_url = Some(page.url.clone());
                base.notion = notion_view(ctx.mapping, &page, &base.notion);
            }
            NotionWrite::Trash => {
                if let Some(page_id) = &base.page_id {
                    match self.notion.set_in_trash(page_id, true).await {
                        Ok(_) | Err(NotionError::NotFound { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            NotionWrite::None => {}
        }

        if !r.calls_to_log.is_empty() && !logged_with_create && !calls_logged {
            if let Some(page_id) = base.page_id.clone() {
                self.append_calls(id, &page_id, &r.calls_to_log, ctx.mapping.zone)
                    .await?;
            }
        }

        let dialer_version = if creates_contact {
            dialer_version_after_create.unwrap_or_default()
        } else {
            match self.apply_dialer(r, ctx, &mut base, page_url).await? {
                Some(version) => version,
                // Changed in the dialer while we worked: the next run merges that edit.
                None => return Ok(None),
            }
        };

        base.synced_at = Utc::now();
        self.state.save_base(&base).await?;
        if matches!(r.notion, NotionWrite::Create { .. }) {
            self.state.clear_intent(id).await?;
        }
        if !r.calls_to_log.is_empty() && !logged_with_create {
            self.state.clear_calls_intent(id).await?;
        }
        if !r.conflicts.is_empty() {
            self.state
                .save_conflict(&ConflictRecord {
                    contact_id: id,
                    page_id: base.page_id.clone(),
                    company_name: r.company_name.clone(),
                    fields: r.conflicts.clone(),
                    detected_at: Utc::now(),
                    deleted_in_dialer: base.status
                        == sync_core::RecordStatus::DeletedInDialerEditedInNotion,
                })
                .await?;
        }
        Ok(Some(Applied {
            base,
            dialer_version,
        }))
    }

    /// Appends calls to a page's call log once. An intent names the calls
    /// being appended, so a run that died mid-append checks the page body
    /// before appending again.
    async fn append_calls(
        &self,
        id: ContactId,
        page_id: &str,
        calls: &[sync_core::CallRecord],
        zone: chrono_tz::Tz,
    ) -> Result<(), EngineError> {
        let mut calls = calls.to_vec();
        if self.state.calls_intent(id).await?.is_some() {
            let body = serde_json::to_string(&self.notion.list_children(page_id).await?)
                .unwrap_or_default();
            calls.retain(|c| !body.contains(&call_ref(c)));
        }
        let intent = CallsIntent {
            page_id: page_id.to_string(),
            refs: calls.iter().map(call_ref).collect(),
        };
        self.state.set_calls_intent(id, &intent).await?;
        let blocks: Vec<Json> = calls.iter().flat_map(|c| entry_blocks(c, zone)).collect();
        if !blocks.is_empty() {
            self.notion.append_children(page_id, blocks).await?;
        }
        Ok(())
    }

    /// Notion refused a write because the page is in its trash: the record
    /// is handled as a page trashed in Notion (the contact kept, marked
    /// archived) once the page confirms it.
    async fn page_was_trashed(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
        mut base: Base,
        page_id: &str,
    ) -> Result<Option<Applied>, EngineError> {
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
            ..r.clone()
        };
        base.status = sync_core::RecordStatus::ArchivedInNotion;
        base.dialer = r.base.dialer.clone();
        let Some(dialer_version) = self
            .apply_dialer(&trashed, ctx, &mut base, Some(page.url.clone()))
            .await?
        else {
            return Ok(None);
        };
        base.synced_at = Utc::now();
        self.state.save_base(&base).await?;
        tracing::info!(contact = %r.contact_id, page = page_id, "the page is in Notion's trash; contact marked archived");
        Ok(Some(Applied {
            base,
            dialer_version,
        }))
    }

    /// Writes the dialer side of a record, conditional on what was read.
    /// Returns the contact's new version, or `None` when it changed under us
    /// (or, for a create, its id was taken): nothing was written then.
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
                    base.dialer = dialer_view(&contact.values, &base.dialer);
                }
                Ok(Some(version))
            }
            None => Ok(None),
        }
    }
}

pub(crate) struct ApplyContext<'a> {
    pub(crate) mapping: &'a Mapping,
    pub(crate) data_source_id: &'a str,
    pub(crate) contacts: &'a BTreeMap<ContactId, (DialerContact, Option<String>)>,
    pub(crate) listing: &'a BTreeMap<ContactId, Listed>,
    /// The pages as this run read them, by page id (for backups).
    pub(crate) pages: &'a BTreeMap<&'a str, &'a NotionRecord>,
    pub(crate) run_id: &'a str,
}

struct Applied {
    base: Base,
    dialer_version: String,
}

/// Which fields a mapping exchanges, through which properties and types.
fn mapping_fingerprint(mapping: &Mapping) -> String {
    let fields: Vec<String> = mapping
        .fields
        .iter()
        .map(|f| format!("{}={}:{}", f.spec.key, f.property, f.kind.notion_name()))
        .collect();
    crate::state::fingerprint_json(&serde_json::json!(fields))
}

pub(crate) fn snapshot(page: &Page) -> PageSnapshot {
    PageSnapshot {
        id: page.id.clone(),
        url: Some(page.url.clone()).filter(|u| !u.is_empty()),
        created_time: page.created_time,
        last_edited_time: page.last_edited_time,
        in_trash: page.in_trash,
        properties: page.properties.clone(),
    }
}

/// The Notion side of the base, as Notion gave it back after the write:
/// whatever Notion normalised is what the next run compares with.
fn notion_view(mapping: &Mapping, page: &Page, predicted: &FieldMap) -> FieldMap {
    let read = mapping.read_page(&snapshot(page)).values;
    predicted
        .keys()
        .map(|k| (k.clone(), read.get(k).cloned().unwrap_or(Value::Empty)))
        .collect()
}

/// The dialer side of the base, as stored after the write.
fn dialer_view(values: &FieldMap, predicted: &FieldMap) -> FieldMap {
    predicted
        .keys()
        .map(|k| (k.clone(), values.get(k).cloned().unwrap_or(Value::Empty)))
        .collect()
}

fn add_notes(
    props: &mut Map<String, Json>,
    mapping: &Mapping,
    text: &str,
) -> Result<(), EngineError> {
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
    Ok(())
}

fn record_report(r: &RecordPlan, status: RecordStatus, error: Option<String>) -> RecordReport {
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

fn count(s: &mut Summary, r: &RecordPlan) {
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
