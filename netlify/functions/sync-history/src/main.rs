//! `sync-history` (GET): what the recent runs did, newest first
//! (`?limit=N`, 1-100, default 20), or one run in full with every record it
//! touched (`?run=<run id>`).

use netlify_function::{HttpError, Request, Response};
use serde_json::json;
use sync_engine::status::RECENT_KEPT;
use sync_http::{engine, http_error, limit_param};

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = RECENT_KEPT;

async fn handler(req: Request) -> Result<Response, HttpError> {
    if req.method != "GET" {
        return Err(HttpError::method_not_allowed(&req.method, "GET"));
    }
    let engine = engine(&req)?;
    if let Some(run_id) = req.query_param("run") {
        return match engine.run_record(run_id).await.map_err(http_error)? {
            Some(run) => Ok(Response::json(200, &run)),
            None => Err(HttpError::not_found(format!(
                "no run {run_id:?} in the history; runs are listed by GET without ?run"
            ))),
        };
    }
    let limit = limit_param(&req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let runs = engine.history(limit).await.map_err(http_error)?;
    Ok(Response::json(200, &json!({ "runs": runs })))
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(|req| sync_http::guarded(req, handler)).await
}
