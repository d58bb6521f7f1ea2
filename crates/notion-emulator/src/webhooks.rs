//! Webhooks as Notion sends them: a subscription to a URL, its one-time
//! verification POST (`{"verification_token": ...}`, unsigned), and after a
//! person pastes that token back (`verify`), signed deliveries of events
//! (`X-Notion-Signature: sha256=<HMAC-SHA256 of the body keyed by the
//! token>`), each naming an entity and carrying no content.
//!
//! What Notion documents is kept, and each of its habits is an option a
//! test turns on: every write made through the API or by a person becomes
//! an event authored by the bot or the person; `page.properties_updated`
//! events of one page are merged into one (`aggregate`, Notion's default
//! since 2026-10: the first at once, later ones within a minute merged);
//! deliveries repeat (`repeat`), come in reverse order (`reverse`), and a
//! delivery that fails is sent again at the next delivery round with
//! `attempt_number` + 1, up to 8. Losing an event is [`EmulatorControl::lose_webhook_events`].

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::control::EmulatorControl;
use crate::ids::new_id;
use crate::schema::{BOT_USER_ID, PERSON_USER_IDS};
use crate::store::Change;

/// The workspace the emulator's events come from.
pub const WORKSPACE_ID: &str = "5b1e4a9c-7d2f-4e8a-9c3b-1f6d2e8a4c7b";
const MAX_ATTEMPTS: u32 = 8;

/// How deliveries behave (all off: one delivery per change, in order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WebhookOptions {
    /// Merge a page's `page.properties_updated` events waiting for the same
    /// round into one (its authors and properties together).
    pub aggregate: bool,
    /// Send each event this many extra times (same id, attempt + 1).
    pub repeat: u32,
    /// Send a round's events newest first.
    pub reverse: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Webhooks {
    subscription: Option<Subscription>,
    /// Events that failed, to send again (with their attempt so far).
    retry: Vec<(Value, u32)>,
    /// Every delivery made: (event type, entity id, HTTP status or 0).
    pub sent: Vec<SentDelivery>,
}

#[derive(Debug, Clone)]
struct Subscription {
    id: String,
    url: String,
    token: String,
    verified: bool,
    options: WebhookOptions,
}

/// One POST the emulator made.
#[derive(Clone, Debug, PartialEq)]
pub struct SentDelivery {
    pub event_id: String,
    pub event_type: String,
    pub entity_id: String,
    pub attempt: u32,
    /// The endpoint's HTTP status; 0 when it could not be reached.
    pub status: u16,
}

/// `sha256=<hex>` of `body` keyed by `token`, as Notion signs.
pub fn signature(token: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("any key");
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl EmulatorControl {
    /// Creates the subscription and sends its verification POST, as Notion
    /// does when a person saves a webhook URL. Returns the endpoint's
    /// status and the token (a person reads it there and pastes it back).
    pub async fn subscribe_webhook(
        &self,
        url: &str,
        options: WebhookOptions,
    ) -> Result<(u16, String), String> {
        let token = format!("secret_{}", new_id().replace('-', ""));
        self.with_webhooks(|hooks, store| {
            hooks.subscription = Some(Subscription {
                id: new_id(),
                url: url.to_string(),
                token: token.clone(),
                verified: false,
                options,
            });
            hooks.retry.clear();
            store.changes = Some(Vec::new());
        });
        let body = serde_json::to_vec(&json!({ "verification_token": token })).expect("JSON");
        let status = post(url, &body, None).await?;
        Ok((status, token))
    }

    /// Sends the verification POST again (Notion's "Resend token").
    pub async fn resend_webhook_token(&self) -> Result<u16, String> {
        let (url, token) = self
            .with_webhooks(|h, _| {
                h.subscription
                    .as_ref()
                    .map(|s| (s.url.clone(), s.token.clone()))
            })
            .ok_or("no subscription")?;
        let body = serde_json::to_vec(&json!({ "verification_token": token })).expect("JSON");
        post(&url, &body, None).await
    }

    /// A person pastes `token` into Notion's Verify dialog: events flow only
    /// once it is the token Notion sent.
    pub fn verify_webhook(&self, token: &str) -> bool {
        self.with_webhooks(|hooks, _| match &mut hooks.subscription {
            Some(s) if s.token == token => {
                s.verified = true;
                true
            }
            _ => false,
        })
    }

    pub fn set_webhook_options(&self, options: WebhookOptions) {
        self.with_webhooks(|hooks, _| {
            if let Some(s) = &mut hooks.subscription {
                s.options = options;
            }
        })
    }

    /// Drops the events not sent yet: Notion lost them.
    pub fn lose_webhook_events(&self) -> usize {
        self.with_webhooks(|hooks, store| {
            hooks.retry.clear();
            store
                .changes
                .as_mut()
                .map_or(0, |c| std::mem::take(c).len())
        })
    }

    /// Every delivery made so far.
    pub fn webhook_deliveries(&self) -> Vec<SentDelivery> {
        self.with_webhooks(|hooks, _| hooks.sent.clone())
    }

    /// One delivery round: every change since the last round becomes an
    /// event (merged, repeated or reversed as the options say), is signed
    /// and POSTed; those that fail wait for the next round. Nothing is sent
    /// before the subscription is verified.
    pub async fn deliver_webhooks(&self) -> Vec<SentDelivery> {
        let Some((sub, events)) = self.with_webhooks(|hooks, store| {
            let sub = hooks.subscription.clone().filter(|s| s.verified)?;
            let changes = store
                .changes
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default();
            let mut events: Vec<(Value, u32)> = std::mem::take(&mut hooks.retry);
            events.extend(merge(changes, sub.options.aggregate).into_iter().map(|c| {
                (
                    event(&c, &sub, &store.database_id, &store.data_source_id),
                    1,
                )
            }));
            Some((sub, events))
        }) else {
            return Vec::new();
        };
        let mut events = events;
        if sub.options.reverse {
            events.reverse();
        }
        let mut sent = Vec::new();
        for (mut event, attempt) in events {
            for extra in 0..=sub.options.repeat {
                let attempt = attempt + extra;
                event["attempt_number"] = json!(attempt);
                let body = serde_json::to_vec(&event).expect("JSON");
                let status = post(&sub.url, &body, Some(&sub.token)).await.unwrap_or(0);
                sent.push(SentDelivery {
                    event_id: event["id"].as_str().unwrap_or_default().to_string(),
                    event_type: event["type"].as_str().unwrap_or_default().to_string(),
                    entity_id: event["entity"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    attempt,
                    status,
                });
                if !(200..300).contains(&status) {
                    if attempt < MAX_ATTEMPTS {
                        self.with_webhooks(|h, _| h.retry.push((event.clone(), attempt + 1)));
                    }
                    break;
                }
            }
        }
        self.with_webhooks(|h, _| h.sent.extend(sent.iter().cloned()));
        sent
    }

    /// Delivers every `every` in the background, as Notion does on its own,
    /// until the handle is aborted.
    pub fn deliver_webhooks_every(
        &self,
        every: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let control = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                control.deliver_webhooks().await;
            }
        })
    }

    fn with_webhooks<T>(&self, f: impl FnOnce(&mut Webhooks, &mut crate::store::Store) -> T) -> T {
        let mut inner = self.shared.lock();
        let inner = &mut *inner;
        f(&mut inner.webhooks, &mut inner.store)
    }
}

/// Consecutive property updates of one page merged into the first (Notion's
/// aggregation); other changes kept as they are, in order.
fn merge(changes: Vec<Change>, aggregate: bool) -> Vec<Change> {
    if !aggregate {
        return changes;
    }
    let mut out: Vec<Change> = Vec::new();
    for c in changes {
        let same = out.iter_mut().rev().find(|o| {
            o.kind == "page.properties_updated" && c.kind == o.kind && o.entity == c.entity
        });
        match same {
            Some(o) => {
                o.at = c.at;
                if !o.author.split(',').any(|a| a == c.author) {
                    o.author = format!("{},{}", o.author, c.author);
                }
                for p in c.properties {
                    if !o.properties.contains(&p) {
                        o.properties.push(p);
                    }
                }
            }
            None => out.push(c),
        }
    }
    out
}

fn event(c: &Change, sub: &Subscription, database_id: &str, data_source_id: &str) -> Value {
    let authors: Vec<Value> = c
        .author
        .split(',')
        .map(|id| {
            let kind = if id == BOT_USER_ID {
                "bot"
            } else if PERSON_USER_IDS.contains(&id) {
                "person"
            } else {
                "bot"
            };
            json!({"id": id, "type": kind})
        })
        .collect();
    let (entity_type, data) = if c.kind == "data_source.schema_updated" {
        (
            "data_source",
            json!({
                "parent": {"id": database_id, "type": "database"},
                "updated_properties": c.properties.iter().map(|name| json!({"name": name, "action": "updated"})).collect::<Vec<_>>(),
            }),
        )
    } else {
        let mut data = json!({
            "parent": {"id": database_id, "type": "database", "data_source_id": data_source_id},
        });
        if c.kind == "page.properties_updated" {
            data["updated_properties"] = json!(c.properties);
        }
        ("page", data)
    };
    json!({
        "id": new_id(),
        "timestamp": timestamp(c.at),
        "workspace_id": WORKSPACE_ID,
        "workspace_name": "Sales team",
        "subscription_id": sub.id,
        "integration_id": BOT_USER_ID,
        "type": c.kind,
        "authors": authors,
        "attempt_number": 1,
        "api_version": "2025-09-03",
        "entity": {"id": c.entity, "type": entity_type},
        "data": data,
    })
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// POSTs a delivery; the status, or why the endpoint could not be reached.
async fn post(url: &str, body: &[u8], token: Option<&str>) -> Result<u16, String> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "notion-api")
        .body(body.to_vec());
    if let Some(token) = token {
        request = request.header("x-notion-signature", signature(token, body));
    }
    request
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: &'static str, entity: &str, author: &str, props: &[&str]) -> Change {
        Change {
            kind,
            entity: entity.into(),
            author: author.into(),
            at: Utc::now(),
            properties: props.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn aggregation_merges_a_pages_property_updates_only() {
        let changes = vec![
            change("page.properties_updated", "p1", "u1", &["a"]),
            change("page.created", "p2", "u1", &[]),
            change("page.properties_updated", "p1", "u2", &["b", "a"]),
        ];
        let merged = merge(changes.clone(), true);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].author, "u1,u2");
        assert_eq!(merged[0].properties, vec!["a", "b"]);
        assert_eq!(merge(changes, false).len(), 3);
    }

    #[test]
    fn the_signature_is_rfc_4231s_hmac() {
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
