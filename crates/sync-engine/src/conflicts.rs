//! Conflicts as the dialer's console shows them, and their resolution:
//! keep Notion, keep the dialer, or merge field by field. The chosen values
//! are written to both sides; the record with every value (the ones not
//! chosen included) moves to `resolved/`, so nothing is ever lost.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value as Json;
use sync_core::contact::to_dialer_json;
use sync_core::{
    applied_resolution, conflict_stands, fields, recommended_side, refresh_conflicts, resolve,
    resolve_deletion, ContactId, DialerContact, FieldConflict, FieldMap, Resolution, Side, Value,
};

use crate::dialer::ContactWrite;
use crate::error::EngineError;
use crate::run::Engine;
use crate::state::ConflictRecord;

#[derive(Clone, Debug, Serialize)]
pub struct Resolved {
    pub contact_id: ContactId,
    pub values: FieldMap,
    pub conflict: ConflictRecord,
    pub resolution: Resolution,
    /// Why it was closed, when not by a person's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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

    /// Writes a person's answer to contact `id`'s conflict to both sides,
    /// unless either side changed since the conflict was found (its newer
    /// value would be destroyed): then nothing is written and the answer is
    /// refused with what moved; the next sync brings the conflict up to date.
    pub async fn resolve_conflict(
        &self,
        id: ContactId,
        resolution: Resolution,
        actor: &str,
    ) -> Result<Resolved, EngineError> {
        let lock = self.lock(&format!("{actor}:resolve-{id}"), 2).await?;
        let result = self.resolve_locked(id, resolution).await;
        lock.release().await?;
        let resolved = result?;
        if resolved.conflict.deleted_in_dialer && resolved.resolution == Resolution::KeepNotion {
            // The base says "restore from Notion": this run reads the page and
            // creates the contact from it. Should it not run now (another sync
            // holds the lock), the next run that reads the page does.
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

    async fn resolve_locked(
        &self,
        id: ContactId,
        resolution: Resolution,
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
        if conflict.deleted_in_dialer {
            self.write_deletion_choice(id, &conflict, &resolution)
                .await?;
        } else {
            let page_id = conflict.page_id.as_deref();
            self.write_values(id, page_id, &values, Expect::Conflict(&conflict))
                .await?;
        }
        let resolved = Resolved {
            contact_id: id,
            values,
            conflict,
            resolution,
            note: None,
        };
        // Filed under the lock: a run cannot merge into a conflict being closed.
        self.file_resolved(&resolved).await?;
        Ok(resolved)
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
                note: Some("settled by the policy; kept for review until retired".into()),
            })
            .await?;
            retired += 1;
        }
        Ok(retired)
    }

    /// Moves a conflict to `resolved/`, with every value it held.
    async fn file_resolved(&self, resolved: &Resolved) -> Result<(), EngineError> {
        let id = resolved.contact_id;
        let key = format!("resolved/{id}-{}", self.now().format("%Y%m%dT%H%M%S%.3fZ"));
        self.state
            .store
            .set_json(&key, resolved, netlify_blobs::SetOptions::default())
            .await?;
        self.state.clear_conflict(id).await
    }

    /// A contact deleted in the dialer whose page a person edited since:
    /// keep the dialer's delete (the page goes to Notion's trash, where it
    /// can still be restored) or keep Notion's page (the restore run that
    /// follows brings the contact back from it).
    async fn write_deletion_choice(
        &self,
        id: ContactId,
        conflict: &ConflictRecord,
        resolution: &Resolution,
    ) -> Result<(), EngineError> {
        let (base, version) = self.state.base_versioned(id).await?;
        let mut base =
            base.ok_or_else(|| EngineError::State(format!("no base for contact {id}")))?;
        match resolution {
            Resolution::KeepDialer => {
                if let Some(page_id) = conflict.page_id.as_deref().or(base.page_id.as_deref()) {
                    match self.notion.set_in_trash(page_id, true).await {
                        Ok(_) | Err(notion_client::NotionError::NotFound { .. }) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                base.status = sync_core::RecordStatus::DeletedInDialer;
                base.synced_at = self.now();
                self.state.save_base_if(&base, &version).await.map(drop)
            }
            _ => {
                // Kept, pointing at its page, so the run that reads the page
                // (the restore run right after, or any later one) recreates the
                // contact under its own id, even if the page lost its Dialer ID.
                base.status = sync_core::RecordStatus::RestoreFromNotion;
                base.synced_at = self.now();
                self.state.save_base_if(&base, &version).await?;
                let (mut state, state_version) = self.state.load().await?;
                state.index.insert(
                    id,
                    crate::state::IndexEntry {
                        page_id: base.page_id.clone(),
                        ..Default::default()
                    },
                );
                match self.state.save(&state, &state_version).await {
                    Ok(_) | Err(EngineError::Moved(_)) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Writes `values` to both sides as the agreed state of record `id`
    /// and saves them in its base, so the next run sees nothing to do. The
    /// dialer is written first, conditionally on the version read here, then
    /// Notion. `expect` says what both sides must still hold (a conflict's
    /// values), or that what they hold is backed up first (a restore).
    /// Takes the caller's lock.
    pub(crate) async fn write_values(
        &self,
        id: ContactId,
        page_id: Option<&str>,
        values: &FieldMap,
        expect: Expect<'_>,
    ) -> Result<(), EngineError> {
        let (state, _) = self.state.load().await?;
        let (_, mapping, _) = self.schema(state.data_source_id.as_deref()).await?;
        let (base, base_version) = self.state.base_versioned(id).await?;
        let mut base =
            base.ok_or_else(|| EngineError::State(format!("no base for contact {id}")))?;
        let page_id = page_id.or(base.page_id.as_deref()).map(str::to_string);
        let (contact, version) = self.contact_versioned(id).await?;
        let page = match &page_id {
            Some(p) => Some(self.notion.retrieve_page(p).await?),
            None => None,
        };
        if page.as_ref().is_some_and(|p| p.in_trash) {
            return Err(EngineError::BadRequest(format!(
                "contact {id}'s page is in Notion's trash; nothing was changed. Restore the page in Notion first (the next sync then merges it afresh)"
            )));
        }
        let notion_now = page
            .as_ref()
            .map(|p| mapping.read_page(&crate::run::snapshot(p.clone())).values)
            .unwrap_or_default();
        match expect {
            Expect::Conflict(conflict) => {
                if let Err(field) =
                    conflict_stands(&conflict.fields, &contact.values, &notion_now, &mapping)
                {
                    self.refresh_open_conflict(id, &contact.values, &notion_now, &mapping)
                        .await?;
                    return Err(EngineError::BadRequest(format!(
                        "contact {id} changed since this conflict was found ({field} was edited again); nothing was changed. The conflict now shows both sides as they are: choose again"
                    )));
                }
            }
            Expect::Backup(run_id) => {
                let now = crate::backup::Sides {
                    dialer: &contact,
                    notion: &notion_now,
                    page_id: page_id.as_deref(),
                };
                self.back_up_values(id, values, now, run_id).await?;
            }
        }
        let write = ContactWrite {
            values: values.clone(),
            mirror: None,
        };
        let Some((raw, _)) = self
            .dialer
            .write(id, version.as_deref(), &write, false)
            .await?
        else {
            return Err(EngineError::BadRequest(format!(
                "contact {id} changed in the dialer meanwhile; nothing was changed. Reload and choose again"
            )));
        };
        let mut notion_after = notion_now;
        if let Some(page_id) = &page_id {
            let props = mapping
                .write_properties(values)
                .map_err(|e| EngineError::BadRequest(e.to_string()))?;
            let page = self.notion.update_page(page_id, props).await?;
            notion_after = mapping.read_page(&crate::run::snapshot(page)).values;
            for k in values.keys() {
                if let Some(v) = notion_after.get(k) {
                    base.notion.insert(k.clone(), v.clone());
                }
            }
        }
        let key = id.to_string();
        let dialer_after =
            DialerContact::parse(&Json::Object(raw), &key, self.config.sync.time_zone)
                .map(|c| c.values)
                .unwrap_or_default();
        for k in values.keys() {
            if let Some(v) = dialer_after.get(k) {
                base.dialer.insert(k.clone(), v.clone());
            }
        }
        if let Expect::Backup(_) = expect {
            // A restore settles, by a person's choice, the fields it writes.
            self.refresh_open_conflict(id, &dialer_after, &notion_after, &mapping)
                .await?;
        }
        base.synced_at = self.now();
        // The index is left as it was: the contact's new version differs from
        // the indexed one, so the next run reads it and merges any edit of
        // another field made before this one.
        self.state.save_base_if(&base, &base_version).await?;
        Ok(())
    }

    /// Brings contact `id`'s open conflict up to date with what both sides
    /// hold now ([`sync_core::refresh_conflicts`]); the conflict as it was is
    /// filed under `resolved/` first, so none of its values is lost.
    async fn refresh_open_conflict(
        &self,
        id: ContactId,
        dialer: &FieldMap,
        notion: &FieldMap,
        mapping: &sync_core::Mapping,
    ) -> Result<(), EngineError> {
        let Some(conflict) = self.state.conflict(id).await? else {
            return Ok(());
        };
        if conflict.deleted_in_dialer {
            return Ok(());
        }
        let fields = refresh_conflicts(&conflict.fields, dialer, notion, mapping);
        if fields == conflict.fields {
            return Ok(());
        }
        self.file_superseded(&conflict, "edited again on either side since it was found")
            .await?;
        if fields.is_empty() {
            return self.state.clear_conflict(id).await;
        }
        self.state
            .save_conflict(&ConflictRecord {
                fields,
                detected_at: self.now(),
                ..conflict
            })
            .await
    }

    /// Files a conflict that no longer stands as it was under `resolved/`
    /// (every value kept), without closing the open one.
    pub(crate) async fn file_superseded(
        &self,
        conflict: &ConflictRecord,
        why: &str,
    ) -> Result<(), EngineError> {
        let id = conflict.contact_id;
        let key = format!("resolved/{id}-{}", self.now().format("%Y%m%dT%H%M%S%.3fZ"));
        let superseded = Resolved {
            contact_id: id,
            values: FieldMap::new(),
            resolution: applied_resolution(&conflict.fields),
            conflict: conflict.clone(),
            note: Some(format!("superseded: {why}")),
        };
        self.state
            .store
            .set_json(&key, &superseded, netlify_blobs::SetOptions::default())
            .await?;
        Ok(())
    }

    /// A contact and the version to write it back with (taken before the
    /// contact is read: a change in between fails the write).
    async fn contact_versioned(
        &self,
        id: ContactId,
    ) -> Result<(DialerContact, Option<String>), EngineError> {
        let key = id.to_string();
        let listed = self.dialer.list_only(std::slice::from_ref(&key)).await?;
        match self
            .dialer
            .read(std::slice::from_ref(&key))
            .await?
            .into_iter()
            .next()
        {
            Some((_, Ok(contact), etag)) => {
                let version = etag.or_else(|| listed.get(&key).map(|l| l.version.clone()));
                Ok((contact, version))
            }
            Some((_, Err(e), _)) => Err(EngineError::BadRequest(format!(
                "{e}; fix it in the dialer first, nothing was changed"
            ))),
            None => Err(EngineError::BadRequest(format!(
                "contact {id} is not in the dialer; nothing was changed"
            ))),
        }
    }
}

/// What [`Engine::write_values`] checks or keeps before it writes.
pub(crate) enum Expect<'a> {
    /// Both sides must still hold this conflict's values.
    Conflict(&'a ConflictRecord),
    /// A restore: what both sides hold now is backed up under this run id.
    Backup(&'a str),
}
