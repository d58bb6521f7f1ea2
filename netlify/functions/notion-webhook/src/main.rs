//! `notion-webhook`: Notion's deliveries, so an edit in Notion reaches the
//! dialer within seconds (the scheduled run stays the safety net).
//! - POST from Notion: the subscription's verification token (kept for a
//!   person to paste into Notion), or an event signed with
//!   `X-Notion-Signature`; a signed page event pulls just that page. Notion
//!   cannot send the sync key: the signature is its proof, and a request
//!   without a valid one is refused with nothing written.
//! - GET with the sync key: how the subscription stands, with the token.
//! - DELETE with the sync key: forget the subscription, to create it again.

use netlify_function::{HttpError, Request, Response};
use std::time::{Duration, Instant};

/// Notion retries a delivery that is slow to answer: the run gets at most
/// this long, and what it cannot finish is left to the scheduled run.
const ANSWER_WITHIN: Duration = Duration::from_secs(8);
use sync_engine::webhook::SIGNATURE_HEADER;
use sync_http::{deadline, engine, http_error, webhook};

async fn handler(req: Request) -> Result<Response, HttpError> {
    match req.method.as_str() {
        "POST" => {
            let engine = engine(&req)?;
            let handled = engine
                .webhook(
                    &req.body,
                    req.header(SIGNATURE_HEADER),
                    deadline(&req, Duration::from_secs(2))
                        .map(|d| d.min(Instant::now() + ANSWER_WITHIN)),
                )
                .await
                .map_err(webhook::refused)?;
            Ok(webhook::handled(handled))
        }
        "GET" | "DELETE" => sync_http::guarded(req, person).await,
        other => Err(HttpError::method_not_allowed(other, "POST, GET, DELETE")),
    }
}

/// A person with the sync key: the subscription's state, or its reset.
async fn person(req: Request) -> Result<Response, HttpError> {
    let engine = engine(&req)?;
    if req.method == "DELETE" {
        engine
            .state
            .reset_subscription()
            .await
            .map_err(http_error)?;
        return Ok(Response::json(
            200,
            &serde_json::json!({"status": "reset", "next": "Create the subscription again in Notion; its new verification token shows here."}),
        ));
    }
    let (sub, _) = engine.state.subscription().await.map_err(http_error)?;
    Ok(webhook::status(
        &sub,
        engine.config.webhook_secret.is_some(),
    ))
}

#[tokio::main]
async fn main() -> Result<(), netlify_function::RuntimeError> {
    netlify_function::run(handler).await
}
