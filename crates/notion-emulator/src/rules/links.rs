//! Rich-text links must be absolute http(s) URLs. Notion checks them when it
//! creates the content, after the schema, and lists every bad one: "Content
//! creation Failed. Fix the following: \nInvalid URL for link." (reported
//! answers, see tests/js/fixtures/README.md).

use serde_json::Value;

use crate::error::ApiError;

/// Refuses `body` when any `text.link.url` in it is not an http(s) URL.
pub(crate) fn check(body: &Value) -> Result<(), ApiError> {
    match count_invalid(body) {
        0 => Ok(()),
        n => Err(ApiError::invalid_links(n)),
    }
}

fn count_invalid(v: &Value) -> usize {
    match v {
        Value::Array(items) => items.iter().map(count_invalid).sum(),
        Value::Object(map) => {
            let own = map
                .get("text")
                .and_then(|t| t.get("link"))
                .and_then(|l| l.get("url"))
                .and_then(Value::as_str)
                .is_some_and(|url| !is_web_url(url));
            usize::from(own) + map.values().map(count_invalid).sum::<usize>()
        }
        _ => 0,
    }
}

/// `http://` or `https://`, a host, and no whitespace.
pub(crate) fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !url.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_web_urls() {
        assert!(is_web_url("https://example.com/a?b#c"));
        assert!(is_web_url("HTTP://EXAMPLE.COM"));
        for bad in [
            "url",
            "mailto:a@b.c",
            "ftp://x.y",
            "/relative",
            "https://",
            "https://a b",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }

    #[test]
    fn counts_every_bad_link() {
        let link = |u: &str| json!({"text": {"content": "x", "link": {"url": u}}});
        let body = json!({"children": [{"paragraph": {"rich_text": [link("a"), link("https://ok.example"), link("b")]}}]});
        let e = check(&body).unwrap_err();
        assert_eq!(e.message, "Content creation Failed. Fix the following: \nInvalid URL for link.\nInvalid URL for link.");
    }
}
