//! Phase 1: read what changed since the last run, on both sides, and the
//! bases of every record that is involved.
//!
//! Every record the run touches is read on both sides (a page that changed
//! brings its contact, a contact its page): the plan never stands in an
//! unread side with its base when it is going to write that side, so a
//! write is always conditional on a version this run saw.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use notion_client::{NotionError, Page, Query};
use serde_json::json;
use sync_core::{Base, ContactId, DialerContact, FieldMap, Mapping, NotionRecord, Problem, Schema};

use super::{snapshot, Engine, RunOptions, Scope, CURSOR_OVERLAP_MINUTES, SCHEMA_CACHE_MINUTES};
use crate::dialer::Listed;
use crate::error::EngineError;
use crate::report::{RecordReport, RecordStatus};
use crate::state::{fingerprint, SyncState, Version};

/// What a run read of both sides before its batches: the state, the
/// schema, the dialer's listing and Notion's changed pages, and which
/// records to look at. Contacts and bases are read batch by batch
/// ([`Batch`]), so a run holds a few hundred at a time, however many there
/// are, and starts writing within its first seconds.
pub(crate) struct Reading {
    pub mapping: Mapping,
    pub data_source_id: String,
    pub state: SyncState,
    /// The version `state` was read at: it is saved back only if unchanged.
    pub state_version: Version,
    pub listing: BTreeMap<ContactId, Listed>,
    /// Contacts to read (their version moved, or their page changed).
    pub wanted: BTreeSet<ContactId>,
    /// Every record to look at, in id order: the batches' ids.
    pub keys: Vec<ContactId>,
    /// Pages read, by the record they belong to.
    pub pages: BTreeMap<ContactId, Vec<NotionRecord>>,
    /// Live pages no record claims (typed in Notion): offered to each batch
    /// to link by the page a contact was made from or by phone; what is
    /// left becomes new contacts at the end.
    pub unlinked: Vec<NotionRecord>,
    /// Pages whose Dialer ID is unusable: reported once, by the first batch.
    pub odd: Vec<NotionRecord>,
    pub full_scan: bool,
    /// A full scan that also looked at every linked page it did not list
    /// (the deadline can cut that short: the next full scan finishes it).
    pub scan_complete: bool,
    pub invalid: Vec<RecordReport>,
    pub problems: Vec<Problem>,
    /// Pages edited before this were all returned by this run's query.
    pub seen_until: DateTime<Utc>,
    /// Set once Notion refuses content for the Free plan's block limit: the
    /// rest of the run (every batch) sends no request that would create blocks.
    pub blocks_refused: std::sync::atomic::AtomicBool,
    /// Set once Notion's budget cannot be had before the deadline: the run
    /// reads and plans no further batch (it would only defer them all).
    pub out_of_budget: std::sync::atomic::AtomicBool,
    /// The records `conflicts/` lists, read once per run by the first
    /// batch that writes anything (idle runs spend no request on it): unlike
    /// the index's flags, it knows a conflict filed by a run that stopped
    /// before saving its index.
    pub listed_conflicts: Option<BTreeSet<ContactId>>,
}

impl Reading {
    /// The records with an open conflict: those the index flags and those
    /// the store listed.
    pub(crate) fn open_conflicts(&self) -> BTreeSet<ContactId> {
        let flagged = self.state.index.iter().filter(|(_, e)| e.conflict);
        flagged
            .map(|(id, _)| *id)
            .chain(self.listed_conflicts.iter().flatten().copied())
            .collect()
    }

    /// No further batch is taken: the deadline passed, or Notion's budget
    /// cannot be had before it.
    pub(crate) fn must_stop(&self, options: &RunOptions) -> bool {
        options.past_deadline()
            || self
                .out_of_budget
                .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Batch {
    /// The last stage's batch: the typed pages no contact took.
    pub(crate) fn typed_pages(pages: &[NotionRecord]) -> Batch {
        Batch {
            contacts: BTreeMap::new(),
            pages: pages.to_vec(),
            bases: BTreeMap::new(),
            base_versions: BTreeMap::new(),
        }
    }
}

/// One batch of records: their contacts and bases, read together.
pub(crate) struct Batch {
    /// The contacts read, with the version each was read at.
    pub contacts: BTreeMap<ContactId, (DialerContact, Option<String>)>,
    /// This batch's pages, and the typed pages offered to it.
    pub pages: Vec<NotionRecord>,
    pub bases: BTreeMap<ContactId, Base>,
    /// The version each record's base was read at (absent ones: `New`).
    pub base_versions: BTreeMap<ContactId, Version>,
}

/// Which pages read are worth planning: those whose values differ from
/// what the last sync left (values, not times), or whose record is planned
/// anyway. Pages go through it one at a time as Notion's answers arrive, so
/// a run holds the changed pages only, never the whole CRM.
struct ChangeFilter<'a> {
    state: &'a SyncState,
    mapping: &'a Mapping,
    listing: &'a BTreeMap<ContactId, Listed>,
    by_page: &'a BTreeMap<&'a str, ContactId>,
    /// Every page that came through (a page edited while the query pages
    /// through the results can be listed twice): on a full scan, the pages
    /// Notion listed.
    seen: BTreeSet<String>,
}

impl<'a> ChangeFilter<'a> {
    fn new(
        state: &'a SyncState,
        mapping: &'a Mapping,
        listing: &'a BTreeMap<ContactId, Listed>,
        by_page: &'a BTreeMap<&'a str, ContactId>,
    ) -> Self {
        ChangeFilter {
            state,
            mapping,
            listing,
            by_page,
            seen: BTreeSet::new(),
        }
    }

    /// The record, if it is to be planned; its contact is then wanted too,
    /// so a write to the dialer is made from (and conditional on) what the
    /// dialer holds now.
    fn keep(
        &mut self,
        record: NotionRecord,
        wanted: &mut BTreeSet<ContactId>,
    ) -> Option<NotionRecord> {
        if !self.seen.insert(record.page_id.clone()) {
            return None;
        }
        let id = record
            .dialer_id
            .or_else(|| self.by_page.get(record.page_id.as_str()).copied());
        let entry = id.and_then(|id| self.state.index.get(&id));
        let unchanged = entry.is_some_and(|e| {
            e.page_id.as_deref() == Some(record.page_id.as_str())
                && e.notion == fingerprint(self.mapping, &record.values)
                && record.dialer_id == id
                && !e.archived
                && !record.in_trash
                // A page whose contact is gone from the dialer waits for a
                // decision (archive, or ask when a person restored it), even
                // if an earlier run saved that decision's base but not its
                // index (it stopped before its commit).
                && id.is_some_and(|id| self.listing.contains_key(&id))
        });
        if unchanged && !id.is_some_and(|id| wanted.contains(&id)) {
            return None;
        }
        if let Some(id) = id.filter(|id| self.listing.contains_key(id)) {
            wanted.insert(id);
        }
        Some(record)
    }
}

fn invalid(contact_id: Option<ContactId>, name: String, error: String) -> RecordReport {
    RecordReport {
        contact_id,
        company_name: name,
        page_id: None,
        status: RecordStatus::Invalid,
        actions: vec![],
        conflicts: vec![],
        lost: vec![],
        error: Some(error),
    }
}

impl Engine {
    /// Reads what changed since the last run (or everything, on a full scan).
    pub(crate) async fn read(
        &self,
        options: &RunOptions,
        now: DateTime<Utc>,
    ) -> Result<Reading, EngineError> {
        let (mut state, state_version) = self.state.load().await?;
        self.notion.resume_window(&state.notion_window).await;
        let (data_source_id, mapping, remapped, problems) = self
            .mapping(&mut state, now, options.refresh_schema)
            .await?;
        // A webhook's pages are read first: only what Notion named.
        let named = match &options.scope {
            Scope::Pages(ids) => Some(
                self.named_pages(ids, &state, &mapping, &data_source_id, now)
                    .await?,
            ),
            _ => None,
        };
        let (listing, invalid) = self.list_contacts(&options.scope).await?;
        let mut wanted: BTreeSet<ContactId> = match &options.scope {
            Scope::Contacts(ids) => {
                if let Some(id) = ids.iter().find(|id| !listing.contains_key(id)) {
                    return Err(EngineError::UnknownContact(id.to_string()));
                }
                ids.iter().copied().collect()
            }
            Scope::Restore(ids) => ids.iter().copied().collect(),
            Scope::NotionChanges | Scope::Pages(_) => BTreeSet::new(),
            Scope::All => listing
                .iter()
                .filter(|(id, l)| {
                    remapped || state.index.get(id).is_none_or(|e| e.dialer != l.version)
                })
                .map(|(id, _)| *id)
                .collect(),
        };
        let full_scan = options.scope.moves_cursor()
            && (options.full_scan
                || remapped
                || state.last_full_scan.is_none_or(|t| {
                    now - t
                        >= Duration::from_std(self.config.full_scan_every)
                            .unwrap_or(Duration::hours(1))
                }));
        let by_page = state.pages();
        let mut filter = ChangeFilter::new(&state, &mapping, &listing, &by_page);
        let mut records: Vec<NotionRecord> = Vec::new();
        match named {
            Some(named) => {
                // A page typed in Notion may be the page of any contact the
                // sync has not linked yet, and such a contact may have a page
                // of its own the index does not know (a run died after making
                // it): read every page edited since the cursor too, as a pull
                // does, so the plan sees those before linking by phone.
                let typed = named.iter().any(|r| {
                    r.dialer_id.is_none() && !filter.by_page.contains_key(r.page_id.as_str())
                });
                records.extend(
                    named
                        .into_iter()
                        .filter_map(|r| filter.keep(r, &mut wanted)),
                );
                if typed {
                    // (Everything, before any run has set the cursor.)
                    let everything = state.notion_cursor.is_none();
                    let query = changed_since(&state, everything, now);
                    self.query_changed(&data_source_id, query, &mut filter, &mut wanted)
                        .await
                        .map(|found| records.extend(found))?;
                }
            }
            None => match &options.scope {
                Scope::Contacts(ids) | Scope::Restore(ids) => {
                    for page in self
                        .pages_of_contacts(ids, options, &state, &mapping, &data_source_id)
                        .await?
                    {
                        let record = mapping.read_page(&snapshot(page));
                        records.extend(filter.keep(record, &mut wanted));
                    }
                }
                _ => {
                    let query = changed_since(&state, full_scan, now);
                    records = self
                        .query_changed(&data_source_id, query, &mut filter, &mut wanted)
                        .await?;
                }
            },
        }
        // Every page a full scan listed, changed or not: a linked page it did
        // not list is the one to look up (in the trash, mostly).
        let listed = if full_scan {
            filter.seen
        } else {
            BTreeSet::new()
        };
        // After the query: Notion's clock as its last answer gave it.
        let seen_until = self.seen_until(now);
        let mut scan_complete = full_scan;
        if full_scan {
            scan_complete = self
                .read_missing_pages(
                    &state,
                    &mapping,
                    &listing,
                    &listed,
                    &mut records,
                    options,
                    now,
                )
                .await?;
        }
        self.read_linked_of_copies(&state, &mapping, &mut records, now)
            .await?;
        // Pages without a Dialer ID may match an unlinked contact (by the page
        // it was made from, or by phone): read those contacts.
        if records
            .iter()
            .any(|r| r.dialer_id.is_none() && !by_page.contains_key(r.page_id.as_str()))
        {
            wanted.extend(listing.keys().filter(|id| !state.index.contains_key(id)));
        }
        let mut pages: BTreeMap<ContactId, Vec<NotionRecord>> = BTreeMap::new();
        let (mut unlinked, mut odd) = (Vec::new(), Vec::new());
        for r in records {
            match r
                .dialer_id
                .or_else(|| by_page.get(r.page_id.as_str()).copied())
            {
                Some(id) => pages.entry(id).or_default().push(r),
                None if r.in_trash => {}
                None if r.bad_dialer_id.is_some() => odd.push(r),
                None => unlinked.push(r),
            }
        }
        // A targeted run listed only its own contacts: another record's page
        // (one with no Dialer ID, read for a new contact) is not its to plan;
        // every other contact would look deleted to it.
        if let Scope::Contacts(ids) | Scope::Restore(ids) = &options.scope {
            pages.retain(|id, _| ids.contains(id));
        }
        let mut keys: BTreeSet<ContactId> = wanted.iter().copied().collect();
        keys.extend(pages.keys());
        if options.scope == Scope::All {
            // Contacts gone from the dialer: their pages are archived.
            keys.extend(state.index.keys().filter(|id| !listing.contains_key(id)));
        }
        Ok(Reading {
            mapping,
            data_source_id,
            state,
            state_version,
            listing,
            wanted,
            keys: keys.into_iter().collect(),
            pages,
            unlinked,
            odd,
            full_scan,
            scan_complete,
            invalid,
            problems,
            seen_until,
            blocks_refused: Default::default(),
            out_of_budget: Default::default(),
            listed_conflicts: None,
        })
    }

    /// Reads one batch: the wanted contacts among `ids`, and every base.
    /// On a full scan, a linked page the scan did not list is looked up
    /// (in the trash, mostly), until the deadline.
    pub(crate) async fn read_batch(
        &self,
        reading: &mut Reading,
        ids: &[ContactId],
        options: &RunOptions,
        now: DateTime<Utc>,
    ) -> Result<Batch, EngineError> {
        let wanted: BTreeSet<ContactId> = ids
            .iter()
            .filter(|id| reading.wanted.contains(id))
            .copied()
            .collect();
        let contacts = self
            .read_contacts(&wanted, &reading.listing, &mut reading.invalid)
            .await?;
        let invalid: BTreeSet<ContactId> = reading
            .invalid
            .iter()
            .filter_map(|r| r.contact_id)
            .collect();
        let mut pages: Vec<NotionRecord> = ids
            .iter()
            .filter(|id| !invalid.contains(id))
            .filter_map(|id| reading.pages.get(id))
            .flatten()
            .cloned()
            .collect();
        let loads = ids.iter().map(|&id| async move {
            let (base, version) = self.state.base_versioned(id).await?;
            Ok::<_, EngineError>((id, base, version))
        });
        let mut bases = BTreeMap::new();
        let mut base_versions = BTreeMap::new();
        for (id, base, version) in futures::future::try_join_all(loads).await? {
            if let Some(base) = base {
                bases.insert(id, base);
            }
            base_versions.insert(id, version);
        }
        if reading.full_scan && reading.scan_complete {
            reading.scan_complete = self
                .read_pages_of_bases(reading, &bases, &mut pages, options, now)
                .await?;
        }
        pages.extend(reading.unlinked.iter().cloned());
        pages.append(&mut reading.odd);
        Ok(Batch {
            contacts,
            pages,
            bases,
            base_versions,
        })
    }

    /// The field table resolved against the schema (cached for a few
    /// minutes), whether the mapping changed since the last run, and the
    /// optional fields the database cannot hold.
    async fn mapping(
        &self,
        state: &mut SyncState,
        now: DateTime<Utc>,
        refresh: bool,
    ) -> Result<(String, Mapping, bool, Vec<Problem>), EngineError> {
        let fresh = !refresh
            && state
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
        let problems = report
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
        Ok((data_source_id, mapping, remapped, problems))
    }

    /// One listing of the dialer's contacts (only the named ones for a push:
    /// a call must not wait for a listing of the whole store).
    async fn list_contacts(
        &self,
        scope: &Scope,
    ) -> Result<(BTreeMap<ContactId, Listed>, Vec<RecordReport>), EngineError> {
        let listed = match scope {
            Scope::Contacts(ids) | Scope::Restore(ids) => {
                let keys: Vec<String> = ids.iter().map(ContactId::to_string).collect();
                self.dialer.list_only(&keys).await?
            }
            _ => self.dialer.list().await?,
        };
        let mut listing = BTreeMap::new();
        let mut invalid_keys = Vec::new();
        for (key, listed) in listed {
            match key.parse::<ContactId>() {
                Ok(id) => {
                    listing.insert(id, listed);
                }
                Err(problem) => invalid_keys.push(invalid(
                    None,
                    format!("contact {key:?}"),
                    format!("its key is not a Dialer ID: {problem}; the contact is skipped"),
                )),
            }
        }
        Ok((listing, invalid_keys))
    }

    /// A query's pages, one response at a time: each page is read through
    /// the mapping and kept only if it is worth planning.
    async fn query_changed(
        &self,
        data_source_id: &str,
        query: Query,
        filter: &mut ChangeFilter<'_>,
        wanted: &mut BTreeSet<ContactId>,
    ) -> Result<Vec<NotionRecord>, EngineError> {
        let mut records = Vec::new();
        let mut cursor = self.notion.query_pages(data_source_id, query);
        while let Some(batch) = cursor.next_batch().await? {
            for page in batch {
                let record = filter.mapping.read_page(&snapshot(page));
                records.extend(filter.keep(record, wanted));
            }
        }
        Ok(records)
    }

    /// A push's (or a restore's) pages: each named contact's, by the page it
    /// is linked to or by its Dialer ID.
    async fn pages_of_contacts(
        &self,
        ids: &[ContactId],
        options: &RunOptions,
        state: &SyncState,
        mapping: &Mapping,
        data_source_id: &str,
    ) -> Result<Vec<Page>, EngineError> {
        let id_prop = mapping
            .dialer_id_property()
            .unwrap_or("Dialer ID")
            .to_string();
        let mut pages = Vec::new();
        let mut unlinked_wanted = false;
        for id in ids {
            let found = match state.index.get(id).and_then(|e| e.page_id.clone()) {
                Some(page_id) => match self.notion.retrieve_page(&page_id).await {
                    Ok(p) => vec![p],
                    Err(NotionError::NotFound { .. }) => Vec::new(),
                    Err(e) => return Err(e.into()),
                },
                None => {
                    self.notion
                        .query_by_number(data_source_id, &id_prop, id.get() as i64)
                        .await?
                }
            };
            unlinked_wanted |= found.is_empty() && !state.index.contains_key(id);
            pages.extend(found);
        }
        // A contact new to Notion may belong to a page typed there (linked by
        // the page it was made from, or by phone): read the pages that have no
        // Dialer ID yet, so the push links it instead of making a second page.
        if unlinked_wanted && matches!(options.scope, Scope::Contacts(_)) {
            let query = Query {
                filter: Some(json!({"property": id_prop, "number": {"is_empty": true}})),
                sorts: Vec::new(),
                page_size: None,
            };
            pages.extend(self.notion.query(data_source_id, &query).await?);
        }
        Ok(pages)
    }

    /// Everything edited from a minute before Notion's clock at the end of
    /// the query on may be unseen (edit times are minute-rounded). Notion's
    /// own clock (its `Date` header) keeps this right whatever this
    /// machine's clock says; without it, ours with a wider margin for skew.
    fn seen_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        match self.notion.server_time() {
            Some(notion_now) => {
                sync_core::time::floor_to_minute(notion_now)
                    - Duration::minutes(CURSOR_OVERLAP_MINUTES)
            }
            None => {
                sync_core::time::floor_to_minute(now)
                    - Duration::minutes(CURSOR_OVERLAP_MINUTES + 2)
            }
        }
    }

    /// A page with a record's Dialer ID that is not the page the record is
    /// linked to (a copy a person restored from the trash, or typed the id
    /// into): the linked page is read too, so the plan keeps the link and
    /// reports the second page, instead of moving the contact to whichever
    /// of the two this run happened to read. (One request per such page,
    /// when the query did not list the linked one.)
    async fn read_linked_of_copies(
        &self,
        state: &SyncState,
        mapping: &Mapping,
        records: &mut Vec<NotionRecord>,
        now: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        for (id, page_id) in linked_pages_missing(state, records) {
            let linked = self.linked_page(mapping, id, &page_id, now).await?;
            records.push(linked);
        }
        Ok(())
    }

    /// The pages a webhook named, each read by id (one request a page). A
    /// page of another database is none of the sync's business and is
    /// dropped; a linked page Notion no longer has reads as gone, like a
    /// full scan's.
    async fn named_pages(
        &self,
        ids: &[String],
        state: &SyncState,
        mapping: &Mapping,
        data_source_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<NotionRecord>, EngineError> {
        let by_page = state.pages();
        let mut records = Vec::new();
        for page_id in ids {
            let linked = by_page
                .iter()
                .find(|(p, _)| notion_client::webhook::same_id(p, page_id))
                .map(|(p, id)| (p.to_string(), *id));
            if let Some((page_id, id)) = linked {
                records.push(self.linked_page(mapping, id, &page_id, now).await?);
                continue;
            }
            match self.notion.retrieve_page(page_id).await {
                Ok(page) if page.in_data_source(data_source_id) => {
                    records.push(mapping.read_page(&snapshot(page)))
                }
                Ok(_) | Err(NotionError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(records)
    }

    /// A full scan that misses a linked page: it was trashed (or deleted) in
    /// Notion. Each is looked at, until the deadline; `false` when cut short.
    #[allow(clippy::too_many_arguments)]
    async fn read_missing_pages(
        &self,
        state: &SyncState,
        mapping: &Mapping,
        listing: &BTreeMap<ContactId, Listed>,
        listed: &BTreeSet<String>,
        records: &mut Vec<NotionRecord>,
        options: &RunOptions,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let seen: BTreeSet<&str> = records.iter().map(|r| r.page_id.as_str()).collect();
        let mut missing = Vec::new();
        for (id, entry) in &state.index {
            let Some(page_id) = &entry.page_id else {
                continue;
            };
            let known = seen.contains(page_id.as_str()) || listed.contains(page_id);
            if !known && listing.contains_key(id) {
                missing.push((*id, page_id.clone()));
            }
        }
        for (id, page_id) in missing {
            if options.past_deadline() {
                return Ok(false);
            }
            records.push(self.linked_page(mapping, id, &page_id, now).await?);
        }
        Ok(true)
    }

    /// The full scan's check of the linked pages it did not list, for
    /// records the index does not know (a run that stopped before saving its
    /// index): their bases say which page they are linked to.
    async fn read_pages_of_bases(
        &self,
        reading: &Reading,
        bases: &BTreeMap<ContactId, Base>,
        pages: &mut Vec<NotionRecord>,
        options: &RunOptions,
        now: DateTime<Utc>,
    ) -> Result<bool, EngineError> {
        let seen: BTreeSet<&str> = reading
            .pages
            .values()
            .flatten()
            .map(|r| r.page_id.as_str())
            .collect();
        let unseen: Vec<(ContactId, String)> = bases
            .values()
            .filter(|b| b.status == sync_core::RecordStatus::Active)
            .filter(|b| reading.listing.contains_key(&b.contact_id))
            .filter_map(|b| b.page_id.clone().map(|p| (b.contact_id, p)))
            .filter(|(_, p)| !seen.contains(p.as_str()))
            .collect();
        for (id, page_id) in unseen {
            if options.past_deadline() {
                return Ok(false);
            }
            pages.push(
                self.linked_page(&reading.mapping, id, &page_id, now)
                    .await?,
            );
        }
        Ok(true)
    }

    /// A linked page by id: as Notion has it, or as gone (in the trash).
    async fn linked_page(
        &self,
        mapping: &Mapping,
        id: ContactId,
        page_id: &str,
        now: DateTime<Utc>,
    ) -> Result<NotionRecord, EngineError> {
        match self.notion.retrieve_page(page_id).await {
            Ok(p) => Ok(mapping.read_page(&snapshot(p))),
            Err(NotionError::NotFound { .. }) => Ok(NotionRecord {
                page_id: page_id.to_string(),
                url: None,
                dialer_id: Some(id),
                bad_dialer_id: None,
                values: FieldMap::new(),
                created_time: now,
                last_edited_time: now,
                in_trash: true,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads the wanted contacts. One whose JSON or values are bad, or whose
    /// id is not its key, is reported by key and skipped.
    async fn read_contacts(
        &self,
        wanted: &BTreeSet<ContactId>,
        listing: &BTreeMap<ContactId, Listed>,
        invalid_out: &mut Vec<RecordReport>,
    ) -> Result<BTreeMap<ContactId, (DialerContact, Option<String>)>, EngineError> {
        let keys: Vec<String> = wanted
            .iter()
            .filter_map(|id| listing.get(id).map(|l| l.key.clone()))
            .collect();
        let mut contacts = BTreeMap::new();
        for (key, parsed, etag) in self.dialer.read(&keys).await? {
            match parsed {
                Ok(c) if c.id.to_string() != key => invalid_out.push(invalid(
                    key.parse().ok(),
                    format!("contact {key}"),
                    format!(
                        "it is saved under key {key} but its id is {}: give it the id {key} (or save it under {}); it is skipped until then",
                        c.id, c.id
                    ),
                )),
                Ok(c) => {
                    let version = etag.or_else(|| listing.get(&c.id).map(|l| l.version.clone()));
                    contacts.insert(c.id, (c, version));
                }
                Err(e) => invalid_out.push(invalid(
                    key.parse().ok(),
                    format!("contact {key}"),
                    format!("{e}; fix it in the dialer, the contact is skipped until then"),
                )),
            }
        }
        Ok(contacts)
    }
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

/// The linked pages, by record, of the pages read that carry a record's
/// Dialer ID but are not its linked page, when the linked page was not read.
fn linked_pages_missing(state: &SyncState, records: &[NotionRecord]) -> Vec<(ContactId, String)> {
    let read: BTreeSet<&str> = records.iter().map(|r| r.page_id.as_str()).collect();
    let mut missing = BTreeMap::new();
    for r in records.iter().filter(|r| !r.in_trash) {
        let Some(id) = r.dialer_id else { continue };
        let Some(linked) = state.index.get(&id).and_then(|e| e.page_id.as_deref()) else {
            continue;
        };
        if linked != r.page_id && !read.contains(linked) {
            missing.insert(id, linked.to_string());
        }
    }
    missing.into_iter().collect()
}

/// The query for the pages edited since the cursor (ascending, so a run cut
/// short has read the oldest), or for every page.
fn changed_since(state: &SyncState, everything: bool, now: DateTime<Utc>) -> Query {
    if everything {
        return Query::default();
    }
    let since = state.notion_cursor.unwrap_or(now);
    Query {
        filter: Some(
            json!({"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": since.to_rfc3339()}}),
        ),
        sorts: vec![json!({"timestamp": "last_edited_time", "direction": "ascending"})],
        page_size: None,
    }
}
