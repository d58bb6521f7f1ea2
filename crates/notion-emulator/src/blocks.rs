//! Blocks as a client writes them (a create's or an append's `children`),
//! checked and turned into the read shape. Notion's limits: at most 100
//! children per array and 1000 block elements per request (request-limits
//! reference), and "up to two levels of nesting in a single request" (Append
//! block children reference): a block's children may have children, theirs
//! may not (`body.children[0].paragraph.children[0].paragraph.children[0]
//! .paragraph.children should be not present`, reported).

use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::rich_text::rich_text;
use crate::rules::colors::color;
use crate::values::MAX_ARRAY;

/// More block elements than this in one request is a validation error.
pub(crate) const MAX_BLOCK_ELEMENTS: usize = 1000;

/// Levels of children below the request's own `children`.
const MAX_NESTING: usize = 2;

/// A block to insert, already in read shape.
#[derive(Debug, Clone)]
pub(crate) struct NewBlock {
    pub type_name: String,
    pub content: Value,
    pub children: Vec<NewBlock>,
}

impl NewBlock {
    /// This block and every block below it.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(NewBlock::count).sum::<usize>()
    }
}

const TEXT_BLOCK_TYPES: &[&str] = &[
    "paragraph",
    "heading_1",
    "heading_2",
    "heading_3",
    "bulleted_list_item",
    "numbered_list_item",
    "to_do",
    "quote",
    "callout",
    "toggle",
    "code",
];

/// Validates a request's `children` array (at `path`).
pub(crate) fn validate_children(children: &Value, path: &str) -> Result<Vec<NewBlock>, ApiError> {
    let blocks = parse_children(children, path, 0)?;
    let total: usize = blocks.iter().map(NewBlock::count).sum();
    if total > MAX_BLOCK_ELEMENTS {
        return Err(ApiError::validation(format!(
            "body failed validation: the request contains {total} block elements, more than the limit of {MAX_BLOCK_ELEMENTS}."
        )));
    }
    Ok(blocks)
}

fn parse_children(children: &Value, path: &str, depth: usize) -> Result<Vec<NewBlock>, ApiError> {
    let items = children
        .as_array()
        .ok_or_else(|| ApiError::should_be(path, "an array", Some(children)))?;
    if items.len() > MAX_ARRAY {
        return Err(ApiError::too_long(path, MAX_ARRAY, items.len()));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, b)| parse_block(b, &format!("{path}[{i}]"), depth))
        .collect()
}

fn block_type(obj: &Map<String, Value>, path: &str) -> Result<String, ApiError> {
    obj.get("type")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            obj.keys()
                .find(|k| TEXT_BLOCK_TYPES.contains(&k.as_str()) || k.as_str() == "divider")
                .cloned()
        })
        .ok_or_else(|| {
            ApiError::body_validation(format!(
                "{path}.paragraph should be defined, instead was `undefined`"
            ))
        })
}

fn parse_block(block: &Value, path: &str, depth: usize) -> Result<NewBlock, ApiError> {
    let obj = block
        .as_object()
        .ok_or_else(|| ApiError::should_be(path, "an object", Some(block)))?;
    let type_name = block_type(obj, path)?;
    if let Some((key, v)) = obj
        .iter()
        .find(|(k, _)| !matches!(k.as_str(), "object" | "type") && **k != type_name)
    {
        return Err(ApiError::not_present(&format!("{path}.{key}"), v));
    }
    if type_name == "divider" {
        return Ok(NewBlock {
            type_name,
            content: json!({}),
            children: Vec::new(),
        });
    }
    if !TEXT_BLOCK_TYPES.contains(&type_name.as_str()) {
        return Err(ApiError::validation(format!(
            "{path}: block type {type_name} is not supported by the emulator."
        )));
    }
    let empty = json!({});
    let given = obj.get(&type_name).unwrap_or(&empty);
    let inner_path = format!("{path}.{type_name}");
    let content = text_block_content(&type_name, given, &inner_path)?;
    let children = match given.get("children") {
        None => Vec::new(),
        Some(c) if depth >= MAX_NESTING => {
            return Err(ApiError::not_present(&format!("{inner_path}.children"), c))
        }
        Some(c) => parse_children(c, &format!("{inner_path}.children"), depth + 1)?,
    };
    Ok(NewBlock {
        type_name,
        content,
        children,
    })
}

/// The `<type>` object of a text block in read shape.
fn text_block_content(type_name: &str, given: &Value, inner_path: &str) -> Result<Value, ApiError> {
    let text = rich_text(
        &format!("{inner_path}.rich_text"),
        given.get("rich_text").unwrap_or(&json!([])),
    )?;
    let mut content = Map::new();
    content.insert("rich_text".into(), text);
    match type_name {
        "to_do" => {
            let checked = given
                .get("checked")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            content.insert("checked".into(), json!(checked));
        }
        "code" => {
            content.insert("caption".into(), json!([]));
            let language = given
                .get("language")
                .and_then(Value::as_str)
                .unwrap_or("plain text");
            content.insert("language".into(), json!(language));
        }
        "heading_1" | "heading_2" | "heading_3" => {
            content.insert("is_toggleable".into(), json!(false));
        }
        "callout" => {
            content.insert(
                "icon".into(),
                given.get("icon").cloned().unwrap_or(Value::Null),
            );
        }
        _ => {}
    }
    if type_name != "code" {
        let c = color(&format!("{inner_path}.color"), given.get("color"))?;
        content.insert("color".into(), json!(c));
    }
    Ok(Value::Object(content))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> Value {
        let mut block = json!({"paragraph": {"rich_text": []}});
        for _ in 0..levels {
            block = json!({"paragraph": {"rich_text": [], "children": [block]}});
        }
        json!([block])
    }

    #[test]
    fn two_levels_of_nesting_in_one_request() {
        let ok = validate_children(&nested(2), "body.children").unwrap();
        assert_eq!(ok[0].count(), 3);
        let e = validate_children(&nested(3), "body.children").unwrap_err();
        assert!(
            e.message.starts_with("body failed validation: body.children[0].paragraph.children[0].paragraph.children[0].paragraph.children should be not present, instead was `[{"),
            "{}",
            e.message
        );
    }

    #[test]
    fn block_colors_are_notions() {
        let e = validate_children(
            &json!([{"paragraph": {"rich_text": [], "color": "teal"}}]),
            "body.children",
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("body.children[0].paragraph.color should be"),
            "{}",
            e.message
        );
    }
}
