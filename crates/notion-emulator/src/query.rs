//! Data source queries: filters, sorts and cursor pagination, as pure
//! functions over the store.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::dates::{compare, StoredDate};
use crate::error::{show, ApiError};
use crate::rich_text::plain_text;
use crate::rules::conditions::{Condition, DateCondition, NumberOp, SelectOp, TextOp};
use crate::rules::filter::{Filter, Timestamp};
use crate::schema::PropertySchema;
use crate::store::{Page, Store};
use crate::values::find_property;

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

/// Runs `filter` and `sorts` over the store's pages as queries see them at
/// `now` (see `lag.rs`): live ones, or with `in_trash: true` the trashed
/// ones; `is_archived: true` selects Notion's archive, which the emulator
/// never fills. The filter is checked first, so a bad one fails even when
/// there is nothing to read.
pub(crate) fn run_query<'a>(
    store: &'a Store,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<Vec<&'a Page>, ApiError> {
    let filter = match body.get("filter").filter(|f| !f.is_null()) {
        Some(f) => Some(crate::rules::filter::parse(&store.schema, f)?),
        None => None,
    };
    let sorts = parse_sorts(&store.schema, body.get("sorts"))?;
    let flag = |key: &str| body.get(key).and_then(Value::as_bool).unwrap_or(false);
    if flag("is_archived") {
        return Ok(Vec::new());
    }
    let trash = flag("in_trash") || flag("archived");
    let mut out: Vec<&Page> = store
        .pages
        .iter()
        .filter_map(|p| store.lag.view(p, now))
        .filter(|p| p.in_trash == trash)
        .filter(|p| filter.as_ref().is_none_or(|f| matches(&store.schema, f, p)))
        .collect();
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

/// Whether `page` passes a checked filter.
fn matches(schema: &[PropertySchema], f: &Filter, page: &Page) -> bool {
    match f {
        Filter::And(all) => all.iter().all(|sub| matches(schema, sub, page)),
        Filter::Or(any) => any.iter().any(|sub| matches(schema, sub, page)),
        Filter::Timestamp(Timestamp::Created, c) => {
            date_matches(*c, Some(page.created_time.into()))
        }
        Filter::Timestamp(Timestamp::LastEdited, c) => {
            date_matches(*c, Some(page.last_edited_time.into()))
        }
        Filter::Property(idx, condition) => {
            let prop = &schema[*idx];
            let stored = page.values.get(&prop.id).unwrap_or(&Value::Null);
            condition_matches(condition, prop.type_name.as_str(), stored, page)
        }
    }
}

fn condition_matches(condition: &Condition, type_name: &str, stored: &Value, page: &Page) -> bool {
    match condition {
        Condition::Text(op) => {
            let text = match type_name {
                "title" | "rich_text" => plain_text(stored),
                _ => stored.as_str().unwrap_or_default().to_string(),
            };
            text_matches(op, &text)
        }
        Condition::Number(op) => number_matches(*op, stored.as_f64()),
        Condition::Checkbox { equals } => stored.as_bool().unwrap_or(false) == *equals,
        Condition::Select(op) => {
            let name = stored.get("name").and_then(Value::as_str);
            set_matches(op, name.into_iter().collect())
        }
        Condition::MultiSelect(op) => set_matches(op, listed(stored, "name")),
        Condition::People(op) => set_matches(op, listed(stored, "id")),
        Condition::Date(c) => {
            let value = match type_name {
                "created_time" => Some(page.created_time.into()),
                "last_edited_time" => Some(page.last_edited_time.into()),
                _ => stored
                    .get("start")
                    .and_then(Value::as_str)
                    .and_then(StoredDate::parse),
            };
            date_matches(*c, value)
        }
    }
}

/// The `key` of every object in a stored array (option names, user ids).
fn listed<'a>(stored: &'a Value, key: &str) -> Vec<&'a str> {
    stored
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o.get(key).and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// Notion compares text case-insensitively, except `equals`.
fn text_matches(op: &TextOp, v: &str) -> bool {
    let lower = v.to_lowercase();
    match op {
        TextOp::Equals(s) => v == s,
        TextOp::DoesNotEqual(s) => v != s,
        TextOp::Contains(s) => lower.contains(&s.to_lowercase()),
        TextOp::DoesNotContain(s) => !lower.contains(&s.to_lowercase()),
        TextOp::StartsWith(s) => lower.starts_with(&s.to_lowercase()),
        TextOp::EndsWith(s) => lower.ends_with(&s.to_lowercase()),
        TextOp::IsEmpty => v.is_empty(),
        TextOp::IsNotEmpty => !v.is_empty(),
    }
}

fn number_matches(op: NumberOp, v: Option<f64>) -> bool {
    match (op, v) {
        (NumberOp::IsEmpty, v) => v.is_none(),
        (NumberOp::IsNotEmpty, v) => v.is_some(),
        (NumberOp::DoesNotEqual(_), None) => true,
        (_, None) => false,
        (NumberOp::Equals(n), Some(v)) => v == n,
        (NumberOp::DoesNotEqual(n), Some(v)) => v != n,
        (NumberOp::GreaterThan(n), Some(v)) => v > n,
        (NumberOp::LessThan(n), Some(v)) => v < n,
        (NumberOp::GreaterThanOrEqualTo(n), Some(v)) => v >= n,
        (NumberOp::LessThanOrEqualTo(n), Some(v)) => v <= n,
    }
}

/// `Is`: the value (select) or one of the values (multi-select, people).
fn set_matches(op: &SelectOp, values: Vec<&str>) -> bool {
    match op {
        SelectOp::Is(s) => values.contains(&s.as_str()),
        SelectOp::IsNot(s) => !values.contains(&s.as_str()),
        SelectOp::IsEmpty => values.is_empty(),
        SelectOp::IsNotEmpty => !values.is_empty(),
    }
}

fn date_matches(c: DateCondition, v: Option<StoredDate>) -> bool {
    match c {
        DateCondition::IsEmpty => v.is_none(),
        DateCondition::IsNotEmpty => v.is_some(),
        DateCondition::Compare(op, bound) => v.is_some_and(|value| compare(op, value, bound)),
    }
}
