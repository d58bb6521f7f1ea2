//! The event Netlify hands a Rust function, parsed leniently.
//!
//! Netlify sends an API Gateway v1 proxy event, but not a strict one: the
//! CLI sends `"multiValueHeaders":{"x-nf-account-id":[null]}`, omits
//! `requestContext` at times, and adds a top-level `blobs` field that
//! `aws_lambda_events::apigw::ApiGatewayProxyRequest` (and `lambda_http`)
//! reject or drop. So every field here is optional, nulls are tolerated and
//! header names are normalised to lower case once, at the edge.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The parts of Netlify's proxy event a handler can use. Anything else in
/// the event (`requestContext`, `resource`, `rawUrl`, ...) is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetlifyEvent {
    #[serde(deserialize_with = "string_or_empty")]
    pub http_method: String,
    #[serde(deserialize_with = "string_or_empty")]
    pub path: String,
    /// Lower-cased names; null values dropped.
    #[serde(deserialize_with = "lenient_string_map")]
    pub headers: BTreeMap<String, String>,
    /// Lower-cased names; null entries dropped (a header whose only value
    /// was null ends up with an empty list).
    #[serde(deserialize_with = "lenient_multi_map")]
    pub multi_value_headers: BTreeMap<String, Vec<String>>,
    #[serde(deserialize_with = "lenient_string_map_keep_case")]
    pub query_string_parameters: BTreeMap<String, String>,
    #[serde(deserialize_with = "lenient_multi_map_keep_case")]
    pub multi_value_query_string_parameters: BTreeMap<String, Vec<String>>,
    #[serde(deserialize_with = "optional_string")]
    pub body: Option<String>,
    #[serde(deserialize_with = "bool_or_false")]
    pub is_base64_encoded: bool,
    /// Netlify's non-standard field: base64 of the Blobs context JSON
    /// (`url`, `url_uncached`, `token`, `primary_region`). Empty means absent.
    #[serde(deserialize_with = "optional_string")]
    pub blobs: Option<String>,
}

impl NetlifyEvent {
    /// Parses the raw event. Fails only when the event is not a JSON object
    /// (every field inside is optional).
    pub fn from_value(event: Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(event)
    }

    /// Header names and values merged from `headers` and
    /// `multiValueHeaders`: the single-valued map wins, multi-valued headers
    /// not in it are joined with ", " as HTTP allows.
    pub fn merged_headers(&self) -> BTreeMap<String, String> {
        let mut merged = self.headers.clone();
        for (name, values) in &self.multi_value_headers {
            if !values.is_empty() && !merged.contains_key(name) {
                merged.insert(name.clone(), values.join(", "));
            }
        }
        merged
    }

    /// Query parameters; the last value of a multi-valued parameter is used
    /// when the single-valued map lacks it (API Gateway's own rule).
    pub fn merged_query(&self) -> BTreeMap<String, String> {
        let mut merged = self.query_string_parameters.clone();
        for (name, values) in &self.multi_value_query_string_parameters {
            if let Some(last) = values.last() {
                merged.entry(name.clone()).or_insert_with(|| last.clone());
            }
        }
        merged
    }
}

/// Scalars become strings; null and compound values become `None`.
fn scalar_to_string(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn string_map(raw: Option<BTreeMap<String, Value>>, lower: bool) -> BTreeMap<String, String> {
    raw.unwrap_or_default()
        .into_iter()
        .filter_map(|(name, value)| {
            let name = if lower {
                name.to_ascii_lowercase()
            } else {
                name
            };
            scalar_to_string(value).map(|v| (name, v))
        })
        .collect()
}

fn multi_map(raw: Option<BTreeMap<String, Value>>, lower: bool) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in raw.unwrap_or_default() {
        let name = if lower {
            name.to_ascii_lowercase()
        } else {
            name
        };
        let values: Vec<String> = match value {
            Value::Array(items) => items.into_iter().filter_map(scalar_to_string).collect(),
            other => scalar_to_string(other).into_iter().collect(),
        };
        // Two spellings of one name ("Accept" and "accept") merge.
        map.entry(name).or_default().extend(values);
    }
    map
}

fn lenient_string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(string_map(Option::deserialize(d)?, true))
}

fn lenient_string_map_keep_case<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(string_map(Option::deserialize(d)?, false))
}

fn lenient_multi_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    Ok(multi_map(Option::deserialize(d)?, true))
}

fn lenient_multi_map_keep_case<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Vec<String>>, D::Error> {
    Ok(multi_map(Option::deserialize(d)?, false))
}

fn string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<Value>::deserialize(d)?
        .and_then(scalar_to_string)
        .unwrap_or_default())
}

fn optional_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?
        .and_then(scalar_to_string)
        .filter(|s| !s.is_empty()))
}

fn bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    })
}
