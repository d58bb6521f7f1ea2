//! What a record's writes are about to replace, so it can be put back:
//! the sync keeps a backup of every value it overwrites (7 days by
//! default) and a person can restore a record to how it was before a run.
//! Pure: the plan and the two sides as they stand before the writes.

use serde::{Deserialize, Serialize};

use crate::merge::Side;
use crate::plan::{DialerWrite, NotionWrite, RecordPlan};
use crate::value::{FieldMap, Value};

/// One value a write replaces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Replaced {
    pub field: String,
    /// The side whose value is replaced.
    pub side: Side,
    pub before: Value,
    pub after: Value,
}

/// Every value `plan` replaces on either side (unchanged values left out).
/// `notion_before` and `dialer_before` are the sides' values right before
/// the writes, as read by the run (or the base, for a side not read).
pub fn replaced(
    plan: &RecordPlan,
    notion_before: &FieldMap,
    dialer_before: &FieldMap,
) -> Vec<Replaced> {
    let mut out = Vec::new();
    let mut side = |side: Side, writes: &FieldMap, before: &FieldMap| {
        for (field, after) in writes {
            let was = before.get(field).cloned().unwrap_or(Value::Empty);
            if &was != after {
                out.push(Replaced {
                    field: field.clone(),
                    side,
                    before: was,
                    after: after.clone(),
                });
            }
        }
    };
    if let NotionWrite::Update { values, .. } = &plan.notion {
        side(Side::Notion, values, notion_before);
    }
    if let DialerWrite::Update { values, .. } = &plan.dialer {
        side(Side::Dialer, values, dialer_before);
    }
    out
}

/// The values that put a record back as it was: for each contact-info
/// field, its value before the run on the side the run overwrote (Notion's
/// first, where the run overwrote both). Call data is the dialer's, always:
/// a restore never puts older call data back.
pub fn restore_values(replaced: &[Replaced]) -> FieldMap {
    let info = |r: &&Replaced| {
        crate::fields::field(&r.field).is_some_and(|f| f.strategy == crate::Strategy::ContactInfo)
    };
    let replaced: Vec<&Replaced> = replaced.iter().filter(info).collect();
    let mut values = FieldMap::new();
    for r in replaced.iter().filter(|r| r.side == Side::Notion) {
        values.insert(r.field.clone(), r.before.clone());
    }
    for r in replaced.iter().filter(|r| r.side == Side::Dialer) {
        values
            .entry(r.field.clone())
            .or_insert_with(|| r.before.clone());
    }
    values
}
