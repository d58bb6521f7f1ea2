//! Store-name and key rules, checked before anything is sent so that a bad
//! name fails fast and locally instead of as an opaque 400 (or, worse, as a
//! write to a different path than intended).

use crate::error::{BlobsError, Result};

pub const MAX_STORE_NAME_BYTES: usize = 64;
pub const MAX_KEY_BYTES: usize = 600;

pub fn validate_store_name(store: &str) -> Result<()> {
    let reason = if store.is_empty() {
        Some("must not be empty")
    } else if store.contains('/') {
        Some("must not contain `/`")
    } else if store.len() > MAX_STORE_NAME_BYTES {
        Some("must be at most 64 bytes")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(BlobsError::InvalidStore {
            store: store.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Keys go into the URL path unencoded apart from characters that cannot
/// appear in a path (`?`, `#`, `%`, space ...), and a `/` acts as a
/// directory separator. `.`/`..` segments are refused: URL normalisation
/// would silently turn them into a different key.
pub fn validate_key(key: &str) -> Result<()> {
    let reason = if key.is_empty() {
        Some("must not be empty")
    } else if key.starts_with('/') {
        Some("must not start with `/`")
    } else if key.len() > MAX_KEY_BYTES {
        Some("must be at most 600 bytes")
    } else if key
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        Some("must not contain `.` or `..` path segments")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(BlobsError::InvalidKey {
            key: key.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names() {
        assert!(validate_store_name("contacts").is_ok());
        assert!(validate_store_name(&"s".repeat(64)).is_ok());
        for bad in ["", "a/b", &"s".repeat(65)] {
            assert!(matches!(
                validate_store_name(bad),
                Err(BlobsError::InvalidStore { .. })
            ));
        }
    }

    #[test]
    fn keys() {
        for good in ["a", "contacts/123", "a b", &"k".repeat(600), "x/", "a..b"] {
            assert!(validate_key(good).is_ok(), "{good:?}");
        }
        for bad in ["", "/a", &"k".repeat(601), "a/../b", ".", "a/."] {
            assert!(
                matches!(validate_key(bad), Err(BlobsError::InvalidKey { .. })),
                "{bad:?}"
            );
        }
    }
}
