//! `sync-backups`: the values syncs overwrote, kept `SYNC_BACKUP_DAYS`.
//! - GET (`?run=<run id>`, `?limit=N` 1-100, default 20): newest first.
//! - POST `{"runId": "...", "contactId": "1001"}`: puts that contact back,
//!   on both sides, as it was before the run.

use netlify_function::{HttpError, Request, Response};
use serde::Deserialize;
use serde_json::json;
use sync_http::{engine, http_error, limit_param, IdInput};

const ACTOR: &str = "sync-backups";
const MAX_LIMIT: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RestoreBody {
    run_id: String,
    contact_id: IdInput,
}

async fn handler(req: Request) -> Result<Response, HttpError> {
    if !matches!(req.method.as_str(), "GET" | "POST") {
        return Err(HttpError::method_not_allowed(&req.method, "GET, POST"));
    }
    let engine = engine(&req)?;
    if req.method == "POST" {
        let body: RestoreBody = req.json()?;
        let id = body
            .contact_id
            .parse()
            .map_err(|problem| HttpError::bad_request("contactId", problem))?;
        let restored = engine
            .restore_backup(&body.run_id, id, ACTOR)
            .await
            .map_err(http_error)?;
        return Ok(Response::json(200, &restored));
    }
    let limit = limit_param(&req, 20, MAX_LIMIT)?;
    let backups = engine
        .backups(req.query_param("run"), limit)
        .await
        .map_err(http_error)?;
    Ok(Response::json(200, &json!({ "backups": backups })))
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(|req| sync_http::guarded(req, handler)).await
}
