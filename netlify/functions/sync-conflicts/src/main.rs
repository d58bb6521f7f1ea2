//! `sync-conflicts`: the conflict console's two calls.
//! - GET: every open conflict with both values, who edited when, and the
//!   recommended side.
//! - POST `{"contactId", "keep": "notion"|"dialer"}` or
//!   `{"contactId", "fields": {"phone": "notion", ...}}`: writes the chosen
//!   values to both sides; the record with every value, the unchosen ones
//!   included, is kept in the sync's history.

use netlify_function::{HttpError, Request, Response};
use serde_json::json;
use sync_http::{engine, http_error, ResolveRequest};

const ACTOR: &str = "sync-conflicts";

async fn handler(req: Request) -> Result<Response, HttpError> {
    if !matches!(req.method.as_str(), "GET" | "POST") {
        return Err(HttpError::method_not_allowed(&req.method, "GET, POST"));
    }
    let engine = engine(&req)?;
    match req.method.as_str() {
        "GET" => {
            let conflicts = engine.conflict_views().await.map_err(http_error)?;
            Ok(Response::json(200, &json!({ "conflicts": conflicts })))
        }
        "POST" => {
            let answer = ResolveRequest::parse(&req, engine.config.sync.time_zone)?;
            let resolved = engine
                .resolve_conflict(answer.contact_id, answer.resolution, ACTOR)
                .await
                .map_err(http_error)?;
            Ok(Response::json(200, &resolved))
        }
        _ => unreachable!("checked above"),
    }
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(|req| sync_http::guarded(req, handler)).await
}
