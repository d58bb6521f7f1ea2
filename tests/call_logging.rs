//! The roadmap's Testing Checklist, "Call Logging Tests": a call saved in the
//! dialer reaches Notion with the latest call data, and its notes are
//! appended to the page's call log once.

use e2e::*;
use serde_json::{json, Value};

async fn synced_app() -> TestApp {
    let app = TestApp::spawn().await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0100")).await;
    app
}

async fn make_call(
    app: &TestApp,
    at: &str,
    outcome: &str,
    duration: u64,
    notes: &str,
    ok_code: &str,
) -> Value {
    let mut c = with_call(
        app.contact("1001").await.unwrap(),
        at,
        outcome,
        duration,
        notes,
    );
    c["currentOkCode"] = json!(ok_code);
    app.put_contact(c).await;
    ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    )
}

fn call_log(app: &TestApp, page_id: &str) -> Vec<String> {
    app.control()
        .block_children(page_id)
        .iter()
        .map(|b| {
            b["paragraph"]["rich_text"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    t["plain_text"]
                        .as_str()
                        .or(t["text"]["content"].as_str())
                        .unwrap_or("")
                        .to_string()
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn make_call_logs_in_dialer() {
    // The dialer owns its call history: the sync never rewrites it.
    let app = synced_app().await;
    make_call(
        &app,
        "2026-09-15T14:00:00.000Z",
        "DM",
        185,
        "Interested, call back Tuesday",
        "OK-3",
    )
    .await;
    let stored = app.contact("1001").await.unwrap();
    assert_eq!(stored["callHistory"].as_array().unwrap().len(), 1);
    assert_eq!(
        stored["callHistory"][0]["notes"],
        "Interested, call back Tuesday"
    );
}

#[tokio::test]
async fn call_data_syncs_to_notion() {
    let app = synced_app().await;
    let report = make_call(&app, "2026-09-15T14:00:00.000Z", "DM", 185, "", "OK-3").await;
    assert_eq!(report["summary"]["updated_in_notion"], 1, "{report:#}");
    let page = app.page_by_dialer_id(1001).unwrap();
    assert_eq!(prop(&page, "Total Dials")["number"], 1);
    assert_eq!(prop(&page, "Had Conversation")["checkbox"], true);
    let last_call = prop(&page, "Last Call")["date"]["start"].as_str().unwrap();
    assert!(
        last_call.starts_with("2026-09-15T10:00:00"),
        "shown in the team's zone: {last_call}"
    );
}

#[tokio::test]
async fn outcome_field_updates() {
    let app = synced_app().await;
    make_call(&app, "2026-09-15T14:00:00.000Z", "NA", 0, "", "OK-1").await;
    assert_eq!(
        prop(&app.page_by_dialer_id(1001).unwrap(), "Outcome")["select"]["name"],
        "NA"
    );
    make_call(&app, "2026-09-16T14:00:00.000Z", "DM", 60, "", "OK-1").await;
    assert_eq!(
        prop(&app.page_by_dialer_id(1001).unwrap(), "Outcome")["select"]["name"],
        "DM"
    );
}

#[tokio::test]
async fn ok_code_updates() {
    let app = synced_app().await;
    make_call(&app, "2026-09-15T14:00:00.000Z", "GK", 30, "", "OK-2").await;
    assert_eq!(
        text(&app.page_by_dialer_id(1001).unwrap(), "Ok Code"),
        "OK-2"
    );
    make_call(&app, "2026-09-16T14:00:00.000Z", "DM", 30, "", "OK-7").await;
    assert_eq!(
        text(&app.page_by_dialer_id(1001).unwrap(), "Ok Code"),
        "OK-7"
    );
}

#[tokio::test]
async fn duration_updates() {
    let app = synced_app().await;
    make_call(&app, "2026-09-15T14:00:00.000Z", "DM", 185, "", "OK-1").await;
    assert_eq!(
        prop(&app.page_by_dialer_id(1001).unwrap(), "Duration")["number"],
        185
    );
    make_call(&app, "2026-09-16T14:00:00.000Z", "DM", 42, "", "OK-1").await;
    assert_eq!(
        prop(&app.page_by_dialer_id(1001).unwrap(), "Duration")["number"],
        42
    );
}

#[tokio::test]
async fn notes_append_correctly() {
    let app = synced_app().await;
    let page_id = app.page_id(1001);
    // A person's own notes in Notion: never overwritten.
    app.control()
        .person_update_page(
            &page_id,
            json!({"Notes": {"rich_text": [{"text": {"content": "Decision maker: Sam"}}]}}),
        )
        .unwrap();
    make_call(
        &app,
        "2026-09-15T14:00:00.000Z",
        "DM",
        185,
        "Interested, call back Tuesday",
        "OK-3",
    )
    .await;
    make_call(
        &app,
        "2026-09-16T15:30:00.000Z",
        "GK",
        20,
        "Gatekeeper says Sam is out",
        "OK-3",
    )
    .await;
    // Syncing again (and the scheduled run) never appends a call twice.
    ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    );
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let log = call_log(&app, &page_id);
    assert_eq!(log.len(), 2, "{log:#?}");
    assert!(
        log[0].contains("Interested, call back Tuesday") && log[0].contains("DM"),
        "{log:#?}"
    );
    assert!(log[1].contains("Gatekeeper says Sam is out"), "{log:#?}");
    assert_eq!(
        text(&app.page_by_dialer_id(1001).unwrap(), "Notes"),
        "Decision maker: Sam"
    );
    let huge = "n".repeat(5000);
    make_call(&app, "2026-09-17T15:30:00.000Z", "DM", 20, &huge, "OK-3").await;
    let log = call_log(&app, &page_id);
    assert_eq!(log.len(), 3);
    assert!(
        log[2].contains(&huge),
        "a 5000-character note arrives whole, split into pieces Notion accepts"
    );
}

#[tokio::test]
async fn notes_can_go_to_the_notes_property_appended_after_a_persons_notes() {
    let app = TestApp::spawn_with_env(&[("SYNC_CALL_NOTES", "notes_property")]).await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0100")).await;
    let page_id = app.page_id(1001);
    app.control()
        .person_update_page(
            &page_id,
            json!({"Notes": {"rich_text": [{"text": {"content": "Decision maker: Sam"}}]}}),
        )
        .unwrap();
    make_call(
        &app,
        "2026-09-15T14:00:00.000Z",
        "DM",
        185,
        "Interested, call back Tuesday",
        "OK-3",
    )
    .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let notes = text(&app.page_by_dialer_id(1001).unwrap(), "Notes");
    assert!(notes.starts_with("Decision maker: Sam\n\n📞"), "{notes}");
    assert_eq!(
        notes.matches("Interested, call back Tuesday").count(),
        1,
        "{notes}"
    );
    assert!(
        app.control().block_children(&page_id).is_empty(),
        "nothing in the page body"
    );
    assert_eq!(
        app.contact("1001").await.unwrap()["notion"]["notes"],
        notes,
        "the dialer's read-only copy follows"
    );
}

/// A Free workspace past its block limit (Notion refuses every request that
/// would create blocks): no record fails, the properties keep syncing, the
/// call log and a new contact's page wait, and the sync says what happened
/// and what to do in the run report, the status banner and one alert. Once
/// the workspace is upgraded, the waiting call is logged with the next one
/// and the new contact gets its page.
#[tokio::test]
async fn past_the_free_plan_block_limit_properties_keep_syncing_and_it_says_what_to_do() {
    let app = synced_app().await;
    let page_id = app.page_id(1001);
    app.control().set_block_limit_past_grace();
    let report = make_call(
        &app,
        "2026-09-15T14:00:00.000Z",
        "DM",
        185,
        "Interested",
        "OK-3",
    )
    .await;
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    assert_eq!(report["summary"]["updated_in_notion"], 1, "{report:#}");
    assert_eq!(report["summary"]["calls_logged"], 0, "{report:#}");
    let said = report["notion_limits"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["limit"] == "block_limit"))
        .unwrap_or_else(|| panic!("the report says it: {report:#}"));
    let message = said["message"].as_str().unwrap();
    assert!(
        message.contains("Upgrade the workspace's plan")
            && message.contains("SYNC_CALL_NOTES=notes_property"),
        "{message}"
    );
    assert_eq!(
        prop(&app.page_by_dialer_id(1001).unwrap(), "Total Dials")["number"],
        1
    );
    assert!(call_log(&app, &page_id).is_empty(), "nothing appended");

    app.put_contact(contact(1002, "Beta Inc", "555-0101")).await;
    let run = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(run["summary"]["failed"], 0, "{run:#}");
    assert!(
        app.page_by_dialer_id(1002).is_none(),
        "the new contact waits"
    );
    let status = ok_json(&app.get("sync-status").await);
    assert_eq!(status["health"], "attention", "{status:#}");
    assert!(
        status["message"].as_str().unwrap().contains("block limit"),
        "{status:#}"
    );
    let alerts = format!(
        "{}{}",
        app.logs("sync-to-notion").await,
        app.logs("scheduled-sync").await
    );
    assert_eq!(
        alerts.matches("out of free blocks").count(),
        1,
        "told once: {alerts}"
    );

    app.control().clear_block_limit();
    make_call(
        &app,
        "2026-09-16T14:00:00.000Z",
        "DM",
        60,
        "Sent the deck",
        "OK-4",
    )
    .await;
    let log = call_log(&app, &page_id).join("\n");
    assert_eq!(log.matches("Interested").count(), 1, "{log}");
    assert_eq!(log.matches("Sent the deck").count(), 1, "{log}");
    ok_json(&app.post("scheduled-sync", json!({})).await);
    assert!(
        app.page_by_dialer_id(1002).is_some(),
        "created once upgraded"
    );
}
