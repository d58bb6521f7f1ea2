//! The client: configuration, the request loop (timeouts, retries), URL
//! building for both access modes, and the request counter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Method, Response, StatusCode, Url};
use serde::Deserialize;

use crate::config::{self, Access, AccessMode, ResolvedConfig};
use crate::error::{BlobsError, Operation, Result};
use crate::retry::{is_retryable_status, RetryPolicy};
use crate::store::Store;

pub(crate) const SIGNED_URL_ACCEPT: &str = "application/json;type=signed-url";
const RATE_LIMIT_RESET: &str = "x-ratelimit-reset";
const BODY_EXCERPT_CHARS: usize = 300;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A Netlify Blobs client for one site. Cheap to clone; clones share the
/// HTTP connection pool and the request counter.
#[derive(Clone, Debug)]
pub struct BlobsClient {
    http: reqwest::Client,
    config: Arc<ResolvedConfig>,
    timeout: Duration,
    retry: RetryPolicy,
    counters: Arc<Counters>,
}

/// Requests sent, by kind: one per logical call (one per page for lists),
/// not counting retries or the signed-URL step of API access. Benchmarks
/// and tests use it to count Blobs reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlobsStats {
    pub gets: u64,
    pub sets: u64,
    pub lists: u64,
    pub deletes: u64,
    pub heads: u64,
}

impl BlobsStats {
    /// The requests made since `earlier` was taken.
    pub fn since(&self, earlier: &BlobsStats) -> BlobsStats {
        BlobsStats {
            gets: self.gets.saturating_sub(earlier.gets),
            sets: self.sets.saturating_sub(earlier.sets),
            lists: self.lists.saturating_sub(earlier.lists),
            deletes: self.deletes.saturating_sub(earlier.deletes),
            heads: self.heads.saturating_sub(earlier.heads),
        }
    }

    pub fn total(&self) -> u64 {
        self.gets + self.sets + self.lists + self.deletes + self.heads
    }
}

#[derive(Debug, Default)]
struct Counters {
    gets: AtomicU64,
    sets: AtomicU64,
    lists: AtomicU64,
    deletes: AtomicU64,
    heads: AtomicU64,
}

/// The operation, store and key a request belongs to: what errors and log
/// lines name instead of URLs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OpContext<'a> {
    pub operation: Operation,
    /// The store's name as the caller knows it (without `site:`).
    pub store: &'a str,
    pub key: Option<&'a str>,
}

/// One HTTP request, rebuilt for every attempt.
pub(crate) struct RequestSpec {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    /// Whether a network error may be retried: a conditional write that
    /// reached the server before the connection broke would otherwise be
    /// reported as a conflict with itself.
    pub retry_network_errors: bool,
}

/// Result of asking the API for a signed URL.
pub(crate) enum SignedStep {
    Url(Url),
    /// The API answered with something other than 200; the caller maps it.
    Status(Response),
}

#[derive(Deserialize)]
struct SignedUrlBody {
    url: String,
}

impl BlobsClient {
    /// Edge access from a function event's `blobs` field (base64 JSON
    /// `{url, url_uncached, token, primary_region}`) and the site id from
    /// header `x-nf-site-id` or env `SITE_ID`.
    pub fn from_event_blobs(blobs_b64: &str, site_id: &str) -> Result<Self> {
        Self::new(config::from_event_blobs(blobs_b64, site_id)?)
    }

    /// API access with a personal access token; `api_url` defaults to
    /// `https://api.netlify.com`.
    pub fn from_api(
        site_id: &str,
        personal_access_token: &str,
        api_url: Option<&str>,
    ) -> Result<Self> {
        Self::new(config::from_api(site_id, personal_access_token, api_url)?)
    }

    /// From a `NETLIFY_BLOBS_CONTEXT` value: edge access when it has an
    /// `edgeURL`, API access otherwise.
    pub fn from_context(context_b64: &str) -> Result<Self> {
        Self::new(config::from_context(context_b64)?)
    }

    /// From the process environment: `NETLIFY_BLOBS_CONTEXT`, else
    /// `NETLIFY_SITE_ID`/`SITE_ID` with `NETLIFY_API_TOKEN`/`NETLIFY_AUTH_TOKEN`.
    pub fn from_env() -> Result<Self> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// [`BlobsClient::from_env`] with an explicit variable lookup, so callers
    /// and tests need not touch the process environment.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        Self::new(config::from_env_with(lookup)?)
    }

    fn new(config: ResolvedConfig) -> Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(DEFAULT_TIMEOUT)
            .build()
            .map_err(|e| BlobsError::Config(format!("could not build the HTTP client: {e}")))?;
        Ok(BlobsClient {
            http,
            config: Arc::new(config),
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            counters: Arc::default(),
        })
    }

    /// Timeout for each attempt, from connecting to the end of the body.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// A site-wide store (`site:{name}` on the wire). The name is checked
    /// when the store is used, so that this stays infallible.
    pub fn store(&self, name: &str) -> Store {
        Store::new(self.clone(), name)
    }

    pub fn site_id(&self) -> &str {
        &self.config.site_id
    }

    pub fn access_mode(&self) -> AccessMode {
        match self.config.access {
            Access::Edge { .. } => AccessMode::Edge,
            Access::Api { .. } => AccessMode::Api,
        }
    }

    pub fn stats(&self) -> BlobsStats {
        let c = &self.counters;
        BlobsStats {
            gets: c.gets.load(Ordering::Relaxed),
            sets: c.sets.load(Ordering::Relaxed),
            lists: c.lists.load(Ordering::Relaxed),
            deletes: c.deletes.load(Ordering::Relaxed),
            heads: c.heads.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn count(&self, operation: Operation) {
        let c = &self.counters;
        let counter = match operation {
            Operation::Get => &c.gets,
            Operation::Set => &c.sets,
            Operation::List => &c.lists,
            Operation::Delete => &c.deletes,
            Operation::Metadata => &c.heads,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn access(&self) -> &Access {
        &self.config.access
    }

    /// `authorization: Bearer …` for edge requests and direct API requests.
    pub(crate) fn auth_headers(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.config.token.expose()))
            .map_err(|_| {
                BlobsError::Config(
                    "the Blobs token contains characters not allowed in a header".to_owned(),
                )
            })?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
        Ok(headers)
    }

    /// `{base}/{prefix...}/{site}/{store}[/{key}]`. Key segments are
    /// percent-encoded only where a path requires it; `/` stays a directory
    /// separator as Netlify expects.
    pub(crate) fn blob_url(
        &self,
        base: &Url,
        prefix: &[&str],
        store_wire: &str,
        key: Option<&str>,
    ) -> Result<Url> {
        let mut url = base.clone();
        {
            let mut segments = url.path_segments_mut().map_err(|_| {
                BlobsError::Config("the Blobs base URL cannot hold a path".to_owned())
            })?;
            segments.pop_if_empty();
            segments.extend(prefix);
            segments.push(&self.config.site_id);
            segments.push(store_wire);
            if let Some(key) = key {
                segments.extend(key.split('/'));
            }
        }
        url.set_query(None);
        Ok(url)
    }

    /// The first step of an API-mode GET or PUT: ask for a signed URL.
    pub(crate) async fn signed_url(
        &self,
        ctx: OpContext<'_>,
        method: Method,
        api_url: Url,
        extra_headers: HeaderMap,
    ) -> Result<SignedStep> {
        let mut headers = self.auth_headers()?;
        headers.insert(ACCEPT, HeaderValue::from_static(SIGNED_URL_ACCEPT));
        headers.extend(extra_headers);
        let response = self
            .execute(
                ctx,
                RequestSpec {
                    method,
                    url: api_url,
                    headers,
                    body: None,
                    // Asking for a URL changes nothing, whatever the method.
                    retry_network_errors: true,
                },
            )
            .await?;
        if response.status() != StatusCode::OK {
            return Ok(SignedStep::Status(response));
        }
        let bytes = self.read_body(ctx, response).await?;
        let signed: SignedUrlBody =
            serde_json::from_slice(&bytes).map_err(|e| BlobsError::Decode {
                what: "the signed-URL answer",
                store: ctx.store.to_owned(),
                key: ctx.key.map(str::to_owned),
                reason: e.to_string(),
            })?;
        let url = Url::parse(&signed.url).map_err(|e| BlobsError::Decode {
            what: "the signed URL",
            store: ctx.store.to_owned(),
            key: ctx.key.map(str::to_owned),
            reason: e.to_string(),
        })?;
        Ok(SignedStep::Url(url))
    }

    /// Sends `spec`, retrying 429/5xx (and network errors when allowed).
    /// Returns the last response whatever its status; callers map statuses.
    pub(crate) async fn execute(&self, ctx: OpContext<'_>, spec: RequestSpec) -> Result<Response> {
        let RequestSpec {
            method,
            url,
            headers,
            mut body,
            retry_network_errors,
        } = spec;
        let mut retry = 0u32;
        loop {
            let is_last = retry >= self.retry.max_retries;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .headers(headers.clone())
                .timeout(self.timeout);
            // The last attempt can give the body away instead of copying it.
            let attempt_body = if is_last { body.take() } else { body.clone() };
            if let Some(bytes) = attempt_body {
                request = request.body(bytes);
            }
            match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    if !is_last && is_retryable_status(status) {
                        let reset = response
                            .headers()
                            .get(RATE_LIMIT_RESET)
                            .and_then(|v| v.to_str().ok());
                        let wait = self.retry.wait(retry, reset, SystemTime::now());
                        tracing::warn!(
                            operation = %ctx.operation,
                            store = ctx.store,
                            key = ctx.key,
                            status,
                            retry = retry + 1,
                            wait_ms = wait.as_millis() as u64,
                            "Blobs request failed; retrying"
                        );
                        tokio::time::sleep(wait).await;
                        retry += 1;
                        continue;
                    }
                    tracing::debug!(
                        operation = %ctx.operation,
                        store = ctx.store,
                        key = ctx.key,
                        status,
                        "Blobs request"
                    );
                    return Ok(response);
                }
                Err(error) => {
                    if !is_last && retry_network_errors {
                        let wait = self.retry.backoff(retry);
                        tracing::warn!(
                            operation = %ctx.operation,
                            store = ctx.store,
                            key = ctx.key,
                            error = %error.without_url_ref(),
                            retry = retry + 1,
                            wait_ms = wait.as_millis() as u64,
                            "Blobs request could not be sent; retrying"
                        );
                        tokio::time::sleep(wait).await;
                        retry += 1;
                        continue;
                    }
                    return Err(self.network_error(ctx, error));
                }
            }
        }
    }

    pub(crate) fn network_error(&self, ctx: OpContext<'_>, error: reqwest::Error) -> BlobsError {
        BlobsError::Network {
            operation: ctx.operation,
            store: ctx.store.to_owned(),
            key: ctx.key.map(str::to_owned),
            source: error.without_url(),
        }
    }

    pub(crate) async fn read_body(
        &self,
        ctx: OpContext<'_>,
        response: Response,
    ) -> Result<Vec<u8>> {
        response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| self.network_error(ctx, e))
    }

    /// The error for a status the operation does not expect.
    pub(crate) async fn status_error(&self, ctx: OpContext<'_>, response: Response) -> BlobsError {
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return BlobsError::Unauthorized {
                status,
                operation: ctx.operation,
                store: ctx.store.to_owned(),
                key: ctx.key.map(str::to_owned),
            };
        }
        let body = match response.bytes().await {
            Ok(bytes) => self.excerpt(&bytes),
            Err(_) => String::from("<body unreadable>"),
        };
        BlobsError::Http {
            operation: ctx.operation,
            status,
            store: ctx.store.to_owned(),
            key: ctx.key.map(str::to_owned),
            body,
        }
    }

    /// The start of a body for an error message, never containing the token.
    fn excerpt(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        let mut excerpt: String = text.chars().take(BODY_EXCERPT_CHARS).collect();
        if text.chars().count() > BODY_EXCERPT_CHARS {
            excerpt.push('…');
        }
        let token = self.config.token.expose();
        if !token.is_empty() {
            excerpt = excerpt.replace(token, "<redacted>");
        }
        excerpt
    }
}

/// Builds a header value from text we produced (metadata, etags from the
/// server); a value that is not a valid header is the caller's bad input.
pub(crate) fn header_value(
    ctx: OpContext<'_>,
    name: &'static str,
    value: &str,
) -> Result<(HeaderName, HeaderValue)> {
    let value = HeaderValue::from_str(value).map_err(|_| BlobsError::Decode {
        what: "a header value (etag or metadata) to send",
        store: ctx.store.to_owned(),
        key: ctx.key.map(str::to_owned),
        reason: format!("not a valid `{name}` header value"),
    })?;
    Ok((HeaderName::from_static(name), value))
}

trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    /// The error text without the URL, for log lines (signed URLs are
    /// credentials).
    fn without_url_ref(&self) -> String {
        let mut text = self.to_string();
        if let Some(url) = self.url() {
            text = text.replace(url.as_str(), "<url>");
        }
        text
    }
}
