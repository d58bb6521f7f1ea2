//! Every rule of the roadmap's "Understanding 2-Way Sync", "Phase 6:
//! Conflict Resolution" and "Field Mapping Reference", one test each.

mod support;

use serde_json::json;
use support::*;
use sync_core::*;

fn acme() -> serde_json::Value {
    json!({
        "id": "1001", "companyName": "Acme Corp", "phone": "555-0000", "website": "https://acme.test",
        "totalDials": 1, "lastCall": "2026-09-14T10:00:00.000Z", "currentOkCode": "OK-1",
        "callHistory": [{"timestamp": "2026-09-14T10:00:00.000Z", "outcome": "NA", "duration": 20, "notes": "no answer"}]
    })
}

/// A world where Acme is already synced once.
fn synced(config: SyncConfig) -> (World, ContactId, String) {
    let mut w = World::new(config);
    let id = w.add_contact(acme());
    let plan = w.sync();
    assert_eq!(
        plan.count(|r| matches!(r.notion, NotionWrite::Create { .. })),
        1
    );
    let page = w.page_of(id).unwrap().id.clone();
    w.now = t(10);
    (w, id, page)
}

#[test]
fn rule5_a_dialer_contact_creates_a_notion_page_with_its_calls_logged() {
    let (w, id, page) = synced(SyncConfig::default());
    let p = w.page(&page);
    assert_eq!(p.dialer_id, Some(id), "rule 1: the Dialer ID is written");
    assert_eq!(p.values["companyName"], Value::text("Acme Corp"));
    assert_eq!(p.values["outcome"], Value::text("NA"));
    assert_eq!(p.values["totalDials"], Value::Number(1.0));
    assert_eq!(w.logged_calls(&page).len(), 1);
    assert!(w.plan().is_noop(), "no echo: {}", w.plan());
}

#[test]
fn rule5_a_notion_page_creates_a_dialer_contact_with_a_new_unique_id() {
    let mut w = World::new(SyncConfig::default());
    w.add_contact(acme());
    w.sync();
    let page = w.add_page(
        None,
        values(&[
            ("companyName", Value::text("Beta LLC")),
            ("phone", Value::text("555-9999")),
            ("notes", Value::text("from a trade show")),
        ]),
        t(5),
    );
    w.now = t(6);
    let plan = w.sync();
    let created: Vec<_> = plan
        .records
        .iter()
        .filter(|r| matches!(r.dialer, DialerWrite::Create { .. }))
        .collect();
    assert_eq!(created.len(), 1);
    let new_id = created[0].contact_id;
    assert_eq!(
        new_id.get(),
        1002,
        "next after the highest id in the dialer"
    );
    assert_eq!(
        w.page(&page).dialer_id,
        Some(new_id),
        "the new id is written to the page too"
    );
    let c = w.contact(new_id);
    assert_eq!(c.company_name(), "Beta LLC");
    assert_eq!(
        c.values["notes"],
        Value::text("from a trade show"),
        "Notion's notes are copied read-only"
    );
    assert!(c.raw.get("createdAt").is_some());
    assert!(w.plan().is_noop(), "{}", w.plan());
}

#[test]
fn edits_flow_from_the_side_that_changed() {
    let (mut w, id, page) = synced(SyncConfig::default());
    w.edit_contact(id, t(11), |c| {
        c.insert("website".into(), json!("https://acme.example"));
    });
    w.edit_page(&page, t(12), "address", Value::text("1 Main St"));
    let plan = w.sync();
    assert!(plan.records[0].conflicts.is_empty());
    assert_eq!(
        w.page(&page).values["website"],
        Value::text("https://acme.example")
    );
    assert_eq!(w.contact(id).values["address"], Value::text("1 Main St"));
    assert!(w.plan().is_noop());
}

#[test]
fn rule2_call_data_always_comes_from_the_dialer() {
    let (mut w, id, page) = synced(SyncConfig::default());
    w.edit_page(&page, t(11), "totalDials", Value::Number(99.0));
    w.edit_contact(id, t(12), |c| {
        c.insert("totalDials".into(), json!(2));
        c["callHistory"].as_array_mut().unwrap().push(json!({"timestamp": "2026-09-15T14:12:00.000Z", "outcome": "DM", "duration": 300, "hadConversation": true, "notes": "interested"}));
        c.insert("currentOkCode".into(), json!("OK-7"));
    });
    let plan = w.sync();
    let r = &plan.records[0];
    assert!(r.conflicts.is_empty(), "call data never conflicts");
    assert_eq!(
        r.lost.len(),
        1,
        "Notion's 99 is replaced and kept: {:?}",
        r.lost
    );
    assert_eq!(r.lost[0].value, Value::Number(99.0));
    let p = w.page(&page);
    assert_eq!(p.values["totalDials"], Value::Number(2.0));
    assert_eq!(p.values["outcome"], Value::text("DM"));
    assert_eq!(p.values["duration"], Value::Number(300.0));
    assert_eq!(p.values["hadConversation"], Value::Bool(true));
    assert_eq!(p.values["currentOkCode"], Value::text("OK-7"));
    assert_eq!(
        w.logged_calls(&page).len(),
        2,
        "the new call is appended once"
    );
    assert!(w.plan().is_noop());
    assert_eq!(w.logged_calls(&page).len(), 2);
}

#[test]
fn rule4_notion_notes_are_never_overwritten() {
    let (mut w, id, page) = synced(SyncConfig::default());
    w.edit_page(&page, t(11), "notes", Value::text("Decision maker is Sam."));
    w.edit_contact(id, t(12), |c| {
        c.insert(
            "notion".into(),
            json!({"notes": "dialer tried to change this"}),
        );
    });
    w.sync();
    assert_eq!(
        w.page(&page).values["notes"],
        Value::text("Decision maker is Sam.")
    );
    assert_eq!(
        w.contact(id).values["notes"],
        Value::text("Decision maker is Sam."),
        "copied to the dialer read-only"
    );
}

#[test]
fn call_notes_can_be_appended_to_the_notes_property_keeping_what_is_there() {
    let config = SyncConfig {
        call_notes: CallNotesTarget::NotesProperty,
        ..SyncConfig::default()
    };
    let (mut w, id, page) = synced(config);
    w.edit_page(&page, t(11), "notes", Value::text("Decision maker is Sam."));
    w.sync();
    w.now = t(20);
    w.edit_contact(id, t(19), |c| {
        c["callHistory"].as_array_mut().unwrap().push(json!({"timestamp": "2026-09-15T14:19:00.000Z", "outcome": "DM", "notes": "sent pricing"}));
    });
    w.sync();
    let notes = w.page(&page).values["notes"].as_text().unwrap().to_string();
    assert!(notes.starts_with("Decision maker is Sam.\n\n📞"), "{notes}");
    assert!(notes.contains("sent pricing"));
    assert!(w.plan().is_noop(), "{}", w.plan());
}

fn roadmap_conflict(
    config: SyncConfig,
    notion_at: i64,
    dialer_at: i64,
) -> (World, ContactId, String, Plan) {
    let (mut w, id, page) = synced(config);
    w.edit_page(&page, t(notion_at), "phone", Value::text("555-1111"));
    w.edit_contact(id, t(dialer_at), |c| {
        c.insert("phone".into(), json!("555-2222"));
    });
    w.now = t(30);
    let plan = w.plan();
    (w, id, page, plan)
}

#[test]
fn roadmap_conflict_is_detected_and_last_edit_wins_by_default() {
    let (mut w, id, page, plan) = roadmap_conflict(SyncConfig::default(), 15, 20);
    let c = &plan.records[0].conflicts[0];
    assert_eq!(
        (c.field.as_str(), c.notion.clone(), c.dialer.clone()),
        ("phone", Value::text("555-1111"), Value::text("555-2222"))
    );
    assert_eq!(c.applied, Some(Side::Dialer), "the dialer edited later");
    assert_eq!(
        plan.records[0].lost[0].value,
        Value::text("555-1111"),
        "the losing value is kept"
    );
    w.apply(&plan);
    assert_eq!(w.page(&page).values["phone"], Value::text("555-2222"));
    assert_eq!(w.contact(id).values["phone"], Value::text("555-2222"));

    let (mut w, id, page, plan) = roadmap_conflict(SyncConfig::default(), 25, 20);
    assert_eq!(plan.records[0].conflicts[0].applied, Some(Side::Notion));
    w.apply(&plan);
    assert_eq!(w.contact(id).values["phone"], Value::text("555-1111"));
    assert_eq!(w.page(&page).values["phone"], Value::text("555-1111"));
}

#[test]
fn the_console_recommends_the_more_recent_edit() {
    let config = SyncConfig {
        contact_policy: ContactPolicy::Ask,
        ..SyncConfig::default()
    };
    let (_, _, _, plan) = roadmap_conflict(config.clone(), 15, 20);
    let conflicts = &plan.records[0].conflicts;
    assert_eq!(conflicts[0].recommended(), Side::Dialer);
    assert_eq!(recommended_side(conflicts), Side::Dialer);
    let (_, _, _, plan) = roadmap_conflict(config, 25, 20);
    assert_eq!(plan.records[0].conflicts[0].recommended(), Side::Notion);
    assert_eq!(recommended_side(&plan.records[0].conflicts), Side::Notion);
}

#[test]
fn roadmap_conflict_keep_notion_and_keep_dialer() {
    for (choice, expected) in [
        (Resolution::KeepNotion, "555-1111"),
        (Resolution::KeepDialer, "555-2222"),
    ] {
        let config = SyncConfig {
            contact_policy: ContactPolicy::Ask,
            ..SyncConfig::default()
        };
        let (mut w, id, page, plan) = roadmap_conflict(config, 15, 20);
        let conflicts = plan.records[0].conflicts.clone();
        assert_eq!(conflicts[0].applied, None, "ask: waits for a person");
        assert!(
            !plan.records[0].has_writes(),
            "ask: neither side is touched"
        );
        w.apply(&plan);
        assert!(
            w.plan().is_noop(),
            "an open conflict is not re-planned as writes"
        );
        let chosen = resolve(&conflicts, &choice).unwrap();
        assert_eq!(chosen["phone"], Value::text(expected));
        // The engine writes the chosen value to both sides.
        w.edit_page(&page, t(31), "phone", chosen["phone"].clone());
        w.edit_contact(id, t(31), |c| {
            c.insert("phone".into(), json!(expected));
        });
        w.now = t(32);
        w.sync();
        assert_eq!(w.page(&page).values["phone"], Value::text(expected));
        assert_eq!(w.contact(id).values["phone"], Value::text(expected));
        assert!(w.plan().is_noop());
    }
}

#[test]
fn manual_merge_picks_field_by_field() {
    let config = SyncConfig {
        contact_policy: ContactPolicy::Ask,
        ..SyncConfig::default()
    };
    let (mut w, id, page) = synced(config);
    w.edit_page(&page, t(11), "phone", Value::text("555-1111"));
    w.edit_page(
        &page,
        t(11),
        "website",
        Value::text("https://notion.example"),
    );
    w.edit_contact(id, t(12), |c| {
        c.insert("phone".into(), json!("555-2222"));
        c.insert("website".into(), json!("https://dialer.example"));
    });
    let conflicts = w.plan().records[0].conflicts.clone();
    assert_eq!(conflicts.len(), 2);
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("phone".to_string(), FieldChoice::Notion);
    fields.insert(
        "website".to_string(),
        FieldChoice::Value(Value::text("https://both.example")),
    );
    let chosen = resolve(
        &conflicts,
        &Resolution::Merge {
            fields: fields.clone(),
        },
    )
    .unwrap();
    assert_eq!(chosen["phone"], Value::text("555-1111"));
    assert_eq!(chosen["website"], Value::text("https://both.example"));
    fields.remove("website");
    assert!(matches!(
        resolve(&conflicts, &Resolution::Merge { fields }),
        Err(merge::ResolveError::MissingChoice(_))
    ));
}

#[test]
fn policies_dialer_wins_and_notion_wins() {
    let (_, _, _, plan) = roadmap_conflict(
        SyncConfig {
            contact_policy: ContactPolicy::DialerWins,
            ..SyncConfig::default()
        },
        25,
        20,
    );
    assert_eq!(plan.records[0].conflicts[0].applied, Some(Side::Dialer));
    let (_, _, _, plan) = roadmap_conflict(
        SyncConfig {
            contact_policy: ContactPolicy::NotionWins,
            ..SyncConfig::default()
        },
        15,
        20,
    );
    assert_eq!(plan.records[0].conflicts[0].applied, Some(Side::Notion));
}

#[test]
fn the_same_change_on_both_sides_is_no_conflict() {
    let (mut w, id, page) = synced(SyncConfig::default());
    w.edit_page(&page, t(11), "phone", Value::text("555-3333"));
    w.edit_contact(id, t(12), |c| {
        c.insert("phone".into(), json!("555-3333"));
    });
    let plan = w.plan();
    assert!(
        plan.records
            .iter()
            .all(|r| r.conflicts.is_empty() && !r.has_writes()),
        "{plan}"
    );
}

#[test]
fn a_tie_in_edit_times_goes_to_the_dialer_every_time() {
    for _ in 0..3 {
        let (_, _, _, plan) = roadmap_conflict(SyncConfig::default(), 20, 20);
        assert_eq!(plan.records[0].conflicts[0].applied, Some(Side::Dialer));
    }
}

#[test]
fn rule1_phone_links_a_page_without_dialer_id_and_never_duplicates() {
    let mut w = World::new(SyncConfig::default());
    w.add_page(
        None,
        values(&[
            ("companyName", Value::text("Acme (Notion)")),
            ("phone", Value::text("+1 (415) 555-0100")),
        ]),
        t(0),
    );
    let id = w.add_contact(json!({"id": "7", "companyName": "Acme", "phone": "415.555.0100"}));
    let plan = w.sync();
    assert_eq!(plan.records.len(), 1, "{plan}");
    assert_eq!(plan.records[0].link, Some(Link::ByPhone));
    assert_eq!(w.pages.len(), 1, "no second page");
    assert_eq!(w.pages[0].dialer_id, Some(id));
    assert!(w.plan().is_noop(), "{}", w.plan());
}

#[test]
fn duplicate_dialer_ids_in_notion_are_reported_not_doubled() {
    let mut w = World::new(SyncConfig::default());
    w.add_contact(json!({"id": "7", "companyName": "Acme"}));
    w.add_page(
        Some(7),
        values(&[("companyName", Value::text("Acme"))]),
        t(0),
    );
    w.add_page(
        Some(7),
        values(&[("companyName", Value::text("Acme copy"))]),
        t(1),
    );
    let plan = w.sync();
    assert_eq!(plan.problems.len(), 1);
    assert!(plan.problems[0].message.contains("more than one page"));
    assert_eq!(w.pages.len(), 2, "nothing created");
}

#[test]
fn a_dialer_delete_archives_the_page_and_it_never_comes_back() {
    let (mut w, id, page) = synced(SyncConfig::default());
    w.contacts.remove(&id);
    let plan = w.sync();
    assert_eq!(plan.records[0].notion, NotionWrite::Trash);
    assert!(w.page(&page).in_trash);
    assert!(w.plan().is_noop());
    assert!(w.contacts.is_empty(), "not recreated from Notion");
}

#[test]
fn a_dialer_delete_does_not_archive_a_page_edited_since() {
    let (mut w, id, page) = synced(SyncConfig::default());
    w.contacts.remove(&id);
    w.edit_page(&page, t(12), "address", Value::text("new office"));
    let plan = w.sync();
    assert_eq!(plan.records[0].notion, NotionWrite::None);
    assert_eq!(plan.problems.len(), 1);
    assert!(!w.page(&page).in_trash);
    // Offered as a conflict, waiting for a person, with Notion's edit in it.
    let r = &plan.records[0];
    assert_eq!(r.base.status, RecordStatus::DeletedInDialerEditedInNotion);
    assert_eq!(r.conflicts.len(), 1, "{:?}", r.conflicts);
    assert_eq!(r.conflicts[0].field, "address");
    assert_eq!(r.conflicts[0].notion, Value::text("new office"));
    assert_eq!(r.conflicts[0].applied, None);
    // Until then nothing happens, and nothing comes back to the dialer.
    assert!(w.plan().is_noop(), "{}", w.plan());
    assert!(w.contacts.is_empty());
}

#[test]
fn notion_trash_marks_the_contact_archived_and_keeps_it() {
    let (mut w, id, page) = synced(SyncConfig::default());
    w.pages.iter_mut().find(|p| p.id == page).unwrap().in_trash = true;
    let plan = w.sync();
    assert!(plan.records[0].marks_archived());
    assert!(w.contact(id).is_archived_in_notion());
    assert!(w.plan().is_noop());
    // Restored in Notion: the mark goes away.
    w.pages.iter_mut().find(|p| p.id == page).unwrap().in_trash = false;
    let plan = w.sync();
    assert!(matches!(
        plan.records[0].dialer,
        DialerWrite::Update {
            archived: Some(false),
            ..
        }
    ));
    assert!(!w.contact(id).is_archived_in_notion());
}

#[test]
fn the_brake_holds_mass_archives_but_not_the_first_sync() {
    let mut w = World::new(SyncConfig::default());
    for n in 1..=10 {
        w.add_contact(json!({"id": n.to_string(), "companyName": format!("Co {n}")}));
    }
    assert!(
        w.plan().held.is_none(),
        "the first sync into an empty Notion is not held"
    );
    w.sync();
    for n in 1..=6 {
        w.contacts.remove(&World::id(n));
    }
    let plan = w.plan();
    assert!(
        plan.held.as_deref().unwrap().contains("archive 6 of 10"),
        "{:?}",
        plan.held
    );
    assert!(plan.to_string().contains("held"));
}

#[test]
fn first_link_fills_gaps_without_conflicts() {
    let mut w = World::new(SyncConfig::default());
    w.add_page(
        Some(7),
        values(&[
            ("companyName", Value::text("Acme")),
            ("address", Value::text("1 Main St")),
        ]),
        t(0),
    );
    let id =
        w.add_contact(json!({"id": "7", "companyName": "Acme", "website": "https://acme.test"}));
    let plan = w.sync();
    assert_eq!(plan.records[0].link, Some(Link::ByDialerId));
    assert!(plan.records[0].conflicts.is_empty());
    assert_eq!(w.contact(id).values["address"], Value::text("1 Main St"));
    assert_eq!(
        w.page_of(id).unwrap().values["website"],
        Value::text("https://acme.test")
    );
}

#[test]
fn the_dry_run_reads_like_a_report() {
    let (_, _, _, plan) = roadmap_conflict(SyncConfig::default(), 15, 20);
    let text = plan.to_string();
    assert!(
        text.starts_with("Plan: 0 to create in Notion, 1 to update in Notion"),
        "{text}"
    );
    assert!(
        text.contains(
            "! Conflict #1001 Acme Corp: phone: Notion \"555-1111\" vs dialer \"555-2222\""
        ),
        "{text}"
    );
}

#[test]
fn two_spellings_of_one_phone_number_are_no_conflict_and_neither_is_rewritten() {
    let (mut w, id, page) = synced(SyncConfig::default());
    w.edit_page(&page, t(11), "phone", Value::text("+1 (415) 555-0100"));
    w.edit_contact(id, t(12), |c| {
        c.insert("phone".into(), json!("415.555.0100"));
    });
    let plan = w.sync();
    assert!(
        plan.records
            .iter()
            .all(|r| r.conflicts.is_empty() && !r.has_writes()),
        "{plan}"
    );
    assert_eq!(
        w.page(&page).values["phone"],
        Value::text("+1 (415) 555-0100")
    );
    assert_eq!(w.contact(id).values["phone"], Value::text("415.555.0100"));
    assert!(w.plan().is_noop());
}

#[test]
fn a_backup_names_every_value_a_sync_replaces_and_how_to_put_it_back() {
    let (mut w, id, page) = synced(SyncConfig::default());
    let old_phone = w.contact(id).values["phone"].clone();
    w.edit_contact(id, t(12), |c| {
        c.insert("phone".into(), json!("555-7777"));
    });
    w.edit_page(&page, t(13), "address", Value::text("2 New Rd"));
    w.now = t(20);
    let plan = w.plan();
    let r = &plan.records[0];
    let replaced = backup::replaced(r, &w.page(&page).values, &w.contact(id).values);
    let by_field: Vec<(&str, Side)> = replaced
        .iter()
        .map(|x| (x.field.as_str(), x.side))
        .collect();
    assert!(by_field.contains(&("phone", Side::Notion)), "{replaced:?}");
    assert!(
        by_field.contains(&("address", Side::Dialer)),
        "{replaced:?}"
    );
    let phone = replaced.iter().find(|x| x.field == "phone").unwrap();
    assert_eq!(phone.before, old_phone);
    assert_eq!(phone.after, Value::text("555-7777"));
    let back = backup::restore_values(&replaced);
    assert_eq!(back["phone"], old_phone, "Notion's value before the run");
    // Values a write leaves as they were are not in the backup.
    assert!(replaced.iter().all(|x| x.before != x.after));
}

#[test]
fn a_deletion_is_kept_or_undone_as_a_whole_and_settled_conflicts_file_as_applied() {
    let (_, _, _, plan) = roadmap_conflict(SyncConfig::default(), 15, 20);
    let conflicts = &plan.records[0].conflicts;
    let as_applied = resolve(conflicts, &applied_resolution(conflicts)).unwrap();
    assert_eq!(
        as_applied["phone"],
        Value::text("555-2222"),
        "the dialer's, as applied"
    );
    assert!(resolve_deletion(conflicts, &Resolution::KeepDialer)
        .unwrap()
        .is_empty());
    assert_eq!(
        resolve_deletion(conflicts, &Resolution::KeepNotion).unwrap()["phone"],
        Value::text("555-1111")
    );
    let merge = Resolution::Merge {
        fields: [("phone".to_string(), FieldChoice::Dialer)].into(),
    };
    assert_eq!(
        resolve_deletion(conflicts, &merge),
        Err(ResolveError::DeletionNotMergeable)
    );
}

#[test]
fn the_console_recommends_the_side_last_edit_wins_applies_even_when_the_dialer_time_is_unknown() {
    for policy in [ContactPolicy::LastEditWins, ContactPolicy::Ask] {
        let config = SyncConfig {
            contact_policy: policy,
            ..SyncConfig::default()
        };
        let (mut w, id, page) = synced(config);
        w.edit_page(&page, t(15), "phone", Value::text("555-1111"));
        w.edit_contact(id, t(20), |c| {
            c.insert("phone".into(), json!("555-2222"));
        });
        // A dialer that keeps no updatedAt, on a store that tells no blob time.
        w.contacts.get_mut(&id).unwrap().1 = None;
        w.now = t(30);
        let plan = w.plan();
        let c = &plan.records[0].conflicts[0];
        let (rule, _) = later_edit(None, c.notion_edited_at);
        assert_eq!(c.recommended(), rule, "{policy:?}");
        assert_eq!(recommended_side(&plan.records[0].conflicts), rule);
        if policy == ContactPolicy::LastEditWins {
            assert_eq!(c.applied, Some(rule), "the merge and the console agree");
        }
    }
}

/// A run cut off after handing a typed page an id (and maybe making its
/// contact) and before recording it: the next run makes that contact with
/// the same id, never a second one; an id the dialer has taken meanwhile is
/// not reused.
#[test]
fn a_typed_page_gets_the_id_an_unfinished_run_handed_it_unless_the_dialer_took_it() {
    let mut w = World::new(SyncConfig::default());
    w.add_contact(acme());
    w.sync();
    let typed = w.add_page(
        None,
        values(&[
            ("companyName", Value::text("Beta LLC")),
            ("phone", Value::text("555-9999")),
        ]),
        t(5),
    );
    w.now = t(6);
    w.handed_out.insert(typed.clone(), World::id(7));
    let made: Vec<ContactId> = w
        .plan()
        .records
        .iter()
        .filter(|r| matches!(r.dialer, DialerWrite::Create { .. }))
        .map(|r| r.contact_id)
        .collect();
    assert_eq!(made, vec![World::id(7)]);

    let mut taken = acme();
    taken["id"] = json!("7");
    taken["phone"] = json!("555-7777");
    w.add_contact(taken);
    let plan = w.plan();
    let made: Vec<ContactId> = plan
        .records
        .iter()
        .filter(|r| matches!(r.dialer, DialerWrite::Create { .. }))
        .map(|r| r.contact_id)
        .collect();
    assert_eq!(made.len(), 1);
    assert_ne!(made[0], World::id(7), "{plan}");
}
