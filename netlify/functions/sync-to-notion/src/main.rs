//! `sync-to-notion`: dialer -> Notion, for one contact right after a call
//! (`{"contactId": "1001"}`), several (`{"contactIds": [...]}`) or all (empty
//! body). Each record is merged both ways, so a push never overwrites an
//! edit made in Notion. If Notion cannot be reached the push is queued and
//! answered 202; the scheduled run drains the queue.

use chrono::Utc;
use netlify_function::{HttpError, Request, Response};
use serde_json::json;
use std::time::Duration;
use sync_engine::queue::QueuedPush;
use sync_engine::{RunOptions, Scope};
use sync_http::{deadline, engine, http_error, SyncRequest};

async fn handler(req: Request) -> Result<Response, HttpError> {
    if req.method != "POST" {
        return Err(HttpError::method_not_allowed(&req.method, "POST"));
    }
    let body = SyncRequest::parse(&req)?;
    let ids = body.ids()?;
    let engine = engine(&req)?;
    let scope = if ids.is_empty() {
        Scope::All
    } else {
        Scope::Contacts(ids.clone())
    };
    let options = RunOptions {
        dry_run: body.dry_run,
        force: body.force,
        deadline: deadline(&req, Duration::from_secs(3)),
        ..RunOptions::new(scope, "sync-to-notion")
    };
    match engine.run(options).await {
        Ok(report) => Ok(Response::json(if report.ok() { 200 } else { 207 }, &report)),
        Err(e)
            if e.is_notion_unreachable() || matches!(e, sync_engine::EngineError::Busy { .. }) =>
        {
            let reason = e.to_string();
            let push = QueuedPush {
                contact_ids: ids,
                queued_at: Utc::now(),
                reason: reason.clone(),
            };
            let key = engine.state.enqueue(&push).await.map_err(http_error)?;
            Ok(Response::json(
                202,
                &json!({"status": "queued", "queued": key, "reason": reason, "message": "Saved for the next scheduled sync."}),
            ))
        }
        Err(e) => Err(http_error(e)),
    }
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(|req| sync_http::guarded(req, handler)).await
}
