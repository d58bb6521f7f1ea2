//! Rich text as a client writes it, checked and turned into the read shape
//! (`plain_text`, `href`, every annotation). Notion's limits (request-limits
//! reference: 2000 characters per `text.content` and `text.link.url`, 100
//! items per array) and its schema: only the keys of a rich-text item, of
//! its `text` and of its `annotations`, annotations that are booleans, and
//! colors from Notion's enum.

use serde_json::{json, Map, Value};

use crate::error::{show, ApiError};
use crate::rules::colors::color;
use crate::values::{bounded_array, js_len, MAX_URL};

pub(crate) const MAX_TEXT_CONTENT: usize = 2000;

const ITEM_KEYS: &[&str] = &[
    "type",
    "text",
    "mention",
    "equation",
    "annotations",
    "plain_text",
    "href",
];
const FLAGS: &[&str] = &["bold", "italic", "strikethrough", "underline", "code"];

/// Validates a rich-text array and returns it in read shape.
pub(crate) fn rich_text(path: &str, v: &Value) -> Result<Value, ApiError> {
    let items = bounded_array(path, v)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| rich_text_item(&format!("{path}[{i}]"), item))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn rich_text_item(path: &str, item: &Value) -> Result<Value, ApiError> {
    let obj = item
        .as_object()
        .ok_or_else(|| ApiError::should_be(path, "an object", Some(item)))?;
    if let Some((key, v)) = obj.iter().find(|(k, _)| !ITEM_KEYS.contains(&k.as_str())) {
        // A stray key leaves no variant of the union fitting (a reported
        // answer for `link` beside `text`).
        return Err(ApiError::fix_one(&[
            (format!("{path}.{key}"), "not present", Some(v)),
            (format!("{path}.mention"), "defined", None),
            (format!("{path}.equation"), "defined", None),
        ]));
    }
    if let Some(t) = obj.get("type").and_then(Value::as_str) {
        if t != "text" {
            return Err(ApiError::validation(format!(
                "{path}: rich text of type {t} is not supported by the emulator."
            )));
        }
    }
    let text = obj.get("text").and_then(Value::as_object).ok_or_else(|| {
        ApiError::body_validation(format!(
            "{path}.text should be defined, instead was `undefined`"
        ))
    })?;
    let (content, link) = text_part(path, text)?;
    let annotations = annotations(&format!("{path}.annotations"), obj.get("annotations"))?;
    let href = link.get("url").cloned().unwrap_or(Value::Null);
    Ok(json!({
        "type": "text",
        "text": {"content": content, "link": link},
        "annotations": annotations,
        "plain_text": content,
        "href": href
    }))
}

/// `text.content` and `text.link`, checked. Whether a link is an http(s)
/// URL is Notion's content check, made after the schema (`rules::links`).
fn text_part(path: &str, text: &Map<String, Value>) -> Result<(String, Value), ApiError> {
    if let Some((key, v)) = text
        .iter()
        .find(|(k, _)| !matches!(k.as_str(), "content" | "link"))
    {
        return Err(ApiError::not_present(&format!("{path}.text.{key}"), v));
    }
    let content = match text.get("content") {
        Some(Value::String(s)) => s.clone(),
        other => {
            return Err(ApiError::body_validation(format!(
                "{path}.text.content should be a string, instead was `{}`",
                other.map(show).unwrap_or_else(|| "undefined".into())
            )))
        }
    };
    if js_len(&content) > MAX_TEXT_CONTENT {
        return Err(ApiError::too_long(
            &format!("{path}.text.content"),
            MAX_TEXT_CONTENT,
            js_len(&content),
        ));
    }
    let link = match text.get("link") {
        None | Some(Value::Null) => Value::Null,
        Some(l) => {
            let url = l.get("url").and_then(Value::as_str).ok_or_else(|| {
                ApiError::body_validation(format!(
                    "{path}.text.link.url should be defined, instead was `undefined`"
                ))
            })?;
            if js_len(url) > MAX_URL {
                return Err(ApiError::too_long(
                    &format!("{path}.text.link.url"),
                    MAX_URL,
                    js_len(url),
                ));
            }
            json!({"url": url})
        }
    };
    Ok((content, link))
}

/// Every annotation, defaults filled in: booleans, and a color of Notion's.
fn annotations(path: &str, given: Option<&Value>) -> Result<Value, ApiError> {
    let empty = Map::new();
    let given = match given {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(m)) => m,
        Some(other) => return Err(ApiError::should_be(path, "an object", Some(other))),
    };
    if let Some((key, v)) = given
        .iter()
        .find(|(k, _)| !FLAGS.contains(&k.as_str()) && k.as_str() != "color")
    {
        return Err(ApiError::not_present(&format!("{path}.{key}"), v));
    }
    let mut out = Map::new();
    for key in FLAGS {
        let flag = match given.get(*key) {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(ApiError::should_be(
                    &format!("{path}.{key}"),
                    "a boolean or `undefined`",
                    Some(other),
                ))
            }
        };
        out.insert((*key).into(), json!(flag));
    }
    let color = color(&format!("{path}.color"), given.get("color"))?;
    out.insert("color".into(), json!(color));
    Ok(Value::Object(out))
}

/// Concatenated `plain_text` of a stored rich-text array.
pub(crate) fn plain_text(v: &Value) -> String {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("plain_text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stray_key_is_a_union_error() {
        let e = rich_text(
            "body.x",
            &json!([{"type": "text", "text": {"content": "a"}, "link": {"url": "https://a.b"}}]),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "body failed validation. Fix one:\nbody.x[0].link should be not present, instead was `{\"url\":\"https://a.b\"}`.\nbody.x[0].mention should be defined, instead was `undefined`.\nbody.x[0].equation should be defined, instead was `undefined`."
        );
    }

    #[test]
    fn annotations_are_checked() {
        let bad_color = rich_text(
            "body.x",
            &json!([{"text": {"content": "a"}, "annotations": {"color": "teal"}}]),
        );
        assert!(bad_color
            .unwrap_err()
            .message
            .contains("body.x[0].annotations.color should be"));
        let bad_flag = rich_text(
            "body.x",
            &json!([{"text": {"content": "a"}, "annotations": {"bold": "yes"}}]),
        );
        assert!(bad_flag
            .unwrap_err()
            .message
            .contains("annotations.bold should be a boolean"));
        let ok = rich_text(
            "body.x",
            &json!([{"text": {"content": "a"}, "annotations": {"bold": true, "color": "red"}}]),
        )
        .unwrap();
        assert_eq!(ok[0]["annotations"]["bold"], true);
        assert_eq!(ok[0]["annotations"]["color"], "red");
    }
}
