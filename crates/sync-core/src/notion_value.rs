//! Notion property values to canonical values and back.
//!
//! Reads accept Notion's read shapes (which carry more than writes); writes
//! produce Notion's write shapes and enforce its request limits before
//! anything is sent, so a too-long note is a clear error here rather than a
//! 400 halfway through a run.

use chrono::DateTime;
use chrono_tz::Tz;
use serde_json::{json, Value as Json};

use crate::fields::PropKind;
use crate::time::{notion_date, read_notion_date};
use crate::value::{DateValue, Value};

/// Notion's limits (notion.md, "Size limits").
pub const MAX_TEXT_CHUNK: usize = 2000;
pub const MAX_ARRAY: usize = 100;
pub const MAX_PHONE: usize = 200;
pub const MAX_URL: usize = 2000;
pub const MAX_SELECT_NAME: usize = 100;

/// Notion forbids commas in select option names. A comma is written as
/// U+201A (‚, which looks the same) and read back as a comma, so names such
/// as "Acme, Inc" round-trip instead of being rejected or changed.
const COMMA_STAND_IN: char = '\u{201A}';

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("Notion property '{property}': {problem}")]
pub struct WriteError {
    pub property: String,
    pub problem: String,
}

/// A property value from a page (read shape) as a canonical value.
pub fn read_property(kind: PropKind, prop: &Json, zone: Tz) -> Value {
    let inner = prop.get(kind.notion_name()).unwrap_or(&Json::Null);
    match kind {
        PropKind::Title | PropKind::RichText => Value::text(plain_text(inner)),
        PropKind::Number => inner.as_f64().map(Value::Number).unwrap_or(Value::Empty),
        PropKind::PhoneNumber | PropKind::Url | PropKind::Email => inner
            .as_str()
            .map(|s| Value::text(s.to_string()))
            .unwrap_or(Value::Empty),
        PropKind::Select | PropKind::Status => inner
            .get("name")
            .and_then(Json::as_str)
            .map(|s| Value::text(s.replace(COMMA_STAND_IN, ",")))
            .unwrap_or(Value::Empty),
        PropKind::MultiSelect => names(inner, |item| {
            item.get("name")
                .and_then(Json::as_str)
                .map(|s| s.replace(COMMA_STAND_IN, ","))
        }),
        PropKind::People => names(inner, |item| {
            item.get("name")
                .and_then(Json::as_str)
                .or_else(|| item.get("id").and_then(Json::as_str))
                .map(str::to_string)
        }),
        PropKind::Date => match read_notion_date(inner, zone) {
            Ok(Some(d)) => Value::Date(d),
            _ => Value::Empty,
        },
        PropKind::Checkbox => Value::Bool(inner.as_bool().unwrap_or(false)),
        PropKind::CreatedTime | PropKind::LastEditedTime => inner
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| Value::Date(DateValue::Instant(t.to_utc())))
            .unwrap_or(Value::Empty),
        PropKind::Other => Value::Empty,
    }
}

/// The text of a rich-text array: every piece's `plain_text` (or `text.content`).
pub fn plain_text(items: &Json) -> String {
    let Some(items) = items.as_array() else {
        return String::new();
    };
    items
        .iter()
        .filter_map(|item| {
            item.get("plain_text").and_then(Json::as_str).or_else(|| {
                item.get("text")
                    .and_then(|t| t.get("content"))
                    .and_then(Json::as_str)
            })
        })
        .collect()
}

fn names(items: &Json, name: impl Fn(&Json) -> Option<String>) -> Value {
    let list: Vec<String> = items
        .as_array()
        .map(|a| a.iter().filter_map(&name).collect())
        .unwrap_or_default();
    if list.is_empty() {
        Value::Empty
    } else {
        Value::Names(list)
    }
}

/// A canonical value in Notion's write shape for a property of `kind`.
pub fn write_property(
    property: &str,
    kind: PropKind,
    value: &Value,
    zone: Tz,
) -> Result<Json, WriteError> {
    let bad = |problem: String| WriteError {
        property: property.to_string(),
        problem,
    };
    let text = match value {
        Value::Text(s) => Some(s.as_str()),
        _ => None,
    };
    let mismatch = || {
        bad(format!(
            "cannot hold {} in a {} property",
            value.display(),
            kind.ui_name()
        ))
    };
    Ok(match kind {
        PropKind::Title | PropKind::RichText => {
            let pieces = match value {
                Value::Empty => Json::Array(vec![]),
                Value::Text(s) => rich_text(s).map_err(bad)?,
                Value::Number(_) | Value::Bool(_) | Value::Date(_) | Value::Names(_) => {
                    let shown = match value {
                        Value::Date(d) => d.to_string(),
                        Value::Names(n) => n.join(", "),
                        other => other.display(),
                    };
                    rich_text(&shown).map_err(bad)?
                }
            };
            json!({ kind.notion_name(): pieces })
        }
        PropKind::Number => match value {
            Value::Empty => json!({ "number": null }),
            // Whole numbers go out as integers (185, not 185.0), as Notion gives them back.
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
                json!({ "number": *n as i64 })
            }
            Value::Number(n) => json!({ "number": n }),
            _ => return Err(mismatch()),
        },
        PropKind::PhoneNumber | PropKind::Url | PropKind::Email => {
            let limit = if kind == PropKind::Url {
                MAX_URL
            } else {
                MAX_PHONE
            };
            match (value, text) {
                (Value::Empty, _) => json!({ kind.notion_name(): null }),
                (_, Some(s)) if utf16_len(s) > limit => {
                    return Err(bad(format!(
                        "is {} characters; Notion takes at most {limit}",
                        utf16_len(s)
                    )))
                }
                (_, Some(s)) => json!({ kind.notion_name(): s }),
                _ => return Err(mismatch()),
            }
        }
        PropKind::Select => match (value, text) {
            (Value::Empty, _) => json!({ "select": null }),
            (_, Some(s)) => json!({ "select": { "name": select_name(s).map_err(bad)? } }),
            _ => return Err(mismatch()),
        },
        PropKind::MultiSelect => match value {
            Value::Empty => json!({ "multi_select": [] }),
            Value::Names(list) if list.len() > MAX_ARRAY => {
                return Err(bad(format!(
                    "has {} options; Notion takes at most {MAX_ARRAY}",
                    list.len()
                )))
            }
            Value::Names(list) => {
                let items: Result<Vec<Json>, String> = list
                    .iter()
                    .map(|n| select_name(n).map(|name| json!({ "name": name })))
                    .collect();
                json!({ "multi_select": items.map_err(bad)? })
            }
            _ => return Err(mismatch()),
        },
        PropKind::Date => match value {
            Value::Empty => json!({ "date": null }),
            Value::Date(d) => json!({ "date": notion_date(d, zone) }),
            _ => return Err(mismatch()),
        },
        PropKind::Checkbox => match value {
            Value::Empty => json!({ "checkbox": false }),
            Value::Bool(b) => json!({ "checkbox": b }),
            _ => return Err(mismatch()),
        },
        PropKind::Status
        | PropKind::People
        | PropKind::CreatedTime
        | PropKind::LastEditedTime
        | PropKind::Other => {
            return Err(bad(format!(
                "{} properties are not written by the sync",
                kind.ui_name()
            )))
        }
    })
}

/// What Notion will hold (and give back) after `value` is written: the value
/// to compare with the page's current one to decide whether a write is needed.
pub fn notion_projection(kind: PropKind, value: &Value, zone: Tz) -> Value {
    match write_property("projection", kind, value, zone) {
        // Reads take `text.content` where `plain_text` is missing, so a write
        // shape reads back as Notion would give it.
        Ok(written) => read_property(kind, &written, zone),
        Err(_) => value.clone(),
    }
}

/// Text as rich-text pieces of at most 2000 characters (Notion counts
/// UTF-16 units, as JavaScript does), at most 100 pieces.
pub fn rich_text(s: &str) -> Result<Json, String> {
    let pieces = split_text(s, MAX_TEXT_CHUNK);
    if pieces.len() > MAX_ARRAY {
        return Err(format!(
            "is {} characters; one Notion text property holds at most {} ({} pieces of {}). Shorten it, or keep long notes in the page body",
            utf16_len(s),
            MAX_TEXT_CHUNK * MAX_ARRAY,
            MAX_ARRAY,
            MAX_TEXT_CHUNK
        ));
    }
    Ok(Json::Array(
        pieces
            .into_iter()
            .map(|p| json!({ "type": "text", "text": { "content": p } }))
            .collect(),
    ))
}

/// Splits on character boundaries into pieces of at most `max` UTF-16 units,
/// never splitting a character (an emoji is two units and stays whole).
pub fn split_text(s: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut units = 0;
    for ch in s.chars() {
        let w = ch.len_utf16();
        if units + w > max {
            pieces.push(std::mem::take(&mut current));
            units = 0;
        }
        current.push(ch);
        units += w;
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

pub fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn select_name(s: &str) -> Result<String, String> {
    let name = s.replace(',', &COMMA_STAND_IN.to_string());
    if utf16_len(&name) > MAX_SELECT_NAME {
        return Err(format!(
            "the option {:?} is {} characters; Notion select options hold at most {MAX_SELECT_NAME}",
            s,
            utf16_len(s)
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    fn round_trip(kind: PropKind, v: Value) -> Value {
        let written = write_property("P", kind, &v, New_York).unwrap();
        read_property(kind, &written, New_York)
    }

    #[test]
    fn each_type_round_trips() {
        let day = Value::Date(DateValue::Day(
            chrono::NaiveDate::from_ymd_opt(2026, 9, 15).unwrap(),
        ));
        let cases = [
            (PropKind::Title, Value::text("Acme Corp")),
            (PropKind::RichText, Value::text("12 Main St\nSpringfield")),
            (PropKind::Number, Value::Number(1001.0)),
            (PropKind::PhoneNumber, Value::text("+1 (415) 555-0100")),
            (PropKind::Url, Value::text("https://acme.test/a?b=c")),
            (PropKind::Select, Value::text("DM")),
            (PropKind::Select, Value::text("Acme, Inc")),
            (
                PropKind::MultiSelect,
                Value::Names(vec!["Hot".into(), "Q3, maybe".into()]),
            ),
            (PropKind::Date, day),
            (PropKind::Checkbox, Value::Bool(true)),
        ];
        for (kind, v) in cases {
            assert_eq!(round_trip(kind, v.clone()), v, "{kind:?}");
        }
    }

    #[test]
    fn commas_never_reach_a_select_name() {
        let w = write_property(
            "Industry",
            PropKind::Select,
            &Value::text("Oil, Gas"),
            New_York,
        )
        .unwrap();
        assert!(!w["select"]["name"].as_str().unwrap().contains(','));
    }

    #[test]
    fn clearing_uses_notions_clear_shapes() {
        let clear = |k| write_property("P", k, &Value::Empty, New_York).unwrap();
        assert_eq!(clear(PropKind::RichText), json!({"rich_text": []}));
        assert_eq!(clear(PropKind::Number), json!({"number": null}));
        assert_eq!(clear(PropKind::PhoneNumber), json!({"phone_number": null}));
        assert_eq!(clear(PropKind::Url), json!({"url": null}));
        assert_eq!(clear(PropKind::Select), json!({"select": null}));
        assert_eq!(clear(PropKind::MultiSelect), json!({"multi_select": []}));
        assert_eq!(clear(PropKind::Date), json!({"date": null}));
        assert_eq!(clear(PropKind::Checkbox), json!({"checkbox": false}));
    }

    #[test]
    fn long_text_is_split_and_too_long_text_is_refused() {
        let note = "x".repeat(4500);
        let w = write_property(
            "Notes",
            PropKind::RichText,
            &Value::text(note.clone()),
            New_York,
        )
        .unwrap();
        let pieces = w["rich_text"].as_array().unwrap();
        assert_eq!(pieces.len(), 3);
        assert!(pieces
            .iter()
            .all(|p| p["text"]["content"].as_str().unwrap().len() <= 2000));
        assert_eq!(
            read_property(PropKind::RichText, &w, New_York),
            Value::text(note)
        );
        // Emoji are two UTF-16 units: 1000 of them fill one piece exactly, and none is cut.
        let emoji = "🚀".repeat(1001);
        assert_eq!(split_text(&emoji, 2000).len(), 2);
        let err = write_property(
            "Notes",
            PropKind::RichText,
            &Value::text("y".repeat(200_001)),
            New_York,
        )
        .unwrap_err();
        assert!(err.to_string().contains("at most 200000"), "{err}");
        assert!(write_property(
            "Notes",
            PropKind::RichText,
            &Value::text("y".repeat(200_000)),
            New_York
        )
        .is_ok());
    }

    #[test]
    fn limits_are_checked_before_sending() {
        assert!(write_property(
            "Phone",
            PropKind::PhoneNumber,
            &Value::text("1".repeat(201)),
            New_York
        )
        .is_err());
        assert!(write_property(
            "Web",
            PropKind::Url,
            &Value::text("h".repeat(2001)),
            New_York
        )
        .is_err());
        assert!(write_property(
            "Tags",
            PropKind::MultiSelect,
            &Value::Names(vec!["t".into(); 101]),
            New_York
        )
        .is_err());
        assert!(write_property("Made", PropKind::CreatedTime, &Value::Empty, New_York).is_err());
        assert!(write_property("Total", PropKind::Number, &Value::text("3"), New_York).is_err());
    }

    #[test]
    fn reads_of_real_shapes() {
        let title = json!({"id": "title", "type": "title", "title": [
            {"type": "text", "text": {"content": "Acme ", "link": null}, "plain_text": "Acme ", "annotations": {}, "href": null},
            {"type": "text", "text": {"content": "Corp", "link": null}, "plain_text": "Corp", "annotations": {}, "href": null}
        ]});
        assert_eq!(
            read_property(PropKind::Title, &title, New_York),
            Value::text("Acme Corp")
        );
        let people =
            json!({"type": "people", "people": [{"object": "user", "id": "u1", "name": "Dana"}]});
        assert_eq!(
            read_property(PropKind::People, &people, New_York),
            Value::Names(vec!["Dana".into()])
        );
        let unset = json!({"type": "checkbox", "checkbox": false});
        assert_eq!(
            read_property(PropKind::Checkbox, &unset, New_York),
            Value::Bool(false)
        );
        assert_eq!(
            notion_projection(PropKind::Checkbox, &Value::Empty, New_York),
            Value::Bool(false)
        );
    }
}
