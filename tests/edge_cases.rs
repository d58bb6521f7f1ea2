//! Tricky scenarios of the two-way sync, end to end: pages trashed and
//! restored in Notion, ids cleared or duplicated by people, phone matching,
//! the mass-change brake, odd input, Notion misbehaving, schema drift and
//! edits on both sides. Each test starts its own stand-ins.

use std::time::{Duration, Instant};

use e2e::*;
use notion_emulator::{Fault, FaultKind};
use serde_json::{json, Value};
use sync_engine::{Engine, EngineConfig, RunOptions, Scope};

fn page_id(page: &Value) -> String {
    page["id"].as_str().expect("a page id").to_string()
}

/// The ids of every contact blob in the dialer's store.
async fn contact_keys(app: &TestApp) -> Vec<String> {
    let mut keys: Vec<String> = app
        .contacts()
        .list(None)
        .await
        .expect("contacts listed")
        .into_iter()
        .map(|b| b.key)
        .collect();
    keys.sort();
    keys
}

/// The whole text of a page's body (the call log): its blocks' text, end to end.
fn body_text(app: &TestApp, page_id: &str) -> String {
    app.control()
        .block_children(page_id)
        .iter()
        .map(|b| {
            b["paragraph"]["rich_text"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|t| t["plain_text"].as_str().or(t["text"]["content"].as_str()))
                        .collect::<String>()
                })
                .unwrap_or_default()
        })
        .collect()
}

/// A function's JSON answer, 200 or 207 (a run with failures or held).
fn report_json(inv: &test_harness::lambda::Invocation) -> Value {
    assert!(
        [200, 207].contains(&inv.status),
        "status {}: {}",
        inv.status,
        inv.body
    );
    inv.json.clone().expect("a JSON body")
}

fn problems_text(report: &Value) -> String {
    report["problems"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| p["message"].as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// A contact without the sync's `notion` mirror: what the dialer owns.
fn without_mirror(mut contact: Value) -> Value {
    if let Some(obj) = contact.as_object_mut() {
        obj.remove("notion");
    }
    contact
}

// ---------------------------------------------------------------- 1

#[tokio::test]
async fn a_page_trashed_in_notion_keeps_the_contact_marked_archived_and_never_resurrects_it() {
    let app = TestApp::spawn().await;
    for (n, name) in [(1001, "Acme Corp"), (1002, "Beta LLC"), (1003, "Gamma Inc")] {
        app.put_contact(contact(n, name, &format!("555-0{n}")))
            .await;
    }
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page = app.page_by_dialer_id(1001).unwrap();
    app.control().person_trash_page(&page_id(&page)).unwrap();

    let report = ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    assert_eq!(
        report["summary"]["marked_archived_in_dialer"], 1,
        "{report:#}"
    );
    let stored = app.contact("1001").await.expect("the contact is kept");
    assert_eq!(stored["notion"]["archived"], true, "{stored:#}");
    assert_eq!(stored["companyName"], "Acme Corp");

    // Edits in the dialer while archived: the page stays in the trash, no new page.
    let mut edited = stored.clone();
    edited["address"] = json!("1 Archived Way");
    app.put_contact(edited).await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    );
    ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    assert_eq!(app.control().pages().len(), 3, "no page was created");
    assert!(
        app.page_by_dialer_id(1001).is_none(),
        "the page was not resurrected"
    );
    assert_eq!(
        app.control().page(&page_id(&page)).unwrap()["in_trash"],
        true
    );
    assert_eq!(contact_keys(&app).await, ["1001", "1002", "1003"]);
    assert_eq!(
        app.contact("1001").await.unwrap()["notion"]["archived"],
        true
    );
    assert_eq!(live_pages(&app).len(), 2);
}

#[tokio::test]
async fn restoring_a_trashed_page_clears_the_archived_mark_on_a_later_full_scan() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page = app.page_by_dialer_id(1001).unwrap();
    app.control().person_trash_page(&page_id(&page)).unwrap();
    ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    assert_eq!(
        app.contact("1001").await.unwrap()["notion"]["archived"],
        true
    );
    app.control().person_restore_page(&page_id(&page)).unwrap();
    let report = ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    let stored = app.contact("1001").await.unwrap();
    assert_ne!(
        stored["notion"]["archived"], true,
        "restored in Notion, still marked archived: {stored:#}\n{report:#}"
    );
}

#[tokio::test]
async fn an_edit_made_while_archived_reaches_notion_once_the_page_is_restored() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page = app.page_by_dialer_id(1001).unwrap();
    app.control().person_trash_page(&page_id(&page)).unwrap();
    ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    let mut edited = app.contact("1001").await.unwrap();
    edited["address"] = json!("1 Archived Way");
    app.put_contact(edited).await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    app.control().person_restore_page(&page_id(&page)).unwrap();
    let report = ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page = app.page_by_dialer_id(1001).expect("restored");
    assert_eq!(
        text(&page, "Address"),
        "1 Archived Way",
        "the dialer's edit made while archived is not lost: {report:#}"
    );
}

// ---------------------------------------------------------------- 2

#[tokio::test]
async fn a_cleared_dialer_id_is_relinked_by_page_id_and_written_back() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    app.put_contact(contact(1002, "Beta LLC", "555-0200")).await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page = app.page_by_dialer_id(1001).unwrap();
    app.control()
        .person_update_page(&page_id(&page), json!({"Dialer ID": {"number": null}}))
        .unwrap();
    assert!(app.page_by_dialer_id(1001).is_none());

    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["created_in_notion"], 0, "{report:#}");
    assert_eq!(report["summary"]["created_in_dialer"], 0, "{report:#}");
    let relinked = app
        .page_by_dialer_id(1001)
        .unwrap_or_else(|| panic!("the Dialer ID is written back: {report:#}"));
    assert_eq!(relinked["id"], page["id"], "on the same page");
    assert_eq!(app.control().pages().len(), 2, "no new page");
    assert_eq!(contact_keys(&app).await, ["1001", "1002"], "no new contact");
    assert_eq!(
        app.contact("1001").await.unwrap()["notion"]["pageId"],
        page["id"]
    );
    let again = ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    assert_eq!(again["summary"]["updated_in_notion"], 0, "{again:#}");
}

// ---------------------------------------------------------------- 3

#[tokio::test]
async fn a_page_typed_in_notion_links_to_a_dialer_contact_by_phone_in_another_format() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1000, "Old Co", "555-0999")).await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    // Between two syncs: the same company added on both sides, phones spelled differently.
    app.put_contact(contact(1001, "Acme Corp", "+1 415 555 0100"))
        .await;
    let typed = app
        .control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Acme Corp"}}]},
            "Phone": {"phone_number": "(415) 555-0100"},
            "Address": {"rich_text": [{"text": {"content": "1 Market St"}}]}
        }))
        .unwrap();

    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["created_in_notion"], 0, "{report:#}");
    assert_eq!(report["summary"]["created_in_dialer"], 0, "{report:#}");
    assert_eq!(live_pages(&app).len(), 2, "linked, not duplicated");
    assert_eq!(contact_keys(&app).await, ["1000", "1001"]);
    let page = app
        .page_by_dialer_id(1001)
        .expect("the typed page got the id");
    assert_eq!(page["id"], json!(typed));
    let stored = app.contact("1001").await.unwrap();
    assert_eq!(stored["notion"]["pageId"], json!(typed));
    assert_eq!(stored["address"], "1 Market St", "the gap is filled");
}

#[tokio::test]
async fn a_phone_match_is_not_a_conflict_and_rewrites_neither_spelling() {
    // phone.rs: "The stored phone is never rewritten: normalisation is only for matching."
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "+1 415 555 0100"))
        .await;
    app.control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Acme Corp"}}]},
            "Phone": {"phone_number": "(415) 555-0100"}
        }))
        .unwrap();
    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(live_pages(&app).len(), 1, "{report:#}");
    assert_eq!(
        report["summary"]["conflicts"], 0,
        "one number in two spellings is not a conflict: {report:#}"
    );
    assert_eq!(
        app.contact("1001").await.unwrap()["phone"],
        "+1 415 555 0100"
    );
}

// ---------------------------------------------------------------- 4

#[tokio::test]
async fn two_pages_with_one_dialer_id_are_reported_and_the_contact_syncs_with_one() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let original = app.page_by_dialer_id(1001).unwrap();
    let copy = app
        .control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Acme Corp (copy)"}}]},
            "Dialer ID": {"number": 1001},
            "Phone": {"phone_number": "555-7777"}
        }))
        .unwrap();
    let mut edited = app.contact("1001").await.unwrap();
    edited["website"] = json!("https://acme.example");
    app.put_contact(edited).await;

    let report = report_json(&app.post("scheduled-sync", json!({})).await);
    let problems = problems_text(&report);
    assert!(
        problems.contains("more than one page"),
        "reported: {report:#}"
    );
    assert_eq!(report["summary"]["created_in_dialer"], 0, "{report:#}");
    assert_eq!(report["summary"]["created_in_notion"], 0, "{report:#}");
    assert_eq!(contact_keys(&app).await, ["1001"], "nothing duplicated");
    assert_eq!(live_pages(&app).len(), 2, "no page created or deleted");
    let first = app.control().page(&page_id(&original)).unwrap();
    assert_eq!(prop(&first, "Website")["url"], "https://acme.example");
    let second = app.control().page(&copy).unwrap();
    assert_ne!(prop(&second, "Website")["url"], "https://acme.example");
    let stored = app.contact("1001").await.unwrap();
    assert_eq!(stored["notion"]["pageId"], original["id"]);
    assert_eq!(stored["phone"], "555-0100", "the copy's phone is not taken");
    // And it stays that way.
    let again = report_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    assert_eq!(again["summary"]["created_in_dialer"], 0, "{again:#}");
    assert_eq!(contact_keys(&app).await, ["1001"]);
}

// ---------------------------------------------------------------- 5

#[tokio::test]
async fn pages_with_unusable_dialer_ids_are_reported_not_imported() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let half = app
        .control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Half Co"}}]},
            "Dialer ID": {"number": 10.5}
        }))
        .unwrap();
    let negative = app
        .control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Negative Co"}}]},
            "Dialer ID": {"number": -3}
        }))
        .unwrap();
    app.put_contact(contact(1002, "Beta LLC", "555-0200")).await;
    let mut edited = app.contact("1001").await.unwrap();
    edited["address"] = json!("1 Main St");
    app.put_contact(edited).await;

    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    let problems = problems_text(&report);
    assert_eq!(
        problems.matches("Dialer ID is unusable").count(),
        2,
        "{report:#}"
    );
    assert_eq!(report["summary"]["created_in_dialer"], 0, "{report:#}");
    assert_eq!(report["summary"]["created_in_notion"], 1, "{report:#}");
    assert_eq!(contact_keys(&app).await, ["1001", "1002"]);
    assert_eq!(
        prop(&app.control().page(&half).unwrap(), "Dialer ID")["number"],
        10.5
    );
    assert_eq!(
        prop(&app.control().page(&negative).unwrap(), "Dialer ID")["number"],
        -3
    );
    assert_eq!(
        text(&app.page_by_dialer_id(1001).unwrap(), "Address"),
        "1 Main St"
    );
    assert!(app.page_by_dialer_id(1002).is_some());
    // A pull and a full scan still import nothing.
    ok_json(
        &app.post("sync-from-notion", json!({"fullScan": true}))
            .await,
    );
    assert_eq!(contact_keys(&app).await, ["1001", "1002"]);
}

// ---------------------------------------------------------------- 6

#[tokio::test]
async fn the_brake_holds_a_mass_archive_until_forced() {
    let app = TestApp::spawn().await;
    for n in 1..=10u64 {
        app.put_contact(contact(
            n,
            &format!("Company {n}"),
            &format!("555-03{n:02}"),
        ))
        .await;
    }
    let first = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(first["summary"]["created_in_notion"], 10, "{first:#}");
    for n in 1..=6u64 {
        app.delete_contact(&n.to_string()).await;
    }
    let held = report_json(&app.post("scheduled-sync", json!({})).await);
    assert!(
        held["held"].as_str().is_some_and(|h| h.contains("archive")),
        "{held:#}"
    );
    assert_eq!(live_pages(&app).len(), 10, "nothing archived while held");
    // Held again on the next tick: the brake is not a one-off.
    let held_again = report_json(&app.post("scheduled-sync", json!({})).await);
    assert!(held_again["held"].is_string(), "{held_again:#}");
    assert_eq!(live_pages(&app).len(), 10);

    let forced = ok_json(&app.post("scheduled-sync", json!({"force": true})).await);
    assert!(forced["held"].is_null(), "{forced:#}");
    assert_eq!(forced["summary"]["archived_in_notion"], 6, "{forced:#}");
    let live = live_pages(&app);
    assert_eq!(live.len(), 4);
    for n in 7..=10u64 {
        assert!(app.page_by_dialer_id(n).is_some(), "page {n} kept");
    }
    let after = ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    assert_eq!(after["summary"]["created_in_dialer"], 0, "{after:#}");
    assert_eq!(contact_keys(&app).await, ["10", "7", "8", "9"]);
}

// ---------------------------------------------------------------- 7

#[tokio::test]
async fn special_characters_long_notes_and_old_dates_round_trip_without_loss() {
    let app = TestApp::spawn().await;
    let name = "Zoë's \"Best\" Café, Ltd. 🚀🇫🇷\nSecond line";
    let mut odd = contact(2001, "Odd", "+33 1 42 68 53 00");
    odd["companyName"] = json!(name);
    odd["address"] = json!("Straße 5, 8001 Zürich — «Hinterhof», 3ᵉ étage 🏢");
    odd["industry"] = json!("Food, Beverage & Co");
    odd["website"] = json!("https://zoë.example/ça?q=a,b&x=\"y\"");
    odd["linkedin"] = json!("https://www.linkedin.com/company/zo%C3%AB");
    app.put_contact(odd.clone()).await;

    // A contact from 1999, last called in 2001, with a 250,000-character note.
    let unit = "Spoke with the owner about renewals; café ☕ notes.\n";
    let mut note = unit.repeat(250_000 / unit.chars().count() + 1);
    note = note.chars().take(250_000).collect();
    assert_eq!(note.chars().count(), 250_000);
    let mut old = with_call(
        contact(2002, "Old Timer Inc", "555-0101"),
        "2001-02-03T04:05:06.000Z",
        "DM",
        754,
        &note,
    );
    old["createdAt"] = json!("1999-03-04T05:06:07.000Z");
    app.put_contact(old.clone()).await;

    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["created_in_notion"], 2, "{report:#}");
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");

    let page = app.page_by_dialer_id(2001).unwrap();
    assert_eq!(text(&page, "Name"), name);
    assert_eq!(
        text(&page, "Address"),
        "Straße 5, 8001 Zürich — «Hinterhof», 3ᵉ étage 🏢"
    );
    assert_eq!(
        prop(&page, "Website")["url"],
        "https://zoë.example/ça?q=a,b&x=\"y\""
    );
    let industry = prop(&page, "Industry")["select"]["name"].as_str().unwrap();
    assert_eq!(
        industry.replace('\u{201A}', ","),
        "Food, Beverage & Co",
        "a select cannot hold a comma; it looks the same"
    );

    let old_page = app.page_by_dialer_id(2002).unwrap();
    let last_call = prop(&old_page, "Last Call")["date"]["start"]
        .as_str()
        .unwrap();
    let last_call = chrono::DateTime::parse_from_rfc3339(last_call).unwrap();
    assert_eq!(
        last_call.with_timezone(&chrono::Utc).to_rfc3339(),
        "2001-02-03T04:05:06+00:00"
    );
    assert_eq!(prop(&old_page, "Duration")["number"], 754);
    let log = body_text(&app, &page_id(&old_page));
    assert!(log.contains(&note), "the whole note is in the call log");
    assert_eq!(log.matches("ref:").count(), 1, "logged once");

    // Round trip: a Notion edit to another field comes back, nothing else moves.
    app.control()
        .person_update_page(
            &page_id(&page),
            json!({"Phone": {"phone_number": "+33 1 00 00 00 00"}}),
        )
        .unwrap();
    let pulled = ok_json(&app.post("sync-from-notion", json!({})).await);
    assert_eq!(pulled["summary"]["updated_in_dialer"], 1, "{pulled:#}");
    let mut expected = odd.clone();
    expected["phone"] = json!("+33 1 00 00 00 00");
    assert_eq!(without_mirror(app.contact("2001").await.unwrap()), expected);
    assert_eq!(without_mirror(app.contact("2002").await.unwrap()), old);

    // Nothing echoes: the next runs have nothing to write.
    let again = ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    assert_eq!(again["summary"]["updated_in_notion"], 0, "{again:#}");
    assert_eq!(again["summary"]["updated_in_dialer"], 0, "{again:#}");
    assert_eq!(
        body_text(&app, &page_id(&old_page)).matches("ref:").count(),
        1
    );

    // And the other way: a page typed in Notion with odd characters.
    app.control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Ünïcødé \"Ltd\", 日本 🎌"}}]},
            "Industry": {"select": {"name": "Tea & Coffee"}},
        }))
        .unwrap();
    ok_json(&app.post("sync-from-notion", json!({})).await);
    let created = app.contact("2003").await.expect("created with the next id");
    assert_eq!(created["companyName"], "Ünïcødé \"Ltd\", 日本 🎌");
    assert_eq!(created["industry"], "Tea & Coffee");
}

#[tokio::test]
async fn a_250k_character_call_note_in_japanese_is_logged_whole() {
    // 250,000 characters of Japanese are 750,000 bytes of UTF-8: more than one
    // request to Notion may carry (500 KB), so the log must be sent in parts.
    let app = TestApp::spawn().await;
    let note: String = "オーナーと話しました。火曜日に折り返し電話。"
        .chars()
        .cycle()
        .take(250_000)
        .collect();
    app.put_contact(with_call(
        contact(3001, "Long Note LLC", "555-0102"),
        "2026-09-15T14:00:00.000Z",
        "DM",
        60,
        &note,
    ))
    .await;
    let report = report_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    let page = app.page_by_dialer_id(3001).expect("the page exists");
    assert!(body_text(&app, &page_id(&page)).contains(&note));
}

// ---------------------------------------------------------------- 8

/// An engine in this process whose Notion budget is `budget` per `window`
/// (the environment only speaks per minute; the config's fields do not).
fn engine_with_budget(app: &TestApp, budget: u32, window: Duration) -> Engine {
    let mut config = EngineConfig::from_lookup(app.lookup()).expect("valid test config");
    config.notion.requests_per_window = budget;
    config.notion.window = window;
    Engine::new(config, app.blobs_client()).expect("engine")
}

fn assert_one_page_per_contact(app: &TestApp, contacts: usize) {
    let pages = live_pages(app);
    let mut ids: Vec<i64> = pages
        .iter()
        .map(|p| {
            prop(p, "Dialer ID")["number"]
                .as_i64()
                .expect("a Dialer ID")
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(pages.len(), contacts, "one page per contact");
    assert_eq!(ids.len(), contacts, "no duplicate Dialer IDs");
}

#[tokio::test]
async fn notion_trouble_during_a_sync_of_30_contacts_never_fails_or_duplicates() {
    let window = Duration::from_secs(2);
    let app = TestApp::spawn_with(AppOptions {
        rate_limit: 20,
        rate_window: window,
        ..AppOptions::default()
    })
    .await;
    for n in 1..=30u64 {
        app.put_contact(contact(
            n,
            &format!("Company {n}"),
            &format!("555-04{n:02}"),
        ))
        .await;
    }
    let engine = engine_with_budget(&app, 20, window);
    // A create that commits and answers 503, once without and once with the id.
    app.control().inject_fault(Fault::on(
        "pages.create",
        FaultKind::CommitThenFail {
            status: 503,
            report_committed_id: false,
        },
    ));
    app.control().inject_fault(Fault::on(
        "pages.create",
        FaultKind::CommitThenFail {
            status: 503,
            report_committed_id: true,
        },
    ));
    let run_until_done = |engine: Engine| async move {
        let mut runs = Vec::new();
        for _ in 0..6 {
            let options = RunOptions {
                deadline: Some(Instant::now() + Duration::from_secs(6)),
                ..RunOptions::new(Scope::All, "test")
            };
            let report = engine.run(options).await.expect("the run answers");
            assert_eq!(report.summary.failed, 0, "never failed: {report}");
            let done = report.summary.remaining == 0;
            runs.push(report);
            if done {
                return runs;
            }
        }
        panic!("not done after 6 runs: {}", runs.last().unwrap());
    };
    let runs = run_until_done(engine.clone()).await;
    let created: usize = runs.iter().map(|r| r.summary.created_in_notion).sum();
    assert_eq!(created, 30);
    assert_one_page_per_contact(&app, 30);
    let ambiguous_creates = app
        .control()
        .request_log()
        .iter()
        .filter(|r| r.route == "pages.create" && r.status == 503)
        .count();
    assert_eq!(
        ambiguous_creates, 2,
        "both committed-then-503 creates were hit"
    );

    // Every contact edited; Notion answers 503 three times to updates.
    for n in 1..=30u64 {
        let mut c = app.contact(&n.to_string()).await.unwrap();
        c["address"] = json!(format!("{n} Retry Rd"));
        app.put_contact(c).await;
    }
    app.control()
        .inject_fault(Fault::on("pages.update", FaultKind::Status(503)).times(3));
    let runs = run_until_done(engine).await;
    let updated: usize = runs.iter().map(|r| r.summary.updated_in_notion).sum();
    assert_eq!(updated, 30);
    assert_one_page_per_contact(&app, 30);
    for n in 1..=30u64 {
        let page = app.page_by_dialer_id(n).unwrap();
        assert_eq!(text(&page, "Address"), format!("{n} Retry Rd"));
    }
    assert!(
        app.control()
            .request_log()
            .iter()
            .any(|r| r.route == "pages.update" && r.status == 503),
        "the faults were hit"
    );
}

#[tokio::test]
async fn a_function_run_over_notions_per_minute_budget_leaves_the_rest_for_later() {
    // The environment can only say "per minute": 30 a minute on both sides, 40 contacts.
    let app = TestApp::spawn_with(AppOptions {
        rate_limit: 30,
        rate_window: Duration::from_secs(60),
        env: vec![("NOTION_REQUESTS_PER_MINUTE".into(), "30".into())],
        ..AppOptions::default()
    })
    .await;
    for n in 1..=40u64 {
        app.put_contact(contact(
            n,
            &format!("Company {n}"),
            &format!("555-05{n:02}"),
        ))
        .await;
    }
    let inv = app.post("scheduled-sync", json!({})).await;
    let report = report_json(&inv);
    assert_eq!(report["summary"]["failed"], 0, "never failed: {report:#}");
    let created = report["summary"]["created_in_notion"].as_u64().unwrap();
    let remaining = report["summary"]["remaining"].as_u64().unwrap();
    assert_eq!(created + remaining, 40, "{report:#}");
    assert_eq!(live_pages(&app).len() as u64, created);
}

// ---------------------------------------------------------------- 9

#[tokio::test]
async fn one_record_notion_refuses_fails_alone_and_completes_after_the_fix() {
    let app = TestApp::spawn().await;
    for (n, name) in [(1001, "Acme Corp"), (1002, "Beta LLC"), (1003, "Gamma Inc")] {
        app.put_contact(contact(n, name, &format!("555-0{n}")))
            .await;
    }
    ok_json(&app.post("scheduled-sync", json!({})).await);
    app.control()
        .set_property_type("Website", json!({"type": "number"}))
        .unwrap();
    let mut a = app.contact("1001").await.unwrap();
    a["website"] = json!("https://acme.example");
    app.put_contact(a).await;
    let mut b = app.contact("1002").await.unwrap();
    b["address"] = json!("2 Side St");
    app.put_contact(b).await;

    let inv = app.post("scheduled-sync", json!({})).await;
    let report = report_json(&inv);
    assert_eq!(report["summary"]["failed"], 1, "{report:#}");
    let failed: Vec<&Value> = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{report:#}");
    assert_eq!(failed[0]["contact_id"], "1001");
    let error = failed[0]["error"].as_str().unwrap_or("");
    assert!(
        error.contains("Website"),
        "the error names the property: {error}"
    );
    assert_eq!(
        text(&app.page_by_dialer_id(1002).unwrap(), "Address"),
        "2 Side St",
        "the others sync"
    );

    app.control()
        .set_property_type("Website", json!({"type": "url"}))
        .unwrap();
    let fixed = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(fixed["summary"]["failed"], 0, "{fixed:#}");
    assert_eq!(
        prop(&app.page_by_dialer_id(1001).unwrap(), "Website")["url"],
        "https://acme.example",
        "{fixed:#}"
    );
    let again = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(again["summary"]["updated_in_notion"], 0, "{again:#}");
}

#[tokio::test]
async fn an_edit_made_while_a_property_has_the_wrong_type_arrives_once_it_is_fixed() {
    // Two runs while the type is wrong: the second sees the new schema and skips the field.
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    app.control()
        .set_property_type("Website", json!({"type": "number"}))
        .unwrap();
    let mut a = app.contact("1001").await.unwrap();
    a["website"] = json!("https://acme.example");
    app.put_contact(a).await;
    let refused = report_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(refused["summary"]["failed"], 1, "{refused:#}");
    // The next run re-reads the schema and syncs without the field.
    let skipped = report_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(skipped["summary"]["failed"], 0, "{skipped:#}");
    app.control()
        .set_property_type("Website", json!({"type": "url"}))
        .unwrap();
    // The cached schema is trusted for 10 minutes: let them pass.
    expire_schema_cache(&app).await;
    let fixed = report_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    assert_eq!(fixed["summary"]["failed"], 0, "{fixed:#}");
    assert_eq!(
        prop(&app.page_by_dialer_id(1001).unwrap(), "Website")["url"],
        "https://acme.example",
        "{fixed:#}"
    );
    assert_eq!(
        app.contact("1001").await.unwrap()["website"],
        "https://acme.example"
    );
}

/// What ten minutes do to the sync's cached copy of the Notion schema.
async fn expire_schema_cache(app: &TestApp) {
    let mut state: Value = app
        .sync_state()
        .get_json("state")
        .await
        .unwrap()
        .expect("a sync state");
    state["schema_fetched_at"] = Value::Null;
    app.sync_state()
        .set_json("state", &state, Default::default())
        .await
        .unwrap();
}

// ---------------------------------------------------------------- 10

#[tokio::test]
async fn a_missing_optional_property_is_skipped_and_the_fix_is_named() {
    let app = TestApp::spawn().await;
    app.control().remove_property("Industry").unwrap();
    let mut c = contact(1001, "Acme Corp", "555-0100");
    c["industry"] = json!("Software");
    app.put_contact(c).await;

    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["created_in_notion"], 1, "{report:#}");
    let page = app.page_by_dialer_id(1001).unwrap();
    assert!(page["properties"].get("Industry").is_none());
    assert_eq!(prop(&page, "Phone")["phone_number"], "555-0100");
    assert!(
        report["problems"]
            .to_string()
            .contains("Add a Text property named 'Industry'"),
        "every run report names the skipped field and its fix: {report:#}"
    );

    let body = ok_json(&app.get("notion-test").await);
    let schema = body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "schema")
        .expect("a schema step")
        .clone();
    let shown = format!("{schema} {}", body["schema"]);
    assert!(
        shown.contains("property named 'Industry'"),
        "the fix is named: {body:#}"
    );

    // Notion lacking the field never erases it in the dialer.
    app.control()
        .person_update_page(
            &page_id(&page),
            json!({"Phone": {"phone_number": "555-0111"}}),
        )
        .unwrap();
    ok_json(
        &app.post("sync-from-notion", json!({"fullScan": true}))
            .await,
    );
    let stored = app.contact("1001").await.unwrap();
    assert_eq!(stored["phone"], "555-0111");
    assert_eq!(stored["industry"], "Software");
}

// ---------------------------------------------------------------- 11

#[tokio::test]
async fn a_renamed_property_syncs_both_ways_through_sync_property_names() {
    let app = TestApp::spawn_with(AppOptions {
        env: vec![("SYNC_PROPERTY_NAMES".into(), r#"{"phone":"Mobile"}"#.into())],
        ..AppOptions::default()
    })
    .await;
    app.control().rename_property("Phone", "Mobile").unwrap();
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page = app.page_by_dialer_id(1001).unwrap();
    assert_eq!(prop(&page, "Mobile")["phone_number"], "555-0100");

    app.control()
        .person_update_page(
            &page_id(&page),
            json!({"Mobile": {"phone_number": "555-0199"}}),
        )
        .unwrap();
    let pulled = ok_json(&app.post("sync-from-notion", json!({})).await);
    assert_eq!(pulled["summary"]["updated_in_dialer"], 1, "{pulled:#}");
    assert_eq!(app.contact("1001").await.unwrap()["phone"], "555-0199");

    let mut c = app.contact("1001").await.unwrap();
    c["phone"] = json!("555-0142");
    app.put_contact(c).await;
    ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    );
    assert_eq!(
        prop(&app.page_by_dialer_id(1001).unwrap(), "Mobile")["phone_number"],
        "555-0142"
    );
}

// ---------------------------------------------------------------- 12

#[tokio::test]
async fn edits_to_different_fields_on_both_sides_both_land_without_conflict() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page = app.page_by_dialer_id(1001).unwrap();
    let mut c = app.contact("1001").await.unwrap();
    c["website"] = json!("https://acme.example");
    app.put_contact(c).await;
    app.control()
        .person_update_page(
            &page_id(&page),
            json!({"Address": {"rich_text": [{"text": {"content": "9 Notion Ave"}}]}}),
        )
        .unwrap();

    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["conflicts"], 0, "{report:#}");
    let page = app.page_by_dialer_id(1001).unwrap();
    assert_eq!(prop(&page, "Website")["url"], "https://acme.example");
    assert_eq!(text(&page, "Address"), "9 Notion Ave");
    let stored = app.contact("1001").await.unwrap();
    assert_eq!(stored["website"], "https://acme.example");
    assert_eq!(stored["address"], "9 Notion Ave");
    assert_eq!(stored["phone"], "555-0100");
    let again = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(
        (
            again["summary"]["updated_in_notion"].as_u64(),
            again["summary"]["updated_in_dialer"].as_u64()
        ),
        (Some(0), Some(0)),
        "{again:#}"
    );
}

// ---------------------------------------------------------------- 13

#[tokio::test]
async fn a_notion_edit_then_a_call_in_the_dialer_both_arrive() {
    let app = TestApp::spawn().await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0100")).await;
    let page = app.page_by_dialer_id(1001).unwrap();
    app.control()
        .person_update_page(
            &page_id(&page),
            json!({"Phone": {"phone_number": "555-0177"}}),
        )
        .unwrap();
    // The dialer logs a call on the contact as it had it (old phone), then pushes.
    let mut called = with_call(
        app.contact("1001").await.unwrap(),
        "2026-09-15T14:00:00.000Z",
        "DM",
        185,
        "Asked for a quote",
    );
    called["currentOkCode"] = json!("OK-3");
    app.put_contact(called).await;

    let report = ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    );
    assert_eq!(report["summary"]["conflicts"], 0, "{report:#}");
    let stored = app.contact("1001").await.unwrap();
    assert_eq!(
        stored["phone"], "555-0177",
        "the Notion edit reached the dialer"
    );
    assert_eq!(stored["callHistory"].as_array().unwrap().len(), 1);
    assert_eq!(stored["totalDials"], 1);
    let page = app.page_by_dialer_id(1001).unwrap();
    assert_eq!(
        prop(&page, "Phone")["phone_number"],
        "555-0177",
        "not overwritten"
    );
    assert_eq!(prop(&page, "Total Dials")["number"], 1);
    assert_eq!(prop(&page, "Outcome")["select"]["name"], "DM");
    assert_eq!(text(&page, "Ok Code"), "OK-3");
    assert!(body_text(&app, &page_id(&page)).contains("Asked for a quote"));
    // The scheduled run afterwards agrees: nothing left to move.
    let again = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(again["summary"]["updated_in_notion"], 0, "{again:#}");
    assert_eq!(again["summary"]["updated_in_dialer"], 0, "{again:#}");
}

/// A setting holding something unusable is said to be unusable, with what
/// is wrong, never that it is missing.
#[tokio::test]
async fn a_setting_with_an_unusable_value_is_not_called_missing() {
    let app = TestApp::spawn_with_env(&[("SYNC_AFTER_HOURS_EVERY", "1")]).await;
    let answer = app.scheduled().await;
    assert_eq!(answer.status, 500, "{}", answer.body);
    let error = &answer.json.expect("JSON")["error"];
    assert_eq!(error["code"], "config_invalid", "{error:#}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("SYNC_AFTER_HOURS_EVERY is set to a value that cannot be used"),
        "{error:#}"
    );
    assert!(
        error["hint"].as_str().unwrap().contains("5 or more"),
        "{error:#}"
    );
}
