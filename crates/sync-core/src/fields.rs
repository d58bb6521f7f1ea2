//! The field table: every mapped field in one row.
//!
//! A row says where the field lives in the dialer's contact JSON, which Notion
//! property it maps to by default, which Notion property types can hold it,
//! what kind of value it is, and who owns it. Adding a mapped field is adding
//! a row; nothing else in the sync names individual fields.

use serde::Serialize;

/// Who decides a field's value when the two sides differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The match key (Dialer ID): written once, never merged.
    Key,
    /// Call data: the dialer is the source of truth (roadmap rule 2).
    DialerOwned,
    /// Contact info: the configured policy decides (rule 3, last edit wins by default).
    ContactInfo,
    /// Notion's own fields: never written to Notion, copied to the dialer
    /// read-only under `notion.<key>` (rule 4).
    NotionOwned,
    /// Set once from Notion's created time when a contact is created from Notion.
    CreatedTime,
}

/// Where a field lives in the dialer's contact JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialerPath {
    /// A top-level key, e.g. `phone`.
    Top(&'static str),
    /// A key of the latest entry of `callHistory`, e.g. `outcome`.
    LatestCall(&'static str),
    /// A key of the read-only `notion` object the sync keeps in each contact.
    Mirror(&'static str),
}

/// The kind of value a field holds, whatever its Notion type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    /// Text that is a phone number: two spellings of one number are equal
    /// (`(415) 555-0100` and `+1 415 555 0100`), and neither is rewritten.
    Phone,
    /// A whole number that must stay exact (ids, counts).
    Integer,
    /// Zero or more; seconds of call duration.
    Seconds,
    Date,
    Bool,
    Names,
}

/// Notion property types the sync knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PropKind {
    Title,
    RichText,
    Number,
    PhoneNumber,
    Url,
    Email,
    Select,
    MultiSelect,
    Status,
    Date,
    Checkbox,
    People,
    CreatedTime,
    LastEditedTime,
    /// Any type we do not map (formula, rollup, relation, files, ...).
    Other,
}

impl PropKind {
    pub fn from_notion(type_name: &str) -> PropKind {
        match type_name {
            "title" => PropKind::Title,
            "rich_text" => PropKind::RichText,
            "number" => PropKind::Number,
            "phone_number" => PropKind::PhoneNumber,
            "url" => PropKind::Url,
            "email" => PropKind::Email,
            "select" => PropKind::Select,
            "multi_select" => PropKind::MultiSelect,
            "status" => PropKind::Status,
            "date" => PropKind::Date,
            "checkbox" => PropKind::Checkbox,
            "people" => PropKind::People,
            "created_time" => PropKind::CreatedTime,
            "last_edited_time" => PropKind::LastEditedTime,
            _ => PropKind::Other,
        }
    }

    pub fn notion_name(self) -> &'static str {
        match self {
            PropKind::Title => "title",
            PropKind::RichText => "rich_text",
            PropKind::Number => "number",
            PropKind::PhoneNumber => "phone_number",
            PropKind::Url => "url",
            PropKind::Email => "email",
            PropKind::Select => "select",
            PropKind::MultiSelect => "multi_select",
            PropKind::Status => "status",
            PropKind::Date => "date",
            PropKind::Checkbox => "checkbox",
            PropKind::People => "people",
            PropKind::CreatedTime => "created_time",
            PropKind::LastEditedTime => "last_edited_time",
            PropKind::Other => "other",
        }
    }

    /// The name Notion's UI shows in its property type menu.
    pub fn ui_name(self) -> &'static str {
        match self {
            PropKind::Title => "Title",
            PropKind::RichText => "Text",
            PropKind::Number => "Number",
            PropKind::PhoneNumber => "Phone",
            PropKind::Url => "URL",
            PropKind::Email => "Email",
            PropKind::Select => "Select",
            PropKind::MultiSelect => "Multi-select",
            PropKind::Status => "Status",
            PropKind::Date => "Date",
            PropKind::Checkbox => "Checkbox",
            PropKind::People => "Person",
            PropKind::CreatedTime => "Created time",
            PropKind::LastEditedTime => "Last edited time",
            PropKind::Other => "another type",
        }
    }

    /// The sync never writes these (Notion answers 400 on read-only types).
    pub fn is_read_only(self) -> bool {
        matches!(
            self,
            PropKind::CreatedTime | PropKind::LastEditedTime | PropKind::Other
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// The field's name in reports, the base and conflicts.
    pub key: &'static str,
    pub dialer: DialerPath,
    /// The Notion property's default name (configurable per field).
    pub property: &'static str,
    /// Notion types that can hold it; the first is what the setup asks for.
    pub accepts: &'static [PropKind],
    pub kind: Kind,
    pub strategy: Strategy,
    /// Without it the sync cannot run (the title and the match key).
    pub required: bool,
}

use DialerPath::{LatestCall, Mirror, Top};
use PropKind as P;

const fn row(
    key: &'static str,
    dialer: DialerPath,
    property: &'static str,
    accepts: &'static [PropKind],
    kind: Kind,
    strategy: Strategy,
) -> FieldSpec {
    FieldSpec {
        key,
        dialer,
        property,
        accepts,
        kind,
        strategy,
        required: false,
    }
}

const fn required(spec: FieldSpec) -> FieldSpec {
    FieldSpec {
        required: true,
        ..spec
    }
}

/// The roadmap's Field Mapping Reference and Phase 1 tables, as data.
#[rustfmt::skip]
pub const FIELDS: &[FieldSpec] = &[
    //            key                dialer                         Notion property        accepted types                  kind            strategy
    required(row("id",              Top("id"),                     "Dialer ID",           &[P::Number],                   Kind::Integer,  Strategy::Key)),
    required(row("companyName",     Top("companyName"),            "Name",                &[P::Title],                    Kind::Text,     Strategy::ContactInfo)),
    row("phone",                    Top("phone"),                  "Phone",               &[P::PhoneNumber, P::RichText], Kind::Phone,    Strategy::ContactInfo),
    row("website",                  Top("website"),                "Website",             &[P::Url, P::RichText],         Kind::Text,     Strategy::ContactInfo),
    row("address",                  Top("address"),                "Address",             &[P::RichText],                 Kind::Text,     Strategy::ContactInfo),
    row("linkedin",                 Top("linkedin"),               "LinkedIn",            &[P::Url, P::RichText],         Kind::Text,     Strategy::ContactInfo),
    row("industry",                 Top("industry"),               "Industry",            &[P::RichText, P::Select],      Kind::Text,     Strategy::ContactInfo),
    row("nextFollowUp",             Top("nextFollowUp"),           "Next Follow Up Date", &[P::Date],                     Kind::Date,     Strategy::ContactInfo),
    row("totalDials",               Top("totalDials"),             "Total Dials",         &[P::Number],                   Kind::Integer,  Strategy::DialerOwned),
    row("lastCall",                 Top("lastCall"),               "Last Call",           &[P::Date],                     Kind::Date,     Strategy::DialerOwned),
    row("currentOkCode",            Top("currentOkCode"),          "Ok Code",             &[P::RichText, P::Select],      Kind::Text,     Strategy::DialerOwned),
    row("outcome",                  LatestCall("outcome"),         "Outcome",             &[P::Select],                   Kind::Text,     Strategy::DialerOwned),
    row("duration",                 LatestCall("duration"),        "Duration",            &[P::Number],                   Kind::Seconds,  Strategy::DialerOwned),
    row("hadConversation",          LatestCall("hadConversation"), "Had Conversation",    &[P::Checkbox],                 Kind::Bool,     Strategy::DialerOwned),
    row("hadTriage",                LatestCall("hadTriage"),       "Had Triage",          &[P::Checkbox],                 Kind::Bool,     Strategy::DialerOwned),
    row("objection",                LatestCall("objection"),       "Objection",           &[P::RichText],                 Kind::Text,     Strategy::DialerOwned),
    row("createdAt",                Top("createdAt"),              "Created Time",        &[P::CreatedTime],              Kind::Date,     Strategy::CreatedTime),
    row("notes",                    Mirror("notes"),               "Notes",               &[P::RichText],                 Kind::Text,     Strategy::NotionOwned),
    row("assignedTo",               Mirror("assignedTo"),          "Assigned To",         &[P::People],                   Kind::Names,    Strategy::NotionOwned),
    row("tags",                     Mirror("tags"),                "Tags",                &[P::MultiSelect],              Kind::Names,    Strategy::NotionOwned),
    row("priority",                 Mirror("priority"),            "Priority",            &[P::Select, P::RichText],      Kind::Text,     Strategy::NotionOwned),
];

/// The key of the contact object's read-only copy of Notion's own fields.
pub const MIRROR_KEY: &str = "notion";

pub fn field(key: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.key == key)
}

/// Human-readable list of accepted types: "Phone or Text".
pub fn accepted_names(spec: &FieldSpec) -> String {
    let names: Vec<_> = spec.accepts.iter().map(|k| k.ui_name()).collect();
    names.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn keys_and_default_properties_are_unique() {
        let keys: BTreeSet<_> = FIELDS.iter().map(|f| f.key).collect();
        let props: BTreeSet<_> = FIELDS.iter().map(|f| f.property).collect();
        assert_eq!(keys.len(), FIELDS.len());
        assert_eq!(props.len(), FIELDS.len());
    }

    #[test]
    fn the_table_follows_the_roadmap() {
        assert_eq!(field("id").unwrap().property, "Dialer ID");
        assert_eq!(field("outcome").unwrap().strategy, Strategy::DialerOwned);
        assert_eq!(field("phone").unwrap().strategy, Strategy::ContactInfo);
        assert_eq!(field("notes").unwrap().strategy, Strategy::NotionOwned);
        assert_eq!(accepted_names(field("phone").unwrap()), "Phone or Text");
        assert!(FIELDS
            .iter()
            .filter(|f| f.required)
            .all(|f| ["id", "companyName"].contains(&f.key)));
    }
}
