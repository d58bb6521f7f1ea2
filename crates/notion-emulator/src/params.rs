//! A request's query string (`?page_size=10&filter_properties=title`), read
//! as Notion reads it: percent-decoded, `+` as a space, a key repeated for a
//! list (`filter_properties=a&filter_properties=b`, the official SDK's form)
//! or with `[]` (`filter_properties[]=a`, the form in Notion's docs).

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct QueryParams(Vec<(String, String)>);

impl QueryParams {
    pub fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .unwrap_or_default()
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        Self(pairs)
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the list `key` (`key=` or `key[]=`).
    pub fn list(&self, key: &str) -> Vec<String> {
        let bracketed = format!("{key}[]");
        self.0
            .iter()
            .filter(|(k, _)| *k == key || *k == bracketed)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// `%3AdId` -> `:dId`, `a+b` -> `a b`; malformed escapes are kept as written.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_in_both_forms() {
        let q = QueryParams::parse(Some(
            "filter_properties=%3AdId&filter_properties[]=title&page_size=5",
        ));
        assert_eq!(q.list("filter_properties"), [":dId", "title"]);
        assert_eq!(q.get("page_size"), Some("5"));
        assert_eq!(q.get("start_cursor"), None);
    }

    #[test]
    fn decodes_escapes_and_plus() {
        assert_eq!(percent_decode("Dialer+ID"), "Dialer ID");
        assert_eq!(percent_decode("%7Bbs%"), "{bs%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
