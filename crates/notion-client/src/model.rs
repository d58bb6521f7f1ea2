//! The few typed fields the sync needs from Notion objects (a page keeps its
//! properties in Notion's read shape: mapping them is the sync core's job).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A Notion page (a CRM row): what the sync reads of it. The rest of
/// Notion's object (icons, people, parents of other kinds) is dropped as the
/// page is parsed: a full scan reads every page of the CRM, and a page kept
/// whole costs several times its properties.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub id: String,
    pub url: String,
    /// Rounded down to the minute by Notion: compare values, not times.
    pub created_time: DateTime<Utc>,
    pub last_edited_time: DateTime<Utc>,
    /// From `in_trash`, or `archived` on older API versions.
    pub in_trash: bool,
    /// Property name -> value, in Notion's read shape.
    pub properties: Map<String, Value>,
    /// `parent.data_source_id` (API 2025-09-03+), when the parent is one.
    pub data_source_id: Option<String>,
}

impl Page {
    /// Whether the page is a row of this data source (its `parent`).
    pub fn in_data_source(&self, data_source_id: &str) -> bool {
        self.data_source_id
            .as_deref()
            .is_some_and(|id| crate::webhook::same_id(id, data_source_id))
    }

    pub fn from_json(raw: Value) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Parent {
            #[serde(default)]
            data_source_id: Option<String>,
        }
        #[derive(Deserialize)]
        struct Fields {
            id: String,
            #[serde(default)]
            url: String,
            created_time: DateTime<Utc>,
            last_edited_time: DateTime<Utc>,
            #[serde(default)]
            in_trash: Option<bool>,
            #[serde(default)]
            archived: Option<bool>,
            #[serde(default)]
            properties: Map<String, Value>,
            #[serde(default)]
            parent: Option<Parent>,
        }
        // By value: the properties move out of the wire object, not copied.
        let fields = Fields::deserialize(raw).map_err(|e| format!("page: {e}"))?;
        Ok(Self {
            id: fields.id,
            url: fields.url,
            created_time: fields.created_time,
            last_edited_time: fields.last_edited_time,
            in_trash: fields.in_trash.unwrap_or(false) || fields.archived.unwrap_or(false),
            properties: fields.properties,
            data_source_id: fields.parent.and_then(|p| p.data_source_id),
        })
    }
}

/// A database: a container of one or more data sources (API 2025-09-03+).
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    pub id: String,
    /// Plain text of the title.
    pub title: String,
    pub data_sources: Vec<DataSourceRef>,
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DataSourceRef {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

impl Database {
    pub fn from_json(raw: Value) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Fields {
            id: String,
            #[serde(default)]
            title: Vec<Value>,
            #[serde(default)]
            data_sources: Vec<DataSourceRef>,
        }
        let fields = Fields::deserialize(&raw).map_err(|e| format!("database: {e}"))?;
        Ok(Self {
            id: fields.id,
            title: plain_text(&fields.title),
            data_sources: fields.data_sources,
            raw,
        })
    }
}

/// A data source: the schema (properties) and the rows.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSource {
    pub id: String,
    pub title: String,
    pub properties: BTreeMap<String, PropertySchema>,
    pub raw: Value,
}

/// One column of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertySchema {
    pub id: String,
    pub name: String,
    /// Notion's `type`: `title`, `number`, `phone_number`, `select`, ...
    pub kind: String,
    /// Option names, for `select`, `multi_select` and `status`.
    pub options: Vec<String>,
}

impl DataSource {
    pub fn from_json(raw: Value) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Fields {
            id: String,
            #[serde(default)]
            title: Vec<Value>,
            #[serde(default)]
            properties: Map<String, Value>,
        }
        let fields = Fields::deserialize(&raw).map_err(|e| format!("data source: {e}"))?;
        let properties = fields
            .properties
            .iter()
            .map(|(key, schema)| (key.clone(), PropertySchema::from_json(key, schema)))
            .collect();
        Ok(Self {
            id: fields.id,
            title: plain_text(&fields.title),
            properties,
            raw,
        })
    }
}

impl PropertySchema {
    fn from_json(key: &str, schema: &Value) -> Self {
        let text = |field: &str| schema.get(field).and_then(Value::as_str).map(str::to_owned);
        let kind = text("type").unwrap_or_default();
        let options = schema
            .get(&kind)
            .and_then(|config| config.get("options"))
            .and_then(Value::as_array)
            .map(|options| {
                options
                    .iter()
                    .filter_map(|o| o.get("name").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            id: text("id").unwrap_or_default(),
            name: text("name").unwrap_or_else(|| key.to_owned()),
            kind,
            options,
        }
    }
}

/// The bot user behind the token (`GET /v1/users/me`).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub name: Option<String>,
    /// `bot` for an integration token.
    pub kind: String,
    pub raw: Value,
}

impl User {
    pub fn from_json(raw: Value) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Fields {
            id: String,
            #[serde(default)]
            name: Option<String>,
            #[serde(default, rename = "type")]
            kind: String,
        }
        let fields = Fields::deserialize(&raw).map_err(|e| format!("user: {e}"))?;
        Ok(Self {
            id: fields.id,
            name: fields.name,
            kind: fields.kind,
            raw,
        })
    }
}

/// A data source query. `Default` is "every page, Notion's order".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub filter: Option<Value>,
    pub sorts: Vec<Value>,
    /// Pages per response; Notion allows at most 100 (the default here).
    pub page_size: Option<u32>,
}

impl Query {
    pub fn filtered(filter: Value) -> Self {
        Self {
            filter: Some(filter),
            ..Self::default()
        }
    }

    pub(crate) fn body(&self, start_cursor: Option<&str>) -> Value {
        let mut body = Map::new();
        if let Some(filter) = &self.filter {
            body.insert("filter".into(), filter.clone());
        }
        if !self.sorts.is_empty() {
            body.insert("sorts".into(), Value::Array(self.sorts.clone()));
        }
        body.insert(
            "page_size".into(),
            Value::from(self.page_size.unwrap_or(100).clamp(1, 100)),
        );
        if let Some(cursor) = start_cursor {
            body.insert("start_cursor".into(), Value::from(cursor));
        }
        Value::Object(body)
    }
}

/// One response of a paginated query.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage {
    pub results: Vec<Page>,
    /// Where the next response starts; `None` on the last one.
    pub next_cursor: Option<String>,
}

/// How a create finds out whether an earlier, failed attempt committed: the
/// page whose `property` (a number property, the Dialer ID) equals `number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateDedupe {
    pub property: String,
    pub number: i64,
}

fn plain_text(rich_text: &[Value]) -> String {
    rich_text
        .iter()
        .filter_map(|t| {
            t.get("plain_text")
                .or_else(|| t.get("text").and_then(|x| x.get("content")))
                .and_then(Value::as_str)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn page_reads_archived_as_in_trash() {
        let page = Page::from_json(json!({
            "object": "page", "id": "p", "url": "https://www.notion.so/p",
            "created_time": "2026-09-01T10:00:00.000Z",
            "last_edited_time": "2026-09-01T10:05:00.000Z",
            "archived": true, "properties": {"Name": {"type": "title", "title": []}}
        }))
        .expect("page");
        assert!(page.in_trash);
        assert!(page.properties.contains_key("Name"));
    }

    #[test]
    fn data_source_schema_lists_options() {
        let ds = DataSource::from_json(json!({
            "object": "data_source", "id": "ds", "title": [{"plain_text": "CRM"}],
            "properties": {
                "Ok Code": {"id": "a%3F", "name": "Ok Code", "type": "select",
                    "select": {"options": [{"name": "DM"}, {"name": "NI"}]}},
                "Dialer ID": {"id": "b", "name": "Dialer ID", "type": "number", "number": {}}
            }
        }))
        .expect("ds");
        assert_eq!(ds.title, "CRM");
        assert_eq!(ds.properties["Ok Code"].options, vec!["DM", "NI"]);
        assert_eq!(ds.properties["Dialer ID"].kind, "number");
    }

    #[test]
    fn query_body_clamps_page_size() {
        let q = Query {
            page_size: Some(500),
            ..Query::default()
        };
        assert_eq!(
            q.body(Some("c")),
            json!({"page_size": 100, "start_cursor": "c"})
        );
    }
}
