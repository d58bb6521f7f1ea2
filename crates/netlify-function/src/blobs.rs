//! Glue to the `netlify-blobs` client: which credentials to use for this
//! invocation. Kept to the crate's two constructors so the client can
//! change freely behind them.

use netlify_blobs::BlobsClient;

use crate::error::HttpError;
use crate::request::Request;

const ENV_HINT: &str = "Deployed on Netlify the event carries `blobs` and header x-nf-site-id. \
Elsewhere set NETLIFY_SITE_ID (or SITE_ID) and NETLIFY_API_TOKEN in Netlify: Site configuration > \
Environment variables, scope Functions, then redeploy.";

impl Request {
    /// A Blobs client for this invocation: edge access from the event's
    /// `blobs` context and the site id when Netlify sent both (production
    /// and `netlify dev`; the token is per invocation, so never cache the
    /// client across invocations), else API access from the environment,
    /// else a 500 naming what is missing and where to set it.
    pub fn blobs_client(&self) -> Result<BlobsClient, HttpError> {
        match (self.blobs_context(), self.site_id()) {
            (Some(blobs), Some(site_id)) => {
                BlobsClient::from_event_blobs(blobs, site_id).map_err(|e| {
                    HttpError::new(
                        500,
                        "config_invalid",
                        format!("the event's Blobs context is unusable: {e}"),
                    )
                })
            }
            (event_blobs, _) => BlobsClient::from_env().map_err(|env_error| {
                let missing = if event_blobs.is_some() {
                    "the event has a Blobs context but no site id (header x-nf-site-id, env SITE_ID)"
                } else {
                    "the event has no `blobs` context"
                };
                HttpError::new(
                    500,
                    "config_missing",
                    format!("no Netlify Blobs access: {missing}, and the environment gives none either ({env_error})"),
                )
                .with_hint(ENV_HINT)
            }),
        }
    }
}
