//! Turning whatever the user pasted into a Notion database id.

use std::fmt;

/// A Notion database id, normalised to the dashed lowercase uuid form the
/// API returns, so ids from config and from responses compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatabaseRef(String);

/// What the user pasted could not be read as a database link or id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a Notion database link or id. Open the database in Notion as a full page, \
     choose Share > Copy link, and paste that link (or the 32-character id before `?v=`) \
     into NOTION_DATABASE_ID."
)]
pub struct DatabaseRefError {
    /// The input, shortened so a pasted token or essay does not flood the logs.
    pub input: String,
}

impl DatabaseRef {
    /// Accepts a pasted database URL
    /// (`https://www.notion.so/workspace/Sales-CRM-<32hex>?v=...`), a 32-hex
    /// id, or a dashed uuid, in any case.
    pub fn parse(input: &str) -> Result<Self, DatabaseRefError> {
        let trimmed = input.trim();
        let candidate = if trimmed.contains('/') {
            last_path_segment(trimmed)
        } else {
            trimmed
        };
        id_at_end(candidate)
            .map(Self)
            .ok_or_else(|| DatabaseRefError {
                input: shorten(trimmed),
            })
    }

    /// The dashed lowercase id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatabaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for DatabaseRef {
    type Err = DatabaseRefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The path's last segment, without query or fragment; the id lives there
/// (`Sales-CRM-<id>`), while `?v=` holds the id of a view, not the database.
fn last_path_segment(link: &str) -> &str {
    let without_query = link.split(['?', '#']).next().unwrap_or(link);
    without_query
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(without_query)
}

/// Reads a dashed uuid or 32 hex chars at the end of `segment`, where Notion
/// puts the id after the page's title slug.
fn id_at_end(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    if bytes.len() >= 36 {
        let tail = &segment[segment.len() - 36..];
        if is_dashed_uuid(tail) && boundary_before(segment, 36) {
            return Some(tail.to_ascii_lowercase());
        }
    }
    if bytes.len() >= 32 {
        let tail = &segment[segment.len() - 32..];
        if tail.bytes().all(|b| b.is_ascii_hexdigit()) && boundary_before(segment, 32) {
            return Some(dashed(&tail.to_ascii_lowercase()));
        }
    }
    None
}

/// The id must be the whole segment or follow the slug's `-`, so that 33+ hex
/// chars are rejected instead of silently truncated.
fn boundary_before(segment: &str, id_len: usize) -> bool {
    let start = segment.len() - id_len;
    start == 0 || segment.as_bytes()[start - 1] == b'-'
}

fn is_dashed_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn dashed(hex32: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hex32[0..8],
        &hex32[8..12],
        &hex32[12..16],
        &hex32[16..20],
        &hex32[20..32]
    )
}

fn shorten(input: &str) -> String {
    const MAX: usize = 120;
    if input.chars().count() <= MAX {
        input.to_owned()
    } else {
        let head: String = input.chars().take(MAX).collect();
        format!("{head}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DASHED: &str = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";

    #[test]
    fn accepts_every_pasted_form() {
        for input in [
            "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
            "1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D",
            DASHED,
            "  1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d\n",
            "https://www.notion.so/acme/Sales-CRM-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d?v=ffffffffffffffffffffffffffffffff&pvs=4",
            "https://www.notion.so/1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d?v=ffffffffffffffffffffffffffffffff",
            "www.notion.so/acme/CRM-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d/",
            "https://acme.notion.site/Sales-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d#section",
        ] {
            assert_eq!(
                DatabaseRef::parse(input).map(|r| r.to_string()),
                Ok(DASHED.to_owned()),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_an_id() {
        for input in [
            "",
            "Sales CRM",
            "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6",
            "01a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
            "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6g",
            "https://www.notion.so/acme/Sales-CRM?v=1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
        ] {
            let err = DatabaseRef::parse(input).expect_err(input);
            assert!(err.to_string().contains("Copy link"), "{err}");
        }
    }
}
