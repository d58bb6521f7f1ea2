//! Notion's webhooks on the wire: what a delivery says, and whether Notion
//! sent it.
//!
//! A subscription starts with one unsigned POST carrying a
//! `verification_token`; a person pastes that token into the integration's
//! settings, and from then on every delivery carries
//! `X-Notion-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by
//! the token>`. Events are signals, not data: they name a page (or data
//! source) and what happened to it; the page itself is read through the API.
//! Deliveries repeat (`attempt_number` 1 to 8), come out of order (their
//! `timestamp` orders them) and are merged (several authors, one event).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

/// The header a signed delivery carries.
pub const SIGNATURE_HEADER: &str = "x-notion-signature";

/// One POST from Notion to the webhook endpoint.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// The subscription's one-time handshake (unsigned).
    Verification {
        token: String,
    },
    Event(Event),
}

/// Why a body is not a delivery.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DeliveryError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is neither a verification nor an event: {0}")]
    Shape(String),
}

impl Delivery {
    pub fn parse(body: &[u8]) -> Result<Delivery, DeliveryError> {
        let value: Value =
            serde_json::from_slice(body).map_err(|e| DeliveryError::NotJson(e.to_string()))?;
        if let Some(token) = value.get("verification_token") {
            return match token.as_str() {
                Some(t) if !t.trim().is_empty() && value.get("type").is_none() => {
                    Ok(Delivery::Verification {
                        token: t.trim().to_string(),
                    })
                }
                _ => Err(DeliveryError::Shape(
                    "verification_token must be a non-empty string".into(),
                )),
            };
        }
        serde_json::from_value::<Event>(value)
            .map(Delivery::Event)
            .map_err(|e| DeliveryError::Shape(e.to_string()))
    }
}

/// An event (the fields the sync reads; the rest is ignored).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Event {
    pub id: String,
    /// When the change happened (orders events; deliveries do not).
    pub timestamp: DateTime<Utc>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub authors: Vec<Author>,
    #[serde(default = "first_attempt")]
    pub attempt_number: u32,
    pub entity: Entity,
    #[serde(default)]
    pub data: EventData,
}

fn first_attempt() -> u32 {
    1
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Author {
    pub id: String,
    /// `person`, `bot` or `agent`.
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Entity {
    pub id: String,
    /// `page`, `block`, `database`, `data_source`, `comment`.
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct EventData {
    #[serde(default)]
    pub parent: Option<Parent>,
}

/// Where the entity lives: a database (with its data source on newer API
/// versions), a data source, a page, the workspace.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Parent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data_source_id: Option<String>,
}

impl Event {
    /// Whether only this bot (the integration itself) made the change: an
    /// echo of the sync's own write.
    pub fn only_by(&self, bot_id: &str) -> bool {
        !self.authors.is_empty()
            && self
                .authors
                .iter()
                .all(|a| a.kind == "bot" && same_id(&a.id, bot_id))
    }

    /// Whether the event's parent is this data source (or its database). An
    /// event that names no parent may be ours.
    pub fn in_data_source(&self, data_source_id: &str, database_id: &str) -> bool {
        match &self.data.parent {
            None => true,
            Some(p) => {
                p.data_source_id
                    .as_deref()
                    .is_some_and(|d| same_id(d, data_source_id))
                    || same_id(&p.id, data_source_id)
                    || same_id(&p.id, database_id)
            }
        }
    }
}

/// Notion ids compared with or without dashes, in any case.
pub fn same_id(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| *c != '-')
            .map(|c| c.to_ascii_lowercase())
            .collect::<String>()
    };
    norm(a) == norm(b)
}

/// `sha256=<hex>`: the signature Notion puts on `body` with `token`.
pub fn sign(token: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// Whether `header` is `body` signed with `token` (compared in constant time).
pub fn verify(token: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Some(given) = decode_hex(hex) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_token_and_body() {
        let body = br#"{"id":"e1"}"#;
        let sig = sign("secret_abc", body);
        assert!(verify("secret_abc", body, Some(&sig)));
        assert!(!verify("secret_abd", body, Some(&sig)));
        assert!(!verify("secret_abc", br#"{"id":"e2"}"#, Some(&sig)));
        assert!(!verify("secret_abc", body, None));
        assert!(!verify("secret_abc", body, Some("sha256=zz")));
        assert!(!verify(
            "secret_abc",
            body,
            Some(&sig.replace("sha256=", ""))
        ));
    }

    #[test]
    fn a_known_hmac_vector() {
        // RFC 4231 test case 2.
        let sig = sign("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn deliveries_parse_from_notions_shapes() {
        let v = Delivery::parse(br#"{"verification_token":"secret_xyz"}"#).unwrap();
        assert_eq!(
            v,
            Delivery::Verification {
                token: "secret_xyz".into()
            }
        );
        let e = Delivery::parse(
            br#"{"id":"367cba44-b6f3-4c92-81e7-6a2e9659efd4","timestamp":"2026-10-20T12:00:01.123Z",
            "workspace_id":"w","subscription_id":"s","integration_id":"i","type":"page.properties_updated",
            "authors":[{"id":"u1","type":"person"}],"attempt_number":2,
            "entity":{"id":"p1","type":"page"},
            "data":{"parent":{"id":"db1","type":"database","data_source_id":"ds1"},"updated_properties":["XGe%40"]}}"#,
        )
        .unwrap();
        let Delivery::Event(e) = e else { panic!() };
        assert_eq!(e.kind, "page.properties_updated");
        assert_eq!(e.attempt_number, 2);
        assert!(e.in_data_source("ds1", "other"));
        assert!(!e.in_data_source("ds2", "other"));
        assert!(!e.only_by("u1"));
        assert!(Delivery::parse(b"not json").is_err());
        assert!(Delivery::parse(br#"{"verification_token":""}"#).is_err());
        assert!(Delivery::parse(br#"{"type":"page.created"}"#).is_err());
    }
}
