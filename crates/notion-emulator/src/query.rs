//! Data source queries: filters, sorts and cursor pagination, as pure
//! functions over the store.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::dates::{compare, DateOp, StoredDate};
use crate::error::{show, ApiError};
use crate::schema::PropertySchema;
use crate::store::{Page, Store};
use crate::values::{find_property, plain_text};

pub(crate) const MAX_PAGE_SIZE: usize = 100;

/// Where `page_size` came from, for Notion's message prefix.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ParamSource {
    Body,
    Query,
}

/// Reads and bounds `page_size` (default 100, 1..=100).
pub(crate) fn page_size(raw: Option<&Value>, source: ParamSource) -> Result<usize, ApiError> {
    let (prefix, path) = match source {
        ParamSource::Body => ("body", "body.page_size"),
        ParamSource::Query => ("query", "query.page_size"),
    };
    let n = match raw {
        None | Some(Value::Null) => return Ok(MAX_PAGE_SIZE),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse::<i64>().ok(),
        _ => None,
    };
    let fail =
        |detail: String| ApiError::validation(format!("{prefix} failed validation: {detail}."));
    match n {
        None => Err(fail(format!(
            "{path} should be a number, instead was `{}`",
            raw.map(show).unwrap_or_default()
        ))),
        Some(n) if n > MAX_PAGE_SIZE as i64 => Err(fail(format!(
            "{path} should be ≤ `{MAX_PAGE_SIZE}`, instead was `{n}`"
        ))),
        Some(n) if n < 1 => Err(fail(format!("{path} should be ≥ `1`, instead was `{n}`"))),
        Some(n) => Ok(n as usize),
    }
}

/// One page of results: the slice, and the cursor of the next item if any.
/// Cursors are the next item's id, as Notion's are.
pub(crate) fn paginate<'a, T>(
    items: &'a [T],
    id_of: impl Fn(&T) -> &str,
    start_cursor: Option<&str>,
    size: usize,
) -> Result<(&'a [T], Option<String>), ApiError> {
    let start = match start_cursor {
        None => 0,
        Some(c) => items.iter().position(|i| id_of(i) == c).ok_or_else(|| {
            ApiError::validation(format!(
                "body failed validation: start_cursor provided is invalid: {c}"
            ))
        })?,
    };
    let end = (start + size).min(items.len());
    let next = items.get(end).map(|i| id_of(i).to_string());
    Ok((&items[start..end], next))
}

/// Runs `filter` and `sorts` over the store's non-trashed pages.
pub(crate) fn run_query<'a>(store: &'a Store, body: &Value) -> Result<Vec<&'a Page>, ApiError> {
    let filter = body.get("filter").filter(|f| !f.is_null());
    let sorts = parse_sorts(&store.schema, body.get("sorts"))?;
    if let Some(f) = filter {
        // Validate once even with no pages, so bad filters always fail.
        check_filter(&store.schema, f, "body.filter")?;
    }
    let mut out = Vec::new();
    for page in store.pages.iter().filter(|p| !p.in_trash) {
        let keep = match filter {
            Some(f) => matches(&store.schema, f, page)?,
            None => true,
        };
        if keep {
            out.push(page);
        }
    }
    out.sort_by(|a, b| compare_pages(&store.schema, &sorts, a, b));
    Ok(out)
}

#[derive(Debug, Clone)]
enum SortKey {
    Property(usize),
    Timestamp(&'static str),
}

#[derive(Debug, Clone)]
struct Sort {
    key: SortKey,
    descending: bool,
}

fn parse_sorts(schema: &[PropertySchema], sorts: Option<&Value>) -> Result<Vec<Sort>, ApiError> {
    let items = match sorts {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(ApiError::body_validation(format!(
                "body.sorts should be an array, instead was `{}`",
                show(other)
            )))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let descending = match s.get("direction").and_then(Value::as_str) {
                Some("ascending") | None => false,
                Some("descending") => true,
                Some(other) => {
                    return Err(ApiError::body_validation(format!(
                        "body.sorts[{i}].direction should be `\"ascending\"` or `\"descending\"`, instead was `\"{other}\"`"
                    )))
                }
            };
            let key = if let Some(p) = s.get("property").and_then(Value::as_str) {
                SortKey::Property(find_property(schema, p).ok_or_else(|| {
                    ApiError::validation(format!("Could not find sort property with name or id: {p}"))
                })?)
            } else {
                match s.get("timestamp").and_then(Value::as_str) {
                    Some("created_time") => SortKey::Timestamp("created_time"),
                    Some("last_edited_time") => SortKey::Timestamp("last_edited_time"),
                    _ => {
                        return Err(ApiError::body_validation(format!(
                            "body.sorts[{i}].property should be defined, instead was `undefined`"
                        )))
                    }
                }
            };
            Ok(Sort { key, descending })
        })
        .collect()
}

/// A comparable projection of a value; `None` (empty) sorts last.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum SortValue {
    Number(f64),
    Text(String),
    Time(DateTime<Utc>),
}

fn sort_value(schema: &[PropertySchema], key: &SortKey, page: &Page) -> Option<SortValue> {
    match key {
        SortKey::Timestamp("created_time") => Some(SortValue::Time(page.created_time)),
        SortKey::Timestamp(_) => Some(SortValue::Time(page.last_edited_time)),
        SortKey::Property(idx) => {
            let prop = &schema[*idx];
            match prop.type_name.as_str() {
                "created_time" => return Some(SortValue::Time(page.created_time)),
                "last_edited_time" => return Some(SortValue::Time(page.last_edited_time)),
                _ => {}
            }
            let v = page.values.get(&prop.id)?;
            match prop.type_name.as_str() {
                "number" => v.as_f64().map(SortValue::Number),
                "checkbox" => Some(SortValue::Number(if v.as_bool() == Some(true) {
                    1.0
                } else {
                    0.0
                })),
                "title" | "rich_text" => Some(plain_text(v))
                    .filter(|s| !s.is_empty())
                    .map(SortValue::Text),
                "select" | "status" => v
                    .get("name")
                    .and_then(Value::as_str)
                    .map(|s| SortValue::Text(s.into())),
                "date" => v
                    .get("start")
                    .and_then(Value::as_str)
                    .and_then(StoredDate::parse)
                    .map(|d| SortValue::Time(d.instant())),
                _ => v.as_str().map(|s| SortValue::Text(s.into())),
            }
        }
    }
}

fn compare_pages(schema: &[PropertySchema], sorts: &[Sort], a: &Page, b: &Page) -> Ordering {
    for s in sorts {
        let (va, vb) = (sort_value(schema, &s.key, a), sort_value(schema, &s.key, b));
        let ord = match (va, vb) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => {
                let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
                if s.descending {
                    o.reverse()
                } else {
                    o
                }
            }
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    if sorts.is_empty() {
        // Notion's default: most recently edited first. Ties (timestamps are
        // minute-rounded) break by id so pagination is deterministic.
        return b
            .last_edited_time
            .cmp(&a.last_edited_time)
            .then_with(|| a.id.cmp(&b.id));
    }
    a.id.cmp(&b.id)
}

/// Filter structure checks independent of any page.
fn check_filter(schema: &[PropertySchema], f: &Value, path: &str) -> Result<(), ApiError> {
    for key in ["and", "or"] {
        if let Some(list) = f.get(key) {
            let items = list.as_array().ok_or_else(|| {
                ApiError::body_validation(format!(
                    "{path}.{key} should be an array, instead was `{}`",
                    show(list)
                ))
            })?;
            for (i, sub) in items.iter().enumerate() {
                check_filter(schema, sub, &format!("{path}.{key}[{i}]"))?;
            }
            return Ok(());
        }
    }
    if let Some(p) = f.get("property").and_then(Value::as_str) {
        if find_property(schema, p).is_none() {
            return Err(ApiError::validation(format!(
                "Could not find property with name or id: {p}"
            )));
        }
        return Ok(());
    }
    match f.get("timestamp").and_then(Value::as_str) {
        Some("created_time" | "last_edited_time") => Ok(()),
        _ => Err(ApiError::body_validation(format!(
            "{path}.property should be defined, instead was `undefined`"
        ))),
    }
}

fn matches(schema: &[PropertySchema], f: &Value, page: &Page) -> Result<bool, ApiError> {
    if let Some(items) = f.get("and").and_then(Value::as_array) {
        for sub in items {
            if !matches(schema, sub, page)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(items) = f.get("or").and_then(Value::as_array) {
        for sub in items {
            if matches(schema, sub, page)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if let Some(ts) = f.get("timestamp").and_then(Value::as_str) {
        let at = if ts == "created_time" {
            page.created_time
        } else {
            page.last_edited_time
        };
        let cond = f.get(ts).unwrap_or(&Value::Null);
        return date_condition(ts, cond, Some(StoredDate::from(at)));
    }
    let name = f
        .get("property")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let idx = find_property(schema, name).ok_or_else(|| {
        ApiError::validation(format!("Could not find property with name or id: {name}"))
    })?;
    let prop = &schema[idx];
    let stored = page.values.get(&prop.id).cloned().unwrap_or(Value::Null);
    let type_name = prop.type_name.as_str();
    let (filter_type, cond) = f
        .as_object()
        .and_then(|o| {
            o.iter()
                .find(|(k, _)| k.as_str() != "property" && k.as_str() != "type")
        })
        .map(|(k, v)| (k.as_str(), v))
        .ok_or_else(|| {
            ApiError::body_validation(format!(
                "body.filter.{type_name} should be defined, instead was `undefined`"
            ))
        })?;
    let text_like = ["title", "rich_text", "phone_number", "url", "email"];
    let compatible = filter_type == type_name
        || (text_like.contains(&filter_type) && text_like.contains(&type_name))
        || (filter_type == "date" && matches!(type_name, "created_time" | "last_edited_time"));
    if !compatible {
        // Notion's wording, property *type* first (seen in real 400s).
        return Err(ApiError::validation(format!(
            "The property type in the database does not match the property type of the filter provided: database property {type_name} does not match filter {filter_type}"
        )));
    }
    match type_name {
        "number" => number_condition(cond, stored.as_f64()),
        "title" | "rich_text" => {
            text_condition(cond, Some(plain_text(&stored)).filter(|s| !s.is_empty()))
        }
        "phone_number" | "url" | "email" => {
            text_condition(cond, stored.as_str().map(str::to_string))
        }
        "checkbox" => {
            let v = stored.as_bool().unwrap_or(false);
            Ok(match (cond.get("equals"), cond.get("does_not_equal")) {
                (Some(e), _) => Some(v) == e.as_bool(),
                (_, Some(n)) => Some(v) != n.as_bool(),
                _ => return Err(unsupported_condition(cond)),
            })
        }
        "select" | "status" => {
            let v = stored
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string);
            text_condition(cond, v)
        }
        "multi_select" => {
            let names: Vec<&str> = stored
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|o| o.get("name").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            Ok(
                if let Some(c) = cond.get("contains").and_then(Value::as_str) {
                    names.contains(&c)
                } else if let Some(c) = cond.get("does_not_contain").and_then(Value::as_str) {
                    !names.contains(&c)
                } else if cond.get("is_empty").is_some() {
                    names.is_empty()
                } else if cond.get("is_not_empty").is_some() {
                    !names.is_empty()
                } else {
                    return Err(unsupported_condition(cond));
                },
            )
        }
        "date" => {
            let v = stored
                .get("start")
                .and_then(Value::as_str)
                .and_then(StoredDate::parse);
            date_condition(name, cond, v)
        }
        "created_time" => date_condition(name, cond, Some(page.created_time.into())),
        "last_edited_time" => date_condition(name, cond, Some(page.last_edited_time.into())),
        other => Err(ApiError::validation(format!(
            "Filtering on {other} properties is not supported by the emulator."
        ))),
    }
}

fn unsupported_condition(cond: &Value) -> ApiError {
    ApiError::validation(format!(
        "body failed validation: unsupported filter condition `{}`.",
        show(cond)
    ))
}

fn number_condition(cond: &Value, v: Option<f64>) -> Result<bool, ApiError> {
    let Some((op, arg)) = cond.as_object().and_then(|o| o.iter().next()) else {
        return Err(unsupported_condition(cond));
    };
    if op == "is_empty" {
        return Ok(v.is_none());
    }
    if op == "is_not_empty" {
        return Ok(v.is_some());
    }
    let arg = arg.as_f64().ok_or_else(|| {
        ApiError::body_validation(format!(
            "body.filter.number.{op} should be a number, instead was `{}`",
            show(arg)
        ))
    })?;
    let Some(v) = v else {
        return Ok(op == "does_not_equal");
    };
    Ok(match op.as_str() {
        "equals" => v == arg,
        "does_not_equal" => v != arg,
        "greater_than" => v > arg,
        "greater_than_or_equal_to" => v >= arg,
        "less_than" => v < arg,
        "less_than_or_equal_to" => v <= arg,
        _ => return Err(unsupported_condition(cond)),
    })
}

fn text_condition(cond: &Value, v: Option<String>) -> Result<bool, ApiError> {
    let Some((op, arg)) = cond.as_object().and_then(|o| o.iter().next()) else {
        return Err(unsupported_condition(cond));
    };
    if op == "is_empty" {
        return Ok(v.is_none());
    }
    if op == "is_not_empty" {
        return Ok(v.is_some());
    }
    let arg = arg.as_str().ok_or_else(|| {
        ApiError::body_validation(format!(
            "body.filter.{op} should be a string, instead was `{}`",
            show(arg)
        ))
    })?;
    let v = v.unwrap_or_default();
    Ok(match op.as_str() {
        "equals" => v == arg,
        "does_not_equal" => v != arg,
        "contains" => v.to_lowercase().contains(&arg.to_lowercase()),
        "does_not_contain" => !v.to_lowercase().contains(&arg.to_lowercase()),
        "starts_with" => v.to_lowercase().starts_with(&arg.to_lowercase()),
        "ends_with" => v.to_lowercase().ends_with(&arg.to_lowercase()),
        _ => return Err(unsupported_condition(cond)),
    })
}

/// A date condition on a value (`None`: the date is empty). Bounds are read
/// like values: offsets and `Z` as written, bare date-times as UTC.
fn date_condition(name: &str, cond: &Value, v: Option<StoredDate>) -> Result<bool, ApiError> {
    let Some((op, arg)) = cond.as_object().and_then(|o| o.iter().next()) else {
        return Err(unsupported_condition(cond));
    };
    if op == "is_empty" {
        return Ok(v.is_none());
    }
    if op == "is_not_empty" {
        return Ok(v.is_some());
    }
    let Some(date_op) = DateOp::parse(op) else {
        return Err(unsupported_condition(&json!({op: arg})));
    };
    let bound = arg.as_str().and_then(StoredDate::parse).ok_or_else(|| {
        ApiError::body_validation(format!(
            "body.filter.{name}.{op} should be a valid ISO 8601 date string, instead was `{}`",
            show(arg)
        ))
    })?;
    Ok(v.is_some_and(|value| compare(date_op, value, bound)))
}
