//! What a handler answers, and how it becomes the API Gateway proxy
//! response Netlify expects (with CORS, always JSON).

use std::collections::BTreeMap;

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

use crate::error::HttpError;

/// A JSON response. Build it with [`Response::json`] or [`Response::error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Extra headers; `content-type` and CORS are added by the runtime.
    pub headers: BTreeMap<String, String>,
    /// Serialised JSON (empty for 204).
    pub body: String,
}

impl Response {
    /// `value` serialised as the body. A value that cannot be serialised
    /// (a map with non-string keys, say) is our bug: it becomes a 500.
    pub fn json(status: u16, value: &impl Serialize) -> Self {
        match serde_json::to_string(value) {
            Ok(body) => Self {
                status,
                headers: BTreeMap::new(),
                body,
            },
            Err(e) => Self::error(HttpError::internal(format!(
                "response could not be serialised: {e}"
            ))),
        }
    }

    /// The error's status and `{"error":{...}}` body.
    pub fn error(err: HttpError) -> Self {
        Self {
            status: err.status,
            headers: BTreeMap::new(),
            body: err.to_body().to_string(),
        }
    }

    /// 204 with no body (the CORS preflight answer).
    pub fn no_content() -> Self {
        Self {
            status: 204,
            headers: BTreeMap::new(),
            body: String::new(),
        }
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers
            .insert(name.into().to_ascii_lowercase(), value.into());
        self
    }
}

/// What a handler may return: a [`Response`], an [`HttpError`], or a
/// `Result` of the two where the error converts into `HttpError`.
pub trait IntoResponse {
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        Response::error(self)
    }
}

impl<E: Into<HttpError>> IntoResponse for Result<Response, E> {
    fn into_response(self) -> Response {
        self.unwrap_or_else(|e| Response::error(e.into()))
    }
}

/// CORS policy for the dialer's browser calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// `access-control-allow-origin`: the dialer's origin or `*`.
    pub allow_origin: String,
}

impl Default for Cors {
    fn default() -> Self {
        Self {
            allow_origin: "*".to_owned(),
        }
    }
}

impl Cors {
    /// From env `DIALER_ORIGIN` (default `*`).
    pub fn from_env() -> Self {
        std::env::var("DIALER_ORIGIN")
            .ok()
            .map(|origin| origin.trim().to_owned())
            .filter(|origin| !origin.is_empty())
            .map(|allow_origin| Self { allow_origin })
            .unwrap_or_default()
    }

    /// The CORS headers every response (and the preflight) carries.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("access-control-allow-origin", self.allow_origin.clone()),
            (
                "access-control-allow-methods",
                "GET, POST, PUT, PATCH, DELETE, OPTIONS".to_owned(),
            ),
            (
                "access-control-allow-headers",
                "authorization, content-type, x-requested-with, x-sync-key".to_owned(),
            ),
            ("access-control-max-age", "86400".to_owned()),
        ];
        // A specific origin makes the response origin-dependent for caches.
        if self.allow_origin != "*" {
            headers.push(("vary", "origin".to_owned()));
        }
        headers
    }
}

/// The proxy response Netlify expects: `headers` set (Netlify ignores a
/// response with only `multiValueHeaders`), `content-type:
/// application/json` always, CORS added. Handler headers that are not valid
/// HTTP are dropped with a warning rather than failing the response.
pub fn to_proxy_response(response: Response, cors: &Cors) -> ApiGatewayProxyResponse {
    let mut headers = HeaderMap::new();
    let own = response
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()));
    let fixed = cors
        .headers()
        .into_iter()
        .chain([("content-type", "application/json".to_owned())]);
    for (name, value) in own.chain(fixed) {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.insert(name, value);
            }
            _ => tracing::warn!(
                header = name,
                "dropping a response header that is not valid HTTP"
            ),
        }
    }
    let mut proxy = ApiGatewayProxyResponse::default();
    proxy.status_code = i64::from(response.status);
    proxy.headers = headers;
    proxy.body = (!response.body.is_empty()).then_some(Body::Text(response.body));
    proxy.is_base64_encoded = false;
    proxy
}
