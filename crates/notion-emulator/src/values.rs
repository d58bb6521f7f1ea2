//! Property values: validating Notion's write shape and turning it into the
//! read shape we store. Pure functions over the schema, so the limits and
//! messages are testable without HTTP.

use chrono_tz::Tz;
use serde_json::{json, Value};

use crate::dates::{parse_written, resolve, DateRuleError};
use crate::error::{show, ApiError};
use crate::rich_text::rich_text;
use crate::schema::{user_object, PropertySchema, KNOWN_TYPES, READ_ONLY_TYPES};

pub(crate) const MAX_ARRAY: usize = 100;
pub(crate) const MAX_URL: usize = 2000;
pub(crate) const MAX_PHONE: usize = 200;
pub(crate) const MAX_EMAIL: usize = 200;
const MAX_OPTION_NAME: usize = 100;

/// Notion measures strings as JavaScript does (UTF-16 code units).
pub(crate) fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Looks a property up by name first, then by id (the API accepts both).
pub(crate) fn find_property(schema: &[PropertySchema], key: &str) -> Option<usize> {
    schema
        .iter()
        .position(|p| p.name == key)
        .or_else(|| schema.iter().position(|p| p.id == key))
}

/// The stored value of a property nobody has set.
pub(crate) fn empty_value(type_name: &str) -> Value {
    match type_name {
        "title" | "rich_text" | "multi_select" | "people" | "files" | "relation" => json!([]),
        "checkbox" => json!(false),
        _ => Value::Null,
    }
}

/// Validates a `properties` write object against the schema. Returns the new
/// stored values keyed by property id. New select options are added to
/// `schema`, so callers pass a copy and commit it only on success.
pub(crate) fn validate_property_writes(
    schema: &mut [PropertySchema],
    properties: &Value,
) -> Result<Vec<(String, Value)>, ApiError> {
    let Some(props) = properties.as_object() else {
        return Err(ApiError::body_validation(format!(
            "body.properties should be an object, instead was `{}`",
            show(properties)
        )));
    };
    let mut out = Vec::with_capacity(props.len());
    for (key, value) in props {
        let idx = find_property(schema, key)
            .ok_or_else(|| ApiError::validation(format!("{key} is not a property that exists.")))?;
        let prop = &mut schema[idx];
        let stored = validate_one(prop, value)?;
        out.push((prop.id.clone(), stored));
    }
    Ok(out)
}

fn validate_one(prop: &mut PropertySchema, value: &Value) -> Result<Value, ApiError> {
    let name = prop.name.clone();
    let type_name = prop.type_name.clone();
    let path = format!("body.properties.{name}");
    if READ_ONLY_TYPES.contains(&type_name.as_str()) {
        return Err(ApiError::validation(format!(
            "{name} is a {type_name} property, which is read-only and cannot be set through the API."
        )));
    }
    let Some(obj) = value.as_object() else {
        return Err(ApiError::body_validation(format!(
            "{path} should be an object, instead was `{}`",
            show(value)
        )));
    };
    let declared = obj.get("type").and_then(Value::as_str);
    let inner = match obj.get(&type_name) {
        Some(v) if declared.is_none_or(|d| d == type_name) => v,
        _ => {
            let given = declared.or_else(|| {
                obj.keys()
                    .map(String::as_str)
                    .find(|k| KNOWN_TYPES.contains(k))
            });
            return Err(match given {
                Some(_) => ApiError::validation(format!("{name} is expected to be {type_name}.")),
                None => ApiError::body_validation(format!(
                    "{path}.{type_name} should be defined, instead was `undefined`"
                )),
            });
        }
    };
    let path = format!("{path}.{type_name}");
    match type_name.as_str() {
        "title" | "rich_text" => rich_text(&path, inner),
        "number" => match inner {
            Value::Null => Ok(Value::Null),
            Value::Number(_) => Ok(inner.clone()),
            other => Err(ApiError::body_validation(format!(
                "{path} should be a number or `null`, instead was `{}`",
                show(other)
            ))),
        },
        "phone_number" => bounded_string(&path, inner, MAX_PHONE),
        "url" => bounded_string(&path, inner, MAX_URL),
        "email" => bounded_string(&path, inner, MAX_EMAIL),
        "checkbox" => match inner {
            Value::Bool(_) => Ok(inner.clone()),
            other => Err(ApiError::body_validation(format!(
                "{path} should be a boolean, instead was `{}`",
                show(other)
            ))),
        },
        "select" | "status" => match inner {
            Value::Null => Ok(Value::Null),
            other => select_option(prop, &path, other),
        },
        "multi_select" => {
            let items = bounded_array(&path, inner)?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let chosen = select_option(prop, &format!("{path}[{i}]"), item)?;
                if !out.iter().any(|o: &Value| o["id"] == chosen["id"]) {
                    out.push(chosen);
                }
            }
            Ok(Value::Array(out))
        }
        "date" => match inner {
            Value::Null => Ok(Value::Null),
            other => date(&path, other),
        },
        "people" => {
            let items = bounded_array(&path, inner)?;
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let id = item.get("id").and_then(Value::as_str).and_then(crate::ids::normalize_id);
                    id.as_deref().and_then(user_object).ok_or_else(|| {
                        ApiError::body_validation(format!(
                            "{path}[{i}].id should be a valid uuid of a user in this workspace, instead was `{}`",
                            show(item.get("id").unwrap_or(&Value::Null))
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        other => Err(ApiError::validation(format!(
            "{name}: writing {other} properties is not supported by the emulator."
        ))),
    }
}

pub(crate) fn bounded_array<'v>(path: &str, v: &'v Value) -> Result<&'v Vec<Value>, ApiError> {
    let items = v.as_array().ok_or_else(|| {
        ApiError::body_validation(format!(
            "{path} should be an array, instead was `{}`",
            show(v)
        ))
    })?;
    if items.len() > MAX_ARRAY {
        return Err(ApiError::too_long(path, MAX_ARRAY, items.len()));
    }
    Ok(items)
}

fn bounded_string(path: &str, v: &Value, max: usize) -> Result<Value, ApiError> {
    match v {
        Value::Null => Ok(Value::Null),
        Value::String(s) if js_len(s) > max => Err(ApiError::too_long(path, max, js_len(s))),
        Value::String(_) => Ok(v.clone()),
        other => Err(ApiError::body_validation(format!(
            "{path} should be a string or `null`, instead was `{}`",
            show(other)
        ))),
    }
}

fn select_option(prop: &mut PropertySchema, path: &str, v: &Value) -> Result<Value, ApiError> {
    let id = v.get("id").and_then(Value::as_str);
    let name = v.get("name").and_then(Value::as_str);
    if id.is_none() && name.is_none() {
        return Err(ApiError::body_validation(format!(
            "{path}.name should be defined, instead was `undefined`"
        )));
    }
    if let Some(n) = name {
        if n.contains(',') {
            return Err(ApiError::validation(format!(
                "Invalid select option, commas not allowed: {n}"
            )));
        }
        if js_len(n) > MAX_OPTION_NAME {
            return Err(ApiError::too_long(
                &format!("{path}.name"),
                MAX_OPTION_NAME,
                js_len(n),
            ));
        }
    }
    prop.resolve_option(id, name).ok_or_else(|| {
        ApiError::validation(format!(
            "Could not find option with id {} for property {}.",
            id.unwrap_or_default(),
            prop.name
        ))
    })
}

/// Validates a date write and returns Notion's read shape: `time_zone` is
/// applied to `start`/`end` and rendered as their UTC offset, and the read
/// answers `time_zone: null` (see [`crate::dates`]).
fn date(path: &str, v: &Value) -> Result<Value, ApiError> {
    let obj = v.as_object().ok_or_else(|| {
        ApiError::body_validation(format!(
            "{path} should be an object or `null`, instead was `{}`",
            show(v)
        ))
    })?;
    let zone = match obj.get("time_zone") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.parse::<Tz>().map_err(|_| {
            ApiError::body_validation(format!(
                "{path}.time_zone should be an IANA time zone name, instead was `{}`",
                show(&json!(name))
            ))
        })?),
        Some(other) => {
            return Err(ApiError::body_validation(format!(
                "{path}.time_zone should be a string or `null`, instead was `{}`",
                show(other)
            )))
        }
    };
    let parse = |key: &str, required: bool| -> Result<Value, ApiError> {
        let invalid = |shown: String| {
            ApiError::body_validation(format!(
                "{path}.{key} should be a valid ISO 8601 date string, instead was `{shown}`"
            ))
        };
        let raw = match obj.get(key) {
            None | Some(Value::Null) if !required => return Ok(Value::Null),
            Some(Value::String(s)) => s,
            other => {
                return Err(invalid(
                    other.map(show).unwrap_or_else(|| "undefined".into()),
                ))
            }
        };
        let written = parse_written(raw).ok_or_else(|| invalid(show(&json!(raw))))?;
        let stored = resolve(written, zone).map_err(|rule| {
            let needs = match rule {
                DateRuleError::OffsetWithTimeZone => "a date-time without a UTC offset",
                DateRuleError::DayWithTimeZone => "a date-time, not a date",
            };
            ApiError::body_validation(format!(
                "{path}.{key} should be {needs} when {path}.time_zone is set, instead was `{}`",
                show(&json!(raw))
            ))
        })?;
        Ok(json!(stored.render()))
    };
    let start = parse("start", true)?;
    let end = parse("end", false)?;
    Ok(json!({"start": start, "end": end, "time_zone": null}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::default_schema;

    fn write(props: Value) -> Result<Vec<(String, Value)>, ApiError> {
        validate_property_writes(&mut default_schema(), &props)
    }

    #[test]
    fn phone_limit_uses_notions_message() {
        let err = write(json!({"Phone": {"phone_number": "1".repeat(201)}})).unwrap_err();
        assert_eq!(
            err.message,
            "body failed validation: body.properties.Phone.phone_number.length should be ≤ `200`, instead was `201`."
        );
    }

    #[test]
    fn text_length_counts_utf16_units() {
        assert!(
            write(json!({"Notes": {"rich_text": [{"text": {"content": "é".repeat(2000)}}]}}))
                .is_ok()
        );
        assert!(
            write(json!({"Notes": {"rich_text": [{"text": {"content": "😀".repeat(1001)}}]}}))
                .is_err()
        );
    }

    #[test]
    fn new_select_names_become_options() {
        let mut schema = default_schema();
        let out = validate_property_writes(
            &mut schema,
            &json!({"Industry": {"select": {"name": "Mining"}}}),
        )
        .unwrap();
        assert_eq!(out[0].1["name"], "Mining");
        let industry = schema.iter().find(|p| p.name == "Industry").unwrap();
        assert!(industry.options().iter().any(|o| o["name"] == "Mining"));
    }

    #[test]
    fn dates_with_time_zone_read_back_as_offsets() {
        let out = write(json!({"Last Call": {"date": {
            "start": "2026-09-15T09:00:00", "end": "2026-09-15T09:30:00",
            "time_zone": "America/Los_Angeles"
        }}}))
        .unwrap();
        assert_eq!(
            out[0].1,
            json!({"start": "2026-09-15T09:00:00.000-07:00", "end": "2026-09-15T09:30:00.000-07:00", "time_zone": null})
        );
    }

    #[test]
    fn time_zone_rules_are_validation_errors() {
        let offset = write(json!({"Last Call": {"date": {
            "start": "2026-09-15T09:00:00-07:00", "time_zone": "America/Los_Angeles"
        }}}))
        .unwrap_err();
        assert_eq!(offset.code, "validation_error");
        assert!(
            offset
                .message
                .contains("body.properties.Last Call.date.start"),
            "{}",
            offset.message
        );
        let day = write(
            json!({"Last Call": {"date": {"start": "2026-09-15", "time_zone": "Europe/Berlin"}}}),
        )
        .unwrap_err();
        assert!(day.message.contains("not a date"), "{}", day.message);
        let zone = write(json!({"Last Call": {"date": {"start": "2026-09-15T09:00:00", "time_zone": "Mars/Olympus"}}}))
            .unwrap_err();
        assert!(zone.message.contains("date.time_zone"), "{}", zone.message);
    }

    #[test]
    fn dates_are_normalised() {
        let out =
            write(json!({"Last Call": {"date": {"start": "2026-09-15T09:00:00-07:00"}}})).unwrap();
        assert_eq!(
            out[0].1,
            json!({"start": "2026-09-15T09:00:00.000-07:00", "end": null, "time_zone": null})
        );
    }
}
