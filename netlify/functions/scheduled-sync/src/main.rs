//! `scheduled-sync`: both ways, on `schedule = "*/5 * * * *"` (netlify.toml).
//! The cadence policy decides whether this tick runs: every tick in working
//! hours, every 30 minutes after hours, hourly at weekends (in the team's
//! zone). A successful run drains the queue of pushes that found Notion down.

use chrono::Utc;
use netlify_function::{HttpError, Request, Response};
use serde_json::json;
use std::time::Duration;
use sync_engine::cadence::{Cadence, CadenceFromEnv};
use sync_engine::{RunOptions, Scope};
use sync_http::{config_error, deadline, engine, http_error, SyncRequest};

async fn handler(req: Request) -> Result<Response, HttpError> {
    let body = SyncRequest::parse(&req)?;
    let engine = engine(&req)?;
    let now = Utc::now();
    let cadence = Cadence::from_env(engine.config.sync.time_zone).map_err(config_error)?;
    let queued = engine.state.queued().await.map_err(http_error)?;
    if req.is_scheduled() && queued.is_empty() && !cadence.is_due(now) {
        return Ok(Response::json(
            200,
            &json!({"status": "skipped", "reason": cadence.describe(now)}),
        ));
    }
    let options = RunOptions {
        force: body.force,
        full_scan: body.full_scan,
        deadline: deadline(&req, Duration::from_secs(3)),
        ..RunOptions::new(Scope::All, "scheduled-sync")
    };
    let report = engine.run_and_drain(options).await.map_err(http_error)?;
    Ok(Response::json(if report.ok() { 200 } else { 207 }, &report))
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(|req| sync_http::guarded_or_scheduled(req, handler)).await
}
