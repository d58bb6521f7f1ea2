//! What can stop a command, and the exit code each maps to: 2 when a
//! setting is missing or wrong (nothing was tried), 1 for everything else.

use notion_client::NotionError;
use sync_engine::{ConfigError, EngineError};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The engine's configuration: the error names the variable.
    #[error("{}. Set {} in your environment (the same variable the Netlify functions use)", .0.message, .0.variable)]
    Config(ConfigError),
    /// Blobs access: the message names the variables to set.
    #[error("{0}")]
    Blobs(netlify_blobs::BlobsError),
    #[error("{0}")]
    Engine(EngineError),
}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        CliError::Config(e)
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Config(c) => CliError::Config(c),
            other => CliError::Engine(other),
        }
    }
}

impl From<netlify_blobs::BlobsError> for CliError {
    fn from(e: netlify_blobs::BlobsError) -> Self {
        CliError::Engine(EngineError::Blobs(e))
    }
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Blobs(_) => 2,
            CliError::Engine(_) => 1,
        }
    }

    /// What to do next, when the message itself does not say it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CliError::Engine(EngineError::Schema(_)) => {
                Some("Run `dialer-sync doctor` to see which Notion properties to add or change.")
            }
            CliError::Engine(EngineError::Notion(
                NotionError::Network { .. }
                | NotionError::Timeout { .. }
                | NotionError::Unavailable { .. }
                | NotionError::RateLimited { .. },
            )) => Some("Notion could not be reached just now; nothing was lost. Try again in a few minutes."),
            CliError::Engine(EngineError::Notion(_)) => {
                Some("Run `dialer-sync doctor` to check the Notion connection.")
            }
            CliError::Engine(EngineError::Blobs(_)) => Some(
                "Check NETLIFY_BLOBS_CONTEXT, or NETLIFY_SITE_ID with NETLIFY_API_TOKEN (a personal access token with access to the site).",
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_errors_name_the_variable_and_exit_2() {
        let e = CliError::from(ConfigError {
            variable: "NOTION_API_TOKEN",
            message: "NOTION_API_TOKEN is not set: copy the secret".into(),
        });
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("Set NOTION_API_TOKEN"));
        let wrapped = CliError::from(EngineError::Config(ConfigError {
            variable: "SYNC_TIME_ZONE",
            message: "bad zone".into(),
        }));
        assert_eq!(wrapped.exit_code(), 2);
        assert_eq!(
            CliError::from(EngineError::BadRequest("x".into())).exit_code(),
            1
        );
    }
}
