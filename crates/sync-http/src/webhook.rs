//! The webhook's answers: to Notion for its deliveries (2xx means "got it",
//! anything else is retried up to 8 times), and to a person with the sync
//! key who asks how the subscription stands.

use netlify_function::{HttpError, Response};
use serde_json::json;
use sync_engine::webhook::{Handled, Subscription, WebhookError};

use crate::http_error;

/// Where a person pastes the token, said wherever the token is shown.
pub const PASTE_HINT: &str = "In Notion: Settings > Connections > Develop or manage integrations > your integration > Webhooks > Verify, paste the verification token and click Verify subscription.";

/// A handled delivery as Notion's answer.
pub fn handled(handled: Handled) -> Response {
    let (status, body) = match handled {
        Handled::TokenReceived | Handled::TokenAlreadyKept => (
            200,
            json!({"status": "verification_token_received", "message": format!("The verification token is kept in the sync's store. Open the sync console (or GET /api/notion-webhook with the sync key) to read it. {PASTE_HINT}")}),
        ),
        Handled::Ignored(why) => (200, json!({"status": "ignored", "reason": why})),
        Handled::Repeated => (
            200,
            json!({"status": "repeated", "reason": "this event was handled already"}),
        ),
        Handled::Echo => (
            200,
            json!({"status": "echo", "reason": "the sync's own change"}),
        ),
        Handled::Ran(report) => (200, json!({"status": "synced", "report": report})),
        Handled::Queued(reason) => (202, json!({"status": "queued", "reason": reason})),
    };
    Response::json(status, &body)
}

/// A refused delivery: nothing was written.
pub fn refused(e: WebhookError) -> HttpError {
    let message = e.to_string();
    match e {
        WebhookError::NoKey | WebhookError::BadSignature => HttpError::unauthorized(message),
        WebhookError::AlreadyVerified => HttpError::new(409, "webhook_already_verified", message),
        WebhookError::BadBody(_) => HttpError::new(400, "bad_webhook_body", message),
        WebhookError::Engine(e) => http_error(e),
    }
}

/// How the subscription stands, for a person holding the sync key.
pub fn status(sub: &Subscription, secret_from_env: bool) -> Response {
    let next = match (&sub.token, &sub.verified_at) {
        (None, _) if secret_from_env => "NOTION_WEBHOOK_SECRET is set; create the subscription in Notion with this site's /api/notion-webhook URL, then paste the verification token it shows here into Notion.".to_string(),
        (None, _) => "Create the subscription in Notion (Webhooks > Create a subscription, URL: this site's /api/notion-webhook); its verification token then shows here.".to_string(),
        (Some(_), None) => format!("Paste the verification token into Notion. {PASTE_HINT}"),
        (Some(_), Some(_)) => "The subscription works: Notion's edits reach the dialer within seconds; the scheduled run stays the safety net.".to_string(),
    };
    Response::json(
        200,
        &json!({
            "verified": sub.verified_at.is_some(),
            "verificationToken": sub.token,
            "tokenReceivedAt": sub.token_received_at,
            "verifiedAt": sub.verified_at,
            "lastEventAt": sub.last_event_at,
            "signingKey": if secret_from_env { "NOTION_WEBHOOK_SECRET" } else if sub.token.is_some() { "verification token" } else { "none yet" },
            "next": next,
        }),
    )
}
