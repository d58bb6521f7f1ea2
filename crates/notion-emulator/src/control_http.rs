//! The control API over HTTP under `/_emulator` (JSON, no auth), for the JS
//! fidelity suite and the demo. A thin mirror of [`EmulatorControl`].

use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::error_response;
use crate::control::{EmulatorControl, Fault, FaultKind};
use crate::error::{ApiError, RateLimit};
use crate::ids::new_id;

pub(crate) fn routes() -> Router<EmulatorControl> {
    Router::new()
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/clock", get(clock_get).post(clock_set))
        .route("/_emulator/person/pages", post(person_create))
        .route("/_emulator/person/pages/{id}", patch(person_update))
        .route("/_emulator/faults", post(fault_add).delete(faults_clear))
        .route("/_emulator/requests", get(requests).delete(requests_clear))
        .route("/_emulator/pages", get(pages))
        .route("/_emulator/pages/{id}", get(page))
        .route("/_emulator/pages/{id}/children", get(children))
        .route("/_emulator/rate-limit", post(rate_limit))
        .route(
            "/_emulator/workspace-rate-limit",
            post(workspace_rate_limit),
        )
        .route("/_emulator/connections", post(add_connection))
        .route("/_emulator/query-lag", post(query_lag))
        .route("/_emulator/block-limit", post(block_limit))
        .route("/_emulator/latency", post(latency))
        .route("/_emulator/shared", post(shared))
        .route("/_emulator/schema/remove", post(schema_remove))
        .route("/_emulator/schema/rename", post(schema_rename))
        .route("/_emulator/schema/type", post(schema_type))
        .route("/_emulator/info", get(info))
        .route("/_emulator/webhooks/subscribe", post(webhook_subscribe))
        .route("/_emulator/webhooks/verify", post(webhook_verify))
        .route("/_emulator/webhooks/deliver", post(webhook_deliver))
}

#[derive(Deserialize)]
struct SubscribeBody {
    url: String,
    #[serde(default)]
    aggregate: bool,
    #[serde(default)]
    repeat: u32,
    #[serde(default)]
    reverse: bool,
}

/// Creates the subscription and sends its verification POST.
async fn webhook_subscribe(State(c): Ctl, Json(b): Json<SubscribeBody>) -> Response {
    let options = crate::webhooks::WebhookOptions {
        aggregate: b.aggregate,
        repeat: b.repeat,
        reverse: b.reverse,
    };
    match c.subscribe_webhook(&b.url, options).await {
        Ok((status, _)) => ok(json!({"status": status})),
        Err(e) => bad_request(format!("the webhook URL could not be reached: {e}")),
    }
}

#[derive(Deserialize)]
struct VerifyBody {
    token: String,
}

/// A person pastes the token into Notion's Verify dialog.
async fn webhook_verify(State(c): Ctl, Json(b): Json<VerifyBody>) -> Response {
    ok(json!({"verified": c.verify_webhook(&b.token)}))
}

/// One delivery round; what was sent.
async fn webhook_deliver(State(c): Ctl) -> Response {
    let sent: Vec<Value> = c
        .deliver_webhooks()
        .await
        .into_iter()
        .map(|d| json!({"type": d.event_type, "entity": d.entity_id, "attempt": d.attempt, "status": d.status}))
        .collect();
    ok(json!({ "sent": sent }))
}

type Ctl = State<EmulatorControl>;

fn ok(v: Value) -> Response {
    Json(v).into_response()
}

fn result(r: Result<Value, ApiError>) -> Response {
    match r {
        Ok(v) => ok(v),
        Err(e) => error_response(&e, &new_id()),
    }
}

fn bad_request(message: impl Into<String>) -> Response {
    error_response(&ApiError::validation(message), &new_id())
}

async fn info(State(c): Ctl) -> Response {
    ok(
        json!({"database_id": c.database_id(), "data_source_id": c.data_source_id(), "person_user_ids": c.person_user_ids(), "now": c.now()}),
    )
}

async fn reset(State(c): Ctl) -> Response {
    c.reset();
    ok(json!({"ok": true}))
}

async fn clock_get(State(c): Ctl) -> Response {
    ok(json!({"now": c.now()}))
}

#[derive(Deserialize)]
struct ClockBody {
    advance_seconds: Option<f64>,
    freeze_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    unfreeze: bool,
}

async fn clock_set(State(c): Ctl, Json(b): Json<ClockBody>) -> Response {
    if let Some(at) = b.freeze_at {
        c.freeze_at(at);
    }
    if let Some(secs) = b.advance_seconds {
        if !(secs.is_finite() && secs >= 0.0) {
            return bad_request("advance_seconds must be a non-negative number");
        }
        c.advance(Duration::from_secs_f64(secs));
    }
    if b.unfreeze {
        c.unfreeze();
    }
    ok(json!({"now": c.now()}))
}

#[derive(Deserialize)]
struct PersonBody {
    properties: Option<Value>,
    in_trash: Option<bool>,
}

async fn person_create(State(c): Ctl, Json(b): Json<PersonBody>) -> Response {
    let r = c.person_create_page(b.properties.unwrap_or_else(|| json!({})));
    result(r.map(|id| c.page(&id).unwrap_or_else(|| json!({"id": id}))))
}

async fn person_update(
    State(c): Ctl,
    Path(id): Path<String>,
    Json(b): Json<PersonBody>,
) -> Response {
    let r = (|| {
        if let Some(p) = b.properties {
            c.person_update_page(&id, p)?;
        }
        match b.in_trash {
            Some(true) => c.person_trash_page(&id)?,
            Some(false) => c.person_restore_page(&id)?,
            None => {}
        }
        c.page(&id).ok_or_else(|| ApiError::not_found("page", &id))
    })();
    result(r)
}

/// `{"route":"pages.create"|"*","kind":"status"|"latency"|"commit_then_fail"|"drop_connection"|"rate_limited",
///   "status":503,"ms":500,"report_committed_id":true,"limit":"workspace","retry_after":90,"times":1}`
#[derive(Deserialize)]
struct FaultBody {
    route: Option<String>,
    kind: String,
    status: Option<u16>,
    ms: Option<u64>,
    #[serde(default)]
    report_committed_id: bool,
    /// For `rate_limited`: `connection` (default) or `workspace`.
    limit: Option<String>,
    retry_after: Option<u64>,
    times: Option<u32>,
}

async fn fault_add(State(c): Ctl, Json(b): Json<FaultBody>) -> Response {
    let kind = match b.kind.as_str() {
        "status" => FaultKind::Status(b.status.unwrap_or(500)),
        "latency" => FaultKind::Latency(Duration::from_millis(b.ms.unwrap_or(0))),
        "commit_then_fail" => FaultKind::CommitThenFail {
            status: b.status.unwrap_or(503),
            report_committed_id: b.report_committed_id,
        },
        "drop_connection" => FaultKind::DropConnection,
        "rate_limited" => FaultKind::RateLimited {
            limit: match b.limit.as_deref() {
                Some("workspace") => RateLimit::Workspace,
                _ => RateLimit::Connection,
            },
            retry_after_secs: b.retry_after.unwrap_or(1),
        },
        other => return bad_request(format!("unknown fault kind {other}")),
    };
    let fault = Fault::on(b.route.as_deref().unwrap_or("*"), kind).times(b.times.unwrap_or(1));
    c.inject_fault(fault);
    ok(json!({"ok": true}))
}

async fn faults_clear(State(c): Ctl) -> Response {
    c.clear_faults();
    ok(json!({"ok": true}))
}

async fn requests(State(c): Ctl) -> Response {
    ok(json!({"requests": c.request_log(), "rate_limited": c.rate_limited_count()}))
}

async fn requests_clear(State(c): Ctl) -> Response {
    c.clear_log();
    ok(json!({"ok": true}))
}

async fn pages(State(c): Ctl) -> Response {
    ok(json!({"pages": c.pages()}))
}

async fn page(State(c): Ctl, Path(id): Path<String>) -> Response {
    result(c.page(&id).ok_or_else(|| ApiError::not_found("page", &id)))
}

async fn children(State(c): Ctl, Path(id): Path<String>) -> Response {
    ok(json!({"results": c.block_children(&id)}))
}

#[derive(Deserialize)]
struct RateLimitBody {
    budget: u32,
    window_seconds: f64,
}

async fn rate_limit(State(c): Ctl, Json(b): Json<RateLimitBody>) -> Response {
    if !(b.window_seconds.is_finite() && b.window_seconds > 0.0) {
        return bad_request("window_seconds must be a positive number");
    }
    c.set_rate_limit(b.budget, Duration::from_secs_f64(b.window_seconds));
    ok(json!({"ok": true}))
}

/// `{"budget":5,"window_seconds":90}`, or `{}` for no workspace limit.
#[derive(Deserialize)]
struct WorkspaceRateLimitBody {
    budget: Option<u32>,
    window_seconds: Option<f64>,
}

async fn workspace_rate_limit(State(c): Ctl, Json(b): Json<WorkspaceRateLimitBody>) -> Response {
    let limit = match (b.budget, b.window_seconds) {
        (Some(budget), Some(w)) if w.is_finite() && w > 0.0 => {
            Some((budget, Duration::from_secs_f64(w)))
        }
        (None, None) => None,
        _ => {
            return bad_request(
                "workspace-rate-limit needs budget and a positive window_seconds, or neither",
            )
        }
    };
    c.set_workspace_rate_limit(limit);
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct ConnectionBody {
    token: String,
}

async fn add_connection(State(c): Ctl, Json(b): Json<ConnectionBody>) -> Response {
    c.add_connection(&b.token);
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct QueryLagBody {
    seconds: f64,
}

async fn query_lag(State(c): Ctl, Json(b): Json<QueryLagBody>) -> Response {
    if !(b.seconds.is_finite() && b.seconds >= 0.0) {
        return bad_request("seconds must be a non-negative number");
    }
    c.set_query_lag(Duration::from_secs_f64(b.seconds));
    ok(json!({"ok": true}))
}

/// `{"limit":1000,"used":990}`, `{"past_grace":true}` or `{}` (no limit).
#[derive(Deserialize)]
struct BlockLimitBody {
    limit: Option<u64>,
    used: Option<u64>,
    #[serde(default)]
    past_grace: bool,
}

async fn block_limit(State(c): Ctl, Json(b): Json<BlockLimitBody>) -> Response {
    match (b.past_grace, b.limit) {
        (true, _) => c.set_block_limit_past_grace(),
        (false, Some(limit)) => c.set_block_limit(limit, b.used.unwrap_or(0)),
        (false, None) => c.clear_block_limit(),
    }
    ok(json!({"ok": true, "used": c.blocks_used()}))
}

#[derive(Deserialize)]
struct LatencyBody {
    ms: u64,
}

async fn latency(State(c): Ctl, Json(b): Json<LatencyBody>) -> Response {
    c.set_latency(Duration::from_millis(b.ms));
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct SharedBody {
    shared: bool,
}

async fn shared(State(c): Ctl, Json(b): Json<SharedBody>) -> Response {
    c.set_shared(b.shared);
    ok(json!({"ok": true}))
}

#[derive(Deserialize)]
struct SchemaBody {
    name: Option<String>,
    old: Option<String>,
    new: Option<String>,
    #[serde(rename = "type")]
    type_json: Option<Value>,
}

async fn schema_remove(State(c): Ctl, Json(b): Json<SchemaBody>) -> Response {
    result(
        c.remove_property(b.name.as_deref().unwrap_or_default())
            .map(|_| json!({"ok": true})),
    )
}

async fn schema_rename(State(c): Ctl, Json(b): Json<SchemaBody>) -> Response {
    let (Some(old), Some(new)) = (b.old, b.new) else {
        return bad_request("rename needs old and new");
    };
    result(c.rename_property(&old, &new).map(|_| json!({"ok": true})))
}

/// `{"name":"Phone","type":{"type":"rich_text"}}`
async fn schema_type(State(c): Ctl, Json(b): Json<SchemaBody>) -> Response {
    let (Some(name), Some(t)) = (b.name, b.type_json) else {
        return bad_request("set type needs name and type");
    };
    result(c.set_property_type(&name, t).map(|_| json!({"ok": true})))
}
