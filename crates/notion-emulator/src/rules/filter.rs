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

use crate::dates::{DateOp, StoredDate};
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

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Condition {
    Text(TextOp),
    Number(NumberOp),
    Checkbox { equals: bool },
    Select(SelectOp),
    MultiSelect(SelectOp),
    People(SelectOp),
    Date(DateCondition),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TextOp {
    Equals(String),
    DoesNotEqual(String),
    Contains(String),
    DoesNotContain(String),
    StartsWith(String),
    EndsWith(String),
    IsEmpty,
    IsNotEmpty,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NumberOp {
    Equals(f64),
    DoesNotEqual(f64),
    GreaterThan(f64),
    LessThan(f64),
    GreaterThanOrEqualTo(f64),
    LessThanOrEqualTo(f64),
    IsEmpty,
    IsNotEmpty,
}

/// `select`/`status` (`equals`, `does_not_equal`) and `multi_select` /
/// `people` (`contains`, `does_not_contain`), with the emptiness checks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SelectOp {
    Is(String),
    IsNot(String),
    IsEmpty,
    IsNotEmpty,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DateCondition {
    Compare(DateOp, StoredDate),
    IsEmpty,
    IsNotEmpty,
}

const TEXT_TYPES: &[&str] = &["title", "rich_text", "url", "email", "phone_number"];

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
    let condition = date_condition(cond, &format!("{path}.{key}"))?;
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
    let at = format!("{path}.{filter_type}");
    let condition = match filter_type.as_str() {
        t if TEXT_TYPES.contains(&t) => Condition::Text(text_op(cond, &at)?),
        "number" => Condition::Number(number_op(cond, &at)?),
        "checkbox" => checkbox(cond, &at)?,
        "select" | "status" => {
            Condition::Select(select_op(cond, &at, ["equals", "does_not_equal"])?)
        }
        "multi_select" => {
            Condition::MultiSelect(select_op(cond, &at, ["contains", "does_not_contain"])?)
        }
        "people" => Condition::People(select_op(cond, &at, ["contains", "does_not_contain"])?),
        "date" | "created_time" | "last_edited_time" => Condition::Date(date_condition(cond, &at)?),
        other => {
            return Err(ApiError::validation(format!(
                "Filtering on {other} properties is not supported by the emulator."
            )))
        }
    };
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

/// The one operator of a condition object, or Notion's refusal.
fn operator<'a>(cond: &'a Value, at: &str, ops: &[&str]) -> Result<(&'a str, &'a Value), ApiError> {
    let obj = cond
        .as_object()
        .ok_or_else(|| ApiError::should_be(at, "an object", Some(cond)))?;
    let mut entries = obj.iter();
    let Some((op, arg)) = entries.next() else {
        return Err(ApiError::should_be(
            &format!("{at}.{}", ops[0]),
            "defined",
            None,
        ));
    };
    if !ops.contains(&op.as_str()) {
        return Err(ApiError::not_present(&format!("{at}.{op}"), arg));
    }
    if let Some((second, v)) = entries.next() {
        return Err(ApiError::not_present(&format!("{at}.{second}"), v));
    }
    Ok((op.as_str(), arg))
}

/// A condition's operator read: `is_empty` / `is_not_empty` (which take
/// only `true`), or one of `ops` with its argument and the argument's path.
enum Op<'a> {
    Empty(bool),
    Compare(&'a str, &'a Value, String),
}

fn read_op<'a>(cond: &'a Value, at: &str, ops: &[&str]) -> Result<Op<'a>, ApiError> {
    let all: Vec<&str> = ops
        .iter()
        .copied()
        .chain(["is_empty", "is_not_empty"])
        .collect();
    let (op, arg) = operator(cond, at, &all)?;
    let path = format!("{at}.{op}");
    if op == "is_empty" || op == "is_not_empty" {
        if arg != &Value::Bool(true) {
            return Err(ApiError::should_be(&path, "`true`", Some(arg)));
        }
        return Ok(Op::Empty(op == "is_empty"));
    }
    Ok(Op::Compare(op, arg, path))
}

fn string_arg(arg: &Value, path: &str) -> Result<String, ApiError> {
    arg.as_str()
        .map(str::to_string)
        .ok_or_else(|| ApiError::should_be(path, "a string", Some(arg)))
}

fn text_op(cond: &Value, at: &str) -> Result<TextOp, ApiError> {
    let ops = [
        "equals",
        "does_not_equal",
        "contains",
        "does_not_contain",
        "starts_with",
        "ends_with",
    ];
    let (op, arg, path) = match read_op(cond, at, &ops)? {
        Op::Empty(true) => return Ok(TextOp::IsEmpty),
        Op::Empty(false) => return Ok(TextOp::IsNotEmpty),
        Op::Compare(op, arg, path) => (op, arg, path),
    };
    let s = string_arg(arg, &path)?;
    Ok(match op {
        "equals" => TextOp::Equals(s),
        "does_not_equal" => TextOp::DoesNotEqual(s),
        "contains" => TextOp::Contains(s),
        "does_not_contain" => TextOp::DoesNotContain(s),
        "starts_with" => TextOp::StartsWith(s),
        _ => TextOp::EndsWith(s),
    })
}

fn number_op(cond: &Value, at: &str) -> Result<NumberOp, ApiError> {
    let ops = [
        "equals",
        "does_not_equal",
        "greater_than",
        "less_than",
        "greater_than_or_equal_to",
        "less_than_or_equal_to",
    ];
    let (op, arg, path) = match read_op(cond, at, &ops)? {
        Op::Empty(true) => return Ok(NumberOp::IsEmpty),
        Op::Empty(false) => return Ok(NumberOp::IsNotEmpty),
        Op::Compare(op, arg, path) => (op, arg, path),
    };
    let n = arg
        .as_f64()
        .ok_or_else(|| ApiError::should_be(&path, "a number", Some(arg)))?;
    Ok(match op {
        "equals" => NumberOp::Equals(n),
        "does_not_equal" => NumberOp::DoesNotEqual(n),
        "greater_than" => NumberOp::GreaterThan(n),
        "less_than" => NumberOp::LessThan(n),
        "greater_than_or_equal_to" => NumberOp::GreaterThanOrEqualTo(n),
        _ => NumberOp::LessThanOrEqualTo(n),
    })
}

fn checkbox(cond: &Value, at: &str) -> Result<Condition, ApiError> {
    let (op, arg) = operator(cond, at, &["equals", "does_not_equal"])?;
    let b = arg
        .as_bool()
        .ok_or_else(|| ApiError::should_be(&format!("{at}.{op}"), "a boolean", Some(arg)))?;
    Ok(Condition::Checkbox {
        equals: if op == "equals" { b } else { !b },
    })
}

fn select_op(cond: &Value, at: &str, [is, is_not]: [&str; 2]) -> Result<SelectOp, ApiError> {
    match read_op(cond, at, &[is, is_not])? {
        Op::Empty(true) => Ok(SelectOp::IsEmpty),
        Op::Empty(false) => Ok(SelectOp::IsNotEmpty),
        Op::Compare(op, arg, path) => {
            let s = string_arg(arg, &path)?;
            Ok(if op == is {
                SelectOp::Is(s)
            } else {
                SelectOp::IsNot(s)
            })
        }
    }
}

fn date_condition(cond: &Value, at: &str) -> Result<DateCondition, ApiError> {
    let ops = ["equals", "before", "after", "on_or_before", "on_or_after"];
    let (op, arg, path) = match read_op(cond, at, &ops)? {
        Op::Empty(true) => return Ok(DateCondition::IsEmpty),
        Op::Empty(false) => return Ok(DateCondition::IsNotEmpty),
        Op::Compare(op, arg, path) => (op, arg, path),
    };
    // A non-string is "a string" (a reported answer for `date.equals: {}`);
    // an unreadable string is "a valid ISO 8601 date string".
    let s = string_arg(arg, &path)?;
    let bound = StoredDate::parse(&s)
        .ok_or_else(|| ApiError::should_be(&path, "a valid ISO 8601 date string", Some(arg)))?;
    let date_op = DateOp::parse(op).unwrap_or(DateOp::Equals);
    Ok(DateCondition::Compare(date_op, bound))
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(
            refused(json!({"property": "Dialer ID", "number": {"equals": "7"}})),
            "body failed validation: body.filter.number.equals should be a number, instead was `\"7\"`."
        );
        assert_eq!(
            refused(json!({"and": [{"property": "Last Call", "date": {"equals": {}}}]})),
            "body failed validation: body.filter.and[0].date.equals should be a string, instead was `{}`."
        );
        assert_eq!(
            refused(json!({"property": "Phone", "phone_number": {"is_empty": false}})),
            "body failed validation: body.filter.phone_number.is_empty should be `true`, instead was `false`."
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
        assert_eq!(
            refused(json!({"property": "Dialer ID", "number": {"equals": 1, "greater_than": 0}})),
            "body failed validation: body.filter.number.greater_than should be not present, instead was `0`."
        );
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
