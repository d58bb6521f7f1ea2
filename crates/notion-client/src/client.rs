//! The HTTP shell: sends requests through the shared limiter, retries per
//! [`RetryPolicy`], and turns answers into typed values.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::Method;
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tracing::{field, Instrument};
use url::Url;

use crate::config::NotionConfig;
use crate::database_ref::DatabaseRef;
use crate::error::{to_error, ApiErrorBody, Failure, NotionError, RateLimit, Target};
use crate::limiter::RateLimiter;
use crate::model::{CreateDedupe, DataSource, Database, Page, Query, QueryPage, User};
use crate::retry::{Decision, RetryCount, RetryPolicy};
use crate::route::Route;
use crate::stats::{NotionStats, StatsCounters};

/// Most blocks Notion accepts in one append (and in a create's `children`).
const MAX_BLOCKS_PER_REQUEST: usize = 100;

/// Notion refuses request bodies over 500 KB; blocks are sent in batches
/// that stay well under it (room for the rest of the body).
const MAX_BLOCK_BYTES_PER_REQUEST: usize = 400_000;

/// Splits blocks into batches Notion accepts: at most 100 blocks and about
/// 400 KB of JSON each (a block alone larger than that goes alone, and
/// Notion's own error then says why).
fn block_batches(blocks: Vec<Value>) -> Vec<Vec<Value>> {
    let mut batches: Vec<Vec<Value>> = Vec::new();
    let mut bytes = 0;
    for block in blocks {
        let size = serde_json::to_vec(&block).map(|v| v.len()).unwrap_or(0);
        let full = batches.last().is_none_or(|b| {
            b.len() >= MAX_BLOCKS_PER_REQUEST || bytes + size > MAX_BLOCK_BYTES_PER_REQUEST
        });
        if full {
            batches.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(batch) = batches.last_mut() {
            batch.push(block);
        }
    }
    batches
}

/// The requests a connection started in the current rate-limit window, and
/// the pause Notion asked for, as wall-clock times (kept in the sync's state
/// between invocations; a few kilobytes at most).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RequestWindow {
    #[serde(default)]
    pub starts: Vec<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// A Notion API client. Clones share one connection pool, one rate limiter
/// and one set of stats, so the budget holds however the caller fans out.
#[derive(Clone)]
pub struct NotionClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    database: DatabaseRef,
    notion_version: String,
    request_timeout: Duration,
    policy: RetryPolicy,
    limiter: RateLimiter,
    concurrency: Semaphore,
    stats: StatsCounters,
    /// Notion's clock, from the `Date` header of the latest response.
    server_time: std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    /// An earlier invocation's window was taken in (once per client).
    window_resumed: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for NotionClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotionClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("database", &self.inner.database)
            .field("notion_version", &self.inner.notion_version)
            .finish_non_exhaustive()
    }
}

/// One logical API call (possibly several HTTP attempts).
struct Call<'a> {
    method: Method,
    route: Route,
    path: Vec<&'a str>,
    query: Vec<(&'static str, String)>,
    body: Option<&'a Value>,
    target: Option<Target>,
}

impl<'a> Call<'a> {
    fn new(method: Method, route: Route, path: Vec<&'a str>) -> Self {
        Self {
            method,
            route,
            path,
            query: Vec::new(),
            body: None,
            target: None,
        }
    }

    fn body(mut self, body: &'a Value) -> Self {
        self.body = Some(body);
        self
    }

    fn target(mut self, object: &'static str, id: &str) -> Self {
        self.target = Some(Target {
            object,
            id: id.to_owned(),
        });
        self
    }
}

impl NotionClient {
    pub fn new(config: NotionConfig) -> Result<Self, NotionError> {
        if config.token.is_empty() {
            return Err(NotionError::Setup {
                message: "the token is empty; set NOTION_API_TOKEN".into(),
            });
        }
        if config.base_url.cannot_be_a_base() {
            return Err(NotionError::Setup {
                message: format!("`{}` cannot be an API base URL", config.base_url),
            });
        }
        let mut headers = HeaderMap::new();
        let mut auth =
            HeaderValue::try_from(format!("Bearer {}", config.token.expose())).map_err(|_| {
                NotionError::Setup {
                    message: "the token contains characters not allowed in an HTTP header; \
                          copy it again from notion.so/my-integrations"
                        .into(),
                }
            })?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(
            "Notion-Version",
            HeaderValue::try_from(config.notion_version.as_str()).map_err(|_| {
                NotionError::Setup {
                    message: format!("`{}` is not a Notion version", config.notion_version),
                }
            })?,
        );
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!(
                "dialer-sync-notion-client/",
                env!("CARGO_PKG_VERSION")
            ))
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(config.max_concurrency.max(1))
            .build()
            .map_err(|e| NotionError::Setup {
                message: e.to_string(),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url: config.base_url,
                database: config.database,
                notion_version: config.notion_version,
                request_timeout: config.request_timeout,
                policy: RetryPolicy {
                    max_retries: config.max_retries,
                    max_rate_limit_retries: config.max_rate_limit_retries,
                    base_delay: config.retry_base_delay,
                    max_delay: config.retry_max_delay,
                    max_retry_after: config.max_retry_after,
                },
                limiter: RateLimiter::new(config.requests_per_window, config.window),
                concurrency: Semaphore::new(config.max_concurrency.max(1)),
                stats: StatsCounters::default(),
                server_time: std::sync::Mutex::new(None),
                window_resumed: Default::default(),
            }),
        })
    }

    pub fn database(&self) -> &DatabaseRef {
        &self.inner.database
    }

    /// Notion's own clock as of the latest response (its `Date` header), so
    /// a sync can keep its cursor in Notion's time whatever its own clock says.
    pub fn server_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inner.server_time.lock().ok().and_then(|t| *t)
    }

    pub fn stats(&self) -> NotionStats {
        self.inner.stats.snapshot()
    }

    /// The integration's bot user: the cheapest check that the token works.
    pub async fn me(&self) -> Result<User, NotionError> {
        let call = Call::new(Method::GET, Route::UsersMe, vec!["v1", "users", "me"]);
        self.execute_as(&call, User::from_json).await
    }

    pub async fn retrieve_database(&self, database_id: &str) -> Result<Database, NotionError> {
        let call = Call::new(
            Method::GET,
            Route::DatabasesRetrieve,
            vec!["v1", "databases", database_id],
        )
        .target("database", database_id);
        self.execute_as(&call, Database::from_json).await
    }

    pub async fn retrieve_data_source(
        &self,
        data_source_id: &str,
    ) -> Result<DataSource, NotionError> {
        let call = Call::new(
            Method::GET,
            Route::DataSourcesRetrieve,
            vec!["v1", "data_sources", data_source_id],
        )
        .target("data source", data_source_id);
        self.execute_as(&call, DataSource::from_json).await
    }

    /// The configured database's first data source, with its schema.
    pub async fn resolve_data_source(&self) -> Result<DataSource, NotionError> {
        let database_id = self.inner.database.as_str();
        let database = self.retrieve_database(database_id).await?;
        let first = database
            .data_sources
            .first()
            .ok_or_else(|| NotionError::NoDataSource {
                database: database_id.to_owned(),
            })?;
        self.retrieve_data_source(&first.id).await
    }

    /// One response of a query; pass the previous `next_cursor` to continue.
    pub async fn query_page(
        &self,
        data_source_id: &str,
        query: &Query,
        start_cursor: Option<&str>,
    ) -> Result<QueryPage, NotionError> {
        let body = query.body(start_cursor);
        let call = Call::new(
            Method::POST,
            Route::DataSourcesQuery,
            vec!["v1", "data_sources", data_source_id, "query"],
        )
        .body(&body)
        .target("data source", data_source_id);
        let list = self.execute(&call).await?;
        let (results, next_cursor) = parse_list(Route::DataSourcesQuery, list)?;
        let results = results
            .into_iter()
            .map(|raw| {
                Page::from_json(raw).map_err(|message| decode(Route::DataSourcesQuery, message))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(QueryPage {
            results,
            next_cursor,
        })
    }

    /// Every page matching `query`, following `next_cursor` to the end.
    pub async fn query(
        &self,
        data_source_id: &str,
        query: &Query,
    ) -> Result<Vec<Page>, NotionError> {
        let mut cursor = self.query_pages(data_source_id, query.clone());
        let mut pages = Vec::new();
        while let Some(batch) = cursor.next_batch().await? {
            pages.extend(batch);
        }
        Ok(pages)
    }

    /// A query read one response at a time, for databases too big to hold.
    pub fn query_pages(&self, data_source_id: &str, query: Query) -> QueryCursor {
        QueryCursor {
            client: self.clone(),
            data_source_id: data_source_id.to_owned(),
            query,
            next_cursor: None,
            finished: false,
        }
    }

    /// Pages whose number `property` equals `number` (the Dialer ID lookup).
    pub async fn query_by_number(
        &self,
        data_source_id: &str,
        property: &str,
        number: i64,
    ) -> Result<Vec<Page>, NotionError> {
        let query = Query::filtered(json!({"property": property, "number": {"equals": number}}));
        self.query(data_source_id, &query).await
    }

    pub async fn retrieve_page(&self, page_id: &str) -> Result<Page, NotionError> {
        let call = Call::new(
            Method::GET,
            Route::PagesRetrieve,
            vec!["v1", "pages", page_id],
        )
        .target("page", page_id);
        self.execute_as(&call, Page::from_json).await
    }

    /// Creates a page in a data source, never twice.
    ///
    /// A create can commit and still answer 5xx, time out or lose its
    /// connection. Then the page is fetched by `committed_resource_id` if
    /// Notion named it, or looked up through `dedupe`. A lookup that finds
    /// nothing proves nothing (queries can lag behind writes), so the create
    /// is not sent again: [`NotionError::CreateUnconfirmed`] tells the caller
    /// to look again later (the sync's next run, through its intent). Without
    /// `dedupe` the ambiguous failure itself is returned. Children beyond the
    /// 100 a create accepts are appended afterwards.
    pub async fn create_page(
        &self,
        data_source_id: &str,
        properties: Map<String, Value>,
        children: Vec<Value>,
        dedupe: Option<CreateDedupe>,
    ) -> Result<Page, NotionError> {
        let mut batches = block_batches(children).into_iter();
        let children = batches.next().unwrap_or_default();
        let rest: Vec<Value> = batches.flatten().collect();
        let mut body = json!({
            "parent": {"type": "data_source_id", "data_source_id": data_source_id},
            "properties": properties,
        });
        if !children.is_empty() {
            body["children"] = Value::Array(children);
        }
        let call = Call::new(Method::POST, Route::PagesCreate, vec!["v1", "pages"])
            .body(&body)
            .target("data source", data_source_id);
        let page = match self.execute_as(&call, Page::from_json).await {
            Ok(page) => page,
            Err(error) => self.committed_page(data_source_id, error, dedupe).await?,
        };
        if !rest.is_empty() {
            self.append_children(&page.id, rest).await?;
        }
        Ok(page)
    }

    /// After a create failed: the page it committed anyway, if Notion named
    /// it or `dedupe` finds it; otherwise the error to return.
    async fn committed_page(
        &self,
        data_source_id: &str,
        error: NotionError,
        dedupe: Option<CreateDedupe>,
    ) -> Result<Page, NotionError> {
        if let NotionError::Unavailable {
            committed_resource_id: Some(id),
            ..
        } = &error
        {
            tracing::info!(route = %Route::PagesCreate, "create committed despite the error; fetching it");
            return self.retrieve_page(id).await;
        }
        let ambiguous = matches!(
            error,
            NotionError::Unavailable { .. }
                | NotionError::Timeout { .. }
                | NotionError::Network { .. }
        );
        let Some(dedupe) = dedupe.filter(|_| ambiguous) else {
            return Err(error);
        };
        let found = self
            .query_by_number(data_source_id, &dedupe.property, dedupe.number)
            .await?;
        match found.into_iter().min_by_key(|p| p.created_time) {
            Some(page) => {
                tracing::info!(route = %Route::PagesCreate, "create committed despite the error; found it by {}", dedupe.property);
                Ok(page)
            }
            None => Err(NotionError::CreateUnconfirmed {
                cause: error.to_string(),
            }),
        }
    }

    /// Replaces the given properties; omitted ones keep their values.
    pub async fn update_page(
        &self,
        page_id: &str,
        properties: Map<String, Value>,
    ) -> Result<Page, NotionError> {
        self.patch_page(page_id, json!({ "properties": properties }))
            .await
    }

    /// Moves a page to the trash or back (the API cannot delete for good).
    pub async fn set_in_trash(&self, page_id: &str, in_trash: bool) -> Result<Page, NotionError> {
        let field = trash_field(&self.inner.notion_version);
        self.patch_page(page_id, json!({ field: in_trash })).await
    }

    async fn patch_page(&self, page_id: &str, body: Value) -> Result<Page, NotionError> {
        let call = Call::new(
            Method::PATCH,
            Route::PagesUpdate,
            vec!["v1", "pages", page_id],
        )
        .body(&body)
        .target("page", page_id);
        self.execute_as(&call, Page::from_json).await
    }

    /// Appends blocks to a page body, 100 per request, in order; returns the
    /// created blocks. Not retried after ambiguous failures (a retry could
    /// duplicate the entries); chunks before a failure stay appended.
    pub async fn append_children(
        &self,
        block_id: &str,
        blocks: Vec<Value>,
    ) -> Result<Vec<Value>, NotionError> {
        let mut created = Vec::with_capacity(blocks.len());
        for chunk in block_batches(blocks) {
            let body = json!({ "children": chunk });
            let call = Call::new(
                Method::PATCH,
                Route::BlocksChildrenAppend,
                vec!["v1", "blocks", block_id, "children"],
            )
            .body(&body)
            .target("block", block_id);
            let list = self.execute(&call).await?;
            created.extend(parse_list(Route::BlocksChildrenAppend, list)?.0);
        }
        Ok(created)
    }

    /// Moves a block to the trash (`DELETE /v1/blocks/{id}`); one already
    /// gone is not an error.
    pub async fn delete_block(&self, block_id: &str) -> Result<(), NotionError> {
        let call = Call::new(
            Method::DELETE,
            Route::BlocksDelete,
            vec!["v1", "blocks", block_id],
        )
        .target("block", block_id);
        match self.execute(&call).await {
            Ok(_) | Err(NotionError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every child block of a page or block, following pagination.
    pub async fn list_children(&self, block_id: &str) -> Result<Vec<Value>, NotionError> {
        let mut blocks = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut call = Call::new(
                Method::GET,
                Route::BlocksChildrenList,
                vec!["v1", "blocks", block_id, "children"],
            )
            .target("block", block_id);
            call.query
                .push(("page_size", MAX_BLOCKS_PER_REQUEST.to_string()));
            if let Some(cursor) = &cursor {
                call.query.push(("start_cursor", cursor.clone()));
            }
            let (results, next) =
                parse_list(Route::BlocksChildrenList, self.execute(&call).await?)?;
            blocks.extend(results);
            match next {
                Some(next) => cursor = Some(next),
                None => return Ok(blocks),
            }
        }
    }

    async fn execute_as<T>(
        &self,
        call: &Call<'_>,
        parse: impl FnOnce(Value) -> Result<T, String>,
    ) -> Result<T, NotionError> {
        let value = self.execute(call).await?;
        parse(value).map_err(|message| decode(call.route, message))
    }

    /// Sends `call` until it succeeds or the policy gives up.
    async fn execute(&self, call: &Call<'_>) -> Result<Value, NotionError> {
        let mut count = RetryCount::default();
        let mut attempt = 0u32;
        loop {
            attempt = attempt.saturating_add(1);
            let failure = match self.attempt(call, attempt).await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            let decision = self.inner.policy.decide(
                &failure,
                call.route.is_idempotent(),
                count,
                fastrand::f64(),
            );
            match decision {
                Decision::GiveUp => {
                    return Err(to_error(
                        call.route,
                        call.target.as_ref(),
                        self.inner.request_timeout,
                        failure,
                    ))
                }
                Decision::PauseAll(wait) => {
                    count.rate_limited += 1;
                    tracing::warn!(route = %call.route, wait_ms = wait.as_millis() as u64, "Notion asked to slow down; pausing all requests");
                    self.inner.limiter.pause_for(wait);
                }
                Decision::Backoff(wait) => {
                    count.transient += 1;
                    tracing::warn!(route = %call.route, wait_ms = wait.as_millis() as u64, "transient Notion failure; retrying");
                    self.backoff(wait).await;
                }
            }
            self.inner.stats.record_retry();
        }
    }

    /// No request starts after `deadline` (the function's own, less its
    /// margin): one that would have to wait for the rate limit past it fails
    /// at once with [`NotionError::OutOfTime`], nothing sent.
    pub fn set_deadline(&self, deadline: Option<std::time::Instant>) {
        self.inner
            .limiter
            .set_deadline(deadline.map(tokio::time::Instant::from_std));
    }

    /// This connection's request window as it stands, in wall-clock time, to
    /// keep between invocations ([`NotionClient::resume_window`]).
    pub async fn window(&self) -> RequestWindow {
        let now = chrono::Utc::now();
        let ago = |d: Duration| now - chrono::Duration::from_std(d).unwrap_or_default();
        let (ages, paused) = self.inner.limiter.usage().await;
        RequestWindow {
            starts: ages.into_iter().map(ago).collect(),
            paused_until: paused.map(|p| now + chrono::Duration::from_std(p).unwrap_or_default()),
        }
    }

    /// Takes in the window an earlier invocation left, so a run started right
    /// after another paces itself instead of meeting a wall of 429s. Only
    /// the first call of a client counts: later ones would count its own
    /// requests twice.
    pub async fn resume_window(&self, window: &RequestWindow) {
        if self
            .inner
            .window_resumed
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let now = chrono::Utc::now();
        let age = |t: &chrono::DateTime<chrono::Utc>| (now - *t).to_std().unwrap_or_default();
        let ages: Vec<Duration> = window.starts.iter().map(age).collect();
        let paused = window
            .paused_until
            .and_then(|until| (until - now).to_std().ok());
        self.inner.limiter.resume(&ages, paused).await;
    }

    async fn backoff(&self, wait: Duration) {
        tokio::time::sleep(wait).await;
        self.inner.stats.record_wait(wait);
    }

    /// One HTTP attempt, inside the concurrency and rate limits.
    async fn attempt(&self, call: &Call<'_>, attempt: u32) -> Result<Value, Failure> {
        let _permit = self
            .inner
            .concurrency
            .acquire()
            .await
            .map_err(|_| Failure::Connect("the client is shutting down".into()))?;
        let waited = self
            .inner
            .limiter
            .acquire()
            .await
            .map_err(|_| Failure::PastDeadline)?;
        self.inner.stats.record_wait(waited);
        self.inner.stats.record_attempt(call.route);

        let span = tracing::debug_span!(
            "notion.request",
            method = %call.method,
            route = %call.route,
            attempt,
            status = field::Empty,
            elapsed_ms = field::Empty,
        );
        let started = Instant::now();
        let result = self.send(call).instrument(span.clone()).await;
        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        match &result {
            Ok(_) => {
                span.record("status", 200u16);
            }
            Err(Failure::Status {
                status,
                retry_after,
                body,
            }) => {
                span.record("status", *status);
                if matches!(status, 429 | 529) {
                    let limit = RateLimit::of(*status, body);
                    self.inner.stats.record_rate_limited(limit, *retry_after);
                }
                if *status == 403 && body.is_block_limit() {
                    self.inner.stats.record_block_limit();
                }
            }
            Err(_) => {}
        }
        span.in_scope(|| match &result {
            Ok(_) => tracing::debug!("notion request succeeded"),
            Err(failure) => {
                tracing::debug!(failure = failure_kind(failure), "notion request failed")
            }
        });
        result
    }

    async fn send(&self, call: &Call<'_>) -> Result<Value, Failure> {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut()
            .map_err(|_| Failure::Connect("the base URL cannot hold a path".into()))?
            .pop_if_empty()
            .extend(&call.path);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        let mut request = self.inner.http.request(call.method.clone(), url);
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(transport_failure)?;
        let status = response.status().as_u16();
        if let Some(date) = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
        {
            if let Ok(mut t) = self.inner.server_time.lock() {
                *t = Some(date.to_utc());
            }
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = response.bytes().await.map_err(transport_failure)?;
        if (200..300).contains(&status) {
            serde_json::from_slice(&bytes)
                .map_err(|e| Failure::Decode(format!("invalid JSON: {e}")))
        } else {
            Err(Failure::Status {
                status,
                retry_after,
                body: ApiErrorBody::parse(&bytes),
            })
        }
    }
}

/// Reads a query response page by page (see [`NotionClient::query_pages`]).
#[derive(Debug)]
pub struct QueryCursor {
    client: NotionClient,
    data_source_id: String,
    query: Query,
    next_cursor: Option<String>,
    finished: bool,
}

impl QueryCursor {
    /// The next batch of pages, or `None` once every page was returned.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<Page>>, NotionError> {
        if self.finished {
            return Ok(None);
        }
        let page = self
            .client
            .query_page(
                &self.data_source_id,
                &self.query,
                self.next_cursor.as_deref(),
            )
            .await?;
        self.finished = page.next_cursor.is_none();
        self.next_cursor = page.next_cursor;
        Ok(Some(page.results))
    }
}

/// `in_trash` since 2025-09-03; older versions call it `archived`. Notion
/// versions are ISO dates, so they compare as strings.
fn trash_field(notion_version: &str) -> &'static str {
    if notion_version < "2025-09-03" {
        "archived"
    } else {
        "in_trash"
    }
}

/// Reads a `{"object":"list","results":[...],"next_cursor","has_more"}`.
fn parse_list(route: Route, list: Value) -> Result<(Vec<Value>, Option<String>), NotionError> {
    let Value::Object(mut list) = list else {
        return Err(decode(route, "expected a list object".into()));
    };
    let results = match list.remove("results") {
        Some(Value::Array(results)) => results,
        _ => return Err(decode(route, "the list has no `results` array".into())),
    };
    let has_more = list
        .get("has_more")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let next_cursor = list
        .get("next_cursor")
        .and_then(Value::as_str)
        .filter(|_| has_more)
        .map(str::to_owned);
    Ok((results, next_cursor))
}

fn decode(route: Route, message: String) -> NotionError {
    NotionError::Decode { route, message }
}

/// `Retry-After` in (possibly fractional) seconds; HTTP dates are not used
/// by Notion and are ignored (the backoff applies instead).
fn parse_retry_after(value: &str) -> Option<Duration> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

fn transport_failure(error: reqwest::Error) -> Failure {
    // reqwest errors carry the URL but never headers, so no token leaks here.
    let (timeout, connect, decode) = (error.is_timeout(), error.is_connect(), error.is_decode());
    let message = error.without_url().to_string();
    if timeout {
        Failure::Timeout
    } else if connect {
        Failure::Connect(message)
    } else if decode {
        Failure::Decode(message)
    } else {
        Failure::Network(message)
    }
}

fn failure_kind(failure: &Failure) -> &'static str {
    match failure {
        Failure::Status { .. } => "status",
        Failure::Timeout => "timeout",
        Failure::Connect(_) => "connect",
        Failure::Network(_) => "network",
        Failure::Decode(_) => "decode",
        Failure::PastDeadline => "past_deadline",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trash_field_follows_the_version() {
        assert_eq!(trash_field("2022-06-28"), "archived");
        assert_eq!(trash_field("2025-09-03"), "in_trash");
        assert_eq!(trash_field("2026-03-11"), "in_trash");
    }

    #[test]
    fn retry_after_accepts_seconds_only() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn list_cursor_only_when_more() {
        let (r, c) = parse_list(
            Route::DataSourcesQuery,
            json!({"results": [1], "next_cursor": "x", "has_more": false}),
        )
        .expect("list");
        assert_eq!((r.len(), c), (1, None));
    }
}

#[cfg(test)]
mod block_batch_tests {
    use super::*;

    #[test]
    fn batches_stay_under_100_blocks_and_the_body_limit() {
        let small: Vec<Value> = (0..250)
            .map(|i| json!({"paragraph": {"rich_text": [{"text": {"content": i.to_string()}}]}}))
            .collect();
        let sizes: Vec<usize> = block_batches(small).iter().map(Vec::len).collect();
        assert_eq!(sizes, [100, 100, 50]);
        let big: Vec<Value> = (0..10).map(|_| json!({"paragraph": {"rich_text": [{"text": {"content": "日".repeat(50_000)}}]}})).collect();
        for batch in block_batches(big) {
            assert!(serde_json::to_vec(&batch).unwrap().len() <= MAX_BLOCK_BYTES_PER_REQUEST + 200);
        }
    }
}
