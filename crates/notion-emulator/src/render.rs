//! How the store's objects read in each API version: databases, data
//! sources, pages and blocks. Key sets and their order follow real 2025-09-03
//! responses recorded in ramnes/notion-sdk-py `tests/cassettes/` (2026-07
//! recordings; see tests/js/fixtures/README.md); 2026-03-11 drops `archived`.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::clock::{format_exact_timestamp, format_timestamp, round_to_minute};
use crate::ids::undashed;
use crate::rich_text::plain_text;
use crate::schema::{user_object, user_stub, PropertySchema, PERSON_USER_IDS};
use crate::store::{Block, Page, Store};
use crate::values::empty_value;
use crate::version::ApiVersion;

/// Where Notion's page and database URLs point (2026 recordings; older ones
/// used `https://www.notion.so`).
const APP_URL: &str = "https://app.notion.com/p";

fn workspace_parent() -> Value {
    json!({"type": "workspace", "workspace": true})
}

/// Minute-rounded `...Z`, as pages, blocks and data sources show times.
fn minute(t: DateTime<Utc>) -> String {
    format_timestamp(round_to_minute(t))
}

fn rich_text_plain(content: &str) -> Value {
    json!([{
        "type": "text",
        "text": {"content": content, "link": null},
        "annotations": {"bold": false, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default"},
        "plain_text": content,
        "href": null
    }])
}

/// Which properties a page is rendered with: all, or those `filter_properties`
/// names. Notion accepts property ids or names (Query a data source
/// reference); ids compare percent-decoded, as clients send them either way.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selection {
    All,
    Only(Vec<String>),
}

impl Selection {
    /// From the `filter_properties` values of a query string (decoded).
    pub fn from_params(values: Vec<String>) -> Self {
        if values.is_empty() {
            Selection::All
        } else {
            Selection::Only(values)
        }
    }

    fn includes(&self, p: &PropertySchema) -> bool {
        match self {
            Selection::All => true,
            Selection::Only(keys) => {
                let id = crate::params::percent_decode(&p.id);
                keys.iter().any(|k| *k == id || *k == p.name)
            }
        }
    }
}

impl Store {
    //
    // Key sets and their order follow real 2025-09-03 responses recorded in
    // ramnes/notion-sdk-py `tests/cassettes/` (2026-07 recordings); see
    // tests/js/fixtures/README.md for the exact files.

    /// `GET /v1/databases/{id}`. From 2025-09-03 a database is a container:
    /// no `created_by`/`last_edited_by`, unrounded `+00:00` timestamps and
    /// `data_sources` instead of `properties`.
    pub fn render_database(&self, version: ApiVersion) -> Value {
        if version == ApiVersion::V2022_06_28 {
            return self.render_database_2022();
        }
        let mut m = Map::new();
        m.insert("object".into(), json!("database"));
        m.insert("id".into(), json!(self.database_id));
        m.insert("title".into(), rich_text_plain(&self.title));
        m.insert("description".into(), json!([]));
        m.insert("parent".into(), workspace_parent());
        m.insert("is_inline".into(), json!(false));
        m.insert("in_trash".into(), json!(false));
        m.insert("is_locked".into(), json!(false));
        m.insert(
            "created_time".into(),
            json!(format_exact_timestamp(self.created_time)),
        );
        m.insert(
            "last_edited_time".into(),
            json!(format_exact_timestamp(self.schema_edited_time)),
        );
        m.insert(
            "data_sources".into(),
            json!([{"id": self.data_source_id, "name": self.title}]),
        );
        m.insert("icon".into(), Value::Null);
        m.insert("cover".into(), Value::Null);
        m.insert("url".into(), json!(self.database_url()));
        m.insert("public_url".into(), Value::Null);
        if version.has_archived() {
            m.insert("archived".into(), json!(false));
        }
        Value::Object(m)
    }

    /// The 2022-06-28 shape: the database carries the schema itself.
    fn render_database_2022(&self) -> Value {
        let mut m = self.schema_holder("database", &self.database_id);
        m.insert("parent".into(), workspace_parent());
        m.insert("url".into(), json!(self.database_url()));
        m.insert("public_url".into(), Value::Null);
        m.insert("archived".into(), json!(false));
        m.insert("in_trash".into(), json!(false));
        m.insert("is_locked".into(), json!(false));
        Value::Object(m)
    }

    /// What a 2022-06-28 database and a data source both say: who made
    /// it, when, its title and its properties.
    fn schema_holder(&self, object: &str, id: &str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("object".into(), json!(object));
        m.insert("id".into(), json!(id));
        m.insert("cover".into(), Value::Null);
        m.insert("icon".into(), Value::Null);
        m.insert("created_time".into(), json!(minute(self.created_time)));
        m.insert("created_by".into(), user_stub(PERSON_USER_IDS[0]));
        m.insert("last_edited_by".into(), user_stub(PERSON_USER_IDS[0]));
        m.insert(
            "last_edited_time".into(),
            json!(minute(self.schema_edited_time)),
        );
        m.insert("title".into(), rich_text_plain(&self.title));
        m.insert("description".into(), json!([]));
        m.insert("is_inline".into(), json!(false));
        m.insert("properties".into(), self.render_schema());
        m
    }

    fn render_schema(&self) -> Value {
        Value::Object(
            self.schema
                .iter()
                .map(|p| (p.name.clone(), p.to_json()))
                .collect(),
        )
    }

    pub fn render_data_source(&self, version: ApiVersion) -> Value {
        let mut m = self.schema_holder("data_source", &self.data_source_id);
        m.insert(
            "parent".into(),
            json!({"type": "database_id", "database_id": self.database_id}),
        );
        m.insert("database_parent".into(), workspace_parent());
        m.insert("url".into(), json!(self.database_url()));
        m.insert("public_url".into(), Value::Null);
        m.insert("in_trash".into(), json!(false));
        if version.has_archived() {
            m.insert("archived".into(), json!(false));
        }
        Value::Object(m)
    }

    pub fn render_page(&self, page: &Page, version: ApiVersion) -> Value {
        self.render_page_only(page, version, &Selection::All)
    }

    /// A page with only the properties `selection` names
    /// (`filter_properties`).
    pub fn render_page_only(
        &self,
        page: &Page,
        version: ApiVersion,
        selection: &Selection,
    ) -> Value {
        let mut props = Map::new();
        for p in self.schema.iter().filter(|p| selection.includes(p)) {
            let value = match p.type_name.as_str() {
                "created_time" => json!(format_timestamp(page.created_time)),
                "last_edited_time" => json!(format_timestamp(page.last_edited_time)),
                "created_by" => {
                    user_object(&page.created_by).unwrap_or_else(|| user_stub(&page.created_by))
                }
                "last_edited_by" => user_object(&page.last_edited_by)
                    .unwrap_or_else(|| user_stub(&page.last_edited_by)),
                "formula" => json!({"type": "string", "string": null}),
                "rollup" => json!({"type": "number", "number": null, "function": "count"}),
                "unique_id" => json!({"prefix": null, "number": page.seq}),
                other => page
                    .values
                    .get(&p.id)
                    .cloned()
                    .unwrap_or_else(|| empty_value(other)),
            };
            let mut v = Map::new();
            v.insert("id".into(), json!(p.id));
            v.insert("type".into(), json!(p.type_name));
            v.insert(p.type_name.clone(), value);
            props.insert(p.name.clone(), Value::Object(v));
        }
        let parent = if version == ApiVersion::V2022_06_28 {
            json!({"type": "database_id", "database_id": self.database_id})
        } else {
            json!({"type": "data_source_id", "data_source_id": self.data_source_id, "database_id": self.database_id})
        };
        let mut m = Map::new();
        m.insert("object".into(), json!("page"));
        m.insert("id".into(), json!(page.id));
        m.insert(
            "created_time".into(),
            json!(format_timestamp(page.created_time)),
        );
        m.insert(
            "last_edited_time".into(),
            json!(format_timestamp(page.last_edited_time)),
        );
        m.insert("created_by".into(), user_stub(&page.created_by));
        m.insert("last_edited_by".into(), user_stub(&page.last_edited_by));
        m.insert("cover".into(), Value::Null);
        m.insert("icon".into(), Value::Null);
        m.insert("parent".into(), parent);
        m.insert("in_trash".into(), json!(page.in_trash));
        // Notion's separate "archive" (not trash); the API cannot set it here.
        m.insert("is_archived".into(), json!(false));
        m.insert("is_locked".into(), json!(false));
        m.insert("properties".into(), Value::Object(props));
        m.insert("url".into(), json!(self.page_url(page)));
        m.insert("public_url".into(), Value::Null);
        if version.has_archived() {
            m.insert("archived".into(), json!(page.in_trash));
        }
        Value::Object(m)
    }

    fn database_url(&self) -> String {
        format!("{APP_URL}/{}", undashed(&self.database_id))
    }

    fn page_url(&self, page: &Page) -> String {
        let title = self
            .schema
            .iter()
            .find(|p| p.type_name == "title")
            .and_then(|p| page.values.get(&p.id))
            .map(plain_text)
            .unwrap_or_default();
        let slug: String = title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        if slug.is_empty() {
            format!("{APP_URL}/{}", undashed(&page.id))
        } else {
            format!("{APP_URL}/{slug}-{}", undashed(&page.id))
        }
    }

    pub fn render_block(&self, block: &Block, version: ApiVersion) -> Value {
        let parent = if block.parent_is_page {
            json!({"type": "page_id", "page_id": block.parent_id})
        } else {
            json!({"type": "block_id", "block_id": block.parent_id})
        };
        let at = json!(format_timestamp(block.created_time));
        let mut m = Map::new();
        m.insert("object".into(), json!("block"));
        m.insert("id".into(), json!(block.id));
        m.insert("parent".into(), parent);
        m.insert("created_time".into(), at.clone());
        m.insert("last_edited_time".into(), at);
        m.insert("created_by".into(), user_stub(&block.created_by));
        m.insert("last_edited_by".into(), user_stub(&block.created_by));
        m.insert("has_children".into(), json!(block.has_children));
        m.insert("in_trash".into(), json!(false));
        m.insert("type".into(), json!(block.type_name));
        m.insert(block.type_name.clone(), block.content.clone());
        if version.has_archived() {
            m.insert("archived".into(), json!(false));
        }
        Value::Object(m)
    }
}
