//! Test controls: the emulator's clock, edits "made by a person in Notion",
//! schema changes, sharing, rate limits, faults and inspection. Everything
//! here bypasses auth, the request log and the rate limit.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use crate::block_limit::BlockQuota;
use crate::clock::Clock;
use crate::error::{ApiError, RateLimit};
use crate::rate_limit::RateLimits;
use crate::schema::PERSON_USER_IDS;
use crate::store::Store;
use crate::version::ApiVersion;

/// What a fault does to the request it matches.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answer this status with Notion's error code for it (500
    /// `internal_server_error`, 502 `bad_gateway`, 503
    /// `service_unavailable`, 504 `gateway_timeout`, 529
    /// `service_overload`, 429 `rate_limited`, 409 `conflict_error`)
    /// without touching state.
    Status(u16),
    /// Wait this long, then handle the request normally.
    Latency(Duration),
    /// Apply the write, then answer `status` anyway: the ambiguous failure a
    /// client must not blindly retry. With `report_committed_id`, the body
    /// carries `additional_data.committed_resource_id` (Notion does not
    /// always, so clients must also cope without it).
    CommitThenFail {
        status: u16,
        report_committed_id: bool,
    },
    /// Answer 429 for this limit with this `Retry-After`, as Notion does
    /// when it (the workspace's limit, say) is spent.
    RateLimited {
        limit: RateLimit,
        retry_after_secs: u64,
    },
    /// Close the connection without a complete response: headers may be
    /// sent, but the body stream fails, so the client sees a broken
    /// connection / incomplete message, never a parseable answer. Nothing
    /// is applied.
    DropConnection,
}

/// A fault armed for the next `times` requests to `route` (None: any route).
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// A route name such as `"pages.create"`; `None` matches every route.
    pub route: Option<String>,
    pub kind: FaultKind,
    pub times: u32,
}

impl Fault {
    /// A one-shot fault on `route`; `"*"` or `"any"` match every route.
    pub fn on(route: &str, kind: FaultKind) -> Self {
        let route = match route {
            "*" | "any" => None,
            r => Some(r.to_string()),
        };
        Self {
            route,
            kind,
            times: 1,
        }
    }

    pub fn any(kind: FaultKind) -> Self {
        Self {
            route: None,
            kind,
            times: 1,
        }
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    fn matches(&self, route: &str) -> bool {
        self.times > 0 && self.route.as_deref().is_none_or(|r| r == route)
    }
}

/// One `/v1` request as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    /// Route name, e.g. `"pages.update"`; `"unknown"` for unmatched URLs.
    pub route: String,
    pub path: String,
    /// The answered status; 0 when the connection was dropped by a fault.
    pub status: u16,
    /// Emulator-clock time of the request.
    pub at: DateTime<Utc>,
    /// The `Notion-Version` header it carried, as sent.
    pub version: Option<String>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub clock: Clock,
    pub limits: RateLimits,
    pub latency: Duration,
    pub faults: Vec<Fault>,
    pub log: Vec<LoggedRequest>,
    pub rate_limited: usize,
    /// Bearer tokens accepted, one per connection of the workspace; the
    /// first is the configured one.
    pub tokens: Vec<String>,
    /// The webhook subscription and its deliveries.
    pub webhooks: crate::webhooks::Webhooks,
}

impl Inner {
    /// Takes one use of the first fault matching `route`.
    pub fn take_fault(&mut self, route: &str) -> Option<FaultKind> {
        let f = self.faults.iter_mut().find(|f| f.matches(route))?;
        f.times -= 1;
        let kind = f.kind.clone();
        self.faults.retain(|f| f.times > 0);
        Some(kind)
    }

    /// An empty store with the same ids and the same query lag.
    fn fresh_store(&self) -> Store {
        let mut store = Store::new(
            self.store.database_id.clone(),
            self.store.data_source_id.clone(),
            self.clock.now(),
        );
        store.lag.set(self.store.lag.lag());
        store
    }
}

pub(crate) struct Shared {
    inner: Mutex<Inner>,
}

impl Shared {
    pub fn new(inner: Inner) -> Self {
        Self {
            inner: Mutex::new(inner),
        }
    }

    /// Never held across an await; a panic elsewhere must not wedge tests.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Handle on a running emulator's state. Cheap to clone, usable from any
/// thread; every method takes the state lock briefly.
#[derive(Clone)]
pub struct EmulatorControl {
    pub(crate) shared: Arc<Shared>,
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl EmulatorControl {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.shared.lock())
    }

    /// A person's edit: done even while the database is unshared with the
    /// integration, authored by the first workspace member.
    fn as_person<T>(&self, f: impl FnOnce(&mut Store, DateTime<Utc>, &str) -> T) -> T {
        self.with(|inner| {
            let now = inner.clock.now();
            let shared = inner.store.shared;
            inner.store.shared = true;
            let out = f(&mut inner.store, now, PERSON_USER_IDS[0]);
            inner.store.shared = shared;
            out
        })
    }

    pub fn database_id(&self) -> String {
        self.with(|i| i.store.database_id.clone())
    }

    pub fn data_source_id(&self) -> String {
        self.with(|i| i.store.data_source_id.clone())
    }

    /// Workspace members' user ids, for `people` values.
    pub fn person_user_ids(&self) -> Vec<String> {
        PERSON_USER_IDS.iter().map(|s| s.to_string()).collect()
    }

    // ----- clock -----

    pub fn now(&self) -> DateTime<Utc> {
        self.with(|i| i.clock.now())
    }

    pub fn advance(&self, by: Duration) {
        self.with(|i| i.clock.advance(chrono_duration(by)))
    }

    pub fn freeze_at(&self, at: DateTime<Utc>) {
        self.with(|i| i.clock.freeze_at(at))
    }

    pub fn unfreeze(&self) {
        self.with(|i| i.clock.unfreeze())
    }

    // ----- edits by a person in Notion -----

    /// Creates a page with `properties` (API write shape); returns its id.
    pub fn person_create_page(&self, properties: Value) -> Result<String, ApiError> {
        self.as_person(|store, now, who| {
            let body = json!({
                "parent": {"type": "data_source_id", "data_source_id": store.data_source_id},
                "properties": properties,
            });
            store.create_page(&body, now, who)
        })
    }

    pub fn person_update_page(&self, page_id: &str, properties: Value) -> Result<(), ApiError> {
        self.as_person(|store, now, who| {
            store
                .update_page(page_id, &json!({"properties": properties}), now, who)
                .map(drop)
        })
    }

    pub fn person_trash_page(&self, page_id: &str) -> Result<(), ApiError> {
        self.as_person(|store, now, who| {
            store
                .update_page(page_id, &json!({"in_trash": true}), now, who)
                .map(drop)
        })
    }

    pub fn person_restore_page(&self, page_id: &str) -> Result<(), ApiError> {
        self.as_person(|store, now, who| {
            store
                .update_page(page_id, &json!({"in_trash": false}), now, who)
                .map(drop)
        })
    }

    // ----- schema -----

    pub fn remove_property(&self, name: &str) -> Result<(), ApiError> {
        self.with(|i| {
            let now = i.clock.now();
            i.store.remove_property(name, now)
        })
    }

    pub fn rename_property(&self, old: &str, new: &str) -> Result<(), ApiError> {
        self.with(|i| {
            let now = i.clock.now();
            i.store.rename_property(old, new, now)
        })
    }

    /// `type_json` e.g. `{"type":"rich_text"}` or `{"select":{"options":[]}}`.
    pub fn set_property_type(&self, name: &str, type_json: Value) -> Result<(), ApiError> {
        self.with(|i| {
            let now = i.clock.now();
            i.store.set_property_type(name, &type_json, now)
        })
    }

    // ----- access, limits, faults -----

    /// `false`: the database, its data source and pages answer 404, as when
    /// the integration's connection is removed in Notion.
    pub fn set_shared(&self, shared: bool) {
        self.with(|i| i.store.shared = shared)
    }

    /// Every connection's budget per window (Notion: 180 per 60 s, 600 on
    /// Business); fresh windows.
    pub fn set_rate_limit(&self, budget: u32, window: Duration) {
        self.with(|i| i.limits.set_per_connection(budget, window))
    }

    /// The workspace's budget shared by all its connections (`None`: none);
    /// its `Retry-After` is the time to its window's end, which can be more
    /// than a minute.
    pub fn set_workspace_rate_limit(&self, limit: Option<(u32, Duration)>) {
        self.with(|i| i.limits.set_workspace(limit))
    }

    /// Accepts `token` as another connection (integration) of the workspace.
    pub fn add_connection(&self, token: &str) {
        self.with(|i| {
            if !i.tokens.iter().any(|t| t == token) {
                i.tokens.push(token.to_string());
            }
        })
    }

    /// Read-after-write lag of queries, on the emulator's clock (see
    /// `lag.rs`); zero turns it off.
    pub fn set_query_lag(&self, lag: Duration) {
        self.with(|i| i.store.lag.set(chrono_duration(lag)))
    }

    /// A Free workspace with more than one member: `limit` lifetime blocks,
    /// `used` spent; reaching it starts three days of grace.
    pub fn set_block_limit(&self, limit: u64, used: u64) {
        self.with(|i| i.store.quota = BlockQuota::limited(limit, used))
    }

    /// A Free workspace at its block limit whose grace period has ended:
    /// every API request that would create blocks is refused.
    pub fn set_block_limit_past_grace(&self) {
        self.with(|i| {
            let now = i.clock.now();
            i.store.quota = BlockQuota::past_grace(1000, now);
        })
    }

    /// No block limit (a paid workspace).
    pub fn clear_block_limit(&self) {
        self.with(|i| i.store.quota = BlockQuota::default())
    }

    /// Blocks the API has created since the limit was set.
    pub fn blocks_used(&self) -> u64 {
        self.with(|i| i.store.quota.used())
    }

    pub fn set_latency(&self, latency: Duration) {
        self.with(|i| i.latency = latency)
    }

    pub fn inject_fault(&self, fault: Fault) {
        self.with(|i| i.faults.push(fault))
    }

    /// Whether an injected fault has not fired all its times yet.
    pub fn faults_pending(&self) -> bool {
        self.with(|i| !i.faults.is_empty())
    }

    pub fn clear_faults(&self) {
        self.with(|i| i.faults.clear())
    }

    // ----- inspection -----

    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.with(|i| i.log.clone())
    }

    /// Requests logged for `route` (e.g. `"pages.create"`), any status.
    pub fn count(&self, route: &str) -> usize {
        self.with(|i| i.log.iter().filter(|r| r.route == route).count())
    }

    pub fn rate_limited_count(&self) -> usize {
        self.with(|i| i.rate_limited)
    }

    pub fn clear_log(&self) {
        self.with(|i| {
            i.log.clear();
            i.rate_limited = 0;
        })
    }

    /// Every page, trashed ones included, in creation order (read shape).
    pub fn pages(&self) -> Vec<Value> {
        self.with(|i| {
            i.store
                .pages
                .iter()
                .map(|p| i.store.render_page(p, ApiVersion::V2025_09_03))
                .collect()
        })
    }

    pub fn page(&self, id: &str) -> Option<Value> {
        let id = crate::ids::normalize_id(id)?;
        self.with(|i| {
            i.store
                .pages
                .iter()
                .find(|p| p.id == id)
                .map(|p| i.store.render_page(p, ApiVersion::V2025_09_03))
        })
    }

    /// The page's (or block's) direct children, in order.
    pub fn block_children(&self, page_id: &str) -> Vec<Value> {
        let Some(id) = crate::ids::normalize_id(page_id) else {
            return Vec::new();
        };
        self.with(|i| {
            i.store
                .blocks
                .get(&id)
                .map(|bs| {
                    bs.iter()
                        .map(|b| i.store.render_block(b, ApiVersion::V2025_09_03))
                        .collect()
                })
                .unwrap_or_default()
        })
    }

    /// Empty database with the default schema, shared again, no block
    /// limit; faults, the log and the current rate-limit windows cleared.
    /// Budgets, window lengths, latency, query lag and extra connections
    /// stay as configured.
    pub fn reset(&self) {
        self.with(|i| {
            let listening = i.store.changes.is_some();
            i.store = i.fresh_store();
            if listening {
                i.store.changes = Some(Vec::new());
            }
            i.faults.clear();
            i.log.clear();
            i.rate_limited = 0;
            i.limits.reset();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_in_order() {
        let mut faults = [Fault::on("pages.create", FaultKind::Status(503)).times(2)];
        assert!(faults[0].matches("pages.create"));
        assert!(!faults[0].matches("pages.update"));
        faults[0].times = 0;
        assert!(!faults[0].matches("pages.create"));
    }
}
