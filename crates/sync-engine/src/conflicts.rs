//! Conflicts as the dialer's console shows them, and their resolution:
//! keep Notion, keep the dialer, or merge field by field. The chosen values
//! are written to both sides; the record with every value (the ones not
//! chosen included) moves to `resolved/`, so nothing is ever lost.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;
use sync_core::contact::to_dialer_json;
use sync_core::{
    applied_resolution, fields, recommended_side, resolve, resolve_deletion, ContactId,
    DialerContact, FieldConflict, FieldMap, Resolution, Side, Value,
};

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

/// A conflict as the console shows it: both values as the dialer spells
/// them and as text, who edited when, and which side to recommend.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictView {
    pub contact_id: ContactId,
    pub company_name: String,
    pub page_id: Option<String>,
    pub detected_at: DateTime<Utc>,
    /// "Recommended: keep the dialer's version (edited later)".
    pub recommended: Side,
    /// Deleted in the dialer, edited in Notion: keep the dialer (archive
    /// the page) or Notion (restore the contact); no per-field merge.
    pub deleted_in_dialer: bool,
    pub fields: Vec<FieldView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldView {
    /// The dialer's key (`phone`), what a per-field choice names.
    pub field: String,
    /// The Notion property (`Phone`), what the person sees.
    pub label: String,
    pub base: Option<Json>,
    pub dialer: Json,
    pub notion: Json,
    pub dialer_text: String,
    pub notion_text: String,
    pub dialer_edited_at: Option<DateTime<Utc>>,
    pub notion_edited_at: DateTime<Utc>,
    /// The side the policy already applied (the other value is kept here
    /// until resolved), or `None` when the record waits for a person.
    pub applied: Option<Side>,
    pub reason: String,
    pub recommended: Side,
}

impl From<&ConflictRecord> for ConflictView {
    fn from(record: &ConflictRecord) -> Self {
        ConflictView {
            contact_id: record.contact_id,
            company_name: record.company_name.clone(),
            page_id: record.page_id.clone(),
            detected_at: record.detected_at,
            // Restoring loses nothing; archiving could lose a teammate's edit.
            recommended: if record.deleted_in_dialer {
                Side::Notion
            } else {
                recommended_side(&record.fields)
            },
            deleted_in_dialer: record.deleted_in_dialer,
            fields: record.fields.iter().map(FieldView::from).collect(),
        }
    }
}

impl From<&FieldConflict> for FieldView {
    fn from(c: &FieldConflict) -> Self {
        let spec = fields::field(&c.field);
        let shape = |v: &Value| match spec {
            Some(spec) => to_dialer_json(spec.kind, v),
            None => serde_json::to_value(v).unwrap_or(Json::Null),
        };
        FieldView {
            field: c.field.clone(),
            label: spec.map_or_else(|| c.field.clone(), |s| s.property.to_string()),
            base: c.base.as_ref().map(shape),
            dialer: shape(&c.dialer),
            notion: shape(&c.notion),
            dialer_text: c.dialer.plain(),
            notion_text: c.notion.plain(),
            dialer_edited_at: c.dialer_edited_at,
            notion_edited_at: c.notion_edited_at,
            applied: c.applied,
            reason: c.reason.clone(),
            recommended: c.recommended(),
        }
    }
}

impl Engine {
    pub async fn conflicts(&self) -> Result<Vec<ConflictRecord>, EngineError> {
        self.state.conflicts().await
    }

    /// The open conflicts, oldest contact id first, as the console shows them.
    pub async fn conflict_views(&self) -> Result<Vec<ConflictView>, EngineError> {
        Ok(self
            .conflicts()
            .await?
            .iter()
            .map(ConflictView::from)
            .collect())
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
        let values = if conflict.deleted_in_dialer {
            resolve_deletion(&conflict.fields, &resolution)
        } else {
            resolve(&conflict.fields, &resolution)
        }
        .map_err(|e| EngineError::BadRequest(format!("contact {id}: {e}")))?;
        let lock = self.short_lock(&format!("{actor}:resolve-{id}")).await?;
        let result = if conflict.deleted_in_dialer {
            self.write_deletion_choice(id, &conflict, &resolution).await
        } else {
            self.write_values(id, conflict.page_id.as_deref(), &values)
                .await
        };
        lock.release().await?;
        result?;
        let resolved = Resolved {
            contact_id: id,
            values,
            conflict,
            resolution,
        };
        self.file_resolved(&resolved).await?;
        if resolved.conflict.deleted_in_dialer && resolved.resolution == Resolution::KeepNotion {
            // The base is gone, so this sync sees a page with a Dialer ID and
            // no contact: it creates the contact from the page. Should it not
            // run now (another sync holds the lock), the next full scan does.
            let restore = crate::RunOptions {
                force: true,
                ..crate::RunOptions::new(crate::Scope::Restore(vec![id]), actor)
            };
            if let Err(e) = self.run(restore).await {
                tracing::warn!(contact = %id, error = %e, "restore deferred to the next full scan");
            }
        }
        Ok(resolved)
    }

    /// The run lock for one quick change by a person (a resolution, a
    /// restore): it keeps a sync from interleaving with its writes.
    pub(crate) async fn short_lock(&self, owner: &str) -> Result<RunLock, EngineError> {
        RunLock::acquire(
            &self.state.store,
            owner,
            Utc::now(),
            chrono::Duration::minutes(2),
            self.config.lock_settle,
        )
        .await
    }

    /// Conflicts a policy settled are kept open for review for
    /// `SYNC_HISTORY_DAYS`, then filed under `resolved/` as the policy
    /// decided them (every value kept), so the open list stays short.
    pub(crate) async fn retire_settled_conflicts(
        &self,
        now: DateTime<Utc>,
    ) -> Result<usize, EngineError> {
        let cutoff = now - chrono::Duration::days(i64::from(self.config.history_days));
        let mut retired = 0;
        for conflict in self.state.conflicts().await? {
            if conflict.waits_for_person() || conflict.detected_at >= cutoff {
                continue;
            }
            let resolution = applied_resolution(&conflict.fields);
            let values = resolve(&conflict.fields, &resolution)
                .map_err(|e| EngineError::State(e.to_string()))?;
            self.file_resolved(&Resolved {
                contact_id: conflict.contact_id,
                values,
                conflict,
                resolution,
            })
            .await?;
            retired += 1;
        }
        Ok(retired)
    }

    /// Moves a conflict to `resolved/`, with every value it held.
    async fn file_resolved(&self, resolved: &Resolved) -> Result<(), EngineError> {
        let id = resolved.contact_id;
        let key = format!("resolved/{id}-{}", Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
        self.state
            .store
            .set_json(&key, resolved, netlify_blobs::SetOptions::default())
            .await?;
        self.state.clear_conflict(id).await
    }

    /// A contact deleted in the dialer whose page a person edited since:
    /// keep the dialer's delete (the page goes to Notion's trash, where it
    /// can still be restored) or keep Notion's page (the base is forgotten,
    /// and the restore run that follows brings the contact back from it).
    async fn write_deletion_choice(
        &self,
        id: ContactId,
        conflict: &ConflictRecord,
        resolution: &Resolution,
    ) -> Result<(), EngineError> {
        let mut base = self
            .state
            .base(id)
            .await?
            .ok_or_else(|| EngineError::State(format!("no base for contact {id}")))?;
        match resolution {
            Resolution::KeepDialer => {
                if let Some(page_id) = conflict.page_id.as_deref().or(base.page_id.as_deref()) {
                    match self.notion.set_in_trash(page_id, true).await {
                        Ok(_) | Err(notion_client::NotionError::NotFound { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                base.status = sync_core::RecordStatus::DeletedInDialer;
                base.synced_at = Utc::now();
                self.state.save_base(&base).await
            }
            _ => self.state.delete_base(id).await,
        }
    }

    /// Writes `values` to both sides as the agreed state of record `id`
    /// (conditionally on the contact's current version) and saves them in
    /// its base, so the next run sees nothing to do. Takes the caller's lock.
    pub(crate) async fn write_values(
        &self,
        id: ContactId,
        page_id: Option<&str>,
        values: &FieldMap,
    ) -> Result<(), EngineError> {
        let (state, _) = self.state.load().await?;
        let (_, mapping, _) = self.schema(state.data_source_id.as_deref()).await?;
        let mut base = self
            .state
            .base(id)
            .await?
            .ok_or_else(|| EngineError::State(format!("no base for contact {id}")))?;
        if let Some(page_id) = page_id.or(base.page_id.as_deref()) {
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
