//! The sync's own state, in a Blobs store of its own (default `notion-sync`).
//!
//! | key | what |
//! |---|---|
//! | `state` | cursor, data source id, next Dialer ID, the index (per contact: etag, page, fingerprint) |
//! | `bases/{id}` | a record's [`Base`]: both sides' values at its last successful sync |
//! | `intents/{id}` | "creating a page for this contact": a resumed run looks before it creates |
//! | `calls/{id}` | "appending these calls": a resumed run checks the page body first |
//! | `conflicts/{id}` | the record's conflicts, with both values, until resolved |
//! | `lock` | the lease that keeps runs one at a time |
//! | `queue/{time}-{id}` | pushes that could not reach Notion, drained by the next run |
//! | `runs/{time}` | run history: what each run did (kept `SYNC_HISTORY_DAYS`) |
//! | `history` | the newest runs, one line each, for the status banner and history list |
//!
//! The index is an optimisation only: a lost or stale index makes a run read
//! more, never write wrongly, because bases decide what changed.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use netlify_blobs::{SetOptions, SetOutcome, Store};
use serde::{Deserialize, Serialize};
use sync_core::{Base, ContactId, FieldConflict, FieldMap};

use crate::error::EngineError;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SyncState {
    pub data_source_id: Option<String>,
    /// Notion pages edited at or after this were not all seen yet.
    pub notion_cursor: Option<DateTime<Utc>>,
    pub last_full_scan: Option<DateTime<Utc>>,
    /// The next Dialer ID to hand out to a contact made in Notion.
    pub next_id: u64,
    /// The data source's schema as last fetched, so a run that changes
    /// nothing costs one Notion request (refreshed every few minutes, and at
    /// once after Notion rejects a write).
    #[serde(default)]
    pub schema: Option<serde_json::Value>,
    #[serde(default)]
    pub schema_fetched_at: Option<DateTime<Utc>>,
    /// Which fields the last run could exchange, and through which
    /// properties: when that changes, the next run reads both sides in full.
    #[serde(default)]
    pub mapping: Option<String>,
    #[serde(default)]
    pub index: BTreeMap<ContactId, IndexEntry>,
    /// A run has gone through without leaving records for later: from then
    /// on a big create or archive is held by the brake (before, it is the
    /// first import). Records that fail do not hold this back.
    #[serde(default)]
    pub first_sync_done: bool,
    /// Pages of contacts deleted in the dialer (the index forgets those
    /// records): a page whose Dialer ID never made it onto the page is still
    /// known as that contact's, so it never becomes a new contact.
    #[serde(default)]
    pub tombstones: BTreeMap<String, ContactId>,
    /// Dialer IDs handed to pages typed in Notion by a run that has not yet
    /// recorded the contacts it makes of them (saved before it makes them).
    /// A run cut off between making a contact and recording it leaves the
    /// page known here: the next run makes that same contact again if it is
    /// missing, never a second one under a new id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub handouts: BTreeMap<String, ContactId>,
    /// Notion's request window as the last run left it: the next
    /// invocation's client starts from it (Notion counts per connection, not
    /// per process).
    #[serde(default)]
    pub notion_window: notion_client::RequestWindow,
}

impl SyncState {
    /// Contacts by the page they are linked to, as the index knows them.
    pub fn pages(&self) -> BTreeMap<&str, ContactId> {
        let mut pages: BTreeMap<&str, ContactId> = self
            .tombstones
            .iter()
            .map(|(p, id)| (p.as_str(), *id))
            .collect();
        pages.extend(
            self.index
                .iter()
                .filter_map(|(id, e)| e.page_id.as_deref().map(|p| (p, *id))),
        );
        pages
    }
}

/// What the last run saw of one record, so the next reads only what moved.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The contact blob's etag (per-contact layout) or the contact's fingerprint.
    pub dialer: String,
    pub page_id: Option<String>,
    /// Fingerprint of the page's mapped values after the last sync.
    pub notion: String,
    /// The page is in Notion's trash (the record is parked until it is restored).
    #[serde(default)]
    pub archived: bool,
    /// The record has an open conflict: a run that touches it merges its
    /// new conflicts into it and drops the ones both sides have settled.
    #[serde(default)]
    pub conflict: bool,
}

/// A stable fingerprint of the fields `mapping` exchanges (FNV-1a over
/// their JSON). Values the base keeps for fields the database cannot hold
/// right now are left out, so a page read through the mapping compares equal.
pub fn fingerprint(mapping: &sync_core::Mapping, values: &FieldMap) -> String {
    let mapped: FieldMap = values
        .iter()
        .filter(|(k, _)| mapping.field(k).is_some())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    fingerprint_json(&serde_json::to_value(mapped).unwrap_or_default())
}

/// The record's open conflicts, as the dialer's conflict console shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictRecord {
    pub contact_id: ContactId,
    pub page_id: Option<String>,
    pub company_name: String,
    pub fields: Vec<FieldConflict>,
    pub detected_at: DateTime<Utc>,
    /// The contact was deleted in the dialer while a person edited its page
    /// (`fields` are those edits): resolved as a whole, by archiving the
    /// page (keep the dialer) or restoring the contact (keep Notion).
    #[serde(default)]
    pub deleted_in_dialer: bool,
}

impl ConflictRecord {
    /// No policy settled it: a person must choose before anything changes.
    pub fn waits_for_person(&self) -> bool {
        self.deleted_in_dialer || self.fields.iter().any(|f| f.applied.is_none())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateIntent {
    pub contact_id: ContactId,
    pub started_at: DateTime<Utc>,
    /// Set when Notion answered the create ambiguously (it may have
    /// committed) and the page could not be found right after: queries can
    /// lag behind writes, so the next run waits for the page to show before
    /// creating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unconfirmed_at: Option<DateTime<Utc>>,
}

/// What a run that lost its lease made that the run which took over may
/// have made too: call-log entries it appended, answered or not (each is
/// left once on the page), or a page it created (it goes if another live
/// page holds the Dialer ID). Kept until that check has been
/// done, by that run or, if it could not, by the next.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RepeatCheck {
    pub contact_id: ContactId,
    pub page_id: String,
    /// Each entry's reference (and, from checks saved by older versions,
    /// the ids of its blocks: unused, the copies are found on the page).
    #[serde(default)]
    pub entries: Vec<(String, Vec<String>)>,
    /// The page itself is what may be a copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_copy: Option<PageCopy>,
}

/// A page a run created after it lost its lease.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PageCopy {
    pub data_source_id: String,
    /// The Dialer ID property, to find the other pages with the id.
    pub id_property: String,
    pub created_at: DateTime<Utc>,
}

impl RepeatCheck {
    fn key(&self) -> String {
        match self.page_copy {
            Some(_) => format!("repeats/{}-page", self.contact_id),
            None => format!("repeats/{}", self.contact_id),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallsIntent {
    pub page_id: String,
    pub refs: BTreeSet<String>,
}

/// Reads a blob from the uncached edge: the sync decides from its own last
/// writes (bases, cursor, lock) and the dialer's latest, never a cached copy
/// up to a minute old.
pub(crate) async fn read_strong(
    store: &Store,
    key: &str,
) -> Result<Option<netlify_blobs::Blob>, EngineError> {
    let options = netlify_blobs::GetOptions {
        strong: true,
        if_none_match: None,
    };
    Ok(match store.get_with(key, options).await? {
        netlify_blobs::GetOutcome::Found(blob) => Some(blob),
        _ => None,
    })
}

/// The version a blob was read at, to write it back conditionally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Version {
    /// There was no blob: write only if there still is none.
    New,
    Etag(String),
    /// The server told no version (neither on read nor in its listing):
    /// the write is unconditional.
    Unknown,
}

impl Version {
    pub(crate) fn condition(&self) -> SetOptions {
        match self {
            Version::New => SetOptions::if_new(),
            Version::Etag(etag) => SetOptions::if_match(etag),
            Version::Unknown => SetOptions::default(),
        }
    }
}

/// [`read_strong`] with the version to write it back with. Netlify sends the
/// etag with the content; the local Blobs server does not, so its etag is
/// taken from a listing made *before* reading again: the content is then
/// as new as the etag or newer, and a write conditional on a stale etag
/// fails rather than overwriting.
pub(crate) async fn read_versioned_bytes(
    store: &Store,
    key: &str,
) -> Result<Option<(Vec<u8>, Version)>, EngineError> {
    let Some(blob) = read_strong(store, key).await? else {
        return Ok(None);
    };
    if let Some(etag) = blob.etag {
        return Ok(Some((blob.bytes, Version::Etag(etag))));
    }
    let etag = store
        .list(Some(key))
        .await?
        .into_iter()
        .find(|b| b.key == key)
        .map(|b| b.etag)
        .filter(|e| !e.is_empty());
    Ok(read_strong(store, key).await?.map(|blob| {
        let version = etag.map_or(Version::Unknown, Version::Etag);
        (blob.bytes, version)
    }))
}

/// [`read_versioned_bytes`], as JSON.
pub(crate) async fn read_versioned<T: serde::de::DeserializeOwned>(
    store: &Store,
    key: &str,
) -> Result<Option<(T, Version)>, EngineError> {
    match read_versioned_bytes(store, key).await? {
        None => Ok(None),
        Some((bytes, version)) => serde_json::from_slice(&bytes)
            .map(|v| Some((v, version)))
            .map_err(|e| EngineError::State(format!("{key}: {e}"))),
    }
}

/// Writes `value` at `key` only if it is still at `version`; `Moved` if not.
pub(crate) async fn write_versioned<T: Serialize>(
    store: &Store,
    key: &str,
    value: &T,
    version: &Version,
) -> Result<Version, EngineError> {
    match store.set_json(key, value, version.condition()).await? {
        SetOutcome::Written { etag } => Ok(etag.map_or(Version::Unknown, Version::Etag)),
        SetOutcome::ConditionFailed => Err(EngineError::Moved(key.to_string())),
    }
}

/// [`read_strong`], as JSON.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    store: &Store,
    key: &str,
) -> Result<Option<T>, EngineError> {
    match read_strong(store, key).await? {
        None => Ok(None),
        Some(blob) => serde_json::from_slice(&blob.bytes)
            .map(Some)
            .map_err(|e| EngineError::State(format!("{key}: {e}"))),
    }
}

/// Typed access to the state store.
#[derive(Clone, Debug)]
pub struct StateStore {
    pub store: Store,
}

fn base_key(id: ContactId) -> String {
    format!("bases/{id}")
}

impl StateStore {
    pub fn new(store: Store) -> Self {
        StateStore { store }
    }

    /// The sync's state and the version to save it back with.
    pub async fn load(&self) -> Result<(SyncState, Version), EngineError> {
        Ok(read_versioned(&self.store, "state")
            .await?
            .unwrap_or((SyncState::default(), Version::New)))
    }

    /// Saves the state if nobody saved it since `version` was read
    /// (`Moved` otherwise); returns the new version.
    pub async fn save(&self, state: &SyncState, version: &Version) -> Result<Version, EngineError> {
        write_versioned(&self.store, "state", state, version).await
    }

    pub async fn base(&self, id: ContactId) -> Result<Option<Base>, EngineError> {
        Ok(read_json(&self.store, &base_key(id)).await?)
    }

    /// A record's base and the version to save its next one with.
    pub async fn base_versioned(
        &self,
        id: ContactId,
    ) -> Result<(Option<Base>, Version), EngineError> {
        Ok(match read_versioned(&self.store, &base_key(id)).await? {
            Some((base, version)) => (Some(base), version),
            None => (None, Version::New),
        })
    }

    /// Saves a record's next base if nobody saved one since `version`.
    pub async fn save_base_if(
        &self,
        base: &Base,
        version: &Version,
    ) -> Result<Version, EngineError> {
        write_versioned(&self.store, &base_key(base.contact_id), base, version).await
    }

    /// Forgets a record's base: the next look at it treats both sides as new.
    pub async fn delete_base(&self, id: ContactId) -> Result<(), EngineError> {
        self.store.delete(&base_key(id)).await?;
        Ok(())
    }

    pub async fn save_base(&self, base: &Base) -> Result<(), EngineError> {
        self.store
            .set_json(&base_key(base.contact_id), base, SetOptions::default())
            .await?;
        Ok(())
    }

    pub async fn intent(&self, id: ContactId) -> Result<Option<CreateIntent>, EngineError> {
        Ok(read_json(&self.store, &format!("intents/{id}")).await?)
    }

    pub async fn set_intent(&self, intent: &CreateIntent) -> Result<(), EngineError> {
        self.store
            .set_json(
                &format!("intents/{}", intent.contact_id),
                intent,
                SetOptions::default(),
            )
            .await?;
        Ok(())
    }

    pub async fn clear_intent(&self, id: ContactId) -> Result<(), EngineError> {
        self.store.delete(&format!("intents/{id}")).await?;
        Ok(())
    }

    pub async fn set_repeat_check(&self, check: &RepeatCheck) -> Result<(), EngineError> {
        self.store
            .set_json(&check.key(), check, SetOptions::default())
            .await?;
        Ok(())
    }

    pub async fn clear_repeat_check(&self, check: &RepeatCheck) -> Result<(), EngineError> {
        self.store.delete(&check.key()).await?;
        Ok(())
    }

    /// Repeat checks a stalled run could not finish (one listing request).
    pub async fn repeat_checks(&self) -> Result<Vec<RepeatCheck>, EngineError> {
        let mut out = Vec::new();
        for listed in self.store.list(Some("repeats/")).await? {
            if let Some(check) = read_json::<RepeatCheck>(&self.store, &listed.key).await? {
                out.push(check);
            }
        }
        Ok(out)
    }

    pub async fn calls_intent(&self, id: ContactId) -> Result<Option<CallsIntent>, EngineError> {
        Ok(read_json(&self.store, &format!("calls/{id}")).await?)
    }

    pub async fn set_calls_intent(
        &self,
        id: ContactId,
        intent: &CallsIntent,
    ) -> Result<(), EngineError> {
        self.store
            .set_json(&format!("calls/{id}"), intent, SetOptions::default())
            .await?;
        Ok(())
    }

    pub async fn clear_calls_intent(&self, id: ContactId) -> Result<(), EngineError> {
        self.store.delete(&format!("calls/{id}")).await?;
        Ok(())
    }

    pub async fn conflict(&self, id: ContactId) -> Result<Option<ConflictRecord>, EngineError> {
        Ok(read_json(&self.store, &format!("conflicts/{id}")).await?)
    }

    pub async fn save_conflict(&self, record: &ConflictRecord) -> Result<(), EngineError> {
        self.store
            .set_json(
                &format!("conflicts/{}", record.contact_id),
                record,
                SetOptions::default(),
            )
            .await?;
        Ok(())
    }

    pub async fn clear_conflict(&self, id: ContactId) -> Result<(), EngineError> {
        self.store.delete(&format!("conflicts/{id}")).await?;
        Ok(())
    }

    /// The records with an open conflict, as the store lists them (one
    /// request): unlike the index, this knows a conflict filed by a run that
    /// stopped before saving its index.
    pub async fn conflict_ids(&self) -> Result<BTreeSet<ContactId>, EngineError> {
        Ok(self
            .store
            .list(Some("conflicts/"))
            .await?
            .iter()
            .filter_map(|b| b.key.strip_prefix("conflicts/")?.parse().ok())
            .collect())
    }

    pub async fn conflicts(&self) -> Result<Vec<ConflictRecord>, EngineError> {
        let mut out = Vec::new();
        for id in self.conflict_ids().await? {
            out.extend(self.conflict(id).await?);
        }
        Ok(out)
    }

    /// Deletes the blobs under `prefix` that `is_old` picks, oldest key
    /// first, at most `max` (pruning never delays a run for long).
    pub async fn delete_oldest(
        &self,
        prefix: &str,
        max: usize,
        is_old: impl Fn(&str) -> bool,
    ) -> Result<usize, EngineError> {
        let mut old: Vec<String> = self
            .store
            .list(Some(prefix))
            .await?
            .into_iter()
            .map(|b| b.key)
            .filter(|k| k.starts_with(prefix) && is_old(k))
            .collect();
        old.sort_unstable();
        old.truncate(max);
        for key in &old {
            self.store.delete(key).await?;
        }
        Ok(old.len())
    }

    /// Writes `value` at `key` only if no blob is there yet.
    pub async fn create_once(
        &self,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<bool, EngineError> {
        let bytes = serde_json::to_vec(value).map_err(|e| EngineError::State(e.to_string()))?;
        Ok(matches!(
            self.store.set(key, bytes, SetOptions::if_new()).await?,
            SetOutcome::Written { .. }
        ))
    }
}

/// Fingerprint of any JSON value (the single-blob layout's contact versions).
pub fn fingerprint_json(value: &serde_json::Value) -> String {
    format!(
        "{:016x}",
        sync_core::value::stable_hash(value.to_string().as_bytes())
    )
}
