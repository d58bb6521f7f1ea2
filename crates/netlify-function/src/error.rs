//! The one error type a handler answers with, and its JSON body.

use serde_json::{json, Value};

/// An error the function answers with: `status` and a body
/// `{"error":{"code","message","hint"}}`. `code` is a stable machine-readable
/// string for the dialer; `message` says what went wrong, `hint` what a human
/// can do about it.
///
/// Handlers use `?` with their own error types by implementing
/// `From<TheirError> for HttpError` (allowed by the orphan rule because
/// their type is local to their crate), choosing the status per variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct HttpError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl HttpError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// 400: the request itself is wrong; `field` names where (a JSON path
    /// such as `contacts[0].phone`, a query parameter, or `body`).
    pub fn bad_request(field: impl AsRef<str>, message: impl AsRef<str>) -> Self {
        Self::new(
            400,
            "bad_request",
            format!("invalid `{}`: {}", field.as_ref(), message.as_ref()),
        )
    }

    /// 500: a required environment variable is missing. Functions only see
    /// variables scoped to Functions in the Netlify UI (netlify.toml's
    /// `[build.environment]` does not reach them), hence the hint.
    /// 500: `var` is set, to a value the functions cannot use (the hint
    /// says what is wrong with it).
    pub fn config_invalid(var: &str) -> Self {
        Self::new(500, "config_invalid", format!("{var} is set to a value that cannot be used")).with_hint(
            "Correct it in Netlify: Site configuration > Environment variables, scope Functions, then redeploy.",
        )
    }

    pub fn config_missing(var: &str) -> Self {
        Self::new(500, "config_missing", format!("{var} is not set")).with_hint(
            "Set it in Netlify: Site configuration > Environment variables, scope Functions, then redeploy.",
        )
    }

    /// 405: `method` is not served here; `allowed` lists what is, e.g. "POST".
    pub fn method_not_allowed(method: &str, allowed: &str) -> Self {
        Self::new(
            405,
            "method_not_allowed",
            format!("{method} is not allowed here; use {allowed}"),
        )
    }

    /// 401: the caller did not prove who it is.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "unauthorized", message)
    }

    /// 404: nothing at this path or with this id.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found", message)
    }

    /// 502: a service we depend on (Notion, Blobs) failed with
    /// `upstream_status`; our caller did nothing wrong.
    pub fn upstream(upstream_status: u16, message: impl AsRef<str>) -> Self {
        Self::new(
            502,
            "upstream_error",
            format!("upstream answered {upstream_status}: {}", message.as_ref()),
        )
    }

    /// 500: our own bug or an unexpected state.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "internal", message)
    }

    /// The JSON body: `{"error":{"code","message","hint"}}`.
    pub fn to_body(&self) -> Value {
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "hint": self.hint,
            }
        })
    }
}
