//! The dialer's contact, parsed once at the edge.
//!
//! A contact is parsed into typed values (the id, each mapped field, the
//! call history) or rejected with an error naming the contact and the field,
//! so one bad record is reported and skipped instead of half-written. The
//! original JSON object is kept whole: writes into a contact change only the
//! mapped keys and the `notion` mirror, and every key we do not know
//! round-trips untouched.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::fields::{DialerPath, FieldSpec, Kind, Strategy, FIELDS, MIRROR_KEY};
use crate::time::{format_for_dialer, parse_date};
use crate::value::{DateValue, FieldMap, Value};

/// Notion stores numbers as doubles: ids above 2^53 would silently change.
pub const MAX_DIALER_ID: u64 = 1 << 53;

/// The Dialer ID: the match key between a contact and its Notion page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ContactId(u64);

impl ContactId {
    pub fn new(n: u64) -> Result<ContactId, String> {
        if n == 0 || n > MAX_DIALER_ID {
            Err(format!(
                "{n} is outside 1..=2^53, the ids Notion's Number can hold exactly"
            ))
        } else {
            Ok(ContactId(n))
        }
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// The id as it appears in the dialer: a string or a JSON number.
    pub fn from_json(value: &Json) -> Result<ContactId, String> {
        match value {
            Json::String(s) => s.parse(),
            Json::Number(n) => match n.as_u64() {
                Some(n) => ContactId::new(n),
                None => Err(format!("{n} is not a whole positive number")),
            },
            Json::Null => Err("the contact has no id".to_string()),
            other => Err(format!("{other} is not an id")),
        }
    }

    /// The id as Notion's Number property gives it back.
    pub fn from_notion_number(n: f64) -> Result<ContactId, String> {
        if n.fract() != 0.0 || n < 1.0 || n > MAX_DIALER_ID as f64 {
            return Err(format!("{n} is not a whole number between 1 and 2^53"));
        }
        ContactId::new(n as u64)
    }
}

impl std::str::FromStr for ContactId {
    type Err = String;
    fn from_str(s: &str) -> Result<ContactId, String> {
        let t = s.trim();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "{s:?} is not a whole number (Notion's Dialer ID is a Number)"
            ));
        }
        t.parse::<u64>()
            .map_err(|_| format!("{s:?} is too large for a Dialer ID"))
            .and_then(ContactId::new)
    }
}

impl std::fmt::Display for ContactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<ContactId> for String {
    fn from(id: ContactId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for ContactId {
    type Error = String;
    fn try_from(s: String) -> Result<ContactId, String> {
        s.parse()
    }
}

/// One bad value in one contact.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("contact {contact}: {field}: {problem}")]
pub struct ContactError {
    /// The contact's id as stored (or its key when the id itself is bad).
    pub contact: String,
    pub field: String,
    pub problem: String,
}

/// One entry of `callHistory`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallRecord {
    /// Stable identity for "log each call once": the call's own `id`, else its
    /// time, else a hash of its content.
    pub key: String,
    pub at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub duration: Option<f64>,
    pub had_conversation: Option<bool>,
    pub had_triage: Option<bool>,
    pub objection: Option<String>,
    pub notes: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DialerContact {
    pub id: ContactId,
    /// Every table field's value as the dialer holds it.
    pub values: FieldMap,
    /// Oldest first.
    pub calls: Vec<CallRecord>,
    /// The contact's own `updatedAt`, when the dialer keeps one.
    pub updated_at: Option<DateTime<Utc>>,
    /// The object as stored, unknown keys included.
    pub raw: Map<String, Json>,
}

/// The call-history keys accepted for a call's time, in order of preference.
const CALL_TIME_KEYS: &[&str] = &["timestamp", "date", "time", "calledAt"];

impl DialerContact {
    /// `fallback_name` names the record in errors when its id is unusable
    /// (the blob key, or the index in a list).
    pub fn parse(
        json: &Json,
        fallback_name: &str,
        zone: Tz,
    ) -> Result<DialerContact, ContactError> {
        let Json::Object(raw) = json else {
            return Err(ContactError {
                contact: fallback_name.to_string(),
                field: "(contact)".into(),
                problem: format!("expected a JSON object, found {}", json_kind(json)),
            });
        };
        let id = ContactId::from_json(raw.get("id").unwrap_or(&Json::Null)).map_err(|problem| {
            ContactError {
                contact: fallback_name.to_string(),
                field: "id".into(),
                problem,
            }
        })?;
        let bad = |field: &str, problem: String| ContactError {
            contact: id.to_string(),
            field: field.to_string(),
            problem,
        };

        let calls = match raw.get("callHistory") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    parse_call(item, zone).map_err(|(field, problem)| {
                        bad(&format!("callHistory[{i}].{field}"), problem)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(other) => {
                return Err(bad(
                    "callHistory",
                    format!("expected a list of calls, found {}", json_kind(other)),
                ))
            }
        };
        let mut calls = calls;
        number_alike_calls(&mut calls);
        // Stable: calls without a time keep their place after timed ones of equal order.
        calls.sort_by_key(|c| c.at);
        let latest_raw = latest_call_json(raw, zone);

        let mut values = FieldMap::new();
        for spec in FIELDS {
            if spec.strategy == Strategy::Key {
                continue;
            }
            let found = match spec.dialer {
                DialerPath::Top(key) => raw.get(key),
                DialerPath::LatestCall(key) => latest_raw.and_then(|call| call.get(key)),
                DialerPath::Mirror(key) => raw.get(MIRROR_KEY).and_then(|m| m.get(key)),
            };
            let parsed = parse_value(spec, found.unwrap_or(&Json::Null), zone);
            let value = match (parsed, spec.dialer) {
                (Ok(v), _) => v,
                // The mirror is ours and read-only: a damaged one is rewritten, not an error.
                (Err(_), DialerPath::Mirror(_)) => Value::Empty,
                (Err(problem), DialerPath::LatestCall(key)) => {
                    return Err(bad(&format!("callHistory[latest].{key}"), problem))
                }
                (Err(problem), _) => return Err(bad(spec.key, problem)),
            };
            values.insert(spec.key.to_string(), value);
        }
        let updated_at = match raw.get("updatedAt") {
            None | Some(Json::Null) => None,
            Some(v) => match parse_value_kind(Kind::Date, v, zone) {
                Ok(Value::Date(DateValue::Instant(t))) => Some(t),
                _ => return Err(bad("updatedAt", format!("{v} is not a date and time"))),
            },
        };
        Ok(DialerContact {
            id,
            values,
            calls,
            updated_at,
            raw: raw.clone(),
        })
    }

    pub fn company_name(&self) -> &str {
        self.values
            .get("companyName")
            .and_then(Value::as_text)
            .unwrap_or("")
    }

    pub fn phone(&self) -> Option<&str> {
        self.values.get("phone").and_then(Value::as_text)
    }

    /// The page the sync linked this contact to (the `notion` mirror's
    /// `pageId`): it links a contact made from a page even when the page's
    /// Dialer ID could not be written.
    pub fn mirror_page_id(&self) -> Option<&str> {
        self.raw
            .get(MIRROR_KEY)
            .and_then(|m| m.get("pageId"))
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The `notion` mirror's archived flag: set when the page went to Notion's trash.
    pub fn is_archived_in_notion(&self) -> bool {
        self.raw
            .get(MIRROR_KEY)
            .and_then(|m| m.get("archived"))
            .and_then(Json::as_bool)
            .unwrap_or(false)
    }
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "true/false",
        Json::Number(_) => "a number",
        Json::String(_) => "text",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

fn call_time(
    call: &Map<String, Json>,
    zone: Tz,
) -> Result<Option<DateTime<Utc>>, (String, String)> {
    for key in CALL_TIME_KEYS {
        match call.get(*key) {
            None | Some(Json::Null) => continue,
            Some(v) => {
                return match parse_value_kind(Kind::Date, v, zone) {
                    Ok(Value::Date(DateValue::Instant(t))) => Ok(Some(t)),
                    Ok(Value::Date(DateValue::Day(d))) => Ok(Some(
                        Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")),
                    )),
                    Ok(_) => Ok(None),
                    Err(problem) => Err((key.to_string(), problem)),
                }
            }
        }
    }
    Ok(None)
}

/// The latest call's raw object: the one with the latest time, else the last one.
fn latest_call_json(raw: &Map<String, Json>, zone: Tz) -> Option<&Map<String, Json>> {
    let calls = raw.get("callHistory")?.as_array()?;
    let mut best: Option<(Option<DateTime<Utc>>, &Map<String, Json>)> = None;
    for call in calls.iter().filter_map(Json::as_object) {
        let at = call_time(call, zone).ok().flatten();
        if best.as_ref().is_none_or(|(best_at, _)| at >= *best_at) {
            best = Some((at, call));
        }
    }
    best.map(|(_, call)| call)
}

fn parse_call(item: &Json, zone: Tz) -> Result<CallRecord, (String, String)> {
    let Json::Object(call) = item else {
        return Err((
            "(call)".into(),
            format!("expected an object, found {}", json_kind(item)),
        ));
    };
    let at = call_time(call, zone)?;
    let text = |key: &str| -> Result<Option<String>, (String, String)> {
        match call.get(key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) if s.is_empty() => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(Json::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err((
                key.to_string(),
                format!("expected text, found {}", json_kind(other)),
            )),
        }
    };
    let flag = |key: &str| -> Result<Option<bool>, (String, String)> {
        match call.get(key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err((
                key.to_string(),
                format!("expected true or false, found {}", json_kind(other)),
            )),
        }
    };
    let duration = match call.get("duration") {
        None | Some(Json::Null) => None,
        Some(v) => match parse_value_kind(Kind::Seconds, v, zone) {
            Ok(Value::Number(n)) => Some(n),
            Ok(_) => None,
            Err(problem) => return Err(("duration".into(), problem)),
        },
    };
    let key = match call.get("id") {
        Some(Json::String(s)) if !s.is_empty() => format!("id:{s}"),
        Some(Json::Number(n)) => format!("id:{n}"),
        _ => match at {
            Some(t) => format!(
                "at:{}",
                t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ),
            // Neither id nor time: the call is what it says, apart from its
            // notes (typed later, they must not make it a new call).
            None => {
                let mut content = call.clone();
                content.remove("notes");
                format!(
                    "hash:{:016x}",
                    crate::value::stable_hash(Json::Object(content).to_string().as_bytes())
                )
            }
        },
    };
    Ok(CallRecord {
        key,
        at,
        outcome: text("outcome")?,
        duration,
        had_conversation: flag("hadConversation")?,
        had_triage: flag("hadTriage")?,
        objection: text("objection")?,
        notes: text("notes")?,
    })
}

/// Two calls with neither id nor time and the same content are two calls:
/// the second is `hash:..#2`, the third `#3` (the dialer only appends).
fn number_alike_calls(calls: &mut [CallRecord]) {
    let mut seen: std::collections::BTreeMap<String, usize> = Default::default();
    for c in calls.iter_mut().filter(|c| c.key.starts_with("hash:")) {
        let n = seen.entry(c.key.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            c.key = format!("{}#{n}", c.key);
        }
    }
}

/// The id of the call a contact made from a Notion page starts with: the
/// page's call fields (Outcome, Duration, ...) as one call, so the dialer
/// holds them and a later edit never empties them in Notion.
pub fn imported_call_id(page_id: &str) -> String {
    format!("notion-{page_id}")
}

/// On a contact being created: the latest-call fields of `updates` become
/// its one call (`imported_call_id`), timed at its `lastCall` if it has one.
pub fn add_imported_call(raw: &mut Map<String, Json>, updates: &FieldMap, call_id: &str) {
    let mut call = Map::new();
    for (key, value) in updates {
        let Some(spec) = crate::fields::field(key) else {
            continue;
        };
        if let (DialerPath::LatestCall(k), false) = (spec.dialer, value.is_empty()) {
            call.insert(k.to_string(), to_dialer_json(spec.kind, value));
        }
    }
    if call.is_empty() {
        return;
    }
    call.insert("id".into(), Json::String(call_id.to_string()));
    if let Some(at) = raw.get("lastCall").filter(|v| !v.is_null()) {
        call.insert("timestamp".into(), at.clone());
    }
    call.insert("source".into(), Json::String("notion".into()));
    let calls = raw
        .entry("callHistory")
        .or_insert_with(|| Json::Array(Vec::new()));
    if let Json::Array(items) = calls {
        items.push(Json::Object(call));
    }
}

fn parse_value(spec: &FieldSpec, json: &Json, zone: Tz) -> Result<Value, String> {
    parse_value_kind(spec.kind, json, zone)
}

/// A dialer JSON value as the canonical value of a field of `kind`.
pub fn parse_value_kind(kind: Kind, json: &Json, zone: Tz) -> Result<Value, String> {
    match (kind, json) {
        (_, Json::Null) => Ok(Value::Empty),
        (Kind::Text | Kind::Phone, Json::String(s)) => Ok(Value::text(s.clone())),
        (Kind::Text | Kind::Phone, Json::Number(n)) => Ok(Value::text(n.to_string())),
        (Kind::Integer, Json::Number(n)) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x >= 0.0 && x <= MAX_DIALER_ID as f64 => {
                Ok(Value::Number(x))
            }
            _ => Err(format!("{n} is not a whole number of zero or more")),
        },
        (Kind::Seconds, Json::Number(n)) => match n.as_f64() {
            Some(x) if x >= 0.0 => Ok(Value::Number(x)),
            _ => Err(format!(
                "{n} is negative: a duration is zero or more seconds"
            )),
        },
        (Kind::Date, Json::String(s)) if s.is_empty() => Ok(Value::Empty),
        (Kind::Date, Json::String(s)) => parse_date(s, zone)
            .map(Value::Date)
            .map_err(|e| e.to_string()),
        // JavaScript's Date.now(): milliseconds since 1970.
        (Kind::Date, Json::Number(n)) => n
            .as_i64()
            .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
            .map(|t| Value::Date(DateValue::Instant(t)))
            .ok_or_else(|| format!("{n} is not a date")),
        (Kind::Bool, Json::Bool(b)) => Ok(Value::Bool(*b)),
        (Kind::Names, Json::Array(items)) => {
            let names: Option<Vec<String>> = items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect();
            match names {
                Some(n) if n.is_empty() => Ok(Value::Empty),
                Some(n) => Ok(Value::Names(n)),
                None => Err("expected a list of names".to_string()),
            }
        }
        (kind, other) => Err(format!(
            "expected {}, found {}",
            kind_name(kind),
            json_kind(other)
        )),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "text",
        Kind::Phone => "a phone number as text",
        Kind::Integer => "a whole number",
        Kind::Seconds => "a number of seconds",
        Kind::Date => "a date (ISO 8601)",
        Kind::Bool => "true or false",
        Kind::Names => "a list of names",
    }
}

/// A canonical value as the dialer stores it. Empty text becomes `""` (the
/// dialer's UI reads strings), other empty values `null`.
pub fn to_dialer_json(kind: Kind, value: &Value) -> Json {
    match value {
        Value::Empty if matches!(kind, Kind::Text | Kind::Phone) => Json::String(String::new()),
        Value::Empty => Json::Null,
        Value::Text(s) => Json::String(s.clone()),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Json::from(*n as i64),
        Value::Number(n) => serde_json::Number::from_f64(*n)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Value::Bool(b) => Json::Bool(*b),
        Value::Date(d) => Json::String(format_for_dialer(d)),
        Value::Names(names) => Json::Array(names.iter().cloned().map(Json::String).collect()),
    }
}

/// The value a field would read back as after `value` is written to the
/// dialer: what "the dialer already has it" means.
pub fn dialer_projection(kind: Kind, value: &Value, zone: Tz) -> Value {
    parse_value_kind(kind, &to_dialer_json(kind, value), zone).unwrap_or(Value::Empty)
}

/// Writes `updates` into a stored contact object: top-level fields in place,
/// Notion's own fields into the `notion` mirror; call-history fields are the
/// dialer's own and are never written. Keys not in the table are untouched.
pub fn write_fields(raw: &mut Map<String, Json>, updates: &FieldMap) {
    for (key, value) in updates {
        let Some(spec) = crate::fields::field(key) else {
            continue;
        };
        match spec.dialer {
            DialerPath::Top(k) => {
                raw.insert(k.to_string(), to_dialer_json(spec.kind, value));
            }
            DialerPath::Mirror(k) => {
                let mirror = raw
                    .entry(MIRROR_KEY)
                    .or_insert_with(|| Json::Object(Map::new()));
                if !mirror.is_object() {
                    *mirror = Json::Object(Map::new());
                }
                if let Json::Object(m) = mirror {
                    let json = match value {
                        Value::Empty => Json::Null,
                        v => to_dialer_json(spec.kind, v),
                    };
                    m.insert(k.to_string(), json);
                }
            }
            DialerPath::LatestCall(_) => {}
        }
    }
}

/// Sets the mirror's bookkeeping keys (page id, URL, archived flag).
pub fn write_mirror_meta(
    raw: &mut Map<String, Json>,
    page_id: &str,
    url: Option<&str>,
    archived: bool,
) {
    let mirror = raw
        .entry(MIRROR_KEY)
        .or_insert_with(|| Json::Object(Map::new()));
    if !mirror.is_object() {
        *mirror = Json::Object(Map::new());
    }
    if let Json::Object(m) = mirror {
        m.insert("pageId".into(), Json::String(page_id.to_string()));
        if let Some(url) = url {
            m.insert("url".into(), Json::String(url.to_string()));
        }
        m.insert("archived".into(), Json::Bool(archived));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;
    use serde_json::json;

    fn parse(v: Json) -> Result<DialerContact, ContactError> {
        DialerContact::parse(&v, "key", New_York)
    }

    #[test]
    fn a_full_contact_parses() {
        let c = parse(json!({
            "id": "1001", "companyName": "Acme Corp", "phone": "555-1111", "website": "https://acme.test",
            "totalDials": 3, "lastCall": "2026-09-15T14:00:00.000Z", "nextFollowUp": "2026-09-20",
            "currentOkCode": "OK-3", "createdAt": "2026-01-02T03:04:05.000Z",
            "callHistory": [
                {"timestamp": "2026-09-15T14:00:00.000Z", "outcome": "DM", "duration": 185, "hadConversation": true, "hadTriage": false, "objection": "price", "notes": "call back"},
                {"timestamp": "2026-09-01T10:00:00.000Z", "outcome": "NA", "duration": 0}
            ],
            "favouriteColour": "teal"
        }))
        .unwrap();
        assert_eq!(c.id.get(), 1001);
        assert_eq!(c.company_name(), "Acme Corp");
        assert_eq!(
            c.values["outcome"],
            Value::Text("DM".into()),
            "latest call by time, not position"
        );
        assert_eq!(c.values["duration"], Value::Number(185.0));
        assert_eq!(c.values["hadTriage"], Value::Bool(false));
        assert_eq!(c.calls.len(), 2);
        assert!(c.calls[0].at < c.calls[1].at, "calls are kept oldest first");
        assert_eq!(c.raw["favouriteColour"], "teal");
    }

    #[test]
    fn ids_must_be_whole_numbers_notion_can_hold() {
        assert!(parse(json!({"id": 7})).is_ok());
        for bad in [
            json!("abc"),
            json!("12.5"),
            json!(-3),
            json!("9007199254740993"),
            json!(null),
            json!("0"),
        ] {
            let err = parse(json!({"id": bad.clone()})).unwrap_err();
            assert_eq!(err.field, "id", "{bad}");
            assert_eq!(err.contact, "key");
        }
    }

    #[test]
    fn bad_values_name_the_contact_and_the_field() {
        let err = parse(json!({"id": "5", "lastCall": "yesterday"})).unwrap_err();
        assert_eq!(
            (err.contact.as_str(), err.field.as_str()),
            ("5", "lastCall")
        );
        assert!(err.to_string().contains("ISO 8601"));
        let err = parse(json!({"id": "5", "callHistory": [{"duration": -4}]})).unwrap_err();
        assert_eq!(err.field, "callHistory[0].duration");
        let err = parse(json!({"id": "5", "totalDials": "three"})).unwrap_err();
        assert_eq!(err.field, "totalDials");
        let err = parse(json!({"id": "5", "callHistory": "lots"})).unwrap_err();
        assert_eq!(err.field, "callHistory");
        assert!(parse(json!([1, 2])).is_err());
    }

    #[test]
    fn call_keys_are_stable() {
        let a = parse(json!({"id": "5", "callHistory": [{"outcome": "DM"}, {"id": "c9"}, {"timestamp": "2026-09-15T14:00:00Z"}]})).unwrap();
        let b = parse(json!({"id": "5", "callHistory": [{"outcome": "DM"}, {"id": "c9"}, {"timestamp": "2026-09-15T14:00:00Z"}]})).unwrap();
        assert_eq!(a.calls, b.calls);
        let keys: Vec<_> = a.calls.iter().map(|c| c.key.as_str()).collect();
        assert!(
            keys.contains(&"id:c9") && keys.contains(&"at:2026-09-15T14:00:00.000Z"),
            "{keys:?}"
        );
    }

    #[test]
    fn a_call_without_id_or_time_keeps_its_key_when_notes_are_typed() {
        let before =
            parse(json!({"id": "5", "callHistory": [{"outcome": "DM"}, {"outcome": "DM"}]}))
                .unwrap();
        let after = parse(json!({"id": "5", "callHistory": [{"outcome": "DM", "notes": "typed later"}, {"outcome": "DM"}]})).unwrap();
        let keys = |c: &DialerContact| c.calls.iter().map(|c| c.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&before), keys(&after));
        assert_ne!(
            keys(&before)[0],
            keys(&before)[1],
            "two alike calls are two calls"
        );
        let edited =
            parse(json!({"id": "5", "callHistory": [{"outcome": "GK"}, {"outcome": "DM"}]}))
                .unwrap();
        assert_ne!(
            keys(&edited)[0],
            keys(&before)[0],
            "its outcome is part of what it is"
        );
    }

    #[test]
    fn a_contact_made_from_a_page_takes_its_call_fields_as_one_call() {
        let mut raw = Map::new();
        raw.insert("lastCall".into(), json!("2026-09-15T14:00:00.000Z"));
        let mut updates = FieldMap::new();
        updates.insert("outcome".into(), Value::Text("DM".into()));
        updates.insert("duration".into(), Value::Number(95.0));
        updates.insert("companyName".into(), Value::Text("Acme".into()));
        add_imported_call(&mut raw, &updates, &imported_call_id("p1"));
        raw.insert("id".into(), json!("7"));
        let c = parse(Json::Object(raw)).unwrap();
        assert_eq!(c.values["outcome"], Value::Text("DM".into()));
        assert_eq!(c.values["duration"], Value::Number(95.0));
        assert_eq!(c.calls[0].key, "id:notion-p1");
        assert!(c.calls[0].at.is_some());
    }

    #[test]
    fn writes_touch_only_mapped_keys_and_the_mirror() {
        let mut c = parse(json!({"id": "5", "phone": "1", "secret": {"a": 1}, "callHistory": [{"outcome": "DM"}]})).unwrap();
        let mut updates = FieldMap::new();
        updates.insert("phone".into(), Value::text("555-2222"));
        updates.insert("website".into(), Value::Empty);
        updates.insert("notes".into(), Value::text("Met at the fair"));
        updates.insert("outcome".into(), Value::text("GK"));
        write_fields(&mut c.raw, &updates);
        write_mirror_meta(
            &mut c.raw,
            "page-1",
            Some("https://notion.so/page-1"),
            false,
        );
        assert_eq!(c.raw["phone"], "555-2222");
        assert_eq!(c.raw["website"], "");
        assert_eq!(c.raw["secret"], json!({"a": 1}));
        assert_eq!(
            c.raw["callHistory"],
            json!([{"outcome": "DM"}]),
            "call data is the dialer's own"
        );
        assert_eq!(c.raw["notion"]["notes"], "Met at the fair");
        assert_eq!(c.raw["notion"]["pageId"], "page-1");
        let again = DialerContact::parse(&Json::Object(c.raw.clone()), "k", New_York).unwrap();
        assert_eq!(again.values["notes"], Value::text("Met at the fair"));
    }

    #[test]
    fn odd_characters_survive() {
        let name = "Zoë & Søn \"Ltd\", 株式会社 🚀";
        let c = parse(json!({"id": "5", "companyName": name})).unwrap();
        assert_eq!(c.company_name(), name);
    }
}
