//! `notion-test`: checks the token, the database's sharing and its
//! properties against the field mapping, and shows the first contacts as
//! the dialer would store them. Every failing step says what to fix.
//! GET or POST; `?sample=N` (default 5) contacts.

use netlify_function::{HttpError, Request, Response};

async fn handler(req: Request) -> Result<Response, HttpError> {
    let engine = sync_http::engine(&req)?;
    let sample = req
        .query_param("sample")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let check = engine.check(sample).await;
    Ok(Response::json(200, &check))
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(|req| sync_http::guarded(req, handler)).await
}
