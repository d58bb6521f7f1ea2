//! `sync-status` (GET): the sync at a glance for the dialer's banner:
//! health and one sentence to act on, the run going on now, the last run,
//! pushes waiting for Notion, conflicts waiting for a person. Reads the
//! sync's own state only (no Notion request), so the dialer may poll it.

use netlify_function::{HttpError, Request, Response};
use sync_http::{engine, http_error};

async fn handler(req: Request) -> Result<Response, HttpError> {
    if req.method != "GET" {
        return Err(HttpError::method_not_allowed(&req.method, "GET"));
    }
    let status = engine(&req)?.status().await.map_err(http_error)?;
    Ok(Response::json(200, &status))
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(|req| sync_http::guarded(req, handler)).await
}
