//! Notion's webhooks: a teammate's edit in Notion reaches the dialer within
//! seconds instead of at the next scheduled run.
//!
//! An event is a signal, not data: it names a page, and the page is read
//! through the API and planned with its contact by the same engine and rules
//! as any run (`Scope::Pages`). So a forged, repeated, merged or late event
//! can at worst cost a read: it cannot put a value anywhere Notion does not
//! hold it. What this module adds around that run:
//!
//! - the subscription's handshake: Notion's one unsigned POST carries a
//!   `verification_token`, kept in the sync's own store (never logged) for
//!   the person to paste into Notion; once a signed event has proved it, a
//!   different token is refused until a person resets the subscription;
//! - the signature: every event must carry `X-Notion-Signature`, the HMAC of
//!   the raw body keyed by that token (or by `NOTION_WEBHOOK_SECRET`);
//!   anything else is refused before anything is written;
//! - no work twice: a delivery whose event id was handled is skipped (Notion
//!   retries up to 8 times), and so is an event only the sync's own bot
//!   authored (an echo of its write; a page whose values match what the
//!   sync last wrote is skipped by the run's fingerprint check anyway);
//! - answering in time: a run that cannot start (another run holds the lock
//!   past this invocation's deadline, Notion is unreachable) queues a signal
//!   for the scheduled run, which stays the safety net for lost events.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
pub use notion_client::webhook::SIGNATURE_HEADER;
use notion_client::webhook::{self, Delivery, Event};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::queue::QueuedPush;
use crate::report::RunReport;
use crate::run::{Engine, RunOptions, Scope};
use crate::state::{read_versioned, write_versioned, StateStore, Version};

/// The blob in the sync's store that holds the subscription.
const KEY: &str = "webhook";
/// Event ids remembered to skip repeated deliveries.
const RECENT: usize = 500;
/// How often a webhook run tries another run's lock again, and for how long
/// at most before it queues the work (Notion waits for the answer).
const BUSY_WAIT: Duration = Duration::from_millis(400);
const BUSY_GIVE_UP: Duration = Duration::from_secs(5);

/// The page events that can change what the dialer should hold.
const PAGE_EVENTS: &[&str] = &[
    "page.created",
    "page.properties_updated",
    "page.deleted",
    "page.undeleted",
    "page.moved",
];
/// The events that say the database's properties changed.
const SCHEMA_EVENTS: &[&str] = &["data_source.schema_updated", "database.schema_updated"];

/// The subscription as the sync keeps it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Subscription {
    /// The verification token Notion sent (the signing key, unless
    /// `NOTION_WEBHOOK_SECRET` is set).
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub token_received_at: Option<DateTime<Utc>>,
    /// When the first event signed with the key arrived: from then on a
    /// different verification token is refused.
    #[serde(default)]
    pub verified_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_event_at: Option<DateTime<Utc>>,
    /// The integration's bot user (events only it authored are echoes).
    #[serde(default)]
    pub bot_id: Option<String>,
    /// The database's data source, as the sync's state knows it (kept here
    /// so an event does not load the whole state, 1.6 MB at 10,000 contacts).
    #[serde(default)]
    pub data_source_id: Option<String>,
    /// Ids of the events handled last, oldest first.
    #[serde(default)]
    pub recent: VecDeque<String>,
}

/// What became of one delivery.
#[derive(Clone, Debug)]
pub enum Handled {
    /// The handshake's token is kept; a person pastes it into Notion.
    TokenReceived,
    /// The same token again (Notion re-sent it): nothing changed.
    TokenAlreadyKept,
    /// Signed and valid, but nothing for the sync (another database, a
    /// comment, a page's body).
    Ignored(String),
    /// This event was handled already (a repeated delivery).
    Repeated,
    /// Only the sync's own bot made the change.
    Echo,
    /// The named pages were read and planned with their contacts.
    Ran(Box<RunReport>),
    /// The run could not start in time; the scheduled run does it.
    Queued(String),
}

/// Why a delivery was refused (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// No key to check a signature with yet.
    #[error("no webhook subscription is verified yet: create the subscription in Notion first (its verification token arrives here), or set NOTION_WEBHOOK_SECRET")]
    NoKey,
    #[error("the request's X-Notion-Signature is missing or does not match; it was not sent by Notion for this subscription")]
    BadSignature,
    #[error("a webhook subscription is verified already; a different verification token was refused. To start over, reset the subscription (DELETE /api/notion-webhook with the sync key) and create it again in Notion")]
    AlreadyVerified,
    #[error("the webhook body is not a Notion delivery: {0}")]
    BadBody(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<notion_client::NotionError> for WebhookError {
    fn from(e: notion_client::NotionError) -> Self {
        WebhookError::Engine(e.into())
    }
}

impl StateStore {
    pub async fn subscription(&self) -> Result<(Subscription, Version), EngineError> {
        Ok(read_versioned(&self.store, KEY)
            .await?
            .unwrap_or((Subscription::default(), Version::New)))
    }

    async fn save_subscription(
        &self,
        sub: &Subscription,
        version: &Version,
    ) -> Result<Version, EngineError> {
        write_versioned(&self.store, KEY, sub, version).await
    }

    /// Forgets the subscription (a person starts over in Notion).
    pub async fn reset_subscription(&self) -> Result<(), EngineError> {
        self.store.delete(KEY).await?;
        Ok(())
    }
}

impl Engine {
    /// Handles one POST from Notion: `body` as received, `signature` the
    /// `X-Notion-Signature` header.
    pub async fn webhook(
        &self,
        body: &[u8],
        signature: Option<&str>,
        deadline: Option<Instant>,
    ) -> Result<Handled, WebhookError> {
        let (mut sub, version) = self.state.subscription().await?;
        let delivery = Delivery::parse(body);
        if let Ok(Delivery::Verification { token }) = &delivery {
            return self.keep_token(sub, version, token).await;
        }
        let key = match (&self.config.webhook_secret, &sub.token) {
            (Some(secret), _) => secret.expose().to_string(),
            (None, Some(token)) => token.clone(),
            (None, None) => return Err(WebhookError::NoKey),
        };
        if !webhook::verify(&key, body, signature) {
            return Err(WebhookError::BadSignature);
        }
        let event = match delivery {
            Ok(Delivery::Event(event)) => event,
            Ok(Delivery::Verification { .. }) => unreachable!("handled above"),
            Err(e) => return Err(WebhookError::BadBody(e.to_string())),
        };
        let handled = self.handle_event(&mut sub, &event, deadline).await?;
        self.remember(sub, version, &event).await;
        Ok(handled)
    }

    async fn keep_token(
        &self,
        mut sub: Subscription,
        version: Version,
        token: &str,
    ) -> Result<Handled, WebhookError> {
        if sub.token.as_deref() == Some(token) {
            return Ok(Handled::TokenAlreadyKept);
        }
        if sub.verified_at.is_some() && self.config.webhook_secret.is_none() {
            return Err(WebhookError::AlreadyVerified);
        }
        sub.token = Some(token.to_string());
        sub.token_received_at = Some(self.now());
        sub.verified_at = None;
        self.state.save_subscription(&sub, &version).await?;
        tracing::info!("webhook verification token received and kept (not logged)");
        Ok(Handled::TokenReceived)
    }

    async fn handle_event(
        &self,
        sub: &mut Subscription,
        event: &Event,
        deadline: Option<Instant>,
    ) -> Result<Handled, WebhookError> {
        if sub.recent.contains(&event.id) {
            return Ok(Handled::Repeated);
        }
        if sub.data_source_id.is_none() {
            sub.data_source_id = self.state.load().await?.0.data_source_id;
        }
        let data_source = sub.data_source_id.clone().unwrap_or_default();
        let database = self.notion.database().as_str().to_string();
        let kind = event.kind.as_str();
        if SCHEMA_EVENTS.contains(&kind) {
            if !webhook::same_id(&event.entity.id, &data_source)
                && !webhook::same_id(&event.entity.id, &database)
                && !event.in_data_source(&data_source, &database)
            {
                return Ok(Handled::Ignored("another database's schema".into()));
            }
            return self.run_for(vec![], true, deadline).await;
        }
        if !PAGE_EVENTS.contains(&kind) || event.entity.kind != "page" {
            return Ok(Handled::Ignored(format!(
                "{kind} is not a change the sync reads"
            )));
        }
        if !data_source.is_empty() && !event.in_data_source(&data_source, &database) {
            return Ok(Handled::Ignored("a page of another database".into()));
        }
        if self.is_echo(sub, event).await? {
            return Ok(Handled::Echo);
        }
        self.run_for(vec![event.entity.id.clone()], false, deadline)
            .await
    }

    /// Whether only the sync's own bot authored the event (its id is asked of
    /// Notion once, and kept).
    async fn is_echo(&self, sub: &mut Subscription, event: &Event) -> Result<bool, WebhookError> {
        if event.authors.is_empty() || event.authors.iter().any(|a| a.kind != "bot") {
            return Ok(false);
        }
        let bot = match &sub.bot_id {
            Some(id) => id.clone(),
            None => sub.bot_id.insert(self.notion.me().await?.id).clone(),
        };
        Ok(event.only_by(&bot))
    }

    /// A run over the named pages (none: the schema check), waiting a little
    /// for another run's lock; queued for the scheduled run when it cannot
    /// start in time.
    async fn run_for(
        &self,
        pages: Vec<String>,
        refresh_schema: bool,
        deadline: Option<Instant>,
    ) -> Result<Handled, WebhookError> {
        let options = RunOptions {
            deadline,
            refresh_schema,
            ..RunOptions::new(Scope::Pages(pages.clone()), "notion-webhook")
        };
        let give_up = Instant::now() + BUSY_GIVE_UP;
        let give_up = deadline.map_or(give_up, |d| d.min(give_up));
        loop {
            match self.run(options.clone()).await {
                // Cut short by the deadline (Notion's budget spent): the
                // page waits for the scheduled run, which the queue wakes.
                Ok(report) if report.out_of_time || report.summary.remaining > 0 => {
                    let why = EngineError::Waiting(
                        "Notion's budget or this invocation's time ran out".into(),
                    );
                    return Ok(self.queue(&pages, &why).await?);
                }
                Ok(report) => return Ok(Handled::Ran(Box::new(report))),
                Err(EngineError::Busy { .. }) if Instant::now() + BUSY_WAIT < give_up => {
                    tokio::time::sleep(BUSY_WAIT).await;
                }
                Err(e) if e.is_transient() => return Ok(self.queue(&pages, &e).await?),
                Err(EngineError::Schema(problem)) if refresh_schema => {
                    // Reported in the history (the dialer's banner) by the run;
                    // the next run fetches the schema again too.
                    self.forget_schema().await;
                    return Ok(Handled::Ignored(format!(
                        "the database changed and is not ready: {problem}"
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn queue(&self, pages: &[String], error: &EngineError) -> Result<Handled, EngineError> {
        let reason = format!(
            "a Notion webhook for {} could not be handled at once ({error}); the scheduled run reads it",
            if pages.is_empty() {
                "the database's properties".to_string()
            } else {
                format!("page {}", pages.join(", "))
            }
        );
        self.state
            .enqueue(&QueuedPush {
                contact_ids: vec![],
                queued_at: self.now(),
                reason: reason.clone(),
            })
            .await?;
        Ok(Handled::Queued(reason))
    }

    /// Marks the cached schema stale, so the next run fetches it.
    async fn forget_schema(&self) {
        if let Ok((mut state, version)) = self.state.load().await {
            state.schema_fetched_at = None;
            let _ = self.state.save(&state, &version).await;
        }
    }

    /// Records the event as handled (and the key as proven). Best effort: a
    /// lost record only costs a repeated delivery one read.
    async fn remember(&self, mut sub: Subscription, mut version: Version, event: &Event) {
        let (bot_id, data_source_id) = (sub.bot_id.clone(), sub.data_source_id.clone());
        for _ in 0..2 {
            let now = self.now();
            sub.verified_at.get_or_insert(now);
            sub.last_event_at = Some(now);
            if sub.bot_id.is_none() {
                sub.bot_id = bot_id.clone();
            }
            if sub.data_source_id.is_none() {
                sub.data_source_id = data_source_id.clone();
            }
            if !sub.recent.contains(&event.id) {
                sub.recent.push_back(event.id.clone());
            }
            while sub.recent.len() > RECENT {
                sub.recent.pop_front();
            }
            match self.state.save_subscription(&sub, &version).await {
                Ok(_) => return,
                Err(EngineError::Moved(_)) => match self.state.subscription().await {
                    Ok((fresh, v)) => (sub, version) = (fresh, v),
                    Err(_) => return,
                },
                Err(e) => {
                    tracing::warn!(error = %e, "could not record a webhook event; a repeat costs one read");
                    return;
                }
            }
        }
    }
}
