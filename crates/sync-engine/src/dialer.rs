//! The dialer's contacts in Blobs, in either layout: one blob per contact
//! (key = id) or one blob holding the whole list. Writes are conditional on
//! what was read, so a contact edited by the dialer while a run works on it
//! is never overwritten: that record waits for the next run.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use netlify_blobs::{SetOptions, SetOutcome, Store};
use serde_json::{Map, Value as Json};
use sync_core::contact::{write_fields, write_mirror_meta};
use sync_core::{ContactError, ContactId, DialerContact, FieldMap};

use crate::config::ContactsLayout;
use crate::error::EngineError;

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
}

/// A write to one contact.
#[derive(Clone, Debug)]
pub struct ContactWrite {
    pub values: FieldMap,
    pub mirror: Option<(String, Option<String>, bool)>,
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
                .map(|b| {
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
                })
                .collect()),
            ContactsLayout::SingleBlob { .. } => {
                let (list, _) = self.read_list().await?;
                Ok(list
                    .iter()
                    .filter_map(|c| {
                        let key = c.get("id").map(id_key)?;
                        let version = crate::state::fingerprint_json(c);
                        Some((
                            key.clone(),
                            Listed {
                                key,
                                version,
                                last_modified: None,
                            },
                        ))
                    })
                    .collect())
            }
        }
    }

    /// Reads the contacts with these keys, parsed; bad ones come back as errors.
    pub async fn read(
        &self,
        keys: &[String],
    ) -> Result<Vec<(String, Result<DialerContact, ContactError>, Option<String>)>, EngineError>
    {
        match &self.layout {
            ContactsLayout::PerContact => {
                let reads = keys.iter().map(|key| async move {
                    let blob = self.store.get(key).await?;
                    Ok::<_, EngineError>((key.clone(), blob))
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
            ContactsLayout::SingleBlob { .. } => {
                let (list, _) = self.read_list().await?;
                let wanted: std::collections::BTreeSet<&String> = keys.iter().collect();
                Ok(list
                    .iter()
                    .enumerate()
                    .filter_map(|(i, c)| {
                        let key = c.get("id").map(id_key).unwrap_or_else(|| format!("#{i}"));
                        wanted
                            .contains(&key)
                            .then(|| (key.clone(), DialerContact::parse(c, &key, self.zone), None))
                    })
                    .collect())
            }
        }
    }

    async fn read_list(&self) -> Result<(Vec<Json>, Option<String>), EngineError> {
        let ContactsLayout::SingleBlob { key } = &self.layout else {
            unreachable!("single-blob layout only")
        };
        let Some(blob) = self.store.get(key).await? else {
            return Ok((Vec::new(), None));
        };
        let json: Json = serde_json::from_slice(&blob.bytes).map_err(|e| {
            EngineError::BadRequest(format!(
                "the dialer's contact list ({key}) is not valid JSON: {e}"
            ))
        })?;
        let list = match json {
            Json::Array(items) => items,
            Json::Object(mut o) => match o.remove("contacts") {
                Some(Json::Array(items)) => items,
                _ => {
                    return Err(EngineError::BadRequest(format!(
                        "the dialer's contact list ({key}) has no \"contacts\" array"
                    )))
                }
            },
            _ => {
                return Err(EngineError::BadRequest(format!(
                    "the dialer's contact list ({key}) is not a list"
                )))
            }
        };
        Ok((list, blob.etag))
    }

    /// Applies writes to existing contacts and creates new ones. Returns, per
    /// contact, the stored object after the write (or `None` when it changed
    /// under us and was left for the next run) and its new version.
    pub async fn write(
        &self,
        id: ContactId,
        etag: Option<&str>,
        change: &ContactWrite,
        create: bool,
    ) -> Result<Option<(Map<String, Json>, String)>, EngineError> {
        let key = id.to_string();
        match &self.layout {
            ContactsLayout::PerContact => {
                let (mut raw, condition) = if create {
                    let mut raw = Map::new();
                    raw.insert("id".into(), Json::String(key.clone()));
                    (raw, SetOptions::if_new())
                } else {
                    let Some(blob) = self.store.get(&key).await? else {
                        return Ok(None);
                    };
                    let Ok(Json::Object(raw)) = serde_json::from_slice::<Json>(&blob.bytes) else {
                        return Ok(None);
                    };
                    // Etags from the listing when the server gives none on GET.
                    let options = match blob.etag.as_deref().or(etag) {
                        Some(e) => SetOptions::if_match(e),
                        None => SetOptions::default(),
                    };
                    (raw, options)
                };
                apply_change(&mut raw, change);
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
                // Read-modify-write of the whole list, conditional on its etag.
                let list_key = list_key.clone();
                let blob = self.store.get(&list_key).await?;
                let listed_etag = self
                    .store
                    .list(Some(&list_key))
                    .await?
                    .into_iter()
                    .find(|b| b.key == list_key)
                    .map(|b| b.etag);
                let (mut list, _) = self.read_list().await?;
                let position = list
                    .iter()
                    .position(|c| c.get("id").map(id_key).as_deref() == Some(key.as_str()));
                let raw = match (position, create) {
                    (Some(i), false) => match &mut list[i] {
                        Json::Object(o) => o,
                        _ => return Ok(None),
                    },
                    (None, true) => {
                        let mut o = Map::new();
                        o.insert("id".into(), Json::String(key.clone()));
                        list.push(Json::Object(o));
                        match list.last_mut() {
                            Some(Json::Object(o)) => o,
                            _ => return Ok(None),
                        }
                    }
                    _ => return Ok(None),
                };
                apply_change(raw, change);
                let written = raw.clone();
                let condition = match blob.as_ref().and_then(|b| b.etag.clone()).or(listed_etag) {
                    Some(e) => SetOptions::if_match(e),
                    None if blob.is_none() => SetOptions::if_new(),
                    None => SetOptions::default(),
                };
                match self
                    .store
                    .set_json(&list_key, &Json::Array(list), condition)
                    .await?
                {
                    SetOutcome::Written { .. } => {
                        let version =
                            crate::state::fingerprint_json(&Json::Object(written.clone()));
                        Ok(Some((written, version)))
                    }
                    SetOutcome::ConditionFailed => Ok(None),
                }
            }
        }
    }
}

fn apply_change(raw: &mut Map<String, Json>, change: &ContactWrite) {
    write_fields(raw, &change.values);
    if let Some((page_id, url, archived)) = &change.mirror {
        write_mirror_meta(raw, page_id, url.as_deref(), *archived);
    }
}

fn id_key(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}
