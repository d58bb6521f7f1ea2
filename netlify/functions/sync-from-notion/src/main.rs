//! `sync-from-notion`: Notion -> dialer ("Pull from Notion"). Reads the
//! pages changed in Notion since the last run (`{"fullScan": true}` reads
//! all) and merges each into its contact; answers with per-contact results.

use netlify_function::{HttpError, Request, Response};
use std::time::Duration;
use sync_engine::{RunOptions, Scope};
use sync_http::{deadline, engine, http_error, SyncRequest};

async fn handler(req: Request) -> Result<Response, HttpError> {
    if req.method != "POST" {
        return Err(HttpError::method_not_allowed(&req.method, "POST"));
    }
    let body = SyncRequest::parse(&req)?;
    let engine = engine(&req)?;
    let options = RunOptions {
        dry_run: body.dry_run,
        force: body.force,
        full_scan: body.full_scan,
        deadline: deadline(&req, Duration::from_secs(3)),
        ..RunOptions::new(Scope::NotionChanges, "sync-from-notion")
    };
    let report = engine.run(options).await.map_err(http_error)?;
    Ok(Response::json(if report.ok() { 200 } else { 207 }, &report))
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(|req| sync_http::guarded(req, handler)).await
}
