//! Conflicts as the dialer's console shows them, and their resolution:
//! keep Notion, keep the dialer, or merge field by field. The chosen values
//! are written to both sides; the record with every value (the ones not
//! chosen included) moves to `resolved/`, so nothing is ever lost.

use chrono::Utc;
use serde::Serialize;
use serde_json::Value as Json;
use sync_core::{resolve, ContactId, DialerContact, FieldMap, Resolution};

use crate::dialer::ContactWrite;
use crate::error::EngineError;
use crate::lock::RunLock;
use crate::run::Engine;
use crate::state::{fingerprint, ConflictRecord};

#[derive(Clone, Debug, Serialize)]
pub struct Resolved {
    pub contact_id: ContactId,
    pub values: FieldMap,
    pub conflict: ConflictRecord,
    pub resolution: Resolution,
}

impl Engine {
    pub async fn conflicts(&self) -> Result<Vec<ConflictRecord>, EngineError> {
        self.state.conflicts().await
    }

    pub async fn resolve_conflict(
        &self,
        id: ContactId,
        resolution: Resolution,
        actor: &str,
    ) -> Result<Resolved, EngineError> {
        let conflict =
            self.state.conflict(id).await?.ok_or_else(|| {
                EngineError::BadRequest(format!("contact {id} has no open conflict"))
            })?;
        let values = resolve(&conflict.fields, &resolution)
            .map_err(|e| EngineError::BadRequest(e.to_string()))?;
        let lock = RunLock::acquire(
            &self.state.store,
            &format!("{actor}:resolve-{id}"),
            Utc::now(),
            chrono::Duration::minutes(2),
            self.config.lock_settle,
        )
        .await?;
        let result = self.write_resolution(id, &conflict, &values).await;
        lock.release().await?;
        result?;
        let resolved = Resolved {
            contact_id: id,
            values,
            conflict,
            resolution,
        };
        let key = format!("resolved/{id}-{}", Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
        self.state
            .store
            .set_json(&key, &resolved, netlify_blobs::SetOptions::default())
            .await?;
        self.state.clear_conflict(id).await?;
        Ok(resolved)
    }

    async fn write_resolution(
        &self,
        id: ContactId,
        conflict: &ConflictRecord,
        values: &FieldMap,
    ) -> Result<(), EngineError> {
        let (state, _) = self.state.load().await?;
        let (_, mapping, _) = self.schema(state.data_source_id.as_deref()).await?;
        let mut base = self
            .state
            .base(id)
            .await?
            .ok_or_else(|| EngineError::State(format!("no base for contact {id}")))?;
        if let Some(page_id) = conflict.page_id.as_deref().or(base.page_id.as_deref()) {
            let props = mapping
                .write_properties(values)
                .map_err(|e| EngineError::BadRequest(e.to_string()))?;
            let page = self.notion.update_page(page_id, props).await?;
            let read = mapping.read_page(&crate::run::snapshot(&page)).values;
            for k in values.keys() {
                if let Some(v) = read.get(k) {
                    base.notion.insert(k.clone(), v.clone());
                }
            }
        }
        let write = ContactWrite {
            values: values.clone(),
            mirror: None,
        };
        let etag = self
            .dialer
            .list()
            .await?
            .get(&id.to_string())
            .map(|l| l.version.clone());
        match self
            .dialer
            .write(id, etag.as_deref(), &write, false)
            .await?
        {
            Some((raw, version)) => {
                if let Ok(contact) = DialerContact::parse(
                    &Json::Object(raw),
                    &id.to_string(),
                    self.config.sync.time_zone,
                ) {
                    for k in values.keys() {
                        if let Some(v) = contact.values.get(k) {
                            base.dialer.insert(k.clone(), v.clone());
                        }
                    }
                }
                let mut state = state;
                if let Some(entry) = state.index.get_mut(&id) {
                    entry.dialer = version;
                    entry.notion = fingerprint(&mapping, &base.notion);
                }
                self.state.save(&state).await?;
            }
            None => {
                return Err(EngineError::BadRequest(format!(
                    "contact {id} changed in the dialer meanwhile; reload and choose again"
                )))
            }
        }
        base.synced_at = Utc::now();
        self.state.save_base(&base).await?;
        Ok(())
    }
}
