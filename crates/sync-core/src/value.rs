//! The canonical value of one synced field, the same on both sides.
//!
//! Every field is read from the dialer's JSON and from a Notion property into
//! a [`Value`], and changes are found by comparing values, never edit times
//! (Notion's timestamps are minute-rounded, and a timestamp that moved says
//! nothing about whether a field did). Values are plain data so that the
//! merge can be tested exhaustively and stored as the last-synced base.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Field key (the dialer's name for the field, e.g. `phone`) -> value.
pub type FieldMap = BTreeMap<String, Value>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// Absent, null, an empty string or an empty list: one "nothing" on both sides.
    Empty,
    Text(String),
    /// Numbers as JSON gives them; integers up to 2^53 are exact in f64.
    Number(f64),
    Bool(bool),
    Date(DateValue),
    /// Multi-select names or people; order kept as the source gives it.
    Names(Vec<String>),
}

/// A calendar day stays a day: an all-day date is never pushed through a time
/// zone (the classic "follow-up moved to the day before" bug).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateValue {
    Day(NaiveDate),
    /// An instant, kept to the millisecond (what JavaScript's Date holds).
    Instant(DateTime<Utc>),
}

impl Value {
    pub fn text(s: impl Into<String>) -> Value {
        let s = s.into();
        if s.is_empty() {
            Value::Empty
        } else {
            Value::Text(s)
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Value::Empty)
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// How a person reads the value, for reports, conflicts and the dry run.
    pub fn display(&self) -> String {
        match self {
            Value::Empty => "(empty)".to_string(),
            Value::Text(s) => {
                let mut shown: String = s.chars().take(60).collect();
                if shown.len() < s.len() {
                    shown.push('…');
                }
                format!("{shown:?}")
            }
            Value::Number(n) => format_number(*n),
            Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Value::Date(d) => d.to_string(),
            Value::Names(names) => format!("[{}]", names.join(", ")),
        }
    }

    /// The whole value as plain text, for a screen that shows one value per
    /// box (the conflict console): text unquoted and never shortened.
    pub fn plain(&self) -> String {
        match self {
            Value::Empty => String::new(),
            Value::Text(s) => s.clone(),
            Value::Names(names) => names.join(", "),
            other => other.display(),
        }
    }
}

/// A small stable hash (64-bit FNV-1a): the same bytes give the same number
/// in every run and on every machine, for keys and fingerprints.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

impl std::fmt::Display for DateValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DateValue::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            DateValue::Instant(t) => {
                write!(f, "{}", t.to_rfc3339_opts(SecondsFormat::Millis, true))
            }
        }
    }
}
