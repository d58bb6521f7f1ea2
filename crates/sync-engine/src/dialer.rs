//! The dialer's contacts in Blobs, in either layout: one blob per contact
//! (key = id) or one blob holding the whole list (a JSON array, or an object
//! with a `contacts` array; every other key of that object is kept). Writes
//! are conditional on what was read, so a contact edited by the dialer while
//! a run works on it is never overwritten: that record waits for the next run.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use netlify_blobs::{SetOptions, SetOutcome, Store};
use serde_json::{Map, Value as Json};
use sync_core::contact::{add_imported_call, imported_call_id, write_fields, write_mirror_meta};
use sync_core::{ContactError, ContactId, DialerContact, FieldMap};

use crate::config::ContactsLayout;
use crate::error::EngineError;
use crate::state::fingerprint_json;

/// One contact as listed: its key and a version marker.
#[derive(Clone, Debug)]
pub struct Listed {
    pub key: String,
    /// Changes whenever the contact does (the blob's etag, or a content hash).
    pub version: String,
    pub last_modified: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct DialerStore {
    pub store: Store,
    pub layout: ContactsLayout,
    pub zone: chrono_tz::Tz,
    /// One list blob takes one writer at a time (records are applied
    /// concurrently; their conditional writes would otherwise collide).
    pub list_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A write to one contact: mapped fields, and the `notion` mirror's page
/// id, URL and archived flag.
#[derive(Clone, Debug)]
pub struct ContactWrite {
    pub values: FieldMap,
    pub mirror: Option<(String, Option<String>, bool)>,
}

/// A contact as read: its key, the parse result, and its version.
pub type ReadContact = (String, Result<DialerContact, ContactError>, Option<String>);

/// The single-blob layout's document, and where its array is.
struct ListDoc {
    doc: Json,
    etag: Option<String>,
}

impl ListDoc {
    fn items(&self) -> &[Json] {
        match &self.doc {
            Json::Array(items) => items,
            Json::Object(o) => o
                .get("contacts")
                .and_then(Json::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            _ => &[],
        }
    }

    fn items_mut(&mut self) -> Option<&mut Vec<Json>> {
        match &mut self.doc {
            Json::Array(items) => Some(items),
            Json::Object(o) => o.get_mut("contacts").and_then(Json::as_array_mut),
            _ => None,
        }
    }
}

fn id_key(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl DialerStore {
    /// Every contact's key and version, with one listing (or one read, for
    /// the single-blob layout).
    pub async fn list(&self) -> Result<BTreeMap<String, Listed>, EngineError> {
        match &self.layout {
            ContactsLayout::PerContact => Ok(self
                .store
                .list(None)
                .await?
                .into_iter()
                .map(listed)
                .collect()),
            ContactsLayout::SingleBlob { key } => {
                let doc = self.read_doc(key).await?;
                Ok(doc
                    .items()
                    .iter()
                    .filter_map(|c| {
                        let key = id_key(c.get("id")?)?;
                        Some((
                            key.clone(),
                            Listed {
                                key,
                                version: fingerprint_json(c),
                                last_modified: None,
                            },
                        ))
                    })
                    .collect())
            }
        }
    }

    /// [`DialerStore::list`] for a few keys only: a prefix listing per key
    /// (exact matches kept) instead of the whole store.
    pub async fn list_only(
        &self,
        keys: &[String],
    ) -> Result<BTreeMap<String, Listed>, EngineError> {
        match &self.layout {
            ContactsLayout::PerContact => {
                let lists = keys.iter().map(|key| async move {
                    Ok::<_, EngineError>(self.store.list(Some(key)).await?)
                });
                Ok(futures::future::try_join_all(lists)
                    .await?
                    .into_iter()
                    .flatten()
                    .filter(|b| keys.contains(&b.key))
                    .map(listed)
                    .collect())
            }
            ContactsLayout::SingleBlob { .. } => {
                let mut all = self.list().await?;
                all.retain(|k, _| keys.contains(k));
                Ok(all)
            }
        }
    }

    /// Reads the contacts with these keys, parsed; bad ones come back as errors.
    pub async fn read(&self, keys: &[String]) -> Result<Vec<ReadContact>, EngineError> {
        match &self.layout {
            ContactsLayout::PerContact => {
                let reads = keys.iter().map(|key| async move {
                    Ok::<_, EngineError>((
                        key.clone(),
                        crate::state::read_strong(&self.store, key).await?,
                    ))
                });
                let mut out = Vec::new();
                for (key, blob) in futures::future::try_join_all(reads).await? {
                    let Some(blob) = blob else { continue };
                    let parsed = match serde_json::from_slice::<Json>(&blob.bytes) {
                        Ok(json) => DialerContact::parse(&json, &key, self.zone),
                        Err(e) => Err(ContactError {
                            contact: key.clone(),
                            field: "(contact)".into(),
                            problem: format!("not valid JSON: {e}"),
                        }),
                    };
                    out.push((key, parsed, blob.etag));
                }
                Ok(out)
            }
            ContactsLayout::SingleBlob { key } => {
                let doc = self.read_doc(key).await?;
                let wanted: BTreeSet<&String> = keys.iter().collect();
                Ok(doc
                    .items()
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| {
                        let key = c
                            .get("id")
                            .and_then(id_key)
                            .unwrap_or_else(|| format!("#{i}"));
                        wanted.contains(&key).then(|| {
                            (
                                key.clone(),
                                DialerContact::parse(c, &key, self.zone),
                                Some(fingerprint_json(c)),
                            )
                        })
                    })
                    .collect())
            }
        }
    }

    async fn read_doc(&self, key: &str) -> Result<ListDoc, EngineError> {
        let Some(blob) = crate::state::read_strong(&self.store, key).await? else {
            return Ok(ListDoc {
                doc: Json::Array(Vec::new()),
                etag: None,
            });
        };
        let doc: Json = serde_json::from_slice(&blob.bytes).map_err(|e| {
            EngineError::BadRequest(format!(
                "the dialer's contact list ({key}) is not valid JSON: {e}"
            ))
        })?;
        let shape_ok = doc.is_array() || doc.get("contacts").is_some_and(Json::is_array);
        if !shape_ok {
            return Err(EngineError::BadRequest(format!(
                "the dialer's contact list ({key}) must be a JSON array or an object with a \"contacts\" array"
            )));
        }
        Ok(ListDoc {
            doc,
            etag: blob.etag,
        })
    }

    /// Writes one contact (`create`: a new one). Returns the stored object
    /// and its new version, or `None` when it changed under us (or, for a
    /// create, its id was taken meanwhile): nothing was written then.
    pub async fn write(
        &self,
        id: ContactId,
        version: Option<&str>,
        change: &ContactWrite,
        create: bool,
    ) -> Result<Option<(Map<String, Json>, String)>, EngineError> {
        let key = id.to_string();
        match &self.layout {
            ContactsLayout::PerContact => {
                let (mut raw, condition) = if create {
                    (
                        Map::from_iter([("id".to_string(), Json::String(key.clone()))]),
                        SetOptions::if_new(),
                    )
                } else {
                    let Some(blob) = crate::state::read_strong(&self.store, &key).await? else {
                        return Ok(None);
                    };
                    let Ok(Json::Object(raw)) = serde_json::from_slice::<Json>(&blob.bytes) else {
                        return Ok(None);
                    };
                    // Conditional on the version the plan was made from (not this
                    // read's): a contact the dialer changed since is left for the
                    // next run instead of being written over. The local Blobs server
                    // sends no etag on GET, so the version may come from the listing.
                    match version.or(blob.etag.as_deref()) {
                        Some(etag) => (raw, SetOptions::if_match(etag)),
                        None => (raw, SetOptions::default()),
                    }
                };
                apply_change(&mut raw, change, create);
                match self
                    .store
                    .set_json(&key, &Json::Object(raw.clone()), condition)
                    .await?
                {
                    SetOutcome::Written { etag } => Ok(Some((raw, etag.unwrap_or_default()))),
                    SetOutcome::ConditionFailed => Ok(None),
                }
            }
            ContactsLayout::SingleBlob { key: list_key } => {
                let _one_writer = self.list_writer.lock().await;
                let mut doc = self.read_doc(list_key).await?;
                let etag = match doc.etag.clone() {
                    Some(e) => Some(e),
                    None => self
                        .store
                        .list(Some(list_key))
                        .await?
                        .into_iter()
                        .find(|b| &b.key == list_key)
                        .map(|b| b.etag),
                };
                let Some(items) = doc.items_mut() else {
                    return Ok(None);
                };
                let position = items
                    .iter()
                    .position(|c| c.get("id").and_then(id_key).as_deref() == Some(key.as_str()));
                let index = match (position, create) {
                    (Some(i), false) => {
                        // Changed since it was read: leave it for the next run.
                        if version.is_some_and(|v| v != fingerprint_json(&items[i])) {
                            return Ok(None);
                        }
                        i
                    }
                    (None, true) => {
                        items.push(Json::Object(Map::from_iter([(
                            "id".to_string(),
                            Json::String(key.clone()),
                        )])));
                        items.len() - 1
                    }
                    _ => return Ok(None),
                };
                let Json::Object(raw) = &mut items[index] else {
                    return Ok(None);
                };
                apply_change(raw, change, create);
                let written = raw.clone();
                let condition = match etag {
                    Some(e) => SetOptions::if_match(e),
                    None => SetOptions::if_new(),
                };
                match self.store.set_json(list_key, &doc.doc, condition).await? {
                    SetOutcome::Written { .. } => {
                        let version = fingerprint_json(&Json::Object(written.clone()));
                        Ok(Some((written, version)))
                    }
                    SetOutcome::ConditionFailed => Ok(None),
                }
            }
        }
    }
}

/// A listed blob as a contact's key and version.
fn listed(b: netlify_blobs::ListedBlob) -> (String, Listed) {
    let last_modified = b
        .last_modified
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.to_utc());
    (
        b.key.clone(),
        Listed {
            key: b.key,
            version: b.etag,
            last_modified,
        },
    )
}

/// A contact being created from a page also takes the page's latest-call
/// fields, as its one call.
fn apply_change(raw: &mut Map<String, Json>, change: &ContactWrite, create: bool) {
    write_fields(raw, &change.values);
    if let (true, Some((page_id, _, _))) = (create, &change.mirror) {
        add_imported_call(raw, &change.values, &imported_call_id(page_id));
    }
    if let Some((page_id, url, archived)) = &change.mirror {
        write_mirror_meta(raw, page_id, url.as_deref(), *archived);
    }
}
