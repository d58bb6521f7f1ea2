//! The roadmap's Testing Checklist, "Basic Sync Tests", through the real
//! function binaries.

use e2e::*;
use serde_json::json;

#[tokio::test]
async fn add_contact_in_dialer_syncs_to_notion() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    let report = ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    );
    assert_eq!(report["summary"]["created_in_notion"], 1, "{report:#}");
    let page = app
        .page_by_dialer_id(1001)
        .expect("a page with Dialer ID 1001");
    assert_eq!(text(&page, "Name"), "Acme Corp");
    assert_eq!(prop(&page, "Phone")["phone_number"], "555-0100");
    assert_eq!(prop(&page, "Website")["url"], "https://acme-corp.test");
    // The dialer learns where its contact lives in Notion.
    let stored = app.contact("1001").await.unwrap();
    assert_eq!(stored["notion"]["pageId"], page["id"]);
    // Pushing again changes nothing and creates no duplicate.
    let again = ok_json(&app.post("sync-to-notion", json!({"contactId": 1001})).await);
    assert_eq!(again["summary"]["created_in_notion"], 0, "{again:#}");
    assert_eq!(app.control().pages().len(), 1);
    // Every request spoke the Notion version under test (scripts/test runs
    // this file under both).
    let expected = test_harness::app::pinned_notion_version()
        .unwrap_or(notion_client::DEFAULT_NOTION_VERSION.into());
    let log = app.control().request_log();
    assert!(!log.is_empty());
    for r in log {
        assert_eq!(
            r.version.as_deref(),
            Some(expected.as_str()),
            "{} {}",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn add_contact_in_notion_syncs_to_dialer() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page_id = app
        .control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Beta LLC"}}]},
            "Phone": {"phone_number": "555-0200"},
            "Address": {"rich_text": [{"text": {"content": "2 Side St"}}]}
        }))
        .unwrap();
    let report = ok_json(&app.post("sync-from-notion", json!({})).await);
    assert_eq!(report["summary"]["created_in_dialer"], 1, "{report:#}");
    let beta = app
        .contact("1002")
        .await
        .expect("a new contact with the next free Dialer ID");
    assert_eq!(beta["companyName"], "Beta LLC");
    assert_eq!(beta["phone"], "555-0200");
    assert_eq!(beta["address"], "2 Side St");
    assert_eq!(beta["notion"]["pageId"], page_id);
    // The new id is written back to the page: the two are linked for good.
    let page = app
        .page_by_dialer_id(1002)
        .expect("the page now carries Dialer ID 1002");
    assert_eq!(page["id"], page_id);
}

#[tokio::test]
async fn edit_contact_in_dialer_updates_notion() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("sync-to-notion", json!({})).await);
    let mut edited = app.contact("1001").await.unwrap();
    edited["website"] = json!("https://acme.example");
    edited["address"] = json!("1 Main St, Springfield");
    app.put_contact(edited).await;
    let report = ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    );
    assert_eq!(report["summary"]["updated_in_notion"], 1, "{report:#}");
    let page = app.page_by_dialer_id(1001).unwrap();
    assert_eq!(prop(&page, "Website")["url"], "https://acme.example");
    assert_eq!(text(&page, "Address"), "1 Main St, Springfield");
}

#[tokio::test]
async fn edit_contact_in_notion_updates_dialer() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("sync-to-notion", json!({})).await);
    let page = app.page_by_dialer_id(1001).unwrap();
    app.control()
        .person_update_page(page["id"].as_str().unwrap(), json!({"Phone": {"phone_number": "555-9999"}, "Notes": {"rich_text": [{"text": {"content": "Ask for Sam"}}]}}))
        .unwrap();
    let report = ok_json(&app.post("sync-from-notion", json!({})).await);
    assert_eq!(report["summary"]["updated_in_dialer"], 1, "{report:#}");
    let stored = app.contact("1001").await.unwrap();
    assert_eq!(stored["phone"], "555-9999");
    assert_eq!(
        stored["notion"]["notes"], "Ask for Sam",
        "Notion's notes are kept in the dialer, read-only"
    );
    assert_eq!(
        stored["companyName"], "Acme Corp",
        "the rest of the contact is untouched"
    );
}

#[tokio::test]
async fn delete_contact_in_dialer_archives_in_notion() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    app.put_contact(contact(1002, "Beta LLC", "555-0200")).await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    app.delete_contact("1001").await;
    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["archived_in_notion"], 1, "{report:#}");
    assert!(
        app.page_by_dialer_id(1001).is_none(),
        "the page is in Notion's trash"
    );
    let trashed: Vec<_> = app
        .control()
        .pages()
        .into_iter()
        .filter(|p| p["in_trash"] == true)
        .collect();
    assert_eq!(
        trashed.len(),
        1,
        "archived, not deleted: Notion keeps it in the trash"
    );
    // It never comes back to the dialer.
    ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    assert!(app.contact("1001").await.is_none());
    assert!(app.page_by_dialer_id(1002).is_some());
}

#[tokio::test]
async fn contacts_kept_as_one_list_blob_sync_the_same_way() {
    let app = TestApp::spawn_with(AppOptions {
        env: vec![
            ("DIALER_CONTACTS_LAYOUT".into(), "single-blob".into()),
            ("DIALER_CONTACTS_KEY".into(), "all".into()),
        ],
        ..AppOptions::default()
    })
    .await;
    let list = json!({"contacts": [contact(1001, "Acme Corp", "555-0100"), contact(1002, "Beta LLC", "555-0200")], "version": 7});
    app.contacts()
        .set_json("all", &list, Default::default())
        .await
        .unwrap();
    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["created_in_notion"], 2, "{report:#}");
    let page = app.page_by_dialer_id(1002).unwrap();
    app.control()
        .person_update_page(
            page["id"].as_str().unwrap(),
            json!({"Phone": {"phone_number": "555-2020"}}),
        )
        .unwrap();
    ok_json(&app.post("sync-from-notion", json!({})).await);
    let stored: serde_json::Value = app.contacts().get_json("all").await.unwrap().unwrap();
    assert_eq!(stored["version"], 7, "keys around the list are kept");
    assert_eq!(stored["contacts"][1]["phone"], "555-2020");
    assert_eq!(
        stored["contacts"][0]["notion"]["pageId"],
        app.page_by_dialer_id(1001).unwrap()["id"]
    );
    let again = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(again["summary"]["updated_in_notion"], 0, "{again:#}");
}

#[tokio::test]
async fn a_scheduled_tick_outside_the_cadence_does_nothing() {
    use chrono::Timelike;
    let now = chrono::Utc::now();
    // Working hours that exclude this hour; otherwise one run a day, at midnight UTC.
    let start = (now.hour() + 2) % 22;
    let minute_of_day = now.hour() * 60 + now.minute();
    if minute_of_day < 6 || minute_of_day > 1435 || (start..start + 1).contains(&now.hour()) {
        return; // too close to the one due tick of the day to tell
    }
    let app = TestApp::spawn_with(AppOptions {
        env: vec![
            ("SYNC_TIME_ZONE".into(), "UTC".into()),
            ("SYNC_WORK_HOURS".into(), format!("{}-{}", start, start + 1)),
            ("SYNC_AFTER_HOURS_EVERY".into(), "1440".into()),
            ("SYNC_WEEKEND_EVERY".into(), "1440".into()),
        ],
        ..AppOptions::default()
    })
    .await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    let skipped = ok_json(&app.scheduled().await);
    assert_eq!(skipped["status"], "skipped", "{skipped:#}");
    assert!(
        skipped["reason"]
            .as_str()
            .unwrap()
            .contains("every 1440 minutes"),
        "{skipped:#}"
    );
    assert!(app.control().pages().is_empty());
    // The button ("Sync now") is not a scheduled tick: it always runs.
    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["created_in_notion"], 1, "{report:#}");
}
