//! Client configuration and reading it from the environment.

use std::time::Duration;

use url::Url;

use crate::database_ref::{DatabaseRef, DatabaseRefError};
use crate::secret::Secret;

/// The Notion version this client speaks by default: the newest
/// (`archived` -> `in_trash`, append `after` -> `position`).
pub const DEFAULT_NOTION_VERSION: &str = "2026-03-11";
/// The versions this client speaks: both have data sources, which the sync
/// needs once a database has more than one.
pub const SUPPORTED_NOTION_VERSIONS: [&str; 2] = ["2025-09-03", "2026-03-11"];
/// Notion's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.notion.com";
/// Requests per minute on every plan below Business (600 there).
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 180;

/// Everything the client needs. Build it with [`NotionConfig::new`] or
/// [`NotionConfig::from_env`] and adjust the public fields.
#[derive(Debug, Clone)]
pub struct NotionConfig {
    pub token: Secret,
    /// The CRM database; [`crate::NotionClient::resolve_data_source`] starts here.
    pub database: DatabaseRef,
    pub base_url: Url,
    pub notion_version: String,
    /// Request budget per `window`, shared by every clone of one client.
    pub requests_per_window: u32,
    pub window: Duration,
    pub max_concurrency: usize,
    /// Per attempt, from sending to the last body byte.
    pub request_timeout: Duration,
    /// Retries after 5xx, timeouts and network errors (idempotent requests only).
    pub max_retries: u32,
    /// Retries after 429/529; separate because waiting out a rate limit is
    /// expected traffic shaping, not a sign that something is broken.
    pub max_rate_limit_retries: u32,
    /// First backoff after a transient failure; doubles each time.
    pub retry_base_delay: Duration,
    pub retry_max_delay: Duration,
    /// Longest `Retry-After` the client waits out. A longer one (a workspace
    /// level limit) fails fast with `RateLimited`, so a short-lived function
    /// can give up and let the next scheduled run continue.
    pub max_retry_after: Duration,
}

impl NotionConfig {
    pub fn new(token: impl Into<Secret>, database: DatabaseRef) -> Self {
        Self {
            token: token.into(),
            database,
            base_url: Url::parse(DEFAULT_BASE_URL).expect("DEFAULT_BASE_URL is a valid URL"),
            notion_version: DEFAULT_NOTION_VERSION.to_owned(),
            requests_per_window: DEFAULT_REQUESTS_PER_MINUTE,
            window: Duration::from_secs(60),
            max_concurrency: 8,
            request_timeout: Duration::from_secs(30),
            max_retries: 3,
            max_rate_limit_retries: 10,
            retry_base_delay: Duration::from_secs(1),
            retry_max_delay: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(120),
        }
    }

    /// Reads `NOTION_API_TOKEN`, `NOTION_DATABASE_ID` (required),
    /// `NOTION_API_URL`, `NOTION_API_VERSION` (or its older name
    /// `NOTION_VERSION`) and `NOTION_REQUESTS_PER_MINUTE`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`NotionConfig::from_env`] over any variable source, so it can be
    /// tested without touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let token = non_empty("NOTION_API_TOKEN").ok_or(ConfigError::Missing {
            variable: "NOTION_API_TOKEN",
            hint: "copy the Internal Integration Secret from notion.so/my-integrations",
        })?;
        let database = non_empty("NOTION_DATABASE_ID").ok_or(ConfigError::Missing {
            variable: "NOTION_DATABASE_ID",
            hint: "paste the database's link (Share > Copy link) or its 32-character id",
        })?;
        let database = DatabaseRef::parse(&database).map_err(ConfigError::Database)?;

        let mut config = Self::new(Secret::new(token.trim()), database);
        if let Some(url) = non_empty("NOTION_API_URL") {
            config.base_url = Url::parse(url.trim()).map_err(|e| ConfigError::Invalid {
                variable: "NOTION_API_URL",
                message: format!("`{url}` is not a URL ({e}); leave it unset for api.notion.com"),
            })?;
        }
        // NOTION_API_VERSION is the documented name; NOTION_VERSION is kept
        // for setups made before it.
        let pinned = ["NOTION_API_VERSION", "NOTION_VERSION"]
            .into_iter()
            .find_map(|variable| non_empty(variable).map(|v| (variable, v)));
        if let Some((variable, version)) = pinned {
            let version = version.trim();
            if !SUPPORTED_NOTION_VERSIONS.contains(&version) {
                return Err(ConfigError::Invalid {
                    variable,
                    message: format!(
                        "`{version}` is not a Notion version the sync speaks; use 2026-03-11 \
                         (the default), or 2025-09-03 for a workspace that needs it"
                    ),
                });
            }
            config.notion_version = version.to_owned();
        }
        if let Some(rpm) = non_empty("NOTION_REQUESTS_PER_MINUTE") {
            config.requests_per_window = rpm
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::Invalid {
                    variable: "NOTION_REQUESTS_PER_MINUTE",
                    message: format!(
                        "`{rpm}` is not a positive whole number; use 180, or 600 on Business plans"
                    ),
                })?;
            config.window = Duration::from_secs(60);
        }
        // Notion counts per minute; a shorter window scales a test or a
        // benchmark down (the budget then counts per that many seconds).
        if let Some(secs) = non_empty("NOTION_RATE_WINDOW_SECONDS") {
            config.window = secs
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=60).contains(s))
                .map(Duration::from_secs)
                .ok_or_else(|| ConfigError::Invalid {
                    variable: "NOTION_RATE_WINDOW_SECONDS",
                    message: format!("`{secs}` is not a number of seconds from 1 to 60; leave it unset (60, as Notion counts)"),
                })?;
        }
        Ok(config)
    }
}

/// The environment does not describe a usable Notion connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{variable} is not set: {hint}")]
    Missing {
        variable: &'static str,
        hint: &'static str,
    },
    #[error("{variable} is invalid: {message}")]
    Invalid {
        variable: &'static str,
        message: String,
    },
    #[error("NOTION_DATABASE_ID is invalid: {0}")]
    Database(DatabaseRefError),
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_every_variable() {
        let config = NotionConfig::from_lookup(lookup(&[
            ("NOTION_API_TOKEN", "ntn_abc"),
            ("NOTION_DATABASE_ID", "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"),
            ("NOTION_API_URL", "http://127.0.0.1:9999"),
            ("NOTION_API_VERSION", "2025-09-03"),
            ("NOTION_REQUESTS_PER_MINUTE", "600"),
        ]))
        .expect("valid");
        assert_eq!(config.token.expose(), "ntn_abc");
        assert_eq!(
            config.database.as_str(),
            "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
        );
        assert_eq!(config.base_url.as_str(), "http://127.0.0.1:9999/");
        assert_eq!(config.notion_version, "2025-09-03");
        assert_eq!(config.requests_per_window, 600);
        assert!(!format!("{config:?}").contains("ntn_abc"));
    }

    #[test]
    fn defaults_apply() {
        let config = NotionConfig::from_lookup(lookup(&[
            ("NOTION_API_TOKEN", "t"),
            ("NOTION_DATABASE_ID", "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"),
        ]))
        .expect("valid");
        assert_eq!(config.base_url.as_str(), "https://api.notion.com/");
        assert_eq!(config.notion_version, "2026-03-11");
        assert_eq!(config.requests_per_window, 180);
        assert_eq!(config.window, Duration::from_secs(60));
    }

    #[test]
    fn errors_name_the_variable() {
        let missing_token = NotionConfig::from_lookup(lookup(&[])).unwrap_err();
        assert!(missing_token.to_string().contains("NOTION_API_TOKEN"));
        let missing_db =
            NotionConfig::from_lookup(lookup(&[("NOTION_API_TOKEN", "t")])).unwrap_err();
        assert!(missing_db.to_string().contains("NOTION_DATABASE_ID"));
        let bad_db = NotionConfig::from_lookup(lookup(&[
            ("NOTION_API_TOKEN", "t"),
            ("NOTION_DATABASE_ID", "Sales CRM"),
        ]))
        .unwrap_err();
        assert!(matches!(bad_db, ConfigError::Database(_)));
        let bad_rpm = NotionConfig::from_lookup(lookup(&[
            ("NOTION_API_TOKEN", "t"),
            ("NOTION_DATABASE_ID", "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"),
            ("NOTION_REQUESTS_PER_MINUTE", "lots"),
        ]))
        .unwrap_err();
        assert!(bad_rpm.to_string().contains("NOTION_REQUESTS_PER_MINUTE"));
        let old_version = NotionConfig::from_lookup(lookup(&[
            ("NOTION_API_TOKEN", "t"),
            ("NOTION_DATABASE_ID", "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"),
            ("NOTION_VERSION", "2022-06-28"),
        ]))
        .unwrap_err();
        assert!(old_version.to_string().contains("use 2026-03-11"));
        assert!(old_version.to_string().contains("NOTION_VERSION"));
    }

    #[test]
    fn the_older_variable_name_still_pins_the_version() {
        let config = NotionConfig::from_lookup(lookup(&[
            ("NOTION_API_TOKEN", "t"),
            ("NOTION_DATABASE_ID", "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"),
            ("NOTION_VERSION", "2025-09-03"),
        ]))
        .expect("valid");
        assert_eq!(config.notion_version, "2025-09-03");
    }
}
