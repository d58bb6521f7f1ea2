//! Notion's color enum (`ApiColor` in the official SDK's generated types,
//! `@notionhq/client` 5.26.0 `api-endpoints/common.d.ts`), used by rich-text
//! annotations and text blocks. Any other value is refused in Notion's
//! words for an enum: `... should be `"default"`, `"gray"`, ..., instead was
//! `"..."`.`

use serde_json::Value;

use crate::error::{one_of_optional, ApiError};

pub(crate) const COLORS: &[&str] = &[
    "default",
    "gray",
    "brown",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "red",
    "default_background",
    "gray_background",
    "brown_background",
    "orange_background",
    "yellow_background",
    "green_background",
    "blue_background",
    "purple_background",
    "pink_background",
    "red_background",
];

/// The color at `path` (`"default"` when absent), or Notion's refusal.
pub(crate) fn color(path: &str, given: Option<&Value>) -> Result<String, ApiError> {
    match given {
        None => Ok("default".into()),
        Some(Value::String(c)) if COLORS.contains(&c.as_str()) => Ok(c.clone()),
        Some(other) => Err(ApiError::should_be(
            path,
            &one_of_optional(COLORS),
            Some(other),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_notions_colors() {
        assert_eq!(color("body.x.color", None).unwrap(), "default");
        assert_eq!(
            color("body.x.color", Some(&json!("red_background"))).unwrap(),
            "red_background"
        );
        let e = color("body.x.color", Some(&json!("crimson"))).unwrap_err();
        assert!(
            e.message.starts_with(
                "body failed validation: body.x.color should be `\"default\"`, `\"gray\"`"
            ),
            "{}",
            e.message
        );
        assert!(
            e.message
                .ends_with("`\"red_background\"`, or `undefined`, instead was `\"crimson\"`."),
            "{}",
            e.message
        );
    }
}
