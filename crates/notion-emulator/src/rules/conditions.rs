//! A filter's condition object (`{"equals": 42}`): exactly one operator of
//! the condition's type, whose value has the operator's JSON type. Notion
//! validates a condition as a union with one variant per operator, so a
//! refusal lists every variant ("body failed validation. Fix one:" and one
//! line each: the operator sent with what is wrong with its value, the
//! others "should be defined"), as recorded in makenotion/notion-sdk-js#315
//! (a date filter) and n8n-io/n8n#1844. The operators are listed in the
//! order of Notion's filter reference; the date list's first five are in the
//! recorded order.

use serde_json::Value;

use crate::dates::{DateOp, StoredDate};
use crate::error::ApiError;

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

/// The property types the text conditions apply to.
pub(crate) const TEXT_TYPES: &[&str] = &["title", "rich_text", "url", "email", "phone_number"];

/// The JSON value an operator takes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Arg {
    Text,
    Number,
    Bool,
    Date,
    /// `is_empty` / `is_not_empty`: only `true`.
    True,
    /// The relative date operators (`past_week`, ...): `{}`.
    EmptyObject,
}

impl Arg {
    fn fits(self, v: &Value) -> bool {
        match self {
            Arg::Text => v.is_string(),
            Arg::Number => v.is_number(),
            Arg::Bool => v.is_boolean(),
            Arg::Date => v.as_str().and_then(StoredDate::parse).is_some(),
            Arg::True => v == &Value::Bool(true),
            Arg::EmptyObject => v.as_object().is_some_and(|o| o.is_empty()),
        }
    }

    /// What Notion says a value should be. A date that is not a string is
    /// "a string"; an unreadable one "a valid ISO 8601 date string".
    fn expected(self, v: &Value) -> &'static str {
        match self {
            Arg::Text => "a string",
            Arg::Number => "a number",
            Arg::Bool => "a boolean",
            Arg::Date if v.is_string() => "a valid ISO 8601 date string",
            Arg::Date => "a string",
            Arg::True => "`true`",
            Arg::EmptyObject => "an object",
        }
    }
}

const EMPTINESS: [(&str, Arg); 2] = [("is_empty", Arg::True), ("is_not_empty", Arg::True)];

const TEXT_OPS: &[(&str, Arg)] = &[
    ("equals", Arg::Text),
    ("does_not_equal", Arg::Text),
    ("contains", Arg::Text),
    ("does_not_contain", Arg::Text),
    ("starts_with", Arg::Text),
    ("ends_with", Arg::Text),
    EMPTINESS[0],
    EMPTINESS[1],
];
const NUMBER_OPS: &[(&str, Arg)] = &[
    ("equals", Arg::Number),
    ("does_not_equal", Arg::Number),
    ("greater_than", Arg::Number),
    ("less_than", Arg::Number),
    ("greater_than_or_equal_to", Arg::Number),
    ("less_than_or_equal_to", Arg::Number),
    EMPTINESS[0],
    EMPTINESS[1],
];
const CHECKBOX_OPS: &[(&str, Arg)] = &[("equals", Arg::Bool), ("does_not_equal", Arg::Bool)];
const SELECT_OPS: &[(&str, Arg)] = &[
    ("equals", Arg::Text),
    ("does_not_equal", Arg::Text),
    EMPTINESS[0],
    EMPTINESS[1],
];
const CONTAINS_OPS: &[(&str, Arg)] = &[
    ("contains", Arg::Text),
    ("does_not_contain", Arg::Text),
    EMPTINESS[0],
    EMPTINESS[1],
];
const DATE_OPS: &[(&str, Arg)] = &[
    ("equals", Arg::Date),
    ("before", Arg::Date),
    ("after", Arg::Date),
    ("on_or_before", Arg::Date),
    ("on_or_after", Arg::Date),
    EMPTINESS[0],
    EMPTINESS[1],
    ("past_week", Arg::EmptyObject),
    ("past_month", Arg::EmptyObject),
    ("past_year", Arg::EmptyObject),
    ("this_week", Arg::EmptyObject),
    ("next_week", Arg::EmptyObject),
    ("next_month", Arg::EmptyObject),
    ("next_year", Arg::EmptyObject),
];

/// The condition of a property filter of `filter_type` (already known to
/// fit the property), at `at` (e.g. `body.filter.number`).
pub(crate) fn parse(filter_type: &str, cond: &Value, at: &str) -> Result<Condition, ApiError> {
    Ok(match filter_type {
        t if TEXT_TYPES.contains(&t) => {
            let (op, arg) = operator(cond, at, TEXT_OPS)?;
            Condition::Text(text_op(op, arg))
        }
        "number" => {
            let (op, arg) = operator(cond, at, NUMBER_OPS)?;
            Condition::Number(number_op(op, arg))
        }
        "checkbox" => {
            let (op, arg) = operator(cond, at, CHECKBOX_OPS)?;
            let b = arg.as_bool().unwrap_or(false);
            Condition::Checkbox {
                equals: if op == "equals" { b } else { !b },
            }
        }
        "select" | "status" => Condition::Select(set_op(operator(cond, at, SELECT_OPS)?)),
        "multi_select" => Condition::MultiSelect(set_op(operator(cond, at, CONTAINS_OPS)?)),
        "people" => Condition::People(set_op(operator(cond, at, CONTAINS_OPS)?)),
        "date" | "created_time" | "last_edited_time" => Condition::Date(date(cond, at)?),
        other => {
            return Err(ApiError::validation(format!(
                "Filtering on {other} properties is not supported by the emulator."
            )))
        }
    })
}

/// A date condition (of a date property or a timestamp filter).
pub(crate) fn date(cond: &Value, at: &str) -> Result<DateCondition, ApiError> {
    let (op, arg) = operator(cond, at, DATE_OPS)?;
    Ok(match op {
        "is_empty" => DateCondition::IsEmpty,
        "is_not_empty" => DateCondition::IsNotEmpty,
        _ => match (DateOp::parse(op), arg.as_str().and_then(StoredDate::parse)) {
            (Some(date_op), Some(bound)) => DateCondition::Compare(date_op, bound),
            _ => {
                return Err(ApiError::validation(format!(
                    "{at}.{op}: relative date filters are not supported by the emulator."
                )))
            }
        },
    })
}

/// The one operator of `cond` and its value, both checked, or Notion's
/// union refusal listing every operator of `ops`.
fn operator<'a>(
    cond: &'a Value,
    at: &str,
    ops: &[(&'static str, Arg)],
) -> Result<(&'static str, &'a Value), ApiError> {
    let obj = cond
        .as_object()
        .ok_or_else(|| ApiError::should_be(at, "an object", Some(cond)))?;
    if let [(key, value)] = obj.iter().collect::<Vec<_>>().as_slice() {
        if let Some((op, arg)) = ops.iter().find(|(op, _)| op == key) {
            if arg.fits(value) {
                return Ok((op, value));
            }
        }
    }
    let lines: Vec<(String, &str, Option<&Value>)> = ops
        .iter()
        .map(|(op, arg)| match obj.get(*op) {
            None => (format!("{at}.{op}"), "defined", None),
            Some(v) if !arg.fits(v) => (format!("{at}.{op}"), arg.expected(v), Some(v)),
            Some(_) => {
                let (other, v) = obj.iter().find(|(k, _)| k != op).expect("a second key");
                (format!("{at}.{other}"), "not present", Some(v))
            }
        })
        .collect();
    Err(ApiError::fix_one(&lines))
}

fn text_op(op: &str, arg: &Value) -> TextOp {
    let s = arg.as_str().unwrap_or_default().to_string();
    match op {
        "equals" => TextOp::Equals(s),
        "does_not_equal" => TextOp::DoesNotEqual(s),
        "contains" => TextOp::Contains(s),
        "does_not_contain" => TextOp::DoesNotContain(s),
        "starts_with" => TextOp::StartsWith(s),
        "ends_with" => TextOp::EndsWith(s),
        "is_empty" => TextOp::IsEmpty,
        _ => TextOp::IsNotEmpty,
    }
}

fn number_op(op: &str, arg: &Value) -> NumberOp {
    let n = arg.as_f64().unwrap_or_default();
    match op {
        "equals" => NumberOp::Equals(n),
        "does_not_equal" => NumberOp::DoesNotEqual(n),
        "greater_than" => NumberOp::GreaterThan(n),
        "less_than" => NumberOp::LessThan(n),
        "greater_than_or_equal_to" => NumberOp::GreaterThanOrEqualTo(n),
        "less_than_or_equal_to" => NumberOp::LessThanOrEqualTo(n),
        "is_empty" => NumberOp::IsEmpty,
        _ => NumberOp::IsNotEmpty,
    }
}

/// `equals`/`contains` (the value is, or is among, the given one), their
/// negations, and the emptiness checks.
fn set_op((op, arg): (&str, &Value)) -> SelectOp {
    let s = arg.as_str().unwrap_or_default().to_string();
    match op {
        "equals" | "contains" => SelectOp::Is(s),
        "does_not_equal" | "does_not_contain" => SelectOp::IsNot(s),
        "is_empty" => SelectOp::IsEmpty,
        _ => SelectOp::IsNotEmpty,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(filter_type: &str, cond: Value) -> String {
        parse(filter_type, &cond, &format!("body.filter.{filter_type}"))
            .unwrap_err()
            .message
    }

    #[test]
    fn a_bad_date_is_refused_as_recorded() {
        // makenotion/notion-sdk-js#315, first five lines as recorded.
        let message = refused("date", json!({"equals": "2022-7-10"}));
        assert!(message.starts_with(concat!(
            "body failed validation. Fix one:\n",
            "body.filter.date.equals should be a valid ISO 8601 date string, instead was `\"2022-7-10\"`.\n",
            "body.filter.date.before should be defined, instead was `undefined`.\n",
            "body.filter.date.after should be defined, instead was `undefined`.\n",
            "body.filter.date.on_or_before should be defined, instead was `undefined`.\n",
            "body.filter.date.on_or_after should be defined, instead was `undefined`.\n",
        )), "{message}");
    }

    #[test]
    fn every_variant_is_listed() {
        assert_eq!(
            refused("checkbox", json!({"equals": "yes"})),
            "body failed validation. Fix one:\nbody.filter.checkbox.equals should be a boolean, instead was `\"yes\"`.\nbody.filter.checkbox.does_not_equal should be defined, instead was `undefined`."
        );
        assert_eq!(
            refused("checkbox", json!({"equals": true, "does_not_equal": false})),
            "body failed validation. Fix one:\nbody.filter.checkbox.does_not_equal should be not present, instead was `false`.\nbody.filter.checkbox.equals should be not present, instead was `true`."
        );
        assert!(refused("select", json!({"is_empty": false}))
            .contains("\nbody.filter.select.is_empty should be `true`, instead was `false`.\n"));
    }

    #[test]
    fn valid_conditions_parse() {
        let c = parse(
            "multi_select",
            &json!({"contains": "Hot"}),
            "body.filter.multi_select",
        )
        .unwrap();
        assert_eq!(c, Condition::MultiSelect(SelectOp::Is("Hot".into())));
        let d = date(
            &json!({"on_or_after": "2026-09-01T10:00:00Z"}),
            "body.filter.x",
        )
        .unwrap();
        assert!(matches!(d, DateCondition::Compare(DateOp::OnOrAfter, _)));
    }
}
