//! Backups before changes: before a record's writes, every value they
//! replace (on either side) is saved at `backups/{day}/{run id}/{contact}`,
//! with the contact as the dialer stored it. Kept `SYNC_BACKUP_DAYS`
//! (default 7). A person can put a record back as it was before a run:
//! the values come back on both sides as the record's new agreed state.
//!
//! A page the run created or archived is not undone here: an archived page
//! is one click away in Notion's trash, and a created one is the record
//! itself.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sync_core::backup::{restore_values, Replaced};
use sync_core::plan::{NotionWrite, RecordPlan};
use sync_core::{ContactId, DialerContact, FieldMap, Side};

use crate::error::EngineError;
use crate::run::{ApplyContext, Engine};

const BACKUPS: &str = "backups/";

/// At most this many old backups deleted per prune, so it never delays a run.
const PRUNE_BATCH: usize = 500;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    pub contact_id: ContactId,
    pub company_name: String,
    pub page_id: Option<String>,
    pub run_id: String,
    pub taken_at: DateTime<Utc>,
    /// Every value the run's writes replaced.
    pub replaced: Vec<Replaced>,
    /// The run archived the page (restore it from Notion's trash).
    #[serde(default)]
    pub archived_page: bool,
    /// The contact as the dialer stored it before the run, when it was read.
    pub dialer_before: Option<Json>,
}

/// Both sides of a record as they stand, before a person's change.
pub(crate) struct Sides<'a> {
    pub(crate) dialer: &'a DialerContact,
    pub(crate) notion: &'a FieldMap,
    pub(crate) page_id: Option<&'a str>,
}

/// What a restore put back.
#[derive(Clone, Debug, Serialize)]
pub struct Restored {
    pub contact_id: ContactId,
    pub run_id: String,
    pub values: FieldMap,
}

fn key(day: &str, run_id: &str, id: ContactId) -> String {
    format!("{BACKUPS}{day}/{run_id}/{id}")
}

/// The day part of a backup key (`backups/20261201/...`).
fn key_day(key: &str) -> Option<&str> {
    key.strip_prefix(BACKUPS)?.split('/').next()
}

impl Engine {
    /// Saves what `r`'s writes will replace; nothing when they replace nothing.
    pub(crate) async fn back_up(
        &self,
        r: &RecordPlan,
        ctx: &ApplyContext<'_>,
    ) -> Result<(), EngineError> {
        let contact = ctx.contacts.get(&r.contact_id).map(|(c, _)| c);
        let replaced = r.replaced.clone();
        let archived_page = matches!(r.notion, NotionWrite::Trash);
        if replaced.is_empty() && !archived_page {
            return Ok(());
        }
        let now = self.now();
        let backup = Backup {
            contact_id: r.contact_id,
            company_name: r.company_name.clone(),
            page_id: r.page_id.clone().or_else(|| r.base.page_id.clone()),
            run_id: ctx.run_id.to_string(),
            taken_at: now,
            replaced,
            archived_page,
            dialer_before: contact.map(|c| Json::Object(c.raw.clone())),
        };
        let day = now.format("%Y%m%d").to_string();
        self.state
            .store
            .set_json(
                &key(&day, ctx.run_id, r.contact_id),
                &backup,
                netlify_blobs::SetOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// Saves what writing `values` to both sides would replace there, as a
    /// backup of run `run_id` (a restore's own).
    pub(crate) async fn back_up_values(
        &self,
        id: ContactId,
        values: &FieldMap,
        now: Sides<'_>,
        run_id: &str,
    ) -> Result<(), EngineError> {
        let mut replaced = Vec::new();
        for (field, after) in values {
            let sides = [
                (Side::Dialer, now.dialer.values.get(field)),
                (Side::Notion, now.page_id.and(now.notion.get(field))),
            ];
            for (side, before) in sides {
                if let Some(before) = before.filter(|b| *b != after && !b.is_empty()) {
                    replaced.push(Replaced {
                        field: field.clone(),
                        side,
                        before: before.clone(),
                        after: after.clone(),
                    });
                }
            }
        }
        if replaced.is_empty() {
            return Ok(());
        }
        let taken_at = self.now();
        let backup = Backup {
            contact_id: id,
            company_name: now.dialer.company_name().to_string(),
            page_id: now.page_id.map(str::to_string),
            run_id: run_id.to_string(),
            taken_at,
            replaced,
            archived_page: false,
            dialer_before: Some(Json::Object(now.dialer.raw.clone())),
        };
        let day = taken_at.format("%Y%m%d").to_string();
        self.state
            .store
            .set_json(
                &key(&day, run_id, id),
                &backup,
                netlify_blobs::SetOptions::default(),
            )
            .await?;
        Ok(())
    }

    /// The backups a run took (newest runs first without `run_id`, at most
    /// `limit`), for the CLI and the dialer.
    pub async fn backups(
        &self,
        run_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Backup>, EngineError> {
        let mut keys: Vec<String> = self
            .state
            .store
            .list(Some(BACKUPS))
            .await?
            .into_iter()
            .map(|b| b.key)
            .filter(|k| run_id.is_none_or(|run| k.contains(&format!("/{run}/"))))
            .collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        keys.truncate(limit);
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(b) = self.state.store.get_json::<Backup>(&k).await? {
                out.push(b);
            }
        }
        Ok(out)
    }

    /// Puts contact `id` back as it was before run `run_id`: the values
    /// that run replaced are written to both sides as the agreed state.
    pub async fn restore_backup(
        &self,
        run_id: &str,
        id: ContactId,
        actor: &str,
    ) -> Result<Restored, EngineError> {
        let backup = self
            .backups(Some(run_id), usize::MAX)
            .await?
            .into_iter()
            .find(|b| b.contact_id == id)
            .ok_or_else(|| {
                EngineError::BadRequest(format!(
                    "run {run_id} changed nothing of contact {id} (or its backup is older than {} days)",
                    self.config.backup_days
                ))
            })?;
        let values = restore_values(&backup.replaced);
        if values.is_empty() {
            return Err(EngineError::BadRequest(format!(
                "run {run_id} changed only call data of contact {id}, which always comes from the dialer: there is nothing to restore"
            )));
        }
        let lock = self.lock(&format!("{actor}:restore-{id}"), 2).await?;
        // What the restore replaces is backed up too: it can be undone.
        let own_run = format!("{}-restore", self.now().format("%Y%m%dT%H%M%S%.3fZ"));
        let result = self
            .write_values(
                id,
                backup.page_id.as_deref(),
                &values,
                crate::conflicts::Expect::Backup(&own_run),
            )
            .await;
        lock.release().await?;
        result?;
        Ok(Restored {
            contact_id: id,
            run_id: run_id.to_string(),
            values,
        })
    }

    /// Deletes backups from before the retention, oldest first.
    pub(crate) async fn prune_backups(&self, now: DateTime<Utc>) -> Result<usize, EngineError> {
        let cutoff = (now - chrono::Duration::days(i64::from(self.config.backup_days)))
            .format("%Y%m%d")
            .to_string();
        self.state
            .delete_oldest(BACKUPS, PRUNE_BATCH, |k| {
                key_day(k).is_some_and(|day| day < cutoff.as_str())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_day_then_run() {
        let id = ContactId::new(7).unwrap();
        let k = key("20261201", "20261201T100000.000Z-0001", id);
        assert_eq!(k, "backups/20261201/20261201T100000.000Z-0001/7");
        assert_eq!(key_day(&k), Some("20261201"));
        assert!(key("20261130", "x", id) < k);
    }
}
