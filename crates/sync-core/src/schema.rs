//! The field table resolved against a real Notion database.
//!
//! Each mapped field is looked up among the data source's properties by its
//! (configurable) name and checked against the types that can hold it. The
//! result is a [`Mapping`] the sync reads and writes pages through, and a
//! [`SchemaReport`] that tells a non-technical user exactly what to fix.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::config::SyncConfig;
use crate::contact::ContactId;
use crate::fields::{accepted_names, FieldSpec, PropKind, Strategy, FIELDS};
use crate::notion_value::{notion_projection, read_property, write_property, WriteError};
use crate::value::{FieldMap, Value};

/// One property of the data source's schema.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PropertyInfo {
    pub name: String,
    pub kind: PropKind,
    #[serde(rename = "type")]
    pub type_name: String,
}

/// The data source's properties, from `GET /v1/data_sources/{id}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Schema {
    pub properties: Vec<PropertyInfo>,
}

impl Schema {
    /// Reads the `properties` map of a data source (or a 2022-06-28 database).
    pub fn from_data_source(json: &Json) -> Schema {
        let properties = json
            .get("properties")
            .and_then(Json::as_object)
            .map(|props| {
                props
                    .iter()
                    .map(|(name, p)| {
                        let type_name = p
                            .get("type")
                            .and_then(Json::as_str)
                            .unwrap_or("")
                            .to_string();
                        PropertyInfo {
                            name: p
                                .get("name")
                                .and_then(Json::as_str)
                                .unwrap_or(name)
                                .to_string(),
                            kind: PropKind::from_notion(&type_name),
                            type_name,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Schema { properties }
    }

    /// The database the setup guide asks for: every field's default
    /// property with the first type it accepts (the roadmap's Phase 1 tables).
    pub fn for_field_table() -> Schema {
        Schema {
            properties: FIELDS
                .iter()
                .map(|f| PropertyInfo {
                    name: f.property.to_string(),
                    kind: f.accepts[0],
                    type_name: f.accepts[0].notion_name().to_string(),
                })
                .collect(),
        }
    }

    fn get(&self, name: &str) -> Option<&PropertyInfo> {
        self.properties.iter().find(|p| p.name == name)
    }

    /// A property whose name differs only in case or spacing: the likely typo.
    fn near(&self, name: &str) -> Option<&PropertyInfo> {
        let squash = |s: &str| {
            s.chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>()
                .to_lowercase()
        };
        self.properties
            .iter()
            .find(|p| squash(&p.name) == squash(name))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Missing,
    WrongType,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckItem {
    pub field: &'static str,
    pub property: String,
    pub status: CheckStatus,
    pub required: bool,
    /// The Notion type found, when there is a property by that name.
    pub found_type: Option<String>,
    /// What the user should do, in the words of Notion's UI.
    pub fix: Option<String>,
}

/// What `notion-test` shows: every mapped property found, missing or of the
/// wrong type, with the exact fix.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchemaReport {
    /// False when a required property is missing or unusable: no sync runs.
    pub ready: bool,
    pub items: Vec<CheckItem>,
    /// One line a person can act on, e.g. "2 properties need attention: ...".
    pub summary: String,
}

impl SchemaReport {
    pub fn problems(&self) -> impl Iterator<Item = &CheckItem> {
        self.items.iter().filter(|i| i.status != CheckStatus::Ok)
    }
}

/// One table field tied to a real property.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedField {
    pub spec: &'static FieldSpec,
    pub property: String,
    pub kind: PropKind,
}

/// The field table resolved against one database: how the sync reads and
/// writes its pages. Fields whose property is missing are left out (and
/// reported); the sync still runs while the title and Dialer ID are there.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    pub fields: Vec<ResolvedField>,
    pub zone: Tz,
    /// For comparing phone numbers written differently.
    pub phone_region: crate::phone::Region,
}

/// A Notion page as the sync sees it: plain data, whatever client fetched it.
#[derive(Clone, Debug, PartialEq)]
pub struct PageSnapshot {
    pub id: String,
    pub url: Option<String>,
    pub created_time: DateTime<Utc>,
    pub last_edited_time: DateTime<Utc>,
    pub in_trash: bool,
    pub properties: Map<String, Json>,
}

/// A page read through the mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct NotionRecord {
    pub page_id: String,
    pub url: Option<String>,
    /// `None`: the page has no Dialer ID yet (typed in Notion by a person).
    pub dialer_id: Option<ContactId>,
    /// A Dialer ID that is set but unusable (a fraction, negative, too big).
    pub bad_dialer_id: Option<String>,
    pub values: FieldMap,
    pub created_time: DateTime<Utc>,
    pub last_edited_time: DateTime<Utc>,
    pub in_trash: bool,
}

impl Mapping {
    pub fn resolve(schema: &Schema, config: &SyncConfig) -> (Mapping, SchemaReport) {
        let mut fields = Vec::new();
        let mut items = Vec::new();
        for spec in FIELDS {
            let name = config.property_name(spec).to_string();
            let item = match schema.get(&name) {
                Some(p) if spec.accepts.contains(&p.kind) => {
                    fields.push(ResolvedField {
                        spec,
                        property: name.clone(),
                        kind: p.kind,
                    });
                    CheckItem {
                        field: spec.key,
                        property: name,
                        status: CheckStatus::Ok,
                        required: spec.required,
                        found_type: Some(p.type_name.clone()),
                        fix: None,
                    }
                }
                Some(p) => CheckItem {
                    field: spec.key,
                    fix: Some(format!(
                        "Change the type of '{name}' to {} (it is {} now){}",
                        accepted_names(spec),
                        p.kind.ui_name(),
                        settings_hint(spec)
                    )),
                    property: name,
                    status: CheckStatus::WrongType,
                    required: spec.required,
                    found_type: Some(p.type_name.clone()),
                },
                None => {
                    let fix = match schema.near(&name) {
                        Some(near) => format!(
                            "Rename the property '{}' to '{name}' (names must match exactly)",
                            near.name
                        ),
                        None => format!(
                            "Add a {} property named '{name}'{}{}",
                            spec.accepts[0].ui_name(),
                            if spec.accepts.len() > 1 {
                                format!(" ({} both work)", accepted_names(spec))
                            } else {
                                String::new()
                            },
                            settings_hint(spec)
                        ),
                    };
                    CheckItem {
                        field: spec.key,
                        property: name,
                        status: CheckStatus::Missing,
                        required: spec.required,
                        found_type: None,
                        fix: Some(fix),
                    }
                }
            };
            items.push(item);
        }
        let ready = items
            .iter()
            .all(|i| !i.required || i.status == CheckStatus::Ok);
        let problems: Vec<&CheckItem> = items
            .iter()
            .filter(|i| i.status != CheckStatus::Ok)
            .collect();
        let summary = match (ready, problems.len()) {
            (true, 0) => "All mapped properties are in place.".to_string(),
            (true, n) => format!(
                "Ready to sync. {n} optional propert{} missing or of the wrong type; those fields are skipped until fixed.",
                if n == 1 { "y is" } else { "ies are" }
            ),
            (false, _) => {
                let fixes: Vec<String> = problems.iter().filter(|i| i.required).filter_map(|i| i.fix.clone()).collect();
                format!("Not ready to sync: {}.", fixes.join("; "))
            }
        };
        (
            Mapping {
                fields,
                zone: config.time_zone,
                phone_region: config.phone_region,
            },
            SchemaReport {
                ready,
                items,
                summary,
            },
        )
    }

    pub fn field(&self, key: &str) -> Option<&ResolvedField> {
        self.fields.iter().find(|f| f.spec.key == key)
    }

    /// The name of the Dialer ID property (present whenever the report is ready).
    pub fn dialer_id_property(&self) -> Option<&str> {
        self.field("id").map(|f| f.property.as_str())
    }

    /// Reads every mapped field of a page.
    pub fn read_page(&self, page: &PageSnapshot) -> NotionRecord {
        let mut values = FieldMap::new();
        let mut dialer_id = None;
        let mut bad_dialer_id = None;
        for f in &self.fields {
            let value = page
                .properties
                .get(&f.property)
                .map(|p| read_property(f.kind, p, self.zone))
                .unwrap_or(Value::Empty);
            if f.spec.strategy == Strategy::CreatedTime {
                // The page's own created time; not a value the sync exchanges.
                continue;
            }
            if f.spec.strategy == Strategy::Key {
                match value {
                    Value::Number(n) => match ContactId::from_notion_number(n) {
                        Ok(id) => dialer_id = Some(id),
                        Err(problem) => bad_dialer_id = Some(problem),
                    },
                    _ => {}
                }
                continue;
            }
            values.insert(f.spec.key.to_string(), value);
        }
        NotionRecord {
            page_id: page.id.clone(),
            url: page.url.clone(),
            dialer_id,
            bad_dialer_id,
            values,
            created_time: page.created_time,
            last_edited_time: page.last_edited_time,
            in_trash: page.in_trash,
        }
    }

    /// Notion's write shapes for `values`. Fields Notion owns and read-only
    /// types are never written, whatever `values` holds.
    pub fn write_properties(&self, values: &FieldMap) -> Result<Map<String, Json>, WriteError> {
        let mut props = Map::new();
        for (key, value) in values {
            let Some(f) = self.field(key) else { continue };
            if f.kind.is_read_only()
                || matches!(
                    f.spec.strategy,
                    Strategy::NotionOwned | Strategy::CreatedTime
                )
            {
                continue;
            }
            props.insert(
                f.property.clone(),
                write_property(&f.property, f.kind, value, self.zone)?,
            );
        }
        Ok(props)
    }

    /// The Dialer ID property's write shape.
    pub fn write_dialer_id(&self, id: ContactId) -> Option<(String, Json)> {
        let f = self.field("id")?;
        Some((f.property.clone(), dialer_id_value(id)))
    }

    /// What Notion will hold after `value` is written to field `key`.
    pub fn projection(&self, key: &str, value: &Value) -> Value {
        match self.field(key) {
            Some(f) => notion_projection(f.kind, value, self.zone),
            None => value.clone(),
        }
    }

    /// The value a field would read back as after `value` is written to
    /// the dialer.
    pub fn dialer_projection(&self, key: &str, value: &Value) -> Value {
        match self.field(key) {
            Some(f) => crate::contact::dialer_projection(f.spec.kind, value, self.zone),
            None => value.clone(),
        }
    }

    /// Field keys the sync can exchange with this database, by strategy.
    pub fn keys(&self) -> BTreeMap<&'static str, Strategy> {
        self.fields
            .iter()
            .map(|f| (f.spec.key, f.spec.strategy))
            .collect()
    }
}

fn settings_hint(spec: &FieldSpec) -> &'static str {
    match spec.key {
        "id" => ", number format 'Number' (no commas, no decimals)",
        "outcome" => ", with the options DM, GK and NA",
        "lastCall" | "nextFollowUp" => ", with 'Include time' on",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The roadmap's Phase 1 database, as `GET /v1/data_sources/{id}` gives it.
    pub(crate) fn phase1_schema() -> Json {
        let mut props = Map::new();
        for (name, ty) in [
            ("Name", "title"),
            ("Dialer ID", "number"),
            ("Phone", "phone_number"),
            ("Website", "url"),
            ("Address", "rich_text"),
            ("LinkedIn", "url"),
            ("Industry", "select"),
            ("Total Dials", "number"),
            ("Last Call", "date"),
            ("Next Follow Up Date", "date"),
            ("Ok Code", "rich_text"),
            ("Created Time", "created_time"),
            ("Last Edited", "last_edited_time"),
            ("Outcome", "select"),
            ("Duration", "number"),
            ("Had Conversation", "checkbox"),
            ("Had Triage", "checkbox"),
            ("Objection", "rich_text"),
            ("Notes", "rich_text"),
            ("Assigned To", "people"),
            ("Tags", "multi_select"),
            ("Priority", "select"),
        ] {
            props.insert(
                name.into(),
                json!({"id": name, "name": name, "type": ty, ty: {}}),
            );
        }
        json!({"object": "data_source", "properties": props})
    }

    #[test]
    fn the_phase1_database_is_fully_mapped() {
        let (mapping, report) = Mapping::resolve(
            &Schema::from_data_source(&phase1_schema()),
            &SyncConfig::default(),
        );
        assert!(report.ready, "{}", report.summary);
        assert_eq!(report.problems().count(), 0);
        assert_eq!(mapping.fields.len(), FIELDS.len());
    }

    #[test]
    fn missing_and_wrong_properties_say_exactly_what_to_fix() {
        let mut schema = phase1_schema();
        let props = schema["properties"].as_object_mut().unwrap();
        props.remove("Dialer ID");
        props.insert(
            "Phone".into(),
            json!({"name": "Phone", "type": "checkbox", "checkbox": {}}),
        );
        props.remove("Website");
        props.insert(
            "website ".into(),
            json!({"name": "website ", "type": "url", "url": {}}),
        );
        let (mapping, report) =
            Mapping::resolve(&Schema::from_data_source(&schema), &SyncConfig::default());
        assert!(!report.ready);
        let fix = |field: &str| {
            report
                .items
                .iter()
                .find(|i| i.field == field)
                .unwrap()
                .fix
                .clone()
                .unwrap()
        };
        assert_eq!(
            fix("id"),
            "Add a Number property named 'Dialer ID', number format 'Number' (no commas, no decimals)"
        );
        assert_eq!(
            fix("phone"),
            "Change the type of 'Phone' to Phone or Text (it is Checkbox now)"
        );
        assert_eq!(
            fix("website"),
            "Rename the property 'website ' to 'Website' (names must match exactly)"
        );
        assert!(report
            .summary
            .starts_with("Not ready to sync: Add a Number property named 'Dialer ID'"));
        assert!(
            mapping.field("phone").is_none(),
            "an unusable property is not written"
        );
    }

    #[test]
    fn names_are_configurable_and_other_accepted_types_work() {
        let mut schema = phase1_schema();
        let props = schema["properties"].as_object_mut().unwrap();
        props.remove("Phone");
        props.insert(
            "Mobile".into(),
            json!({"name": "Mobile", "type": "rich_text", "rich_text": {}}),
        );
        let mut config = SyncConfig::default();
        config
            .property_names
            .insert("phone".into(), "Mobile".into());
        let (mapping, report) = Mapping::resolve(&Schema::from_data_source(&schema), &config);
        assert!(report.ready && report.problems().count() == 0, "{report:?}");
        assert_eq!(mapping.field("phone").unwrap().kind, PropKind::RichText);
    }

    #[test]
    fn pages_are_read_through_the_mapping() {
        let (mapping, _) = Mapping::resolve(
            &Schema::from_data_source(&phase1_schema()),
            &SyncConfig::default(),
        );
        let page = |id: Json| PageSnapshot {
            id: "p1".into(),
            url: None,
            created_time: Utc::now(),
            last_edited_time: Utc::now(),
            in_trash: false,
            properties: json!({
                "Dialer ID": {"type": "number", "number": id},
                "Name": {"type": "title", "title": [{"plain_text": "Acme"}]},
                "Phone": {"type": "phone_number", "phone_number": "555-1111"}
            })
            .as_object()
            .unwrap()
            .clone(),
        };
        let r = mapping.read_page(&page(json!(1001)));
        assert_eq!(r.dialer_id.unwrap().get(), 1001);
        assert_eq!(r.values["companyName"], Value::text("Acme"));
        assert_eq!(r.values["website"], Value::Empty);
        let r = mapping.read_page(&page(json!(10.5)));
        assert!(r.dialer_id.is_none() && r.bad_dialer_id.is_some());
        assert!(mapping.read_page(&page(json!(null))).dialer_id.is_none());
    }

    #[test]
    fn writes_skip_notions_own_and_read_only_fields() {
        let (mapping, _) = Mapping::resolve(
            &Schema::from_data_source(&phase1_schema()),
            &SyncConfig::default(),
        );
        let mut values = FieldMap::new();
        values.insert("phone".into(), Value::text("555"));
        values.insert("notes".into(), Value::text("must not be written"));
        values.insert("createdAt".into(), Value::Empty);
        let props = mapping.write_properties(&values).unwrap();
        assert_eq!(props.keys().collect::<Vec<_>>(), vec!["Phone"]);
    }
}

/// The Dialer ID property's write shape (a number).
pub fn dialer_id_value(id: ContactId) -> Json {
    serde_json::json!({ "number": id.get() })
}

/// A Dialer ID property, as a page read holds it, that is empty (a person
/// cleared it).
pub fn dialer_id_is_empty(prop: &Json) -> bool {
    prop.get("number").is_some_and(Json::is_null)
}
