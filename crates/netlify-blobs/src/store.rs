//! Operations on one site store.

use reqwest::header::{HeaderMap, HeaderValue, CACHE_CONTROL, ETAG};
use reqwest::{Method, Response, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::client::{header_value, BlobsClient, OpContext, RequestSpec, SignedStep};
use crate::config::Access;
use crate::error::{BlobsError, Operation, Result};
use crate::metadata::{self, METADATA_HEADER, METADATA_HEADER_EXTERNAL, METADATA_MAX_BYTES};
use crate::validate::{validate_key, validate_store_name};

const SITE_STORE_PREFIX: &str = "site:";
const API_PATH: [&str; 3] = ["api", "v1", "blobs"];
/// What the official client sends with every write.
const WRITE_CACHE_CONTROL: &str = "max-age=0, stale-while-revalidate=60";
/// A bound on list pages, so that a server repeating cursors cannot loop us
/// forever (1000 keys a page in production: ten million keys).
const MAX_LIST_PAGES: usize = 10_000;

/// A stored value. `etag` is `None` where the server sends none (the local
/// Blobs server on GET); take etags from `set` or `list` then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub etag: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GetOptions {
    /// Read from the uncached edge (see the last write at once) instead of
    /// the cached one (eventually consistent, up to 60 s behind). Only edge
    /// access distinguishes the two.
    pub strong: bool,
    /// Ask for 304 when the blob still has this etag.
    pub if_none_match: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetOutcome {
    Found(Blob),
    /// 304 to `if_none_match`: the caller's copy is current.
    NotModified,
    Missing,
}

/// A precondition for a write; without one the last write wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCondition {
    /// Write only while the blob still has this etag (`if-match`).
    IfMatch(String),
    /// Write only if no blob has this key (`if-none-match: *`).
    IfNew,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetOptions {
    pub condition: Option<WriteCondition>,
    /// Any JSON; at most 2048 bytes once encoded into its header.
    pub metadata: Option<serde_json::Value>,
}

impl SetOptions {
    pub fn if_match(etag: impl Into<String>) -> Self {
        SetOptions {
            condition: Some(WriteCondition::IfMatch(etag.into())),
            metadata: None,
        }
    }

    pub fn if_new() -> Self {
        SetOptions {
            condition: Some(WriteCondition::IfNew),
            metadata: None,
        }
    }

    pub fn with_metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetOutcome {
    Written {
        etag: Option<String>,
    },
    /// 412: the condition did not hold; nothing was written.
    ConditionFailed,
}

impl SetOutcome {
    pub fn is_written(&self) -> bool {
        matches!(self, SetOutcome::Written { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ListedBlob {
    pub key: String,
    #[serde(default)]
    pub etag: String,
    #[serde(default)]
    pub last_modified: Option<String>,
    #[serde(default)]
    pub size: Option<u64>,
}

#[derive(Deserialize)]
struct ListPage {
    #[serde(default)]
    blobs: Vec<ListedBlob>,
    #[serde(default)]
    next_cursor: Option<String>,
}

/// A site store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    client: BlobsClient,
    name: String,
    wire_name: String,
}

impl Store {
    pub(crate) fn new(client: BlobsClient, name: &str) -> Self {
        Store {
            client,
            name: name.to_owned(),
            wire_name: format!("{SITE_STORE_PREFIX}{name}"),
        }
    }

    /// The name as given to [`BlobsClient::store`] (without `site:`).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn ctx<'a>(&'a self, operation: Operation, key: Option<&'a str>) -> OpContext<'a> {
        OpContext {
            operation,
            store: &self.name,
            key,
        }
    }

    fn check(&self, key: Option<&str>) -> Result<()> {
        validate_store_name(&self.name)?;
        key.map_or(Ok(()), validate_key)
    }

    /// The URL for direct (bearer-token) requests in either mode.
    fn direct_url(&self, key: Option<&str>) -> Result<Url> {
        match self.client.access() {
            Access::Edge { edge_url, .. } => {
                self.client.blob_url(edge_url, &[], &self.wire_name, key)
            }
            Access::Api { api_url } => {
                self.client
                    .blob_url(api_url, &API_PATH, &self.wire_name, key)
            }
        }
    }

    async fn direct(
        &self,
        ctx: OpContext<'_>,
        method: Method,
        url: Url,
        extra: HeaderMap,
        body: Option<Vec<u8>>,
        retry_network_errors: bool,
    ) -> Result<Response> {
        let mut headers = self.client.auth_headers()?;
        headers.extend(extra);
        self.client
            .execute(
                ctx,
                RequestSpec {
                    method,
                    url,
                    headers,
                    body,
                    retry_network_errors,
                },
            )
            .await
    }

    /// Edge: one request with the token. API: ask for a signed URL, then the
    /// same method on it without the token. `first_step_headers` go only to
    /// the API's first step, `headers` to the request that does the work.
    #[allow(clippy::too_many_arguments)]
    async fn via_signed_url_or_direct(
        &self,
        ctx: OpContext<'_>,
        method: Method,
        key: &str,
        strong: bool,
        first_step_headers: HeaderMap,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
        retry_network_errors: bool,
    ) -> Result<Response> {
        match self.client.access() {
            Access::Edge {
                edge_url,
                uncached_url,
            } => {
                let base = if strong {
                    uncached_url.as_ref().ok_or_else(|| {
                        BlobsError::Config(
                            "a strong read needs the uncached edge URL (`blobs.url_uncached` or \
                             NETLIFY_BLOBS_CONTEXT.uncachedEdgeURL), and none was given"
                                .to_owned(),
                        )
                    })?
                } else {
                    edge_url
                };
                let url = self
                    .client
                    .blob_url(base, &[], &self.wire_name, Some(key))?;
                self.direct(ctx, method, url, headers, body, retry_network_errors)
                    .await
            }
            Access::Api { api_url } => {
                let url = self
                    .client
                    .blob_url(api_url, &API_PATH, &self.wire_name, Some(key))?;
                match self
                    .client
                    .signed_url(ctx, method.clone(), url, first_step_headers)
                    .await?
                {
                    SignedStep::Url(signed) => {
                        self.client
                            .execute(
                                ctx,
                                RequestSpec {
                                    method,
                                    url: signed,
                                    headers,
                                    body,
                                    retry_network_errors,
                                },
                            )
                            .await
                    }
                    SignedStep::Status(response) => Ok(response),
                }
            }
        }
    }

    /// The blob, or `None` when absent (an eventually consistent read).
    pub async fn get(&self, key: &str) -> Result<Option<Blob>> {
        match self.get_with(key, GetOptions::default()).await? {
            GetOutcome::Found(blob) => Ok(Some(blob)),
            GetOutcome::Missing => Ok(None),
            // No if-none-match was sent; a 304 anyway means nothing usable.
            GetOutcome::NotModified => Err(BlobsError::Http {
                operation: Operation::Get,
                status: 304,
                store: self.name.clone(),
                key: Some(key.to_owned()),
                body: "304 without if-none-match".to_owned(),
            }),
        }
    }

    pub async fn get_with(&self, key: &str, options: GetOptions) -> Result<GetOutcome> {
        self.check(Some(key))?;
        let ctx = self.ctx(Operation::Get, Some(key));
        let mut headers = HeaderMap::new();
        if let Some(etag) = &options.if_none_match {
            let (name, value) = header_value(ctx, "if-none-match", etag)?;
            headers.insert(name, value);
        }
        self.client.count(Operation::Get);
        let response = self
            .via_signed_url_or_direct(
                ctx,
                Method::GET,
                key,
                options.strong,
                HeaderMap::new(),
                headers,
                None,
                true,
            )
            .await?;
        match response.status().as_u16() {
            200 => {
                let etag = etag_of(&response);
                let bytes = self.client.read_body(ctx, response).await?;
                Ok(GetOutcome::Found(Blob { bytes, etag }))
            }
            304 => Ok(GetOutcome::NotModified),
            404 => Ok(GetOutcome::Missing),
            _ => Err(self.client.status_error(ctx, response).await),
        }
    }

    /// The blob parsed as JSON, or `None` when absent.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let Some(blob) = self.get(key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&blob.bytes)
            .map(Some)
            .map_err(|e| BlobsError::Decode {
                what: "the stored JSON value",
                store: self.name.clone(),
                key: Some(key.to_owned()),
                reason: e.to_string(),
            })
    }

    pub async fn set(
        &self,
        key: &str,
        bytes: impl Into<Vec<u8>>,
        options: SetOptions,
    ) -> Result<SetOutcome> {
        self.check(Some(key))?;
        let ctx = self.ctx(Operation::Set, Some(key));
        let encoded_metadata = match &options.metadata {
            Some(meta) => {
                let (value, size) = metadata::encode(meta);
                if size > METADATA_MAX_BYTES {
                    return Err(BlobsError::MetadataTooLarge {
                        store: self.name.clone(),
                        key: key.to_owned(),
                        size,
                        max: METADATA_MAX_BYTES,
                    });
                }
                Some(value)
            }
            None => None,
        };

        let mut first_step = HeaderMap::new();
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(WRITE_CACHE_CONTROL));
        if let Some(value) = &encoded_metadata {
            let (name, value_h) = header_value(ctx, METADATA_HEADER, value)?;
            headers.insert(name, value_h);
            let (name, value_h) = header_value(ctx, METADATA_HEADER_EXTERNAL, value)?;
            first_step.insert(name, value_h);
        }
        match &options.condition {
            Some(WriteCondition::IfMatch(etag)) => {
                let (name, value) = header_value(ctx, "if-match", etag)?;
                headers.insert(name, value);
            }
            Some(WriteCondition::IfNew) => {
                headers.insert("if-none-match", HeaderValue::from_static("*"));
            }
            None => {}
        }

        self.client.count(Operation::Set);
        let response = self
            .via_signed_url_or_direct(
                ctx,
                Method::PUT,
                key,
                false,
                first_step,
                headers,
                Some(bytes.into()),
                options.condition.is_none(),
            )
            .await?;
        match response.status().as_u16() {
            200 | 201 | 204 => Ok(SetOutcome::Written {
                etag: etag_of(&response),
            }),
            412 => Ok(SetOutcome::ConditionFailed),
            _ => Err(self.client.status_error(ctx, response).await),
        }
    }

    pub async fn set_json<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        options: SetOptions,
    ) -> Result<SetOutcome> {
        let bytes = serde_json::to_vec(value).map_err(|e| BlobsError::Decode {
            what: "the value to store as JSON",
            store: self.name.clone(),
            key: Some(key.to_owned()),
            reason: e.to_string(),
        })?;
        self.set(key, bytes, options).await
    }

    /// Deletes the blob; deleting an absent blob is not an error.
    pub async fn delete(&self, key: &str) -> Result<()> {
        self.check(Some(key))?;
        let ctx = self.ctx(Operation::Delete, Some(key));
        let url = self.direct_url(Some(key))?;
        self.client.count(Operation::Delete);
        let response = self
            .direct(ctx, Method::DELETE, url, HeaderMap::new(), None, true)
            .await?;
        match response.status().as_u16() {
            200 | 204 | 404 => Ok(()),
            _ => Err(self.client.status_error(ctx, response).await),
        }
    }

    /// Every blob whose key starts with `prefix`, across all pages.
    ///
    /// The prefix is applied here too, not only by the server: the local
    /// Blobs server ignores it on API paths and can return keys shorter
    /// than the prefix.
    pub async fn list(&self, prefix: Option<&str>) -> Result<Vec<ListedBlob>> {
        self.check(None)?;
        let ctx = self.ctx(Operation::List, None);
        let prefix = prefix.filter(|p| !p.is_empty());
        let base = self.direct_url(None)?;
        let mut blobs = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let mut url = base.clone();
            {
                let mut query = url.query_pairs_mut();
                if let Some(prefix) = prefix {
                    query.append_pair("prefix", prefix);
                }
                if let Some(cursor) = &cursor {
                    query.append_pair("cursor", cursor);
                }
            }
            if url.query() == Some("") {
                url.set_query(None);
            }
            self.client.count(Operation::List);
            let response = self
                .direct(ctx, Method::GET, url, HeaderMap::new(), None, true)
                .await?;
            match response.status().as_u16() {
                200 | 204 => {}
                404 => return Ok(blobs),
                _ => return Err(self.client.status_error(ctx, response).await),
            }
            let bytes = self.client.read_body(ctx, response).await?;
            let page: ListPage = if bytes.is_empty() {
                ListPage {
                    blobs: Vec::new(),
                    next_cursor: None,
                }
            } else {
                serde_json::from_slice(&bytes).map_err(|e| BlobsError::Decode {
                    what: "a list page",
                    store: self.name.clone(),
                    key: None,
                    reason: e.to_string(),
                })?
            };
            blobs.extend(
                page.blobs
                    .into_iter()
                    .filter(|b| prefix.is_none_or(|p| b.key.starts_with(p))),
            );
            match page.next_cursor.filter(|c| !c.is_empty()) {
                Some(next) if cursor.as_deref() == Some(next.as_str()) => {
                    return Err(BlobsError::Decode {
                        what: "a list page",
                        store: self.name.clone(),
                        key: None,
                        reason: "the server repeated the same next_cursor".to_owned(),
                    });
                }
                Some(next) => cursor = Some(next),
                None => return Ok(blobs),
            }
        }
        tracing::warn!(store = %self.name, pages = MAX_LIST_PAGES, "Blobs list stopped at the page limit");
        Ok(blobs)
    }

    /// The blob's metadata (`{}` when it has none), or `None` when absent.
    ///
    /// The local Blobs server answers 404 for a blob that was written
    /// without metadata, so there `None` can also mean "no metadata".
    pub async fn metadata(&self, key: &str) -> Result<Option<serde_json::Value>> {
        self.check(Some(key))?;
        let ctx = self.ctx(Operation::Metadata, Some(key));
        let url = self.direct_url(Some(key))?;
        self.client.count(Operation::Metadata);
        let response = self
            .direct(ctx, Method::HEAD, url, HeaderMap::new(), None, true)
            .await?;
        match response.status().as_u16() {
            200 | 204 => {}
            404 => return Ok(None),
            _ => return Err(self.client.status_error(ctx, response).await),
        }
        let header = response
            .headers()
            .get(METADATA_HEADER_EXTERNAL)
            .or_else(|| response.headers().get(METADATA_HEADER))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let decoded = metadata::decode(header).map_err(|reason| BlobsError::Decode {
            what: "the metadata header",
            store: self.name.clone(),
            key: Some(key.to_owned()),
            reason,
        })?;
        Ok(Some(decoded.unwrap_or_else(|| serde_json::json!({}))))
    }
}

fn etag_of(response: &Response) -> Option<String> {
    response
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}
