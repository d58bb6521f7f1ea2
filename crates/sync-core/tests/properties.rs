//! Property tests over random synced worlds and random edits on both sides:
//! the plan is idempotent (apply, plan again: nothing to do, no echo), does
//! not depend on record order, converges, never loses a value, and never
//! changes Notion's own notes.

mod support;

use proptest::prelude::*;
use serde_json::json;
use support::*;
use sync_core::{ContactPolicy, FieldMap, SyncConfig, Value};

const FIELDS_EDITED: &[&str] = &[
    "companyName",
    "phone",
    "website",
    "industry",
    "nextFollowUp",
    "totalDials",
    "currentOkCode",
];

fn pool(key: &str, pick: u8) -> Value {
    let i = pick % 4;
    if i == 0 {
        return Value::Empty;
    }
    match key {
        "totalDials" => Value::Number(f64::from(i)),
        "nextFollowUp" => Value::Date(
            sync_core::time::parse_date(&format!("2026-10-0{i}"), chrono_tz::America::New_York)
                .unwrap(),
        ),
        "website" => Value::text(format!("https://site{i}.test")),
        _ => Value::text(format!("{key}-{i}")),
    }
}

#[derive(Clone, Debug)]
struct Edit {
    contact: usize,
    on_notion: bool,
    field: usize,
    pick: u8,
    minute: i64,
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(
        (
            0usize..4,
            any::<bool>(),
            0..FIELDS_EDITED.len(),
            any::<u8>(),
            1i64..30,
        )
            .prop_map(|(contact, on_notion, field, pick, minute)| Edit {
                contact,
                on_notion,
                field,
                pick,
                minute,
            }),
        0..12,
    )
}

fn policy() -> impl Strategy<Value = ContactPolicy> {
    prop_oneof![
        Just(ContactPolicy::LastEditWins),
        Just(ContactPolicy::DialerWins),
        Just(ContactPolicy::NotionWins),
        Just(ContactPolicy::Ask)
    ]
}

/// Four contacts synced once; one Notion note per page.
fn synced_world(policy: ContactPolicy, picks: &[u8]) -> World {
    let mut w = World::new(SyncConfig {
        contact_policy: policy,
        ..SyncConfig::default()
    });
    for n in 0..4u64 {
        let mut raw = serde_json::Map::new();
        raw.insert("id".into(), json!((100 + n).to_string()));
        let mut vals = FieldMap::new();
        for (i, key) in FIELDS_EDITED.iter().enumerate() {
            vals.insert(
                key.to_string(),
                pool(key, picks.get(i + n as usize).copied().unwrap_or(1)),
            );
        }
        sync_core::contact::write_fields(&mut raw, &vals);
        w.add_contact(serde_json::Value::Object(raw));
    }
    w.sync();
    let pages: Vec<String> = w.pages.iter().map(|p| p.id.clone()).collect();
    for (i, p) in pages.iter().enumerate() {
        w.edit_page(
            p,
            t(0),
            "notes",
            Value::text(format!("Notion's own note {i}")),
        );
    }
    w.sync();
    w
}

fn apply_edits(w: &mut World, edits: &[Edit]) {
    for e in edits {
        let id = World::id(100 + e.contact as u64);
        let key = FIELDS_EDITED[e.field];
        let value = pool(key, e.pick);
        if e.on_notion {
            let page = w.page_of(id).unwrap().id.clone();
            w.edit_page(&page, t(e.minute), key, value);
        } else {
            w.edit_contact(id, t(e.minute), |c| {
                let mut m = FieldMap::new();
                m.insert(key.to_string(), value);
                sync_core::contact::write_fields(c, &m);
            });
        }
    }
    w.now = t(40);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn apply_then_plan_again_is_a_noop(policy in policy(), picks in prop::collection::vec(any::<u8>(), 12), edits in edits()) {
        let mut w = synced_world(policy, &picks);
        apply_edits(&mut w, &edits);
        let plan = w.plan();
        w.apply(&plan);
        let again = w.plan();
        prop_assert!(again.is_noop(), "second plan has writes:\n{}", again);
        prop_assert!(again.records.iter().all(|r| r.conflicts.is_empty()), "conflicts come back:\n{}", again);
    }

    #[test]
    fn the_plan_does_not_depend_on_record_order(policy in policy(), picks in prop::collection::vec(any::<u8>(), 12), edits in edits()) {
        let mut w = synced_world(policy, &picks);
        apply_edits(&mut w, &edits);
        let forward = w.plan();
        let backward = w.plan_with(|mut c| { c.reverse(); c });
        w.pages.reverse();
        let pages_reversed = w.plan();
        prop_assert_eq!(&forward, &backward);
        prop_assert_eq!(&forward, &pages_reversed);
    }

    #[test]
    fn sides_converge_and_no_value_is_lost(policy in policy(), picks in prop::collection::vec(any::<u8>(), 12), edits in edits()) {
        let mut w = synced_world(policy, &picks);
        let notes_before: Vec<Value> = w.pages.iter().map(|p| p.values["notes"].clone()).collect();
        apply_edits(&mut w, &edits);
        let before = w.clone();
        let plan = w.plan();
        w.apply(&plan);
        let m = mapping(&w.config);
        for n in 0..4u64 {
            let id = World::id(100 + n);
            let contact = w.contact(id);
            let page = w.page_of(id).unwrap();
            let record = plan.records.iter().find(|r| r.contact_id == id);
            for key in FIELDS_EDITED {
                let d = contact.values[*key].clone();
                let p = page.values[*key].clone();
                let open = record.is_some_and(|r| r.conflicts.iter().any(|c| c.field == *key && c.applied.is_none()));
                if !open {
                    prop_assert_eq!(m.projection(key, &d), p.clone(), "{} of {} did not converge", key, id);
                }
                // Every edit made on either side since the last sync is still
                // held somewhere, or recorded as lost (kept) or in a conflict.
                let base = &before.bases[&id];
                let old_d = before.contact(id).values[*key].clone();
                let old_p = before.page_of(id).unwrap().values[*key].clone();
                let edited_d = Some(&old_d) != base.dialer.get(*key);
                let edited_p = Some(&old_p) != base.notion.get(*key);
                let edits = [(old_d, edited_d), (old_p, edited_p)];
                for old in edits.into_iter().filter(|(v, edited)| *edited && !v.is_empty()).map(|(v, _)| v) {
                    let kept = m.projection(key, &old) == p || old == d
                        || record.is_some_and(|r| r.lost.iter().any(|l| l.field == *key && l.value == old)
                            || r.conflicts.iter().any(|c| c.field == *key && (c.dialer == old || c.notion == old)));
                    prop_assert!(kept, "{} of {}: {:?} vanished", key, id, old);
                }
            }
        }
        let notes_after: Vec<Value> = w.pages.iter().map(|p| p.values["notes"].clone()).collect();
        prop_assert_eq!(notes_before, notes_after, "Notion's own notes changed");
    }
}
