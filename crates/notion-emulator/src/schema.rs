//! The data source schema and the workspace's users. The default is the
//! roadmap's Phase 1 CRM table, so an empty emulator looks like a freshly
//! configured customer database.

use serde_json::{json, Map, Value};

/// Property types whose values the API may never set.
pub(crate) const READ_ONLY_TYPES: &[&str] = &[
    "created_time",
    "last_edited_time",
    "created_by",
    "last_edited_by",
    "formula",
    "rollup",
    "unique_id",
    "button",
    "verification",
];

/// Every type a property value may carry, to tell "wrong type" from "garbage".
pub(crate) const KNOWN_TYPES: &[&str] = &[
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "status",
    "date",
    "people",
    "files",
    "checkbox",
    "url",
    "email",
    "phone_number",
    "relation",
    "created_time",
    "last_edited_time",
    "created_by",
    "last_edited_by",
    "formula",
    "rollup",
    "unique_id",
    "button",
    "verification",
];

/// Colors Notion hands to new select options, in rotation.
const OPTION_COLORS: &[&str] = &[
    "default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red",
];

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PropertySchema {
    /// Stable across renames; page values are keyed by it.
    pub id: String,
    pub name: String,
    pub type_name: String,
    /// The `<type>` object, e.g. `{"options":[...]}` or `{"format":"number"}`.
    pub config: Value,
}

impl PropertySchema {
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("name".into(), json!(self.name));
        // `null` unless set in the UI (real data source recordings).
        m.insert("description".into(), Value::Null);
        m.insert("type".into(), json!(self.type_name));
        m.insert(self.type_name.clone(), self.config.clone());
        Value::Object(m)
    }

    pub fn options(&self) -> Vec<Value> {
        self.config
            .get("options")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    /// Finds an option by id or name, creating it (as Notion does for names
    /// it has not seen) when `name` is given.
    pub fn resolve_option(&mut self, id: Option<&str>, name: Option<&str>) -> Option<Value> {
        let options = self.options();
        let found = options.iter().find(|o| {
            id.is_some_and(|id| o["id"] == json!(id)) || name.is_some_and(|n| o["name"] == json!(n))
        });
        if let Some(o) = found {
            return Some(json!({"id": o["id"], "name": o["name"], "color": o["color"]}));
        }
        let name = name?;
        let color = OPTION_COLORS[options.len() % OPTION_COLORS.len()];
        let option =
            json!({"id": crate::ids::new_id(), "name": name, "color": color, "description": null});
        let mut all = options;
        all.push(option.clone());
        if let Some(obj) = self.config.as_object_mut() {
            obj.insert("options".into(), Value::Array(all));
        } else {
            self.config = json!({"options": all});
        }
        Some(json!({"id": option["id"], "name": name, "color": color}))
    }
}

fn options(names_colors: &[(&str, &str, &str)]) -> Value {
    let opts: Vec<Value> = names_colors
        .iter()
        .map(|(id, name, color)| json!({"id": id, "name": name, "color": color, "description": null}))
        .collect();
    json!({ "options": opts })
}

/// The Phase 1 CRM schema. Property ids are fixed so tests can refer to them.
pub(crate) fn default_schema() -> Vec<PropertySchema> {
    let p = |id: &str, name: &str, type_name: &str, config: Value| PropertySchema {
        id: id.to_string(),
        name: name.to_string(),
        type_name: type_name.to_string(),
        config,
    };
    vec![
        p("title", "Name", "title", json!({})),
        p("%3AdId", "Dialer ID", "number", json!({"format": "number"})),
        p("Ph%3Dn", "Phone", "phone_number", json!({})),
        p("W%7Bbs", "Website", "url", json!({})),
        p("Ad%3Ar", "Address", "rich_text", json!({})),
        p("Lk%3Fn", "LinkedIn", "url", json!({})),
        p(
            "In%40d",
            "Industry",
            "select",
            options(&[
                ("6f1c2c0e-0a53-4b6f-9d0e-9b0f4a6c1a01", "SaaS", "blue"),
                ("6f1c2c0e-0a53-4b6f-9d0e-9b0f4a6c1a02", "Retail", "green"),
                ("6f1c2c0e-0a53-4b6f-9d0e-9b0f4a6c1a03", "Healthcare", "red"),
            ]),
        ),
        p(
            "TD%3Bl",
            "Total Dials",
            "number",
            json!({"format": "number"}),
        ),
        p("LC%3Dl", "Last Call", "date", json!({})),
        p("NF%3Du", "Next Follow Up Date", "date", json!({})),
        p("Ok%3Cd", "Ok Code", "rich_text", json!({})),
        p("Cr%3Bt", "Created Time", "created_time", json!({})),
        p("LE%3Dt", "Last Edited", "last_edited_time", json!({})),
        p(
            "Ou%3Ac",
            "Outcome",
            "select",
            options(&[
                ("3b1f7c9e-1c1d-4e0a-8a55-0d7c2c6b2b01", "DM", "green"),
                ("3b1f7c9e-1c1d-4e0a-8a55-0d7c2c6b2b02", "GK", "yellow"),
                ("3b1f7c9e-1c1d-4e0a-8a55-0d7c2c6b2b03", "NA", "gray"),
            ]),
        ),
        p("Du%3Ar", "Duration", "number", json!({"format": "number"})),
        p("HC%3Dv", "Had Conversation", "checkbox", json!({})),
        p("HT%3Dr", "Had Triage", "checkbox", json!({})),
        p("Ob%3Aj", "Objection", "rich_text", json!({})),
        p("No%3At", "Notes", "rich_text", json!({})),
        p("As%3Ag", "Assigned To", "people", json!({})),
        p("Tg%3As", "Tags", "multi_select", json!({"options": []})),
        p(
            "Pr%3Ai",
            "Priority",
            "select",
            options(&[
                ("8c2d9e4f-2a3b-4c5d-8e6f-7a8b9c0d1e01", "High", "red"),
                ("8c2d9e4f-2a3b-4c5d-8e6f-7a8b9c0d1e02", "Medium", "yellow"),
                ("8c2d9e4f-2a3b-4c5d-8e6f-7a8b9c0d1e03", "Low", "blue"),
            ]),
        ),
    ]
}

/// The integration's name, as Notion quotes it in `object_not_found`.
pub(crate) const INTEGRATION_NAME: &str = "Dialer Sync";

/// The integration itself (`GET /v1/users/me`); also the `integration_id`
/// Notion reports (in real recordings the bot user id and the integration id
/// are the same).
pub const BOT_USER_ID: &str = "9a3b5c7d-1e2f-4a6b-8c0d-2e4f6a8b0c1d";
/// Workspace members, usable in `people` values and as authors of person edits.
pub const PERSON_USER_IDS: [&str; 2] = [
    "c2f20311-9e54-4d11-8c79-7398424ae41e",
    "d40e767c-d7af-4b18-a86d-55c61f1e39a4",
];
const PERSON_NAMES: [(&str, &str); 2] = [
    ("Alex Rivera", "alex@example.com"),
    ("Sam Chen", "sam@example.com"),
];

pub(crate) fn bot_user() -> Value {
    json!({
        "object": "user",
        "id": BOT_USER_ID,
        "name": INTEGRATION_NAME,
        "avatar_url": null,
        "type": "bot",
        "bot": {
            "owner": {"type": "workspace", "workspace": true},
            "workspace_name": "Acme Sales",
            "workspace_limits": {"max_file_upload_size_in_bytes": 5_368_709_120u64}
        }
    })
}

/// A full user object for a known user id, as reads of `people` show it.
pub(crate) fn user_object(id: &str) -> Option<Value> {
    if id == BOT_USER_ID {
        return Some(bot_user());
    }
    let idx = PERSON_USER_IDS.iter().position(|p| *p == id)?;
    let (name, email) = PERSON_NAMES[idx];
    // Members with a profile picture, as in real people values (bots: null).
    let avatar =
        format!("https://s3-us-west-2.amazonaws.com/public.notion-static.com/{id}/avatar.png");
    Some(json!({
        "object": "user",
        "id": id,
        "name": name,
        "avatar_url": avatar,
        "type": "person",
        "person": {"email": email}
    }))
}

/// The `{"object":"user","id"}` stub pages carry in `created_by` etc.
pub(crate) fn user_stub(id: &str) -> Value {
    json!({"object": "user", "id": id})
}
