//! Where the client's address and token come from: pure decoding of the
//! three configuration shapes Netlify hands out (a function event's `blobs`
//! field, `NETLIFY_BLOBS_CONTEXT`, plain environment variables).

use base64::Engine as _;
use reqwest::Url;
use serde::Deserialize;

use crate::error::{BlobsError, Result};

pub const DEFAULT_API_URL: &str = "https://api.netlify.com";

/// A bearer token whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    pub(crate) fn new(token: impl Into<String>) -> Self {
        Token(token.into())
    }
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// How requests reach Blobs.
#[derive(Debug, Clone)]
pub(crate) enum Access {
    /// Inside a function: `{edge}/{site}/{store}/{key}`; strong reads go to
    /// the uncached edge.
    Edge {
        edge_url: Url,
        uncached_url: Option<Url>,
    },
    /// Anywhere, with a personal access token: `{api}/api/v1/blobs/...`,
    /// GET/PUT through signed URLs.
    Api { api_url: Url },
}

/// Which access mode a client uses; public so callers can log or assert it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessMode {
    Edge,
    Api,
}

#[derive(Debug, Clone)]
pub(crate) struct ResolvedConfig {
    pub access: Access,
    pub site_id: String,
    pub token: Token,
}

/// The JSON inside a function event's `blobs` field.
#[derive(Deserialize)]
struct EventBlobs {
    url: String,
    #[serde(default)]
    url_uncached: Option<String>,
    token: String,
    #[allow(dead_code)]
    #[serde(default)]
    primary_region: Option<String>,
}

/// The JSON inside `NETLIFY_BLOBS_CONTEXT`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BlobsContext {
    #[serde(rename = "apiURL", default)]
    api_url: Option<String>,
    #[serde(rename = "edgeURL", default)]
    edge_url: Option<String>,
    #[serde(rename = "uncachedEdgeURL", default)]
    uncached_edge_url: Option<String>,
    #[serde(rename = "siteID", default)]
    site_id: Option<String>,
    #[allow(dead_code)]
    #[serde(rename = "deployID", default)]
    deploy_id: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[allow(dead_code)]
    #[serde(default)]
    primary_region: Option<String>,
}

/// Netlify uses standard padded base64; accept the unpadded and URL-safe
/// spellings too rather than fail on a detail nobody controls.
fn decode_base64(input: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let input = input.trim();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(input).ok())
}

fn parse_url(what: &str, value: &str) -> Result<Url> {
    let url = Url::parse(value.trim())
        .map_err(|e| BlobsError::Config(format!("{what} is not a valid URL: {e}")))?;
    if url.cannot_be_a_base() {
        return Err(BlobsError::Config(format!("{what} is not a base URL")));
    }
    Ok(url)
}

fn non_empty(what: &str, value: Option<&str>) -> Result<String> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_owned()),
        _ => Err(BlobsError::Config(format!("{what} is missing or empty"))),
    }
}

pub(crate) fn from_event_blobs(blobs_b64: &str, site_id: &str) -> Result<ResolvedConfig> {
    let json = decode_base64(blobs_b64)
        .ok_or_else(|| BlobsError::Config("the event's `blobs` field is not base64".to_owned()))?;
    let event: EventBlobs = serde_json::from_slice(&json).map_err(|e| {
        BlobsError::Config(format!(
            "the event's `blobs` field is not the expected JSON {{url, token, ...}}: {e}"
        ))
    })?;
    let uncached_url = match event.url_uncached.as_deref().map(str::trim) {
        Some(u) if !u.is_empty() => Some(parse_url("`blobs.url_uncached`", u)?),
        _ => None,
    };
    Ok(ResolvedConfig {
        access: Access::Edge {
            edge_url: parse_url("`blobs.url`", &event.url)?,
            uncached_url,
        },
        site_id: non_empty(
            "the site id (header `x-nf-site-id` or env `SITE_ID`)",
            Some(site_id),
        )?,
        token: Token::new(non_empty("`blobs.token`", Some(&event.token))?),
    })
}

pub(crate) fn from_api(
    site_id: &str,
    token: &str,
    api_url: Option<&str>,
) -> Result<ResolvedConfig> {
    Ok(ResolvedConfig {
        access: Access::Api {
            api_url: parse_url("the API URL", api_url.unwrap_or(DEFAULT_API_URL))?,
        },
        site_id: non_empty("the site id", Some(site_id))?,
        token: Token::new(non_empty("the personal access token", Some(token))?),
    })
}

pub(crate) fn from_context(context_b64: &str) -> Result<ResolvedConfig> {
    let json = decode_base64(context_b64)
        .ok_or_else(|| BlobsError::Config("NETLIFY_BLOBS_CONTEXT is not base64".to_owned()))?;
    let context: BlobsContext = serde_json::from_slice(&json).map_err(|e| {
        BlobsError::Config(format!(
            "NETLIFY_BLOBS_CONTEXT is not the expected JSON: {e}"
        ))
    })?;
    let site_id = non_empty("NETLIFY_BLOBS_CONTEXT.siteID", context.site_id.as_deref())?;
    let token = Token::new(non_empty(
        "NETLIFY_BLOBS_CONTEXT.token",
        context.token.as_deref(),
    )?);
    let access = match context.edge_url.as_deref().map(str::trim) {
        Some(edge) if !edge.is_empty() => Access::Edge {
            edge_url: parse_url("NETLIFY_BLOBS_CONTEXT.edgeURL", edge)?,
            uncached_url: match context.uncached_edge_url.as_deref().map(str::trim) {
                Some(u) if !u.is_empty() => {
                    Some(parse_url("NETLIFY_BLOBS_CONTEXT.uncachedEdgeURL", u)?)
                }
                _ => None,
            },
        },
        _ => Access::Api {
            api_url: parse_url(
                "NETLIFY_BLOBS_CONTEXT.apiURL",
                context.api_url.as_deref().unwrap_or(DEFAULT_API_URL),
            )?,
        },
    };
    Ok(ResolvedConfig {
        access,
        site_id,
        token,
    })
}

/// Looks variables up through `lookup` (the process environment in
/// production, a map in tests). Empty values count as unset.
pub(crate) fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<ResolvedConfig> {
    let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    if let Some(context) = get("NETLIFY_BLOBS_CONTEXT") {
        return from_context(&context);
    }
    let site_id = get("NETLIFY_SITE_ID").or_else(|| get("SITE_ID"));
    let token = get("NETLIFY_API_TOKEN").or_else(|| get("NETLIFY_AUTH_TOKEN"));
    match (site_id, token) {
        (Some(site_id), Some(token)) => from_api(&site_id, &token, None),
        (None, None) => Err(BlobsError::Config(
            "set NETLIFY_BLOBS_CONTEXT, or NETLIFY_SITE_ID (or SITE_ID) together with \
             NETLIFY_API_TOKEN (or NETLIFY_AUTH_TOKEN)"
                .to_owned(),
        )),
        (Some(_), None) => Err(BlobsError::Config(
            "a site id is set but no token: set NETLIFY_API_TOKEN (or NETLIFY_AUTH_TOKEN)"
                .to_owned(),
        )),
        (None, Some(_)) => Err(BlobsError::Config(
            "a token is set but no site id: set NETLIFY_SITE_ID (or SITE_ID)".to_owned(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use std::collections::HashMap;

    fn b64(json: &str) -> String {
        STANDARD.encode(json)
    }

    #[test]
    fn event_blobs_decode_to_edge_access() {
        let field = b64(
            r#"{"url":"http://localhost:1234","url_uncached":"http://localhost:1235","token":"t0k","primary_region":"dev"}"#,
        );
        let config = from_event_blobs(&field, "site-1").unwrap();
        match &config.access {
            Access::Edge {
                edge_url,
                uncached_url,
            } => {
                assert_eq!(edge_url.as_str(), "http://localhost:1234/");
                assert_eq!(
                    uncached_url.as_ref().map(Url::as_str),
                    Some("http://localhost:1235/")
                );
            }
            Access::Api { .. } => panic!("expected edge access"),
        }
        assert_eq!(config.site_id, "site-1");
        assert_eq!(config.token.expose(), "t0k");
        assert!(!format!("{config:?}").contains("t0k"));
    }

    #[test]
    fn event_blobs_errors_are_config_errors() {
        assert!(matches!(
            from_event_blobs("%%%", "s"),
            Err(BlobsError::Config(_))
        ));
        assert!(matches!(
            from_event_blobs(&b64(r#"{"url":"http://x"}"#), "s"),
            Err(BlobsError::Config(_))
        ));
        let missing_site = from_event_blobs(&b64(r#"{"url":"http://x","token":"t"}"#), " ");
        assert!(matches!(missing_site, Err(BlobsError::Config(m)) if m.contains("SITE_ID")),);
    }

    #[test]
    fn context_picks_edge_when_edge_url_present_else_api() {
        let edge = from_context(&b64(
            r#"{"edgeURL":"http://e","uncachedEdgeURL":"http://u","siteID":"s","token":"t","deployID":"d","primaryRegion":"us-east-2"}"#,
        ))
        .unwrap();
        assert!(matches!(edge.access, Access::Edge { .. }));
        let api = from_context(&b64(r#"{"apiURL":"http://a","siteID":"s","token":"t"}"#)).unwrap();
        assert!(
            matches!(api.access, Access::Api { ref api_url } if api_url.as_str() == "http://a/")
        );
        let default_api = from_context(&b64(r#"{"siteID":"s","token":"t"}"#)).unwrap();
        assert!(
            matches!(default_api.access, Access::Api { ref api_url } if api_url.as_str() == "https://api.netlify.com/")
        );
        assert!(matches!(
            from_context(&b64(r#"{"siteID":"s"}"#)),
            Err(BlobsError::Config(m)) if m.contains("token")
        ));
    }

    #[test]
    fn env_lookup_order_and_messages() {
        let env = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |name: &str| map.get(name).cloned()
        };
        let none = from_env_with(env(&[])).unwrap_err().to_string();
        for var in [
            "NETLIFY_BLOBS_CONTEXT",
            "NETLIFY_SITE_ID",
            "SITE_ID",
            "NETLIFY_API_TOKEN",
            "NETLIFY_AUTH_TOKEN",
        ] {
            assert!(none.contains(var), "{none}");
        }
        let no_token = from_env_with(env(&[("SITE_ID", "s")]))
            .unwrap_err()
            .to_string();
        assert!(no_token.contains("NETLIFY_API_TOKEN"), "{no_token}");
        let api = from_env_with(env(&[("SITE_ID", "s"), ("NETLIFY_AUTH_TOKEN", "t")])).unwrap();
        assert!(matches!(api.access, Access::Api { .. }));
        assert_eq!(api.site_id, "s");
        let preferred = from_env_with(env(&[
            ("NETLIFY_SITE_ID", "primary"),
            ("SITE_ID", "fallback"),
            ("NETLIFY_API_TOKEN", "t"),
        ]))
        .unwrap();
        assert_eq!(preferred.site_id, "primary");
        let context = from_env_with(env(&[
            (
                "NETLIFY_BLOBS_CONTEXT",
                &b64(r#"{"edgeURL":"http://e","siteID":"ctx","token":"t"}"#),
            ),
            ("SITE_ID", "ignored"),
        ]))
        .unwrap();
        assert_eq!(context.site_id, "ctx");
    }
}
