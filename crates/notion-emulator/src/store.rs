//! The workspace state: one database with one data source, its pages and
//! their blocks. Operations are plain functions of (state, request body,
//! clock time, author), so the HTTP shell and the control API share them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::block_limit::BlockQuota;
use crate::blocks::{validate_children, NewBlock};
use crate::clock::round_to_minute;
use crate::error::{show, ApiError};
use crate::ids::{new_id, normalize_id};
use crate::lag::QueryLag;
use crate::rules::links;
use crate::schema::{default_schema, PropertySchema, BOT_USER_ID};
use crate::values::validate_property_writes;

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
    /// What queries see of recent writes (an emulator option).
    pub lag: QueryLag,
    /// The Free plan's block limit (off: a paid workspace).
    pub quota: BlockQuota,
    /// What changed, for webhook events (kept only while a subscription
    /// listens: `Some`).
    pub changes: Option<Vec<Change>>,
    next_seq: u64,
}

/// One change a webhook event tells of.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    /// `page.created`, `page.properties_updated`, `page.deleted`,
    /// `page.undeleted`, `page.content_updated`, `data_source.schema_updated`.
    pub kind: &'static str,
    /// A page id, or the data source's for a schema change.
    pub entity: String,
    pub author: String,
    /// Exact (events carry milliseconds).
    pub at: DateTime<Utc>,
    /// Property ids a properties update touched (names for the schema).
    pub properties: Vec<String>,
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
            lag: QueryLag::default(),
            quota: BlockQuota::default(),
            changes: None,
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
        let children = match body.get("children") {
            Some(c) => validate_children(c, "body.children")?,
            None => Vec::new(),
        };
        links::check(body)?;
        // The page is a block too.
        let blocks = 1 + children.iter().map(NewBlock::count).sum::<usize>();
        self.charge_blocks(author, blocks, now)?;
        let id = new_id();
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
        self.lag.before_write(&id, None, now);
        self.pages.push(page);
        self.insert_blocks(&id, true, None, children, now, author);
        self.changed("page.created", &id, author, now, Vec::new());
        Ok(id)
    }

    /// Blocks written through the API count against the Free plan's limit
    /// (a person's edits in the emulator are not charged).
    fn charge_blocks(
        &mut self,
        author: &str,
        blocks: usize,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        if author == API_AUTHOR {
            self.quota.charge(blocks as u64, now)?;
        }
        Ok(())
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
        links::check(body)?;
        self.schema = schema;
        self.lag
            .before_write(&self.pages[idx].id, Some(&self.pages[idx]), now);
        let (id, was_trashed) = (self.pages[idx].id.clone(), self.pages[idx].in_trash);
        let touched: Vec<String> = writes.iter().map(|(k, _)| k.clone()).collect();
        match trash {
            Some(true) if !was_trashed => self.changed("page.deleted", &id, author, now, vec![]),
            Some(false) if was_trashed => self.changed("page.undeleted", &id, author, now, vec![]),
            _ => {}
        }
        if !touched.is_empty() {
            self.changed("page.properties_updated", &id, author, now, touched);
        }
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
        links::check(body)?;
        let at = self.insert_position(&id, body)?;
        if let Some(page) = self.pages.iter().find(|p| p.id == id) {
            if page.in_trash {
                return Err(ApiError::validation(
                    "Can't edit block that is archived. You must unarchive the block before editing.",
                ));
            }
        }
        self.charge_blocks(author, children.iter().map(NewBlock::count).sum(), now)?;
        let ids = self.insert_blocks(&id, is_page, at, children, now, author);
        // Appending edits the page: its last_edited_time moves.
        let page_id = if is_page {
            Some(id.clone())
        } else {
            self.page_of_block(&id)
        };
        if let Some(idx) = page_id.and_then(|pid| self.pages.iter().position(|p| p.id == pid)) {
            self.lag
                .before_write(&self.pages[idx].id, Some(&self.pages[idx]), now);
            let page = &mut self.pages[idx];
            page.last_edited_time = round_to_minute(now);
            page.last_edited_by = author.to_string();
            let pid = page.id.clone();
            self.changed("page.content_updated", &pid, author, now, vec![]);
        }
        Ok(ids)
    }

    /// Where an append goes among `parent`'s children: `position` (`end`,
    /// the default; `start`; `after_block`), or before 2026-03-11 the flat
    /// `after` block id. `None`: at the end.
    fn insert_position(&self, parent: &str, body: &Value) -> Result<Option<usize>, ApiError> {
        let position = body.get("position");
        let after = match position.and_then(|p| p.get("type")).and_then(Value::as_str) {
            None if position.is_some() => {
                return Err(ApiError::should_be(
                    "body.position.type",
                    &crate::error::one_of(&["after_block", "start", "end"]),
                    None,
                ))
            }
            Some("end") => return Ok(None),
            Some("start") => return Ok(Some(0)),
            Some("after_block") => position
                .and_then(|p| p.get("after_block"))
                .and_then(|a| a.get("id"))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ApiError::should_be("body.position.after_block.id", "defined", None)
                })?,
            Some(other) => {
                return Err(ApiError::should_be(
                    "body.position.type",
                    &crate::error::one_of(&["after_block", "start", "end"]),
                    Some(&json!(other)),
                ))
            }
            None => match body.get("after").and_then(Value::as_str) {
                Some(after) => after,
                None => return Ok(None),
            },
        };
        let after = normalize_id(after).unwrap_or_else(|| after.to_string());
        let siblings = self.blocks.get(parent).map(Vec::as_slice).unwrap_or(&[]);
        siblings
            .iter()
            .position(|b| b.id == after)
            .map(|i| Some(i + 1))
            .ok_or_else(|| ApiError::not_found("block", &after))
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

    /// Inserts `children` under `parent`, the first at index `at` (`None`:
    /// at the end); returns their ids.
    fn insert_blocks(
        &mut self,
        parent: &str,
        parent_is_page: bool,
        at: Option<usize>,
        children: Vec<NewBlock>,
        now: DateTime<Utc>,
        author: &str,
    ) -> Vec<String> {
        let mut ids = Vec::with_capacity(children.len());
        let mut next = at;
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
            let siblings = self.blocks.entry(parent.to_string()).or_default();
            match next {
                Some(i) if i <= siblings.len() => {
                    siblings.insert(i, block);
                    next = Some(i + 1);
                }
                _ => siblings.push(block),
            }
            self.insert_blocks(&id, false, None, child.children, now, author);
            ids.push(id);
        }
        if !parent_is_page && !ids.is_empty() {
            if let Some(b) = self.blocks.values_mut().flatten().find(|b| b.id == parent) {
                b.has_children = true;
            }
        }
        ids
    }

    /// Moves a block (and what it holds) out of its parent's children, as
    /// Notion's trash does.
    pub fn delete_block(&mut self, raw_id: &str) -> Result<Block, ApiError> {
        let id = normalize_id(raw_id).ok_or_else(|| ApiError::not_found("block", raw_id))?;
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

    /// Notes a change for the webhook events, when a subscription listens.
    pub fn changed(
        &mut self,
        kind: &'static str,
        entity: &str,
        author: &str,
        at: DateTime<Utc>,
        properties: Vec<String>,
    ) {
        if let Some(changes) = &mut self.changes {
            changes.push(Change {
                kind,
                entity: entity.to_string(),
                author: author.to_string(),
                at,
                properties,
            });
        }
    }

    fn schema_changed(&mut self, name: &str, now: DateTime<Utc>) {
        self.schema_edited_time = now;
        let ds = self.data_source_id.clone();
        self.changed(
            "data_source.schema_updated",
            &ds,
            crate::schema::PERSON_USER_IDS[0],
            now,
            vec![name.to_string()],
        );
    }

    // ---------- schema edits (control API) ----------

    pub fn remove_property(&mut self, name: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
        let idx = self.schema_index(name)?;
        let removed = self.schema.remove(idx);
        for p in &mut self.pages {
            p.values.remove(&removed.id);
        }
        self.schema_changed(&removed.name, now);
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
        self.schema_changed(new, now);
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
        self.schema_changed(name, now);
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

/// The bot is the author of every API write.
pub(crate) const API_AUTHOR: &str = BOT_USER_ID;
