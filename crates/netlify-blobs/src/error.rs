//! Typed errors. None of them ever carries a token or a URL: edge URLs are
//! harmless, but signed URLs are credentials for as long as they live, so
//! only the operation, the store and the key describe where a failure was.

use std::fmt;

/// What the client was doing when something failed; shown in every error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Get,
    Set,
    Delete,
    List,
    Metadata,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Get => "get",
            Operation::Set => "set",
            Operation::Delete => "delete",
            Operation::List => "list",
            Operation::Metadata => "metadata (HEAD)",
        })
    }
}

/// Where a request went, for messages: `store` or `store/key`.
pub(crate) fn target(store: &str, key: Option<&str>) -> String {
    match key {
        Some(key) => format!("store `{store}` key `{key}`"),
        None => format!("store `{store}`"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BlobsError {
    /// 401/403. Edge tokens are per invocation, so a token kept past its
    /// invocation shows up here too.
    #[error(
        "the Blobs token was rejected; check the site id and that the token is current \
         (event tokens last one invocation, API tokens need access to the site): \
         HTTP {status} on {operation} of {}",
        target(store, key.as_deref())
    )]
    Unauthorized {
        status: u16,
        operation: Operation,
        store: String,
        key: Option<String>,
    },

    /// Missing or malformed configuration; the message names the variable
    /// or field to set.
    #[error("Netlify Blobs is not configured: {0}")]
    Config(String),

    #[error("invalid Blobs key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },

    #[error("invalid Blobs store name {store:?}: {reason}")]
    InvalidStore { store: String, reason: &'static str },

    /// Netlify limits the metadata header; refusing before sending keeps the
    /// blob from being written without its metadata.
    #[error(
        "metadata for {} encodes to {size} bytes with its header name; Netlify allows at most {max}",
        target(store, Some(key))
    )]
    MetadataTooLarge {
        store: String,
        key: String,
        size: usize,
        max: usize,
    },

    /// Any other unexpected status, after retries where they apply.
    #[error("Blobs {operation} of {} failed with HTTP {status}: {body}", target(store, key.as_deref()))]
    Http {
        operation: Operation,
        status: u16,
        store: String,
        key: Option<String>,
        /// The start of the response body, with the token removed if echoed.
        body: String,
    },

    /// Connection, timeout or body-read failure, after retries where they apply.
    #[error("Blobs {operation} of {} failed: {source}", target(store, key.as_deref()))]
    Network {
        operation: Operation,
        store: String,
        key: Option<String>,
        /// Stripped of its URL (signed URLs are credentials).
        #[source]
        source: reqwest::Error,
    },

    /// A response, a stored value, metadata or a configuration blob that
    /// does not decode as expected.
    #[error("could not decode {what} of {}: {reason}", target(store, key.as_deref()))]
    Decode {
        what: &'static str,
        store: String,
        key: Option<String>,
        reason: String,
    },
}

pub type Result<T, E = BlobsError> = std::result::Result<T, E>;
