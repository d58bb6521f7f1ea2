//! The workspace state: one database with one data source, its pages and
//! their blocks. Operations are plain functions of (state, request body,
//! clock time, author), so the HTTP shell and the control API share them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::clock::{format_exact_timestamp, format_timestamp, round_to_minute};
use crate::error::{show, ApiError};
use crate::ids::{new_id, normalize_id, undashed};
use crate::schema::{
    default_schema, user_object, user_stub, PropertySchema, BOT_USER_ID, PERSON_USER_IDS,
};
use crate::values::{empty_value, plain_text, rich_text, validate_property_writes, MAX_ARRAY};

/// More block elements than this in one request is a validation error.
pub(crate) const MAX_BLOCK_ELEMENTS: usize = 1000;

/// The `Notion-Version` semantics a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// Databases hold properties directly; page parents are `database_id`.
    V2022_06_28,
    /// Databases hold data sources (the current default).
    V2025_09_03,
    /// Like 2025-09-03, but `archived` is gone in favour of `in_trash`.
    V2026_03_11,
}

impl ApiVersion {
    pub fn parse(header: &str) -> Option<Self> {
        match header.trim() {
            "2022-06-28" => Some(Self::V2022_06_28),
            "2025-09-03" => Some(Self::V2025_09_03),
            "2026-03-11" => Some(Self::V2026_03_11),
            _ => None,
        }
    }

    pub(crate) fn has_archived(self) -> bool {
        self != Self::V2026_03_11
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub id: String,
    pub created_time: DateTime<Utc>,
    pub last_edited_time: DateTime<Utc>,
    pub created_by: String,
    pub last_edited_by: String,
    pub in_trash: bool,
    /// Stored read-shape values keyed by property id.
    pub values: HashMap<String, Value>,
    /// Creation order, for `unique_id` and deterministic listings.
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub id: String,
    pub parent_id: String,
    pub parent_is_page: bool,
    pub type_name: String,
    /// The `<type>` object in read shape.
    pub content: Value,
    pub created_time: DateTime<Utc>,
    pub created_by: String,
    pub has_children: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Store {
    pub database_id: String,
    pub data_source_id: String,
    pub title: String,
    /// Exact (unrounded): databases show them to the millisecond; data
    /// sources round them to the minute when rendered.
    pub created_time: DateTime<Utc>,
    pub schema_edited_time: DateTime<Utc>,
    pub schema: Vec<PropertySchema>,
    pub pages: Vec<Page>,
    /// Children by parent (page or block) id, in order.
    pub blocks: HashMap<String, Vec<Block>>,
    pub shared: bool,
    next_seq: u64,
}

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

impl Store {
    pub fn new(database_id: String, data_source_id: String, now: DateTime<Utc>) -> Self {
        Self {
            database_id,
            data_source_id,
            title: "Sales CRM".into(),
            created_time: now,
            schema_edited_time: now,
            schema: default_schema(),
            pages: Vec::new(),
            blocks: HashMap::new(),
            shared: true,
            next_seq: 1,
        }
    }

    // ---------- lookups (404 when missing or unshared) ----------

    pub fn check_database(&self, raw_id: &str) -> Result<(), ApiError> {
        match normalize_id(raw_id) {
            Some(id) if self.shared && id == self.database_id => Ok(()),
            Some(id) => Err(ApiError::not_found("database", &id)),
            None => Err(invalid_path_id("database_id", raw_id)),
        }
    }

    pub fn check_data_source(&self, raw_id: &str) -> Result<(), ApiError> {
        match normalize_id(raw_id) {
            Some(id) if self.shared && id == self.data_source_id => Ok(()),
            // Real answers for an unknown data source say "database"
            // (a recorded 404 from POST /v1/data_sources/{id}/query).
            Some(id) => Err(ApiError::not_found("database", &id)),
            None => Err(invalid_path_id("data_source_id", raw_id)),
        }
    }

    fn page_index(&self, raw_id: &str) -> Result<usize, ApiError> {
        let id = normalize_id(raw_id).ok_or_else(|| invalid_path_id("page_id", raw_id))?;
        self.pages
            .iter()
            .position(|p| p.id == id)
            .filter(|_| self.shared)
            .ok_or_else(|| ApiError::not_found("page", &id))
    }

    pub fn page(&self, raw_id: &str) -> Result<&Page, ApiError> {
        self.page_index(raw_id).map(|i| &self.pages[i])
    }

    fn block_exists(&self, id: &str) -> bool {
        self.blocks.values().flatten().any(|b| b.id == id)
    }

    /// A block container: a page (not trashed, for writes) or a block.
    fn container(&self, raw_id: &str) -> Result<(String, bool), ApiError> {
        let id = normalize_id(raw_id).ok_or_else(|| invalid_path_id("block_id", raw_id))?;
        if self.shared {
            if self.pages.iter().any(|p| p.id == id) {
                return Ok((id, true));
            }
            if self.block_exists(&id) {
                return Ok((id, false));
            }
        }
        Err(ApiError::not_found("block", &id))
    }

    // ---------- renderers ----------
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
        let mut m = Map::new();
        m.insert("object".into(), json!("database"));
        m.insert("id".into(), json!(self.database_id));
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
        m.insert("parent".into(), workspace_parent());
        m.insert("url".into(), json!(self.database_url()));
        m.insert("public_url".into(), Value::Null);
        m.insert("archived".into(), json!(false));
        m.insert("in_trash".into(), json!(false));
        m.insert("is_locked".into(), json!(false));
        Value::Object(m)
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
        let mut m = Map::new();
        m.insert("object".into(), json!("data_source"));
        m.insert("id".into(), json!(self.data_source_id));
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
        let mut props = Map::new();
        for p in &self.schema {
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

    // ---------- writes ----------

    /// Creates a page from a `POST /v1/pages` body; returns its id.
    pub fn create_page(
        &mut self,
        body: &Value,
        now: DateTime<Utc>,
        author: &str,
    ) -> Result<String, ApiError> {
        let parent = body.get("parent").ok_or_else(|| {
            ApiError::body_validation("body.parent should be defined, instead was `undefined`")
        })?;
        if let Some(ds) = parent.get("data_source_id").and_then(Value::as_str) {
            self.check_data_source(ds)?;
        } else if let Some(db) = parent.get("database_id").and_then(Value::as_str) {
            self.check_database(db)?;
        } else if let Some(page) = parent.get("page_id").and_then(Value::as_str) {
            let id = normalize_id(page).unwrap_or_else(|| page.to_string());
            return Err(ApiError::validation(format!(
                "The emulator only holds pages in its database; parent page {id} is not supported."
            )));
        } else {
            return Err(ApiError::body_validation(format!(
                "body.parent.data_source_id should be defined, instead was `{}`",
                show(parent)
            )));
        }
        let empty = json!({});
        let properties = body.get("properties").unwrap_or(&empty);
        let mut schema = self.schema.clone();
        let writes = validate_property_writes(&mut schema, properties)?;
        let id = new_id();
        let children = match body.get("children") {
            Some(c) => Some(validate_children(c, "body.children")?),
            None => None,
        };
        let at = round_to_minute(now);
        let page = Page {
            id: id.clone(),
            created_time: at,
            last_edited_time: at,
            created_by: author.to_string(),
            last_edited_by: author.to_string(),
            in_trash: false,
            values: writes.into_iter().collect(),
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.schema = schema;
        self.pages.push(page);
        if let Some(children) = children {
            self.insert_blocks(&id, true, children, now, author);
        }
        Ok(id)
    }

    /// Applies a `PATCH /v1/pages/{id}` body.
    pub fn update_page(
        &mut self,
        raw_id: &str,
        body: &Value,
        now: DateTime<Utc>,
        author: &str,
    ) -> Result<String, ApiError> {
        let idx = self.page_index(raw_id)?;
        let trash_flag = |key: &str| -> Result<Option<bool>, ApiError> {
            match body.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Bool(b)) => Ok(Some(*b)),
                Some(other) => Err(ApiError::body_validation(format!(
                    "body.{key} should be a boolean, instead was `{}`",
                    show(other)
                ))),
            }
        };
        let trash = trash_flag("in_trash")?.or(trash_flag("archived")?);
        let properties = body.get("properties");
        let stays_trashed = trash.unwrap_or(self.pages[idx].in_trash);
        if stays_trashed && self.pages[idx].in_trash && properties.is_some() {
            return Err(ApiError::validation(
                "Can't edit block that is archived. You must unarchive the block before editing.",
            ));
        }
        let mut schema = self.schema.clone();
        let writes = match properties {
            Some(p) => validate_property_writes(&mut schema, p)?,
            None => Vec::new(),
        };
        self.schema = schema;
        let page = &mut self.pages[idx];
        page.values.extend(writes);
        if let Some(t) = trash {
            page.in_trash = t;
        }
        page.last_edited_time = round_to_minute(now);
        page.last_edited_by = author.to_string();
        Ok(page.id.clone())
    }

    /// Appends validated children to a page or block; returns the new
    /// top-level blocks' ids.
    pub fn append_children(
        &mut self,
        raw_id: &str,
        body: &Value,
        now: DateTime<Utc>,
        author: &str,
    ) -> Result<Vec<String>, ApiError> {
        let (id, is_page) = self.container(raw_id)?;
        let children = body.get("children").ok_or_else(|| {
            ApiError::body_validation("body.children should be defined, instead was `undefined`")
        })?;
        let children = validate_children(children, "body.children")?;
        if let Some(page) = self.pages.iter().find(|p| p.id == id) {
            if page.in_trash {
                return Err(ApiError::validation(
                    "Can't edit block that is archived. You must unarchive the block before editing.",
                ));
            }
        }
        let ids = self.insert_blocks(&id, is_page, children, now, author);
        // Appending edits the page: its last_edited_time moves.
        let page_id = if is_page {
            Some(id.clone())
        } else {
            self.page_of_block(&id)
        };
        if let Some(pid) = page_id {
            if let Some(page) = self.pages.iter_mut().find(|p| p.id == pid) {
                page.last_edited_time = round_to_minute(now);
                page.last_edited_by = author.to_string();
            }
        }
        Ok(ids)
    }

    fn page_of_block(&self, block_id: &str) -> Option<String> {
        let mut current = block_id.to_string();
        loop {
            let b = self.blocks.values().flatten().find(|b| b.id == current)?;
            if b.parent_is_page {
                return Some(b.parent_id.clone());
            }
            current = b.parent_id.clone();
        }
    }

    fn insert_blocks(
        &mut self,
        parent: &str,
        parent_is_page: bool,
        children: Vec<NewBlock>,
        now: DateTime<Utc>,
        author: &str,
    ) -> Vec<String> {
        let mut ids = Vec::with_capacity(children.len());
        for child in children {
            let id = new_id();
            let block = Block {
                id: id.clone(),
                parent_id: parent.to_string(),
                parent_is_page,
                type_name: child.type_name,
                content: child.content,
                created_time: round_to_minute(now),
                created_by: author.to_string(),
                has_children: !child.children.is_empty(),
            };
            self.blocks
                .entry(parent.to_string())
                .or_default()
                .push(block);
            self.insert_blocks(&id, false, child.children, now, author);
            ids.push(id);
        }
        if !parent_is_page {
            if let Some(b) = self.blocks.values_mut().flatten().find(|b| b.id == parent) {
                b.has_children = true;
            }
        }
        ids
    }

    /// Moves a block (and what it holds) out of its parent's children, as
    /// Notion's trash does.
    pub fn delete_block(&mut self, raw_id: &str) -> Result<Block, ApiError> {
        let id = crate::ids::normalize_id(raw_id).ok_or_else(|| ApiError::not_found("block", raw_id))?;
        for blocks in self.blocks.values_mut() {
            if let Some(i) = blocks.iter().position(|b| b.id == id) {
                return Ok(blocks.remove(i));
            }
        }
        Err(ApiError::not_found("block", raw_id))
    }

    pub fn children_of(&self, raw_id: &str) -> Result<(String, &[Block]), ApiError> {
        let (id, _) = self.container(raw_id)?;
        let blocks = self.blocks.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        Ok((id, blocks))
    }

    // ---------- schema edits (control API) ----------

    pub fn remove_property(&mut self, name: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
        let idx = self.schema_index(name)?;
        let removed = self.schema.remove(idx);
        for p in &mut self.pages {
            p.values.remove(&removed.id);
        }
        self.schema_edited_time = now;
        Ok(())
    }

    pub fn rename_property(
        &mut self,
        old: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        if self.schema.iter().any(|p| p.name == new) {
            return Err(ApiError::validation(format!(
                "A property named {new} already exists."
            )));
        }
        let idx = self.schema_index(old)?;
        self.schema[idx].name = new.to_string();
        self.schema_edited_time = now;
        Ok(())
    }

    /// `type_json`: `{"type":"rich_text"}`, `{"type":"select","select":{...}}`
    /// or `{"select":{...}}`. Values of the old type are dropped, as a type
    /// change in Notion does for values it cannot convert.
    pub fn set_property_type(
        &mut self,
        name: &str,
        type_json: &Value,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let idx = self.schema_index(name)?;
        let type_name = type_json
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| type_json.as_object().and_then(|o| o.keys().next().cloned()))
            .ok_or_else(|| ApiError::validation("set_property_type needs a type"))?;
        if !crate::schema::KNOWN_TYPES.contains(&type_name.as_str()) {
            return Err(ApiError::validation(format!(
                "{type_name} is not a property type."
            )));
        }
        let mut config = type_json
            .get(&type_name)
            .cloned()
            .unwrap_or_else(|| json!({}));
        if matches!(type_name.as_str(), "select" | "multi_select" | "status")
            && config.get("options").is_none()
        {
            config = json!({"options": []});
        }
        let prop = &mut self.schema[idx];
        prop.type_name = type_name;
        prop.config = config;
        let pid = prop.id.clone();
        for p in &mut self.pages {
            p.values.remove(&pid);
        }
        self.schema_edited_time = now;
        Ok(())
    }

    fn schema_index(&self, name: &str) -> Result<usize, ApiError> {
        crate::values::find_property(&self.schema, name)
            .ok_or_else(|| ApiError::validation(format!("{name} is not a property that exists.")))
    }
}

fn invalid_path_id(param: &str, raw: &str) -> ApiError {
    ApiError::validation(format!(
        "path failed validation: path.{param} should be a valid uuid, instead was `{}`.",
        show(&json!(raw))
    ))
}

/// A block to insert, already in read shape.
#[derive(Debug, Clone)]
pub(crate) struct NewBlock {
    type_name: String,
    content: Value,
    children: Vec<NewBlock>,
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

/// Validates a `children` array: <= 100 per array, <= 1000 elements overall.
pub(crate) fn validate_children(children: &Value, path: &str) -> Result<Vec<NewBlock>, ApiError> {
    let total = count_blocks(children);
    if total > MAX_BLOCK_ELEMENTS {
        return Err(ApiError::validation(format!(
            "body failed validation: the request contains {total} block elements, more than the limit of {MAX_BLOCK_ELEMENTS}."
        )));
    }
    parse_children(children, path)
}

fn count_blocks(children: &Value) -> usize {
    children
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|b| {
                    let nested = b
                        .get("children")
                        .or_else(|| {
                            b.as_object()
                                .and_then(|o| o.values().find_map(|v| v.get("children")))
                        })
                        .map(count_blocks)
                        .unwrap_or(0);
                    1 + nested
                })
                .sum()
        })
        .unwrap_or(0)
}

fn parse_children(children: &Value, path: &str) -> Result<Vec<NewBlock>, ApiError> {
    let items = children.as_array().ok_or_else(|| {
        ApiError::body_validation(format!(
            "{path} should be an array, instead was `{}`",
            show(children)
        ))
    })?;
    if items.len() > MAX_ARRAY {
        return Err(ApiError::too_long(path, MAX_ARRAY, items.len()));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, b)| parse_block(b, &format!("{path}[{i}]")))
        .collect()
}

fn parse_block(block: &Value, path: &str) -> Result<NewBlock, ApiError> {
    let obj = block.as_object().ok_or_else(|| {
        ApiError::body_validation(format!(
            "{path} should be an object, instead was `{}`",
            show(block)
        ))
    })?;
    let type_name = obj
        .get("type")
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
        })?;
    let empty = json!({});
    let given = obj.get(&type_name).unwrap_or(&empty);
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
    let inner_path = format!("{path}.{type_name}");
    let text = rich_text(
        &format!("{inner_path}.rich_text"),
        given.get("rich_text").unwrap_or(&json!([])),
    )?;
    let mut content = Map::new();
    content.insert("rich_text".into(), text);
    match type_name.as_str() {
        "to_do" => {
            content.insert(
                "checked".into(),
                json!(given
                    .get("checked")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)),
            );
        }
        "code" => {
            content.insert("caption".into(), json!([]));
            content.insert(
                "language".into(),
                json!(given
                    .get("language")
                    .and_then(Value::as_str)
                    .unwrap_or("plain text")),
            );
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
        content.insert(
            "color".into(),
            json!(given
                .get("color")
                .and_then(Value::as_str)
                .unwrap_or("default")),
        );
    }
    let nested = given.get("children").or_else(|| obj.get("children"));
    let children = match nested {
        Some(c) => parse_children(c, &format!("{inner_path}.children"))?,
        None => Vec::new(),
    };
    Ok(NewBlock {
        type_name,
        content: Value::Object(content),
        children,
    })
}

/// The bot is the author of every API write.
pub(crate) const API_AUTHOR: &str = BOT_USER_ID;
