//! Backups before changes: every value a sync overwrites is kept for
//! `SYNC_BACKUP_DAYS` (7) and a contact can be put back as it was before a
//! run, on both sides.

use e2e::*;
use serde_json::{json, Value};

#[tokio::test]
async fn a_bad_edit_pushed_to_notion_is_backed_up_and_restored_on_both_sides() {
    let app = TestApp::spawn().await;
    let old = "backups/20200101/20200101T000000.000Z-0000/1001";
    app.sync_state()
        .set_json(old, &json!({"stale": true}), Default::default())
        .await
        .unwrap();
    push_contact(&app, contact(1001, "Acme Corp", "555-0100")).await;
    assert_eq!(
        app.sync_state().get_json::<Value>(old).await.unwrap(),
        None,
        "backups older than 7 days are pruned"
    );
    let engine = app.engine();
    assert!(
        engine.backups(None, 10).await.unwrap().is_empty(),
        "a create replaces nothing"
    );

    // A slip in the dialer, pushed right away.
    let mut c = app.contact("1001").await.unwrap();
    c["phone"] = json!("555-9999");
    c["updatedAt"] = json!(chrono::Utc::now().to_rfc3339());
    app.put_contact(c).await;
    let report = ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    );
    assert_eq!(
        prop(&app.page_by_dialer_id(1001).unwrap(), "Phone")["phone_number"],
        "555-9999"
    );

    let backups = engine.backups(None, 10).await.unwrap();
    assert_eq!(backups.len(), 1, "{backups:#?}");
    let b = &backups[0];
    assert_eq!(b.run_id, report["run_id"].as_str().unwrap());
    let phone = b.replaced.iter().find(|r| r.field == "phone").unwrap();
    assert_eq!(
        json!(phone.side),
        json!("notion"),
        "Notion's value was replaced"
    );
    assert_eq!(phone.before.as_text(), Some("555-0100"));
    assert_eq!(
        b.dialer_before.as_ref().unwrap()["phone"],
        "555-9999",
        "the contact as the dialer held it"
    );

    let restored = engine
        .restore_backup(&b.run_id, b.contact_id, "test")
        .await
        .unwrap();
    assert_eq!(restored.values["phone"].as_text(), Some("555-0100"));
    assert_eq!(app.contact("1001").await.unwrap()["phone"], "555-0100");
    assert_eq!(
        prop(&app.page_by_dialer_id(1001).unwrap(), "Phone")["phone_number"],
        "555-0100"
    );
    let again = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(again["summary"]["updated_in_notion"], 0, "{again:#}");
    assert_eq!(again["summary"]["updated_in_dialer"], 0, "{again:#}");

    let err = engine
        .restore_backup("20200101T000000.000Z-0000", b.contact_id, "test")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("changed nothing"), "{err}");
}

#[tokio::test]
async fn the_dialer_lists_backups_and_restores_one_over_http() {
    let app = TestApp::spawn().await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0100")).await;
    let mut c = app.contact("1001").await.unwrap();
    c["website"] = json!("https://wrong.example");
    app.put_contact(c).await;
    let report = ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    );
    let run_id = report["run_id"].as_str().unwrap();

    let listed = ok_json(&app.get("sync-backups").await);
    let backups = listed["backups"].as_array().unwrap();
    assert_eq!(backups.len(), 1, "{listed:#}");
    assert_eq!(backups[0]["run_id"], run_id);
    assert_eq!(backups[0]["replaced"][0]["field"], "website");

    let bad = app.post("sync-backups", json!({"contactId": "1001"})).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.body.contains("run_id") || bad.body.contains("runId"),
        "{}",
        bad.body
    );

    ok_json(
        &app.post(
            "sync-backups",
            json!({"runId": run_id, "contactId": "1001"}),
        )
        .await,
    );
    let page = app.page_by_dialer_id(1001).unwrap();
    assert_eq!(prop(&page, "Website")["url"], "https://acme-corp.test");
    assert_eq!(
        app.contact("1001").await.unwrap()["website"],
        "https://acme-corp.test"
    );
}
