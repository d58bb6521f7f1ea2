//! `sync-to-notion`: dialer -> Notion, for one contact right after a call
//! (`{"contactId": "1001"}`), several (`{"contactIds": [...]}`) or all (empty
//! body). Each record is merged both ways, so a push never overwrites an
//! edit made in Notion. If Notion cannot be reached the push is queued and
//! answered 202; the scheduled run drains the queue.

use netlify_function::{HttpError, Request, Response};
use serde_json::json;
use std::time::Duration;
use sync_engine::jobs::Pushed;
use sync_engine::{RunOptions, Scope};
use sync_http::{deadline, engine, http_error, SyncRequest};

async fn handler(req: Request) -> Result<Response, HttpError> {
    if req.method != "POST" {
        return Err(HttpError::method_not_allowed(&req.method, "POST"));
    }
    let body = SyncRequest::parse(&req)?;
    let ids = body.ids()?;
    let engine = engine(&req)?;
    let options = RunOptions {
        dry_run: body.dry_run,
        force: body.force,
        deadline: deadline(&req, Duration::from_secs(3)),
        ..RunOptions::new(Scope::All, "sync-to-notion")
    };
    match engine.push(ids, options).await.map_err(http_error)? {
        Pushed::Ran(report) => Ok(Response::json(if report.ok() { 200 } else { 207 }, &report)),
        Pushed::Queued { key, reason } => Ok(Response::json(
            202,
            &json!({"status": "queued", "queued": key, "reason": reason, "message": "Saved for the next scheduled sync."}),
        )),
    }
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(|req| sync_http::guarded(req, handler)).await
}
