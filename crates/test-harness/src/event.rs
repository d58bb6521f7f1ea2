//! Events shaped like the ones Netlify really sends a Rust function, so
//! tests exercise the lenient parsing the platform forces on us: an API
//! Gateway v1 proxy event with lower-case `headers`, capitalised
//! `multiValueHeaders` including a `[null]` value, a thin
//! `requestContext`, `isBase64Encoded: false`, nulls for an absent query
//! or body, and Netlify's extra `blobs` field when given.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

/// Builder for one proxy event. `ApiEvent::post("/.netlify/functions/x")
/// .json(&body).site_id("s").build()`.
#[derive(Debug, Clone)]
pub struct ApiEvent {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    query: BTreeMap<String, String>,
    body: Option<String>,
    blobs: Option<String>,
}

impl ApiEvent {
    pub fn new(method: &str, path: &str) -> Self {
        let headers = [
            ("accept", "*/*"),
            ("host", "localhost:8888"),
            ("user-agent", "test-harness"),
            ("x-forwarded-for", "127.0.0.1"),
            ("x-nf-client-connection-ip", "127.0.0.1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            headers,
            query: BTreeMap::new(),
            body: None,
            blobs: None,
        }
    }

    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }

    pub fn options(path: &str) -> Self {
        Self::new("OPTIONS", path)
    }

    /// `value` as the body, with `content-type: application/json`.
    pub fn json(self, value: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }

    /// A raw text body (e.g. deliberately malformed JSON).
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets a header; names are stored lower-case as Netlify sends them.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .insert(name.to_ascii_lowercase(), value.to_owned());
        self
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.headers.contains_key(&name.to_ascii_lowercase())
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Netlify's `blobs` field: base64 of `{"url","url_uncached","token",
    /// "primary_region"}` (see the Blobs server harness for a real one).
    pub fn blobs(mut self, blobs_b64: &str) -> Self {
        self.blobs = Some(blobs_b64.to_owned());
        self
    }

    /// The site id as Netlify passes it: header `x-nf-site-id`.
    pub fn site_id(self, site_id: &str) -> Self {
        self.header("x-nf-site-id", site_id)
    }

    /// A scheduled run as Netlify's scheduler sends it: POST, body
    /// `{"next_run": <in five minutes>}`, `user-agent: Netlify Clockwork`,
    /// `x-nf-event: schedule`.
    pub fn scheduled(self) -> Self {
        let next_run = rfc3339_utc(SystemTime::now() + Duration::from_secs(300));
        let mut event = self
            .header("user-agent", "Netlify Clockwork")
            .header("x-nf-event", "schedule")
            .json(&json!({ "next_run": next_run }));
        event.method = "POST".to_owned();
        event
    }

    pub fn build(&self) -> Value {
        let mut multi: Map<String, Value> = self
            .headers
            .iter()
            .map(|(name, value)| (capitalise_header(name), json!([value])))
            .collect();
        // The CLI really sends this, and strict parsers choke on it.
        multi.insert("x-nf-account-id".to_owned(), json!([null]));

        let raw_query = self
            .query
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let (query, multi_query) = if self.query.is_empty() {
            (Value::Null, Value::Null)
        } else {
            (
                json!(self.query),
                Value::Object(
                    self.query
                        .iter()
                        .map(|(k, v)| (k.clone(), json!([v])))
                        .collect(),
                ),
            )
        };
        let raw_url = if raw_query.is_empty() {
            format!("http://localhost:8888{}", self.path)
        } else {
            format!("http://localhost:8888{}?{raw_query}", self.path)
        };

        let mut event = json!({
            "resource": "",
            "path": self.path,
            "httpMethod": self.method,
            "headers": self.headers,
            "multiValueHeaders": multi,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "body": self.body,
            "isBase64Encoded": false,
            "rawUrl": raw_url,
            "rawQuery": raw_query,
            "requestContext": { "httpMethod": self.method, "requestTimeEpoch": 0 },
        });
        if let (Some(blobs), Some(obj)) = (&self.blobs, event.as_object_mut()) {
            obj.insert("blobs".to_owned(), json!(blobs));
        }
        event
    }
}

/// `content-type` -> `Content-Type`, as Node's multi-value map spells them.
fn capitalise_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `2026-11-02T10:05:00.000Z` for `at` (UTC), without a date crate.
fn rfc3339_utc(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_793_613_900);
        assert_eq!(rfc3339_utc(at), "2026-11-02T10:05:00.000Z");
    }

    #[test]
    fn event_has_netlifys_quirks() {
        let event = ApiEvent::get("/.netlify/functions/x").build();
        assert_eq!(event["multiValueHeaders"]["x-nf-account-id"], json!([null]));
        assert_eq!(
            event["multiValueHeaders"]["User-Agent"],
            json!(["test-harness"])
        );
        assert_eq!(event["queryStringParameters"], Value::Null);
        assert_eq!(event["body"], Value::Null);
        assert_eq!(event["isBase64Encoded"], false);
        assert!(event.get("blobs").is_none());
        assert_eq!(event["requestContext"]["httpMethod"], "GET");

        let scheduled = ApiEvent::get("/s")
            .scheduled()
            .blobs("b64")
            .site_id("site")
            .build();
        assert_eq!(scheduled["httpMethod"], "POST");
        assert_eq!(scheduled["headers"]["x-nf-event"], "schedule");
        assert_eq!(scheduled["headers"]["user-agent"], "Netlify Clockwork");
        assert_eq!(scheduled["headers"]["x-nf-site-id"], "site");
        assert_eq!(scheduled["blobs"], "b64");
        let body: Value =
            serde_json::from_str(scheduled["body"].as_str().unwrap_or("")).unwrap_or_default();
        assert!(body["next_run"]
            .as_str()
            .is_some_and(|s| s.ends_with(".000Z")));

        let query = ApiEvent::get("/q").query("a", "1").build();
        assert_eq!(query["queryStringParameters"]["a"], "1");
        assert_eq!(query["rawQuery"], "a=1");
    }
}
