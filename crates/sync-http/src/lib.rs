//! What the sync functions share, so each `main.rs` is its handler:
//! an [`Engine`] built from the request (Blobs from the event, everything
//! else from environment variables) and engine errors as HTTP answers a
//! person can act on.

use std::time::{Duration, Instant};

use netlify_function::{HttpError, Request};
use notion_client::NotionError;
use serde::Deserialize;
use sync_core::ContactId;
use sync_engine::{Engine, EngineConfig, EngineError};

mod access;
mod resolve;
pub mod webhook;
pub use access::{guarded, guarded_or_scheduled, Access};
pub use resolve::ResolveRequest;

/// The engine for this invocation. Blobs access comes from the event (its
/// token lasts one invocation), so an engine is never kept between calls.
pub fn engine(req: &Request) -> Result<Engine, HttpError> {
    let config = EngineConfig::from_env().map_err(config_error)?;
    let blobs = req.blobs_client()?;
    Engine::new(config, blobs).map_err(http_error)
}

/// A setting the functions cannot run with: missing, or set to something
/// unusable (then the answer says so, not that it is missing).
pub fn config_error(e: sync_engine::ConfigError) -> HttpError {
    let is_set = std::env::var(e.variable).is_ok_and(|v| !v.trim().is_empty());
    let error = if is_set {
        HttpError::config_invalid(e.variable)
    } else {
        HttpError::config_missing(e.variable)
    };
    error.with_hint(e.to_string())
}

/// When to stop starting writes: the function's own deadline minus a margin.
pub fn deadline(req: &Request, margin: Duration) -> Option<Instant> {
    req.remaining()
        .map(|left| Instant::now() + left.saturating_sub(margin))
}

/// An engine error as the answer the dialer shows.
pub fn http_error(e: EngineError) -> HttpError {
    let message = e.to_string();
    match &e {
        EngineError::Config(c) => HttpError::config_missing(c.variable).with_hint(message),
        EngineError::BadRequest(_) => HttpError::new(400, "bad_request", message),
        EngineError::UnknownContact(_) => HttpError::new(404, "unknown_contact", message),
        EngineError::Waiting(_) => HttpError::new(503, "sync_waiting", message)
            .with_hint("Nothing is lost; the next scheduled run continues."),
        EngineError::Busy { .. } => HttpError::new(409, "sync_running", message)
            .with_hint("Another sync is running; try again in a minute."),
        EngineError::LeaseLost | EngineError::Moved(_) => HttpError::new(409, "sync_overtaken", message)
            .with_hint("Another sync finished this work; nothing is lost. Try again if something still looks out of date."),
        EngineError::Schema(_) => HttpError::new(422, "notion_schema", message)
            .with_hint("Run the Notion connection test to see which properties to add or change."),
        EngineError::Notion(n) => {
            let (status, code, hint) = match n {
                NotionError::Unauthorized => (502, "notion_unauthorized", "Copy the integration secret again from notion.so/my-integrations and set NOTION_API_TOKEN in Netlify."),
                NotionError::DatabaseNotShared { .. } => (502, "notion_not_shared", "In Notion, open the database, ... > Connections, and add the integration."),
                NotionError::Forbidden { .. } => (502, "notion_forbidden", "Give the integration read, update and insert capabilities."),
                NotionError::RateLimited { .. } => (503, "notion_rate_limited", "Notion asked us to slow down; the next scheduled run continues."),
                NotionError::BlockLimit => (502, "notion_block_limit", "Upgrade the Notion workspace's plan, or set SYNC_CALL_NOTES=notes_property; properties keep syncing."),
                _ => (502, "notion_error", "Notion answered with an error; the next run retries."),
            };
            HttpError::new(status, code, message).with_hint(hint)
        }
        EngineError::Blobs(_) => HttpError::new(502, "blobs_error", message),
        EngineError::State(_) => HttpError::new(500, "sync_state", message),
    }
}

/// The `?limit=N` query parameter: `default` when absent, else 1 to `max`.
pub fn limit_param(req: &Request, default: usize, max: usize) -> Result<usize, HttpError> {
    match req.query_param("limit") {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                HttpError::bad_request("limit", format!("{text:?} is not a number from 1 to {max}"))
            }),
    }
}

/// The most contacts one push may name: a push answers within the
/// function's time limit; more is a sync of all contacts.
pub const MAX_CONTACT_IDS: usize = 100;

/// Contact ids from a request body, each a Dialer ID: `contactId` or `contactIds`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SyncRequest {
    #[serde(default)]
    pub contact_id: Option<IdInput>,
    #[serde(default)]
    pub contact_ids: Option<Vec<IdInput>>,
    /// Apply a plan the mass-change brake holds.
    #[serde(default)]
    pub force: bool,
    /// Plan only.
    #[serde(default)]
    pub dry_run: bool,
    /// Read Notion in full (finds pages trashed in Notion).
    #[serde(default)]
    pub full_scan: bool,
    /// Netlify's scheduler sends this (snake_case, as Netlify spells it).
    #[serde(default, rename = "next_run")]
    pub next_run: Option<String>,
}

/// A Dialer ID as the dialer sends it: a string or a number.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IdInput {
    Text(String),
    Number(serde_json::Number),
}

impl IdInput {
    pub fn parse(&self) -> Result<ContactId, String> {
        match self {
            IdInput::Text(s) => s.parse::<ContactId>(),
            IdInput::Number(n) => ContactId::from_json(&serde_json::Value::Number(n.clone())),
        }
    }
}

impl SyncRequest {
    /// The body, or the defaults for an empty body.
    pub fn parse(req: &Request) -> Result<SyncRequest, HttpError> {
        if req.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(SyncRequest::default());
        }
        req.json()
    }

    /// The contacts named (at most [`MAX_CONTACT_IDS`]; all when none).
    pub fn ids(&self) -> Result<Vec<ContactId>, HttpError> {
        let named = self.contact_ids.as_ref().map_or(0, Vec::len);
        if named > MAX_CONTACT_IDS {
            return Err(HttpError::bad_request(
                "contactIds",
                format!("{named} contacts named; at most {MAX_CONTACT_IDS} per request (send no ids to sync every contact)"),
            ));
        }
        let one = self.contact_id.iter().map(|id| ("contactId", id));
        let many = self
            .contact_ids
            .iter()
            .flatten()
            .map(|id| ("contactIds", id));
        one.chain(many)
            .map(|(field, id)| {
                id.parse()
                    .map_err(|problem| HttpError::bad_request(field, problem))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(ids: usize) -> SyncRequest {
        SyncRequest {
            contact_ids: Some(
                (1..=ids as u64)
                    .map(|n| IdInput::Text(n.to_string()))
                    .collect(),
            ),
            ..SyncRequest::default()
        }
    }

    #[test]
    fn a_push_names_at_most_a_hundred_contacts() {
        assert_eq!(
            request(MAX_CONTACT_IDS).ids().unwrap().len(),
            MAX_CONTACT_IDS
        );
        let err = request(MAX_CONTACT_IDS + 1).ids().unwrap_err();
        assert_eq!(err.status, 400);
        let text = format!("{err:?}");
        assert!(
            text.contains("contactIds") && text.contains("at most 100"),
            "{text}"
        );
    }
}
