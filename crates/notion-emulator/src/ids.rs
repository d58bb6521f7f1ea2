//! Notion object ids: users paste them dashed, undashed or inside a URL; the
//! API answers with the dashed lowercase form. Accepting every form here
//! keeps configuration forgiving without widening the wire format.

/// Normalises an id to Notion's dashed lowercase uuid form.
///
/// Accepts `xxxxxxxx-xxxx-...`, 32 bare hex chars, or a pasted database URL
/// (`https://www.notion.so/ws/Title-<32hex>?v=...`): the id is the last 32 hex
/// characters before any `?` or `#`.
pub fn normalize_id(raw: &str) -> Option<String> {
    let before_query = raw.trim().split(['?', '#']).next().unwrap_or("");
    let last_segment = before_query.rsplit('/').next().unwrap_or("");
    let hex: String = last_segment.chars().filter(|c| *c != '-').collect();
    let candidate = if hex.len() > 32 {
        // "Title-<32hex>" slug: keep the trailing 32 characters.
        hex[hex.len() - 32..].to_string()
    } else {
        hex
    };
    if candidate.len() != 32 || !candidate.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let h = candidate.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// A fresh random id in the dashed form.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The 32-hex form Notion uses inside page URLs.
pub fn undashed(id: &str) -> String {
    id.replace('-', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_pasted_form() {
        let dashed = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d";
        assert_eq!(normalize_id(dashed).as_deref(), Some(dashed));
        assert_eq!(
            normalize_id("1A2B3C4D5E6F4A8B9C0D1E2F3A4B5C6D").as_deref(),
            Some(dashed)
        );
        assert_eq!(
            normalize_id("https://www.notion.so/acme/Sales-CRM-1a2b3c4d5e6f4a8b9c0d1e2f3a4b5c6d?v=0123456789abcdef0123456789abcdef")
                .as_deref(),
            Some(dashed)
        );
        assert_eq!(normalize_id("not-an-id"), None);
        assert_eq!(normalize_id(""), None);
    }
}
