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

    /// A 429 for one of Notion's limits (request-limits reference:
    /// `additional_data.rate_limit_reason` names the limit, and the body
    /// repeats `Retry-After` as `additional_data.retry_after`, whole seconds
    /// as a string). The message is Notion's own OpenAPI example.
    pub fn rate_limited(limit: RateLimit, retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            429,
            "rate_limited",
            "You have been rate limited. Please try again in a few minutes.",
        )
        .with_additional_data(json!({
            "rate_limit_reason": limit.reason(),
            "retry_after": retry_after_secs.to_string(),
        }));
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// 529 `service_overload` with `Retry-After` ("retry it the same way as
    /// a 429", request-limits reference).
    pub fn overloaded(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            529,
            "service_overload",
            "Notion is currently experiencing high traffic. Please try again later.",
        )
        .with_additional_data(json!({"retry_after": retry_after_secs.to_string()}));
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// A write that would create blocks in a Free workspace past its grace
    /// period: the body of Notion's workspace-block-limits reference, verbatim.
    pub fn block_limit() -> Self {
        Self::new(
            403,
            "restricted_resource",
            "This workspace has used all of its free blocks. Upgrade its plan in Notion to create more content. Learn more: https://www.notion.com/help/understanding-block-usage",
        )
        .with_additional_data(json!({"block_limit": "block_creation"}))
    }

    /// `<where> failed validation: <path> should be <expected>, instead was
    /// `<value>`.` — the shape of every schema refusal (`where` is the
    /// path's first segment: body, query or path). `None`: not sent.
    pub fn should_be(path: &str, expected: &str, got: Option<&Value>) -> Self {
        Self::validation(format!(
            "{} failed validation: {}.",
            location(path),
            expectation(path, expected, got)
        ))
    }

    /// A key the endpoint does not take (`body.archived should be not
    /// present, instead was `true`.`, reported of 2026-03-11).
    pub fn not_present(path: &str, got: &Value) -> Self {
        Self::should_be(path, "not present", Some(got))
    }

    /// Notion's answer when a value fits none of a union's variants: "body
    /// failed validation. Fix one:" and one line per variant.
    pub fn fix_one(alternatives: &[(String, &str, Option<&Value>)]) -> Self {
        let first = alternatives.first().map_or("body", |(p, _, _)| location(p));
        let lines: Vec<String> = alternatives
            .iter()
            .map(|(path, expected, got)| format!("{}.", expectation(path, expected, *got)))
            .collect();
        Self::validation(format!(
            "{first} failed validation. Fix one:\n{}",
            lines.join("\n")
        ))
    }

    /// Rich-text links that are not absolute http(s) URLs: one line per
    /// link (reported answers, see tests/js/fixtures/README.md).
    pub fn invalid_links(count: usize) -> Self {
        let lines = vec!["Invalid URL for link."; count.max(1)];
        Self::validation(format!(
            "Content creation Failed. Fix the following: \n{}",
            lines.join("\n")
        ))
    }

    /// The error Notion answers for a server-side status, used by faults.
    pub fn for_status(status: u16) -> Self {
        match status {
            409 => Self::new(409, "conflict_error", "Conflict occurred while saving. Please try again."),
            429 => Self::rate_limited(RateLimit::Connection, 1),
            500 => Self::new(500, "internal_server_error", "Unexpected error occurred."),
            502 => Self::new(502, "bad_gateway", "Notion encountered an issue while attempting to complete this request (e.g., failed to establish a connection with an upstream server). Please try again."),
            503 => Self::new(503, "service_unavailable", "Notion is unavailable. This can occur when the time to respond to a request takes longer than 60 seconds, the maximum request timeout. Please try again later."),
            504 => Self::new(504, "gateway_timeout", "Notion timed out while attempting to complete this request. Please try again later."),
            529 => Self::overloaded(1),
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

/// Which of Notion's limits a 429 is for (`additional_data.rate_limit_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    /// The connection's own budget per 60-second window.
    Connection,
    /// The budget shared by every connection of the workspace.
    Workspace,
}

impl RateLimit {
    /// The reason Notion names (request-limits reference).
    pub fn reason(self) -> &'static str {
        match self {
            RateLimit::Connection => "public_api_request_rate_limit",
            RateLimit::Workspace => "public_api_space_request_rate_limit",
        }
    }
}

/// Longest quoted value before Notion cuts it with `...` (real messages:
/// `instead was `[{"object":"block","type":"bulleted_list_item","bullete...``).
const SHOWN_CHARS: usize = 55;

/// Renders a JSON value the way Notion quotes it in messages: `"abc"`, `5`,
/// long values cut after 55 characters.
pub(crate) fn show(v: &Value) -> String {
    let full = serde_json::to_string(v).unwrap_or_default();
    if full.chars().count() <= SHOWN_CHARS {
        return full;
    }
    let cut: String = full.chars().take(SHOWN_CHARS).collect();
    format!("{cut}...")
}

/// `"a"` or `"b"`; `"a"`, `"b"`, or `"c"`: how Notion lists allowed values.
pub(crate) fn one_of(values: &[&str]) -> String {
    listed(values.iter().map(|v| format!("`\"{v}\"`")).collect())
}

/// [`one_of`] for an optional value: `"a"`, `"b"`, or `undefined`.
pub(crate) fn one_of_optional(values: &[&str]) -> String {
    let mut quoted: Vec<String> = values.iter().map(|v| format!("`\"{v}\"`")).collect();
    quoted.push("`undefined`".into());
    listed(quoted)
}

fn listed(quoted: Vec<String>) -> String {
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        [rest @ .., last] => format!("{}, or {last}", rest.join(", ")),
    }
}

fn location(path: &str) -> &str {
    path.split(['.', '[']).next().unwrap_or("body")
}

fn expectation(path: &str, expected: &str, got: Option<&Value>) -> String {
    let shown = got.map_or_else(|| "undefined".to_string(), show);
    format!("{path} should be {expected}, instead was `{shown}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_like_notions() {
        let v =
            json!([{"object": "block", "type": "bulleted_list_item", "bulleted_list_item": {}}]);
        assert_eq!(
            show(&v),
            r#"[{"object":"block","type":"bulleted_list_item","bullete..."#
        );
        assert_eq!(show(&json!("abc")), r#""abc""#);
    }

    #[test]
    fn messages_have_notions_shape() {
        let e = ApiError::not_present("body.archived", &json!(true));
        assert_eq!(
            e.message,
            "body failed validation: body.archived should be not present, instead was `true`."
        );
        let e = ApiError::should_be(
            "query.page_size",
            "a number or `undefined`",
            Some(&json!("x")),
        );
        assert!(e
            .message
            .starts_with("query failed validation: query.page_size"));
        let e = ApiError::fix_one(&[
            ("body.x.link".into(), "not present", Some(&json!(1))),
            ("body.x.mention".into(), "defined", None),
        ]);
        assert_eq!(
            e.message,
            "body failed validation. Fix one:\nbody.x.link should be not present, instead was `1`.\nbody.x.mention should be defined, instead was `undefined`."
        );
        assert_eq!(one_of(&["a", "b", "c"]), "`\"a\"`, `\"b\"`, or `\"c\"`");
    }
}
