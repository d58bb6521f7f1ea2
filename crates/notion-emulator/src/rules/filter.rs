//! A query's `filter`, checked against the schema before any page is read
//! (so a bad filter fails even on an empty data source) and parsed into a
//! [`Filter`] that `query.rs` evaluates. Notion's rules (filter reference:
//! "Filter data source entries"):
//!
//! - a compound filter is one `and` or one `or` array, nested up to two
//!   levels deep; `and` beside `or` in one object is refused;
//! - a property filter names a property and holds exactly one condition
//!   object, whose type must fit the property's type, holding exactly one
//!   operator whose value has the operator's JSON type;
//! - `is_empty` and `is_not_empty` only take `true`.
//!
//! Messages follow Notion's validation wording; which ones are recorded and
//! which are inferred is listed in tests/js/fixtures/README.md.

use serde_json::{Map, Value};

use super::conditions::{self, Condition, DateCondition, TEXT_TYPES};
use crate::error::{one_of, ApiError};
use crate::schema::{PropertySchema, KNOWN_TYPES};
use crate::values::find_property;

/// Compound filters nest at most this deep (the top level counts).
const MAX_COMPOUND_DEPTH: usize = 2;

/// A checked filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    /// A condition on the property at this schema index.
    Property(usize, Condition),
    /// `created_time` or `last_edited_time` of the page.
    Timestamp(Timestamp, DateCondition),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timestamp {
    Created,
    LastEdited,
}

/// Whether `key` is a condition Notion's property filter knows (filter
/// reference): one per property type, but buttons cannot be filtered on.
fn is_filter_type(key: &str) -> bool {
    KNOWN_TYPES.contains(&key) && key != "button"
}

/// Checks `filter` (the body's `filter`, at `body.filter`) against `schema`.
pub(crate) fn parse(schema: &[PropertySchema], filter: &Value) -> Result<Filter, ApiError> {
    parse_at(schema, filter, "body.filter", 0)
}

fn parse_at(
    schema: &[PropertySchema],
    f: &Value,
    path: &str,
    depth: usize,
) -> Result<Filter, ApiError> {
    let obj = f
        .as_object()
        .ok_or_else(|| ApiError::should_be(path, "an object", Some(f)))?;
    for key in ["and", "or"] {
        if let Some(list) = obj.get(key) {
            if depth >= MAX_COMPOUND_DEPTH {
                // Below the second level only property and timestamp filters fit.
                return Err(ApiError::not_present(&format!("{path}.{key}"), list));
            }
            only_keys(obj, &[key], path)?;
            let items = list.as_array().ok_or_else(|| {
                ApiError::should_be(&format!("{path}.{key}"), "an array", Some(list))
            })?;
            let parsed = items
                .iter()
                .enumerate()
                .map(|(i, sub)| parse_at(schema, sub, &format!("{path}.{key}[{i}]"), depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if key == "and" {
                Filter::And(parsed)
            } else {
                Filter::Or(parsed)
            });
        }
    }
    if let Some(ts) = obj.get("timestamp") {
        return timestamp_filter(obj, ts, path);
    }
    match obj.get("property") {
        Some(Value::String(name)) => property_filter(schema, obj, name, path),
        Some(other) => Err(ApiError::should_be(
            &format!("{path}.property"),
            "a string",
            Some(other),
        )),
        None => Err(ApiError::should_be(
            &format!("{path}.property"),
            "defined",
            None,
        )),
    }
}

/// Refuses any key of `obj` beyond `allowed`.
fn only_keys(obj: &Map<String, Value>, allowed: &[&str], path: &str) -> Result<(), ApiError> {
    match obj.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        Some((k, v)) => Err(ApiError::not_present(&format!("{path}.{k}"), v)),
        None => Ok(()),
    }
}

fn timestamp_filter(obj: &Map<String, Value>, ts: &Value, path: &str) -> Result<Filter, ApiError> {
    let (which, key) = match ts.as_str() {
        Some("created_time") => (Timestamp::Created, "created_time"),
        Some("last_edited_time") => (Timestamp::LastEdited, "last_edited_time"),
        _ => {
            return Err(ApiError::should_be(
                &format!("{path}.timestamp"),
                &one_of(&["created_time", "last_edited_time"]),
                Some(ts),
            ))
        }
    };
    only_keys(obj, &["timestamp", key, "type"], path)?;
    let cond = obj
        .get(key)
        .ok_or_else(|| ApiError::should_be(&format!("{path}.{key}"), "defined", None))?;
    let condition = conditions::date(cond, &format!("{path}.{key}"))?;
    Ok(Filter::Timestamp(which, condition))
}

fn property_filter(
    schema: &[PropertySchema],
    obj: &Map<String, Value>,
    name: &str,
    path: &str,
) -> Result<Filter, ApiError> {
    let mut conditions = obj
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "property" | "type"));
    let idx = find_property(schema, name).ok_or_else(|| {
        ApiError::validation(format!("Could not find property with name or id: {name}"))
    })?;
    let type_name = schema[idx].type_name.as_str();
    let Some((filter_type, cond)) = conditions.next() else {
        return Err(ApiError::should_be(
            &format!("{path}.{type_name}"),
            "defined",
            None,
        ));
    };
    if !is_filter_type(filter_type) {
        return Err(ApiError::not_present(
            &format!("{path}.{filter_type}"),
            cond,
        ));
    }
    if let Some((second, v)) = conditions.next() {
        return Err(ApiError::not_present(&format!("{path}.{second}"), v));
    }
    if !fits(filter_type, type_name) {
        // Notion's wording, property type first (reported real 400s).
        return Err(ApiError::validation(format!(
            "The property type in the database does not match the property type of the filter provided: database property {type_name} does not match filter {filter_type}"
        )));
    }
    let condition = conditions::parse(filter_type, cond, &format!("{path}.{filter_type}"))?;
    Ok(Filter::Property(idx, condition))
}

/// Whether a condition of `filter_type` applies to a property of
/// `type_name`: the text conditions to every text-like property (filter
/// reference: "rich_text ... applies to title, rich_text, url, email, and
/// phone_number"), `date` to the timestamps, otherwise only its own type.
fn fits(filter_type: &str, type_name: &str) -> bool {
    filter_type == type_name
        || (TEXT_TYPES.contains(&filter_type) && TEXT_TYPES.contains(&type_name))
        || (filter_type == "date" && matches!(type_name, "created_time" | "last_edited_time"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::DateOp;
    use crate::rules::conditions::NumberOp;
    use crate::schema::default_schema;
    use serde_json::json;

    fn refused(filter: Value) -> String {
        parse(&default_schema(), &filter).unwrap_err().message
    }

    #[test]
    fn parses_what_the_sync_sends() {
        let f = parse(
            &default_schema(),
            &json!({"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "2026-09-01T10:00:00Z"}}),
        )
        .unwrap();
        assert!(matches!(
            f,
            Filter::Timestamp(
                Timestamp::LastEdited,
                DateCondition::Compare(DateOp::OnOrAfter, _)
            )
        ));
        let f = parse(
            &default_schema(),
            &json!({"property": "Dialer ID", "number": {"equals": 7}}),
        )
        .unwrap();
        assert!(
            matches!(f, Filter::Property(1, Condition::Number(NumberOp::Equals(n))) if n == 7.0)
        );
    }

    #[test]
    fn values_of_the_wrong_type() {
        // Conditions are unions: the first line is the operator sent.
        assert!(refused(json!({"property": "Dialer ID", "number": {"equals": "7"}})).starts_with(
            "body failed validation. Fix one:\nbody.filter.number.equals should be a number, instead was `\"7\"`.\n"
        ));
        assert!(
            refused(json!({"and": [{"property": "Last Call", "date": {"equals": {}}}]})).starts_with(
                "body failed validation. Fix one:\nbody.filter.and[0].date.equals should be a string, instead was `{}`.\n"
            )
        );
    }

    #[test]
    fn structure() {
        assert_eq!(
            refused(json!({"and": [], "or": []})),
            "body failed validation: body.filter.or should be not present, instead was `[]`."
        );
        let nested = json!({"and": [{"or": [{"and": []}]}]});
        assert_eq!(
            refused(nested),
            "body failed validation: body.filter.and[0].or[0].and should be not present, instead was `[]`."
        );
        assert_eq!(
            refused(json!({"property": "Dialer ID", "number": {"equals": 1}, "rich_text": {"equals": "x"}})),
            "body failed validation: body.filter.rich_text should be not present, instead was `{\"equals\":\"x\"}`."
        );
        assert!(refused(
            json!({"property": "Dialer ID", "number": {"equals": 1, "greater_than": 0}})
        )
        .contains("\nbody.filter.number.equals should be not present, instead was `1`.\n"));
    }

    #[test]
    fn conditions_must_fit_the_property() {
        assert_eq!(
            refused(json!({"property": "Outcome", "status": {"equals": "DM"}})),
            "The property type in the database does not match the property type of the filter provided: database property select does not match filter status"
        );
        assert_eq!(
            refused(json!({"property": "Colour", "select": {"equals": "x"}})),
            "Could not find property with name or id: Colour"
        );
        assert!(parse(
            &default_schema(),
            &json!({"property": "Name", "rich_text": {"contains": "a"}})
        )
        .is_ok());
    }
}
