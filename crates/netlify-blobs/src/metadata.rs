//! The blob metadata header: `b64;<base64 of the JSON>`, as the official
//! client writes and reads it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// The header edge requests and signed-URL requests carry metadata in.
pub(crate) const METADATA_HEADER: &str = "x-amz-meta-user";
/// The header the API (first, authenticated step) takes metadata in, and
/// that production may answer with.
pub(crate) const METADATA_HEADER_EXTERNAL: &str = "netlify-blobs-metadata";
/// Netlify's limit on header name + value. The official client measures it
/// with the longer, external header name; so do we, so that a value accepted
/// here is accepted on both paths.
pub const METADATA_MAX_BYTES: usize = 2048;

const PREFIX: &str = "b64;";

/// The header value, and the size that counts against the limit.
pub(crate) fn encode(metadata: &serde_json::Value) -> (String, usize) {
    let value = format!("{PREFIX}{}", STANDARD.encode(metadata.to_string()));
    let size = METADATA_HEADER_EXTERNAL.len() + value.len();
    (value, size)
}

/// `None` for a value without the `b64;` prefix (the official client reads
/// that as "no metadata"); `Err` for a prefixed value that does not decode.
pub(crate) fn decode(header: &str) -> Result<Option<serde_json::Value>, String> {
    let Some(encoded) = header.strip_prefix(PREFIX) else {
        return Ok(None);
    };
    let json = STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("metadata header is not base64: {e}"))?;
    serde_json::from_slice(&json)
        .map(Some)
        .map_err(|e| format!("metadata header is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip() {
        let meta = json!({"source": "dialer", "n": 3, "nested": {"ok": true}});
        let (header, size) = encode(&meta);
        assert!(header.starts_with("b64;"));
        assert_eq!(size, header.len() + METADATA_HEADER_EXTERNAL.len());
        assert_eq!(decode(&header).unwrap(), Some(meta));
    }

    #[test]
    fn matches_the_official_encoding() {
        // What @netlify/blobs sends for {"a":1}.
        assert_eq!(encode(&json!({"a": 1})).0, "b64;eyJhIjoxfQ==");
    }

    #[test]
    fn unprefixed_is_none_and_garbage_is_an_error() {
        assert_eq!(decode("").unwrap(), None);
        assert_eq!(decode("plain").unwrap(), None);
        assert!(decode("b64;!!!").is_err());
        assert!(decode(&format!("b64;{}", STANDARD.encode("not json"))).is_err());
    }
}
