//! The configuration the CLI reads: the same environment variables as the
//! Netlify functions, so a setup that works here works there. Values are
//! never printed or logged; only whether each variable is set.

use netlify_blobs::BlobsClient;
use sync_engine::{Engine, EngineConfig, EngineError};

use crate::error::CliError;

/// Whether a variable is needed, so `doctor` can say "missing" only for those.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Required,
    /// One of a group is needed (Blobs access: a context, or a site id with a token).
    OneOf,
    Optional,
}

/// Every variable the engine and the Blobs client read, with what it is for.
pub const VARIABLES: &[(&str, Need, &str)] = &[
    (
        "NOTION_API_TOKEN",
        Need::Required,
        "the integration's secret",
    ),
    ("NOTION_DATABASE_ID", Need::Required, "the CRM database"),
    ("NOTION_API_URL", Need::Optional, "default: api.notion.com"),
    ("NOTION_API_VERSION", Need::Optional, "default: 2026-03-11"),
    ("NOTION_REQUESTS_PER_MINUTE", Need::Optional, "default: 180"),
    (
        "SYNC_CONFLICT_POLICY",
        Need::Optional,
        "default: last_edit_wins",
    ),
    ("SYNC_TIME_ZONE", Need::Optional, "the team's time zone"),
    (
        "SYNC_PHONE_REGION",
        Need::Optional,
        "how phone numbers are read",
    ),
    (
        "SYNC_CALL_NOTES",
        Need::Optional,
        "where call notes go in Notion",
    ),
    (
        "SYNC_PROPERTY_NAMES",
        Need::Optional,
        "renamed Notion properties",
    ),
    (
        "SYNC_BRAKE_SHARE",
        Need::Optional,
        "the safety brake's share",
    ),
    ("SYNC_STATE_STORE", Need::Optional, "default: notion-sync"),
    ("SYNC_FULL_SCAN_MINUTES", Need::Optional, "default: 60"),
    ("DIALER_CONTACTS_STORE", Need::Optional, "default: contacts"),
    (
        "DIALER_CONTACTS_LAYOUT",
        Need::Optional,
        "default: per-contact",
    ),
    (
        "DIALER_CONTACTS_KEY",
        Need::Optional,
        "single-blob layout only",
    ),
    ("NETLIFY_BLOBS_CONTEXT", Need::OneOf, "Blobs access"),
    (
        "NETLIFY_SITE_ID",
        Need::OneOf,
        "Blobs access (with a token)",
    ),
    ("SITE_ID", Need::OneOf, "Blobs access (with a token)"),
    (
        "NETLIFY_API_TOKEN",
        Need::OneOf,
        "Blobs access (with a site id)",
    ),
    (
        "NETLIFY_AUTH_TOKEN",
        Need::OneOf,
        "Blobs access (with a site id)",
    ),
];

/// One line of the settings report: a name and a state, never a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariableState {
    pub name: &'static str,
    pub set: bool,
    pub need: Need,
    pub about: &'static str,
}

impl VariableState {
    pub fn label(&self) -> &'static str {
        match (self.set, self.need) {
            (true, _) => "set",
            (false, Need::Required) => "missing",
            (false, _) => "not set",
        }
    }
}

/// Which variables are set, by the same "blank is unset" rule the engine uses.
pub fn variable_report(lookup: impl Fn(&str) -> Option<String>) -> Vec<VariableState> {
    VARIABLES
        .iter()
        .map(|&(name, need, about)| VariableState {
            name,
            set: lookup(name).is_some_and(|v| !v.trim().is_empty()),
            need,
            about,
        })
        .collect()
}

/// The engine, configured from the environment. A missing or bad variable
/// is a [`CliError`] that names it (exit code 2).
pub fn engine_from_env() -> Result<Engine, CliError> {
    let config = EngineConfig::from_env()?;
    let blobs = BlobsClient::from_env().map_err(CliError::Blobs)?;
    Engine::new(config, blobs).map_err(|e| match e {
        EngineError::Config(c) => CliError::Config(c),
        other => CliError::Engine(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_variables_and_never_holds_values() {
        let report = variable_report(|name| match name {
            "NOTION_DATABASE_ID" => Some("abc".into()),
            "NETLIFY_SITE_ID" => Some("   ".into()),
            _ => None,
        });
        let by_name = |n: &str| report.iter().find(|v| v.name == n).expect("listed");
        assert_eq!(by_name("NOTION_API_TOKEN").label(), "missing");
        assert_eq!(by_name("NOTION_DATABASE_ID").label(), "set");
        assert_eq!(by_name("NETLIFY_SITE_ID").label(), "not set");
        assert_eq!(by_name("SYNC_TIME_ZONE").label(), "not set");
        assert_eq!(report.len(), VARIABLES.len());
    }
}
