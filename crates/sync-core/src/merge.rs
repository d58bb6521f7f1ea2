//! The three-way merge of one record, field by field.
//!
//! Each side's current value is compared with that side's value at the last
//! successful sync (the base): a field "changed" on a side when its value
//! differs from that side's base, never because a timestamp moved. The base
//! keeps both sides' views, as each side gave them back after the last
//! write, so a lossy side (Notion reformatting a value, a checkbox that
//! cannot be empty) never looks like an edit and never echoes back.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::ContactPolicy;
use crate::contact::{dialer_projection, ContactId};
use crate::fields::Strategy;
use crate::schema::Mapping;
use crate::time::floor_to_minute;
use crate::value::{FieldMap, Value};

/// A record's state at its last successful sync.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Base {
    pub contact_id: ContactId,
    pub page_id: Option<String>,
    /// Each field as the dialer held it after the last sync.
    pub dialer: FieldMap,
    /// Each field as Notion held it after the last sync.
    pub notion: FieldMap,
    /// Keys of the calls already appended to Notion's call log.
    #[serde(default)]
    pub logged_calls: BTreeSet<String>,
    #[serde(default)]
    pub status: RecordStatus,
    pub synced_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    #[default]
    Active,
    /// The page is in Notion's trash; the contact is kept, marked archived.
    ArchivedInNotion,
    /// The contact was deleted in the dialer; the page was archived. A
    /// tombstone, so the record never comes back from either side.
    DeletedInDialer,
    /// The contact was deleted in the dialer, but a person edited its page
    /// since the last sync: nothing is archived until a person chooses
    /// (archive the page, or restore the contact from it).
    DeletedInDialerEditedInNotion,
    /// Deleted in the dialer, but a person chose to keep Notion's page: the
    /// next run that reads the page brings the contact back under its id.
    RestoreFromNotion,
}

impl RecordStatus {
    /// Gone from the dialer, decided or waiting: later runs leave it alone.
    pub fn is_deleted_in_dialer(self) -> bool {
        matches!(
            self,
            RecordStatus::DeletedInDialer | RecordStatus::DeletedInDialerEditedInNotion
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Dialer,
    Notion,
}

/// A field changed on both sides to different values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub field: String,
    /// The value both sides agreed on at the last sync (the dialer's view).
    pub base: Option<Value>,
    pub dialer: Value,
    pub notion: Value,
    pub dialer_edited_at: Option<DateTime<Utc>>,
    pub notion_edited_at: DateTime<Utc>,
    /// Which side the policy applied, or `None` when it waits for a person.
    pub applied: Option<Side>,
    /// Why: "dialer edited later", "policy: notion wins", ...
    pub reason: String,
}

impl FieldConflict {
    /// The side a person would most likely keep: the later edit (the
    /// roadmap's "Recommended: Keep Dialer version (more recent)"), by the
    /// same rule last-edit-wins applies ([`later_edit`]).
    pub fn recommended(&self) -> Side {
        later_edit(self.dialer_edited_at, self.notion_edited_at).0
    }
}

/// The side to recommend for a whole record: the one whose latest edit
/// among its conflicting fields is the later one ([`later_edit`]).
pub fn recommended_side(conflicts: &[FieldConflict]) -> Side {
    let notion = conflicts.iter().map(|c| c.notion_edited_at).max();
    let dialer = if conflicts.iter().any(|c| c.dialer_edited_at.is_none()) {
        None
    } else {
        conflicts.iter().filter_map(|c| c.dialer_edited_at).max()
    };
    match notion {
        Some(n) => later_edit(dialer, n).0,
        None => Side::Dialer,
    }
}

/// Which edit is the later, the one rule for last-edit-wins and for the
/// console's recommendation. Notion's edit times are rounded down to the
/// minute, so the dialer's time is compared at the same precision; a tie
/// goes to the dialer, the system the calls are made in, so a retried run
/// always picks the same side. A dialer edit whose time is unknown (no
/// `updatedAt`, no blob time) happened after the last sync, and is not
/// known to be earlier than Notion's: it is taken as a tie.
pub fn later_edit(
    dialer_at: Option<DateTime<Utc>>,
    notion_at: DateTime<Utc>,
) -> (Side, &'static str) {
    let Some(dialer_at) = dialer_at else {
        return (
            Side::Dialer,
            "the dialer's edit time is unknown; the dialer wins ties",
        );
    };
    let (d, n) = (floor_to_minute(dialer_at), floor_to_minute(notion_at));
    if d > n {
        (Side::Dialer, "the dialer was edited later")
    } else if n > d {
        (Side::Notion, "Notion was edited later")
    } else {
        (
            Side::Dialer,
            "edited in the same minute; the dialer wins ties",
        )
    }
}

/// Whether two values of field `key` are one value on both sides: equal,
/// equal once written to the other side, or two spellings of one phone number.
pub fn same_value(mapping: &Mapping, key: &str, dialer: &Value, notion: &Value) -> bool {
    let Some(f) = mapping.field(key) else {
        return dialer == notion;
    };
    dialer == notion
        || mapping.projection(key, dialer) == *notion
        || dialer_projection(f.spec.kind, notion, mapping.zone) == *dialer
        || same_phone(f.spec.kind, dialer, notion, mapping.phone_region)
}

/// A record's open conflicts after a run: the fields it found now, and the
/// earlier ones it did not replace, except those still waiting for a person
/// whose two sides have since been made the same (`base`: both sides after
/// the run). Settled ones stay, for review, until they are retired.
pub fn merge_conflicts(
    earlier: &[FieldConflict],
    found: &[FieldConflict],
    base: &Base,
    mapping: &Mapping,
) -> Vec<FieldConflict> {
    let mut out: Vec<FieldConflict> = earlier
        .iter()
        .filter(|c| !found.iter().any(|f| f.field == c.field))
        .filter(|c| {
            let d = base.dialer.get(&c.field).cloned().unwrap_or(Value::Empty);
            let n = base.notion.get(&c.field).cloned().unwrap_or(Value::Empty);
            c.applied.is_some() || !same_value(mapping, &c.field, &d, &n)
        })
        .cloned()
        .collect();
    out.extend(found.iter().cloned());
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

/// Whether both sides still hold what they held when the conflict was
/// found (after what its policy applied): a resolution written over a newer
/// edit would destroy it. `Err` names the first field that moved.
pub fn conflict_stands(
    conflicts: &[FieldConflict],
    dialer: &FieldMap,
    notion: &FieldMap,
    mapping: &Mapping,
) -> Result<(), String> {
    match conflicts
        .iter()
        .find(|c| !stands(c, dialer, notion, mapping))
    {
        Some(c) => Err(c.field.clone()),
        None => Ok(()),
    }
}

fn stands(c: &FieldConflict, dialer: &FieldMap, notion: &FieldMap, mapping: &Mapping) -> bool {
    let (want_d, want_n) = match c.applied {
        Some(Side::Dialer) => (&c.dialer, &c.dialer),
        Some(Side::Notion) => (&c.notion, &c.notion),
        None => (&c.dialer, &c.notion),
    };
    let d = dialer.get(&c.field).unwrap_or(&Value::Empty);
    let n = notion.get(&c.field).unwrap_or(&Value::Empty);
    same_value(mapping, &c.field, want_d, d) && same_value(mapping, &c.field, n, want_n)
}

/// A conflict brought up to date with what both sides hold now: fields
/// that still stand are kept; a field edited again since waits for a person
/// with its current values; one whose sides now agree is closed.
pub fn refresh_conflicts(
    conflicts: &[FieldConflict],
    dialer: &FieldMap,
    notion: &FieldMap,
    mapping: &Mapping,
) -> Vec<FieldConflict> {
    conflicts
        .iter()
        .filter_map(|c| {
            if stands(c, dialer, notion, mapping) {
                return Some(c.clone());
            }
            let d = dialer.get(&c.field).cloned().unwrap_or(Value::Empty);
            let n = notion.get(&c.field).cloned().unwrap_or(Value::Empty);
            (!same_value(mapping, &c.field, &d, &n)).then(|| FieldConflict {
                dialer: d,
                notion: n,
                applied: None,
                reason: "edited again since the conflict was found; choose again".into(),
                ..c.clone()
            })
        })
        .collect()
}

/// A value the sync replaced. Never dropped: reported, and stored with the
/// record's history so it can be restored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LostValue {
    pub field: String,
    /// The side whose value was replaced.
    pub side: Side,
    pub value: Value,
    pub replaced_by: Value,
    pub reason: String,
}

/// One record's two sides as the merge sees them.
#[derive(Clone, Debug)]
pub struct MergeInput<'a> {
    pub base: Option<&'a Base>,
    pub dialer: &'a FieldMap,
    pub dialer_edited_at: Option<DateTime<Utc>>,
    pub notion: &'a FieldMap,
    pub notion_edited_at: DateTime<Utc>,
}

/// What the merge decided for one record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldMerge {
    pub to_notion: FieldMap,
    pub to_dialer: FieldMap,
    pub conflicts: Vec<FieldConflict>,
    pub lost: Vec<LostValue>,
    /// Each side's view once the writes are done: the next base.
    pub base_dialer: FieldMap,
    pub base_notion: FieldMap,
}

impl FieldMerge {
    pub fn has_writes(&self) -> bool {
        !self.to_notion.is_empty() || !self.to_dialer.is_empty()
    }
}

/// Merges every field the mapping exchanges.
pub fn merge_fields(input: &MergeInput, mapping: &Mapping, policy: ContactPolicy) -> FieldMerge {
    let mut out = FieldMerge::default();
    for f in &mapping.fields {
        let key = f.spec.key;
        if matches!(f.spec.strategy, Strategy::Key | Strategy::CreatedTime) {
            continue;
        }
        let d = input.dialer.get(key).cloned().unwrap_or(Value::Empty);
        let n = input.notion.get(key).cloned().unwrap_or(Value::Empty);
        let base_d = input
            .base
            .map(|b| b.dialer.get(key).cloned().unwrap_or(Value::Empty));
        let base_n = input
            .base
            .map(|b| b.notion.get(key).cloned().unwrap_or(Value::Empty));
        let to_n = |v: &Value| mapping.projection(key, v);
        let to_d = |v: &Value| dialer_projection(f.spec.kind, v, mapping.zone);
        let same = same_value(mapping, key, &d, &n);
        let changed_d = base_d.as_ref() != Some(&d);
        let changed_n = base_n.as_ref() != Some(&n);

        let winner: Option<Side> = match f.spec.strategy {
            Strategy::DialerOwned => {
                if to_n(&d) != n && changed_n && !n.is_empty() {
                    out.lost.push(LostValue {
                        field: key.into(),
                        side: Side::Notion,
                        value: n.clone(),
                        replaced_by: d.clone(),
                        reason: "call data comes from the dialer".into(),
                    });
                }
                Some(Side::Dialer)
            }
            Strategy::NotionOwned => {
                if to_d(&n) != d && changed_d && !d.is_empty() {
                    out.lost.push(LostValue {
                        field: key.into(),
                        side: Side::Dialer,
                        value: d.clone(),
                        replaced_by: n.clone(),
                        reason: "Notion's own fields are read-only in the dialer".into(),
                    });
                }
                Some(Side::Notion)
            }
            Strategy::ContactInfo => {
                if same {
                    None
                } else if input.base.is_none() && (d.is_empty() || n.is_empty()) {
                    // A first match where one side simply lacks the value: fill the gap.
                    Some(if d.is_empty() {
                        Side::Notion
                    } else {
                        Side::Dialer
                    })
                } else {
                    match (changed_d, changed_n) {
                        (false, false) => None,
                        (true, false) => Some(Side::Dialer),
                        (false, true) => Some(Side::Notion),
                        (true, true) => {
                            let (applied, reason) =
                                decide(policy, input.dialer_edited_at, input.notion_edited_at);
                            out.conflicts.push(FieldConflict {
                                field: key.into(),
                                base: base_d.clone(),
                                dialer: d.clone(),
                                notion: n.clone(),
                                dialer_edited_at: input.dialer_edited_at,
                                notion_edited_at: input.notion_edited_at,
                                applied,
                                reason,
                            });
                            if let Some(side) = applied {
                                let (value, replaced_by) = match side {
                                    Side::Dialer => (n.clone(), d.clone()),
                                    Side::Notion => (d.clone(), n.clone()),
                                };
                                out.lost.push(LostValue {
                                    field: key.into(),
                                    side: other(side),
                                    value,
                                    replaced_by,
                                    reason: "conflict".into(),
                                });
                            }
                            applied
                        }
                    }
                }
            }
            Strategy::Key | Strategy::CreatedTime => None,
        };

        let (mut next_d, mut next_n) = (d.clone(), n.clone());
        if let Some(side) = winner {
            let value = match side {
                Side::Dialer => &d,
                Side::Notion => &n,
            };
            if f.spec.strategy != Strategy::NotionOwned && to_n(value) != n {
                out.to_notion.insert(key.into(), value.clone());
                next_n = to_n(value);
            }
            if f.spec.strategy != Strategy::DialerOwned && to_d(value) != d {
                out.to_dialer.insert(key.into(), value.clone());
                next_d = to_d(value);
            }
        }
        out.base_dialer.insert(key.into(), next_d);
        out.base_notion.insert(key.into(), next_n);
    }
    out
}

/// Two spellings of one phone number are the same value: linking or
/// comparing them never rewrites either side's spelling.
fn same_phone(kind: crate::Kind, a: &Value, b: &Value, region: crate::phone::Region) -> bool {
    let key = |v: &Value| v.as_text().and_then(|s| crate::phone::match_key(s, region));
    kind == crate::Kind::Phone && key(a).is_some() && key(a) == key(b)
}

fn other(side: Side) -> Side {
    match side {
        Side::Dialer => Side::Notion,
        Side::Notion => Side::Dialer,
    }
}

/// The policy's choice for a true conflict (last edit wins: [`later_edit`]).
fn decide(
    policy: ContactPolicy,
    dialer_at: Option<DateTime<Utc>>,
    notion_at: DateTime<Utc>,
) -> (Option<Side>, String) {
    match policy {
        ContactPolicy::DialerWins => (Some(Side::Dialer), "policy: dialer wins".into()),
        ContactPolicy::NotionWins => (Some(Side::Notion), "policy: Notion wins".into()),
        ContactPolicy::Ask => (None, "policy: ask; both sides left as they are".into()),
        ContactPolicy::LastEditWins => {
            let (side, reason) = later_edit(dialer_at, notion_at);
            (Some(side), reason.into())
        }
    }
}

/// A person's answer to a conflict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "choice", rename_all = "snake_case")]
pub enum Resolution {
    /// Every conflicting field takes Notion's value.
    KeepNotion,
    /// Every conflicting field takes the dialer's value.
    KeepDialer,
    /// Field by field: a side, or a value typed by the person.
    Merge {
        fields: std::collections::BTreeMap<String, FieldChoice>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldChoice {
    Dialer,
    Notion,
    Value(Value),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolveError {
    #[error("the merge leaves '{0}' without a choice: pick dialer, notion or a value for it")]
    MissingChoice(String),
    #[error("'{0}' is not one of this conflict's fields")]
    UnknownField(String),
    #[error("the contact was deleted in the dialer: keep \"dialer\" (archive the page) or \"notion\" (restore the contact); it cannot be merged field by field")]
    DeletionNotMergeable,
}

/// [`resolve`] for a contact deleted in the dialer while its page was
/// edited: a whole-record choice. Keep the dialer: nothing is written
/// back (the page is archived); keep Notion: the page's values.
pub fn resolve_deletion(
    conflicts: &[FieldConflict],
    resolution: &Resolution,
) -> Result<FieldMap, ResolveError> {
    match resolution {
        Resolution::KeepDialer => Ok(FieldMap::new()),
        Resolution::KeepNotion => resolve(conflicts, resolution),
        Resolution::Merge { .. } => Err(ResolveError::DeletionNotMergeable),
    }
}

/// The resolution a policy already applied to `conflicts`, field by field
/// (a field it did not settle keeps Notion's value, which was not touched).
pub fn applied_resolution(conflicts: &[FieldConflict]) -> Resolution {
    Resolution::Merge {
        fields: conflicts
            .iter()
            .map(|c| {
                let choice = match c.applied {
                    Some(Side::Dialer) => FieldChoice::Dialer,
                    _ => FieldChoice::Notion,
                };
                (c.field.clone(), choice)
            })
            .collect(),
    }
}

/// The value each conflicting field takes under `resolution`, to be written
/// to both sides. The values not chosen stay in the conflict record.
pub fn resolve(
    conflicts: &[FieldConflict],
    resolution: &Resolution,
) -> Result<FieldMap, ResolveError> {
    if let Resolution::Merge { fields } = resolution {
        if let Some(unknown) = fields
            .keys()
            .find(|k| !conflicts.iter().any(|c| &c.field == *k))
        {
            return Err(ResolveError::UnknownField(unknown.clone()));
        }
    }
    conflicts
        .iter()
        .map(|c| {
            let value = match resolution {
                Resolution::KeepNotion => c.notion.clone(),
                Resolution::KeepDialer => c.dialer.clone(),
                Resolution::Merge { fields } => match fields.get(&c.field) {
                    Some(FieldChoice::Dialer) => c.dialer.clone(),
                    Some(FieldChoice::Notion) => c.notion.clone(),
                    Some(FieldChoice::Value(v)) => v.clone(),
                    None => return Err(ResolveError::MissingChoice(c.field.clone())),
                },
            };
            Ok((c.field.clone(), value))
        })
        .collect()
}
