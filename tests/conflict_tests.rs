//! The roadmap's Testing Checklist, "Conflict Tests", with its scenario:
//! Acme's phone edited to 555-1111 in Notion and to 555-2222 in the dialer.

use e2e::*;
use serde_json::{json, Value};
use sync_engine::state::ConflictRecord;

async fn acme_in_conflict(policy: &str) -> (TestApp, String) {
    let app = TestApp::spawn_with(AppOptions {
        env: vec![("SYNC_CONFLICT_POLICY".into(), policy.into())],
        ..AppOptions::default()
    })
    .await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0000")).await;
    let page_id = app.page_id(1001);
    app.control()
        .person_update_page(&page_id, json!({"Phone": {"phone_number": "555-1111"}}))
        .unwrap();
    let mut c = app.contact("1001").await.unwrap();
    c["phone"] = json!("555-2222");
    c["updatedAt"] = json!(chrono::Utc::now().to_rfc3339());
    app.put_contact(c).await;
    (app, page_id)
}

async fn open_conflict(app: &TestApp) -> Option<ConflictRecord> {
    app.sync_state().get_json("conflicts/1001").await.unwrap()
}

/// Acme's conflict settled through the console's endpoint, as a person would.
async fn choose(app: &TestApp, keep: &str) {
    ok_json(
        &app.post("sync-conflicts", json!({"contactId": "1001", "keep": keep}))
            .await,
    );
}

fn phone_in_notion(app: &TestApp) -> Value {
    prop(&app.page_by_dialer_id(1001).unwrap(), "Phone")["phone_number"].clone()
}

#[tokio::test]
async fn edit_same_contact_in_both_places_conflict_detected() {
    let (app, _) = acme_in_conflict("last_edit_wins").await;
    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["conflicts"], 1, "{report:#}");
    let conflict = &report["records"][0]["conflicts"][0];
    assert_eq!(conflict["field"], "phone");
    assert_eq!(conflict["notion"]["value"], "555-1111");
    assert_eq!(conflict["dialer"]["value"], "555-2222");
    assert_eq!(
        conflict["applied"], "dialer",
        "the dialer was edited later: {conflict:#}"
    );
    assert!(report["plan"]
        .as_str()
        .unwrap()
        .contains("Conflict #1001 Acme Corp: phone"));
    // Both sides agree afterwards, and the conflict is kept to be reviewed.
    assert_eq!(phone_in_notion(&app), "555-2222");
    assert_eq!(app.contact("1001").await.unwrap()["phone"], "555-2222");
    assert!(open_conflict(&app).await.is_some());
}

#[tokio::test]
async fn choose_keep_dialer_works() {
    let (app, _) = acme_in_conflict("ask").await;
    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(
        report["records"][0]["conflicts"][0]["applied"],
        Value::Null,
        "ask: waits for a choice"
    );
    assert_eq!(
        phone_in_notion(&app),
        "555-1111",
        "neither side touched before the choice"
    );
    choose(&app, "dialer").await;
    assert_eq!(phone_in_notion(&app), "555-2222");
    assert_eq!(app.contact("1001").await.unwrap()["phone"], "555-2222");
    assert!(open_conflict(&app).await.is_none());
    let again = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(
        again["summary"]["conflicts"], 0,
        "resolved for good: {again:#}"
    );
    assert_eq!(phone_in_notion(&app), "555-2222");
}

#[tokio::test]
async fn choose_keep_notion_works() {
    let (app, _) = acme_in_conflict("ask").await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    choose(&app, "notion").await;
    assert_eq!(app.contact("1001").await.unwrap()["phone"], "555-1111");
    assert_eq!(phone_in_notion(&app), "555-1111");
    let again = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(again["summary"]["updated_in_notion"], 0, "{again:#}");
    assert_eq!(again["summary"]["updated_in_dialer"], 0, "{again:#}");
}

#[tokio::test]
async fn no_data_lost() {
    let (app, _) = acme_in_conflict("ask").await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    choose(&app, "notion").await;
    // The value not chosen is kept with the resolution.
    let resolved = app.sync_state().list(Some("resolved/")).await.unwrap();
    assert_eq!(resolved.len(), 1);
    let record: Value = app
        .sync_state()
        .get_json(&resolved[0].key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record["conflict"]["fields"][0]["dialer"]["value"], "555-2222",
        "{record:#}"
    );
    assert_eq!(record["values"]["phone"]["value"], "555-1111");
    // Everything else on both sides survived.
    let c = app.contact("1001").await.unwrap();
    assert_eq!(c["companyName"], "Acme Corp");
    assert_eq!(c["website"], "https://acme-corp.test");
    let page = app.page_by_dialer_id(1001).unwrap();
    assert_eq!(text(&page, "Name"), "Acme Corp");
}
