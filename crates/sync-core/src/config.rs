//! The choices a team makes about its sync, as plain data.
//!
//! Reading them from environment variables is the shell's job; this module
//! only says what the choices are and parses their spellings.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use serde::Serialize;

use crate::phone::Region;

/// Who wins a contact-info field changed on both sides to different values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactPolicy {
    /// The later edit wins (roadmap rule 3); the other value is kept.
    #[default]
    LastEditWins,
    DialerWins,
    NotionWins,
    /// Change neither side; record a conflict for a person to resolve.
    Ask,
}

impl std::str::FromStr for ContactPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
            "last_edit_wins" | "last_edit" | "latest" => Ok(ContactPolicy::LastEditWins),
            "dialer_wins" | "dialer" => Ok(ContactPolicy::DialerWins),
            "notion_wins" | "notion" => Ok(ContactPolicy::NotionWins),
            "ask" | "manual" => Ok(ContactPolicy::Ask),
            _ => Err(format!(
                "{s:?} is not a conflict policy: use last_edit_wins, dialer_wins, notion_wins or ask"
            )),
        }
    }
}

/// Where call notes go in Notion. Both are append-only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallNotesTarget {
    /// Paragraphs appended to the page body: a true append, no read-modify-write.
    #[default]
    PageBody,
    /// Lines appended to the end of the Notes property, keeping what is there.
    NotesProperty,
}

impl std::str::FromStr for CallNotesTarget {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "page_body" | "body" => Ok(CallNotesTarget::PageBody),
            "notes_property" | "notes" | "property" => Ok(CallNotesTarget::NotesProperty),
            _ => Err(format!(
                "{s:?} is not a call notes target: use page_body or notes_property"
            )),
        }
    }
}

/// The mass-change brake: a plan that would create or archive more than
/// `max_share` of the known records (and at least `min_records` of them) is
/// held for a person to confirm. The first sync into an empty side is exempt.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Brake {
    pub max_share: f64,
    pub min_records: usize,
}

impl Default for Brake {
    fn default() -> Self {
        Brake {
            max_share: 0.5,
            min_records: 5,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct SyncConfig {
    /// Field key -> Notion property name, for databases whose names differ.
    pub property_names: BTreeMap<String, String>,
    pub contact_policy: ContactPolicy,
    /// The team's zone: dates with a time are shown in it in Notion, and
    /// dialer times without an offset are read in it.
    pub time_zone: Tz,
    pub phone_region: Region,
    pub brake: Brake,
    pub call_notes: CallNotesTarget,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            property_names: BTreeMap::new(),
            contact_policy: ContactPolicy::default(),
            time_zone: chrono_tz::America::New_York,
            phone_region: Region::default(),
            brake: Brake::default(),
            call_notes: CallNotesTarget::default(),
        }
    }
}

impl SyncConfig {
    pub fn property_name<'a>(&'a self, spec: &'a crate::FieldSpec) -> &'a str {
        self.property_names
            .get(spec.key)
            .map(String::as_str)
            .unwrap_or(spec.property)
    }
}

pub fn parse_time_zone(s: &str) -> Result<Tz, String> {
    s.trim()
        .parse::<Tz>()
        .map_err(|_| format!("{s:?} is not a time zone: use an IANA name such as America/New_York"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(
            "Last-Edit-Wins".parse::<ContactPolicy>(),
            Ok(ContactPolicy::LastEditWins)
        );
        assert_eq!("ask".parse::<ContactPolicy>(), Ok(ContactPolicy::Ask));
        assert!("coin flip".parse::<ContactPolicy>().is_err());
        assert_eq!(
            "notes".parse::<CallNotesTarget>(),
            Ok(CallNotesTarget::NotesProperty)
        );
        assert_eq!(
            parse_time_zone("Europe/Berlin").unwrap(),
            chrono_tz::Europe::Berlin
        );
        assert!(parse_time_zone("Mars/Olympus").is_err());
    }
}
