//! The top level of each endpoint's JSON body: the keys it takes in each
//! version (the official SDK's generated `bodyParams`, `@notionhq/client`
//! 5.26.0, which follow Notion's OpenAPI document), and the JSON type of
//! each. Anything else is refused as Notion refuses it: `body.X should be
//! not present, instead was `...`.` for an unknown key (`body.archived` is
//! reported refused under 2026-03-11), `body.X should be a number or
//! `undefined`` for a value of the wrong type.

use serde_json::Value;

use crate::error::{one_of_optional, ApiError};
use crate::version::ApiVersion;

/// The JSON type a body key takes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Number,
    String,
    /// A string, or `null` (a cursor the SDK passes back as is).
    StringOrNull,
    Object,
    /// An object, or `null` to clear it (icon, cover).
    ObjectOrNull,
    Array,
    OneOf(&'static [&'static str]),
}

/// The keys `route` takes under `version`; `None` for routes without a body.
fn keys(route: &str, version: ApiVersion) -> Option<Vec<(&'static str, Kind)>> {
    let archived = version.has_archived().then_some(("archived", Kind::Bool));
    let keys: Vec<(&str, Kind)> = match route {
        "pages.create" => vec![
            ("parent", Kind::Object),
            ("properties", Kind::Object),
            ("icon", Kind::ObjectOrNull),
            ("cover", Kind::ObjectOrNull),
            ("content", Kind::Array),
            ("children", Kind::Array),
            ("markdown", Kind::String),
            ("allow_async", Kind::Bool),
            ("template", Kind::Object),
            ("position", Kind::Object),
        ],
        "pages.update" => [
            ("properties", Kind::Object),
            ("icon", Kind::ObjectOrNull),
            ("cover", Kind::ObjectOrNull),
            ("is_locked", Kind::Bool),
            ("template", Kind::Object),
            ("erase_content", Kind::Bool),
            ("in_trash", Kind::Bool),
            ("is_archived", Kind::Bool),
        ]
        .into_iter()
        .chain(archived)
        .collect(),
        "databases.query" | "data_sources.query" => [
            ("sorts", Kind::Array),
            ("filter", Kind::Object),
            ("start_cursor", Kind::StringOrNull),
            ("page_size", Kind::Number),
            ("in_trash", Kind::Bool),
            ("is_archived", Kind::Bool),
            ("result_type", Kind::OneOf(&["page", "data_source"])),
        ]
        .into_iter()
        .chain(archived)
        .collect(),
        "blocks.children.append" => [("children", Kind::Array), ("position", Kind::Object)]
            .into_iter()
            .chain(
                version
                    .has_append_after()
                    .then_some(("after", Kind::String)),
            )
            .collect(),
        _ => return None,
    };
    Some(keys)
}

/// Checks `body`'s keys and their JSON types for `route` under `version`.
pub(crate) fn check(route: &str, version: ApiVersion, body: &Value) -> Result<(), ApiError> {
    let (Some(allowed), Some(obj)) = (keys(route, version), body.as_object()) else {
        return Ok(());
    };
    for (key, value) in obj {
        let path = format!("body.{key}");
        let Some((_, kind)) = allowed.iter().find(|(k, _)| k == key) else {
            return Err(ApiError::not_present(&path, value));
        };
        if !fits(*kind, value) {
            return Err(ApiError::should_be(&path, &describe(*kind), Some(value)));
        }
    }
    if route == "blocks.children.append" && obj.contains_key("position") {
        // "You cannot specify both after and position in the same request."
        if let Some(after) = obj.get("after") {
            return Err(ApiError::not_present("body.after", after));
        }
    }
    Ok(())
}

fn fits(kind: Kind, v: &Value) -> bool {
    match kind {
        Kind::Bool => v.is_boolean(),
        Kind::Number => v.is_number(),
        Kind::String => v.is_string(),
        Kind::StringOrNull => v.is_string() || v.is_null(),
        Kind::Object => v.is_object(),
        Kind::ObjectOrNull => v.is_object() || v.is_null(),
        Kind::Array => v.is_array(),
        Kind::OneOf(values) => v.as_str().is_some_and(|s| values.contains(&s)),
    }
}

/// What an optional key should be, in Notion's words.
fn describe(kind: Kind) -> String {
    let plain = match kind {
        Kind::Bool => "a boolean",
        Kind::Number => "a number",
        Kind::String => "a string",
        Kind::StringOrNull => "a string, `null`,",
        Kind::Object => "an object",
        Kind::ObjectOrNull => "an object, `null`,",
        Kind::Array => "an array",
        Kind::OneOf(values) => return one_of_optional(values),
    };
    format!("{plain} or `undefined`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(route: &str, version: ApiVersion, body: Value) -> String {
        check(route, version, &body).unwrap_err().message
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert_eq!(
            refused(
                "pages.update",
                ApiVersion::V2025_09_03,
                json!({"propertys": {}})
            ),
            "body failed validation: body.propertys should be not present, instead was `{}`."
        );
        assert!(check(
            "pages.update",
            ApiVersion::V2025_09_03,
            &json!({"archived": true})
        )
        .is_ok());
        assert_eq!(
            refused(
                "pages.update",
                ApiVersion::V2026_03_11,
                json!({"archived": true})
            ),
            "body failed validation: body.archived should be not present, instead was `true`."
        );
        assert_eq!(
            refused(
                "blocks.children.append",
                ApiVersion::V2026_03_11,
                json!({"children": [], "after": "x"})
            ),
            "body failed validation: body.after should be not present, instead was `\"x\"`."
        );
    }

    #[test]
    fn wrong_json_types_are_refused() {
        assert_eq!(
            refused("data_sources.query", ApiVersion::V2026_03_11, json!({"page_size": "10"})),
            "body failed validation: body.page_size should be a number or `undefined`, instead was `\"10\"`."
        );
        assert!(refused(
            "data_sources.query",
            ApiVersion::V2025_09_03,
            json!({"result_type": "row"})
        )
        .contains("should be `\"page\"`, `\"data_source\"`, or `undefined`"));
        assert!(check(
            "data_sources.query",
            ApiVersion::V2025_09_03,
            &json!({"start_cursor": null})
        )
        .is_ok());
        assert!(check("users.me", ApiVersion::V2025_09_03, &json!({"anything": 1})).is_ok());
    }
}
