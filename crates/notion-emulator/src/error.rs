//! Notion's error model: every failure is `{"object":"error","status",
//! "code","message","request_id"}` (plus `additional_data` sometimes). One
//! typed error carries all of it so handlers and the control API share it.

use serde_json::{json, Map, Value};

use crate::schema::{BOT_USER_ID, INTEGRATION_NAME};

/// An error the emulator answers with, exactly as Notion would.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Boxed: rarely present, and keeps `Result<_, ApiError>` small.
    pub additional_data: Option<Box<Value>>,
    /// Seconds for a `Retry-After` header (429 only).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            additional_data: None,
            retry_after_secs: None,
        }
    }

    pub fn with_additional_data(mut self, data: Value) -> Self {
        self.additional_data = Some(Box::new(data));
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "validation_error", message)
    }

    /// `body failed validation: <path> should be ..., instead was `...`.`
    pub fn body_validation(detail: impl std::fmt::Display) -> Self {
        Self::validation(format!("body failed validation: {detail}."))
    }

    /// Length limit in Notion's wording (the `≤` is Notion's own).
    pub fn too_long(path: &str, limit: usize, actual: usize) -> Self {
        Self::body_validation(format!(
            "{path}.length should be ≤ `{limit}`, instead was `{actual}`"
        ))
    }

    pub fn invalid_json() -> Self {
        Self::new(400, "invalid_json", "Error parsing JSON body.")
    }

    pub fn invalid_request_url() -> Self {
        Self::new(400, "invalid_request_url", "Invalid request URL.")
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "unauthorized", "API token is invalid.")
    }

    pub fn missing_version() -> Self {
        Self::new(
            400,
            "missing_version",
            "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.",
        )
    }

    /// `kind` is how Notion names the object: "database", "page" or
    /// "block". Real answers name the integration and carry its id
    /// (recorded in ramnes/notion-sdk-py
    /// `tests/cassettes/test_build_request_error_integration.yaml`).
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            404,
            "object_not_found",
            format!(
                "Could not find {kind} with ID: {id}. Make sure the relevant pages and databases are shared with your integration \"{INTEGRATION_NAME}\"."
            ),
        )
        .with_additional_data(json!({"integration_id": BOT_USER_ID}))
    }

    /// Notion lists the versions it accepts (wording observed from the live
    /// API); the emulator lists those it implements.
    pub fn unsupported_version(raw: &str) -> Self {
        Self::validation(format!(
            "Notion-Version header failed validation: Notion-Version header should be \"2022-06-28\", \"2025-09-03\", or \"2026-03-11\", instead was `{}`.",
            show(&json!(raw))
        ))
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            429,
            "rate_limited",
            "You have been rate limited. Please try again in a few minutes.",
        )
        .with_additional_data(json!({"rate_limit_reason": "connection_rate_limit"}));
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// The error Notion answers for a server-side status, used by faults.
    pub fn for_status(status: u16) -> Self {
        match status {
            409 => Self::new(409, "conflict_error", "Conflict occurred while saving. Please try again."),
            429 => Self::rate_limited(1),
            500 => Self::new(500, "internal_server_error", "Unexpected error occurred."),
            502 => Self::new(502, "bad_gateway", "Notion encountered an issue while attempting to complete this request (e.g., failed to establish a connection with an upstream server). Please try again."),
            503 => Self::new(503, "service_unavailable", "Notion is unavailable. This can occur when the time to respond to a request takes longer than 60 seconds, the maximum request timeout. Please try again later."),
            504 => Self::new(504, "gateway_timeout", "Notion timed out while attempting to complete this request. Please try again later."),
            529 => Self::new(529, "service_overload", "Notion is currently experiencing high traffic. Please try again later."),
            other => Self::new(other, "internal_server_error", "Unexpected error occurred."),
        }
    }

    /// The JSON body Notion sends.
    pub fn to_body(&self, request_id: &str) -> Value {
        let mut body = Map::new();
        body.insert("object".into(), json!("error"));
        body.insert("status".into(), json!(self.status));
        body.insert("code".into(), json!(self.code));
        body.insert("message".into(), json!(self.message));
        if let Some(data) = &self.additional_data {
            body.insert("additional_data".into(), (**data).clone());
        }
        body.insert("request_id".into(), json!(request_id));
        Value::Object(body)
    }
}

/// Renders a JSON value the way Notion quotes it in messages: `"abc"`, `5`.
pub(crate) fn show(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
