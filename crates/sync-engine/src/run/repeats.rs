//! What a run that stalled past its lease leaves to check. The run that
//! took over may have done the same work meanwhile: logged the same call
//! entries, or created a page for the same contact. Notion has no
//! conditional writes to prevent it, so the stalled run saves what to check
//! ([`RepeatCheck`]) before it checks, tries a few times, and leaves the
//! rest to the next run, which finishes the saved checks first.

use chrono::Duration;
use notion_client::{NotionClient, NotionError};

use super::{Engine, CREATE_SETTLE_MINUTES};
use crate::error::EngineError;
use crate::state::{PageCopy, RepeatCheck};

/// How often a run that lost its lease tries a check before leaving it to
/// the next run.
const TRIES: u32 = 3;

impl Engine {
    /// Saves `check`, then tries it now: a copy left is seen until the next
    /// run, so it is worth a few tries.
    pub(super) async fn check_now_or_later(&self, check: &RepeatCheck) -> Result<(), EngineError> {
        self.state.set_repeat_check(check).await?;
        for attempt in 1..=TRIES {
            match self.finish_repeat_check(check).await {
                Ok(()) => break,
                Err(e) if attempt == TRIES => {
                    tracing::warn!(contact = %check.contact_id, error = %e, "repeat check failed; the next run does it");
                }
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt as u64)).await
                }
            }
        }
        Ok(())
    }

    /// The checks stalled runs could not finish, done under this run's lease.
    /// One that fails again waits for the next run.
    pub(super) async fn finish_repeat_checks(&self) {
        let checks = match self.state.repeat_checks().await {
            Ok(checks) => checks,
            Err(e) => {
                tracing::warn!(error = %e, "could not list the repeat checks; the next run looks again");
                return;
            }
        };
        for check in checks {
            if let Err(e) = self.finish_repeat_check(&check).await {
                tracing::warn!(contact = %check.contact_id, error = %e, "repeat check failed; the next run tries again");
            }
        }
    }

    async fn finish_repeat_check(&self, check: &RepeatCheck) -> Result<(), EngineError> {
        let done = match &check.page_copy {
            Some(copy) => self.remove_page_copy(check, copy).await?,
            None => self.remove_repeated_entries(check).await?,
        };
        if done {
            self.state.clear_repeat_check(check).await?;
        }
        Ok(())
    }

    /// Moves to the trash every copy but the first of each entry of `check`
    /// the page body holds more than once.
    async fn remove_repeated_entries(&self, check: &RepeatCheck) -> Result<bool, EngineError> {
        let blocks = self.notion.list_children(&check.page_id).await?;
        let refs = check.entries.iter().map(|(r, _)| r.clone()).collect();
        for block_id in sync_core::calllog::repeated_entry_blocks(&blocks, &refs) {
            match self.notion.delete_block(&block_id).await {
                Ok(_) | Err(NotionError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }

    /// The page goes to the trash if another live page holds its Dialer ID
    /// (the one the run that took over made or kept). Alone, it is the
    /// contact's page (the run that took over may have found and kept it):
    /// it stays, with its Dialer ID written back if a person cleared it
    /// (no base records the link yet: without it the page would pass for
    /// one typed in Notion, and the contact get a second page), and the
    /// check is done once Notion's queries surely show every page made
    /// before it.
    async fn remove_page_copy(
        &self,
        check: &RepeatCheck,
        copy: &PageCopy,
    ) -> Result<bool, EngineError> {
        let id = check.contact_id;
        let found = self
            .notion
            .query_by_number(&copy.data_source_id, &copy.id_property, id.get() as i64)
            .await?;
        if found.iter().any(|p| p.id != check.page_id) {
            tracing::warn!(contact = %id, trashed = check.page_id, "two runs created a page for one contact; the copy goes to Notion's trash");
            trash(&self.notion, &check.page_id).await?;
            return Ok(true);
        }
        if !found.iter().any(|p| p.id == check.page_id) {
            self.label_copy(check, copy).await?;
        }
        Ok(self.now() - copy.created_at >= Duration::minutes(CREATE_SETTLE_MINUTES))
    }

    /// Writes the contact's Dialer ID back on the page a stalled run made,
    /// if it is live and a person emptied it. Read by id: a query may not
    /// show a page made or edited moments ago.
    async fn label_copy(&self, check: &RepeatCheck, copy: &PageCopy) -> Result<(), EngineError> {
        let page = match self.notion.retrieve_page(&check.page_id).await {
            Ok(page) => page,
            Err(NotionError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let emptied = page
            .properties
            .get(&copy.id_property)
            .is_some_and(sync_core::schema::dialer_id_is_empty);
        if page.in_trash || !emptied {
            return Ok(());
        }
        let id = check.contact_id;
        tracing::warn!(contact = %id, page = check.page_id, "the Dialer ID of the page a stalled run made was emptied; it is written back");
        let props = serde_json::Map::from_iter([(
            copy.id_property.clone(),
            sync_core::schema::dialer_id_value(id),
        )]);
        self.notion.update_page(&check.page_id, props).await?;
        Ok(())
    }
}

/// Moves a page to Notion's trash; one already gone is fine.
pub(super) async fn trash(notion: &NotionClient, page_id: &str) -> Result<(), EngineError> {
    match notion.set_in_trash(page_id, true).await {
        Ok(_) | Err(NotionError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
