//! A function that answers with what it understood of the request. The
//! test harness runs it through a fake Lambda Runtime API to check the
//! plumbing end to end.
//!
//! - any path: `{method, path, headers, query, body, is_scheduled, site_id,
//!   has_blobs, request_id, remaining_ms}`
//! - a path ending in `/panic`: panics (must become a 500 JSON error)
//! - `POST` to a path ending in `/typed`: parses `{"name": string,
//!   "count": u32}` and echoes it (bad JSON must become a 400 naming the field)

use netlify_function::{HttpError, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Serialize, Deserialize)]
struct Typed {
    name: String,
    count: u32,
}

async fn echo(req: Request) -> Result<Response, HttpError> {
    if req.path.ends_with("/panic") {
        panic!("echo was asked to panic");
    }
    if req.path.ends_with("/typed") {
        if req.method != "POST" {
            return Err(HttpError::method_not_allowed(&req.method, "POST"));
        }
        let typed: Typed = req.json()?;
        return Ok(Response::json(200, &json!({ "typed": typed })));
    }
    Ok(Response::json(
        200,
        &json!({
            "method": req.method,
            "path": req.path,
            "headers": req.headers,
            "query": req.query,
            "body": String::from_utf8_lossy(&req.body),
            "is_scheduled": req.is_scheduled(),
            "site_id": req.site_id(),
            "has_blobs": req.blobs_context().is_some(),
            "request_id": req.request_id,
            "remaining_ms": req.remaining().map(|d| d.as_millis() as u64),
        }),
    ))
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(echo).await
}
