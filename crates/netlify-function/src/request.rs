//! What a handler sees: the event reduced to plain data plus the few
//! questions every function asks (who is the site, is this a schedule run,
//! where are the Blobs, how much time is left).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde::de::DeserializeOwned;

use crate::error::HttpError;
use crate::event::NetlifyEvent;

/// Facts about one invocation that come from the Lambda runtime and the
/// process environment rather than from the event. Read once by the shell
/// (`run`) so the core stays free of global state and testable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvocationMeta {
    /// The Lambda request id (`Lambda-Runtime-Aws-Request-Id`).
    pub request_id: String,
    /// When the platform will stop the function; `None` outside Lambda.
    pub deadline: Option<SystemTime>,
    /// The `SITE_ID` environment variable, the fallback for the site id.
    pub env_site_id: Option<String>,
}

impl InvocationMeta {
    /// Reads the environment part (`SITE_ID`); request id and deadline come
    /// from the runtime's context.
    pub fn from_env(request_id: impl Into<String>, deadline: Option<SystemTime>) -> Self {
        Self {
            request_id: request_id.into(),
            deadline,
            env_site_id: std::env::var("SITE_ID").ok().filter(|s| !s.is_empty()),
        }
    }
}

/// One HTTP request as the handler sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Upper-case HTTP method, e.g. "POST".
    pub method: String,
    pub path: String,
    /// Lower-case header names (see [`Request::header`]).
    pub headers: BTreeMap<String, String>,
    pub query: BTreeMap<String, String>,
    /// The body, base64-decoded when the event said so.
    pub body: Vec<u8>,
    pub request_id: String,
    pub deadline: Option<SystemTime>,
    blobs: Option<String>,
    env_site_id: Option<String>,
}

impl Request {
    /// Builds the request; fails (400) only when the body claims to be
    /// base64 but is not.
    pub fn from_event(event: NetlifyEvent, meta: InvocationMeta) -> Result<Self, HttpError> {
        let headers = event.merged_headers();
        let query = event.merged_query();
        let body = decode_body(event.body, event.is_base64_encoded)?;
        Ok(Self {
            method: event.http_method.to_ascii_uppercase(),
            path: event.path,
            headers,
            query,
            body,
            request_id: meta.request_id,
            deadline: meta.deadline,
            blobs: event.blobs,
            env_site_id: meta.env_site_id,
        })
    }

    /// A header's value; `name` is matched case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// A query parameter's value.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// The body as UTF-8 text (400 if it is not).
    pub fn body_text(&self) -> Result<&str, HttpError> {
        std::str::from_utf8(&self.body)
            .map_err(|e| HttpError::bad_request("body", format!("not UTF-8 text: {e}")))
    }

    /// The body parsed as JSON into `T`. On failure a 400 whose message
    /// names the offending field (as a path like `contacts[0].phone`) and
    /// the line/column, so the dialer's developer can fix the payload.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Err(HttpError::bad_request(
                "body",
                "request body is empty; expected JSON",
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let path = err.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            HttpError::bad_request(field, err.into_inner().to_string())
        })?;
        de.end()
            .map_err(|e| HttpError::bad_request("body", e.to_string()))?;
        Ok(value)
    }

    /// The Netlify site id: header `x-nf-site-id`, else env `SITE_ID`.
    pub fn site_id(&self) -> Option<&str> {
        self.header("x-nf-site-id")
            .filter(|s| !s.is_empty())
            .or(self.env_site_id.as_deref())
    }

    /// Whether Netlify's scheduler (not a person) invoked us: header
    /// `x-nf-event: schedule`, or a body `{"next_run": ...}` (the CLI and
    /// older platform versions send only the body).
    pub fn is_scheduled(&self) -> bool {
        let by_header = self
            .header("x-nf-event")
            .is_some_and(|v| v.eq_ignore_ascii_case("schedule"));
        by_header
            || serde_json::from_slice::<serde_json::Value>(&self.body)
                .ok()
                .is_some_and(|body| body.get("next_run").is_some())
    }

    /// The raw `blobs` field of the event (base64 JSON), if Netlify sent one.
    pub fn blobs_context(&self) -> Option<&str> {
        self.blobs.as_deref()
    }

    /// Time left before the platform stops us; `None` outside Lambda.
    /// Zero once the deadline has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|deadline| {
            deadline
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        })
    }
}

fn decode_body(body: Option<String>, is_base64: bool) -> Result<Vec<u8>, HttpError> {
    let Some(body) = body else {
        return Ok(Vec::new());
    };
    if !is_base64 {
        return Ok(body.into_bytes());
    }
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| HttpError::bad_request("body", format!("isBase64Encoded but not base64: {e}")))
}
