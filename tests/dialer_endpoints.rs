//! The endpoints the dialer reads besides the syncs themselves: the status
//! banner (`sync-status`), the run history (`sync-history`) and the conflict
//! console (`sync-conflicts`), each through its real function binary.

use e2e::*;
use serde_json::{json, Value};
use test_harness::event::ApiEvent;

async fn get_json(app: &TestApp, function: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let mut event = ApiEvent::get(&format!("/.netlify/functions/{function}"));
    for (k, v) in query {
        event = event.query(k, v);
    }
    let inv = app.invoke(function, event).await;
    (inv.status, inv.json.clone().unwrap_or(Value::Null))
}

/// Acme synced, then its phone and website edited on both sides.
async fn acme_in_conflict(policy: &str) -> TestApp {
    let app = TestApp::spawn_with(AppOptions {
        env: vec![("SYNC_CONFLICT_POLICY".into(), policy.into())],
        ..AppOptions::default()
    })
    .await;
    app.put_contact(contact(1001, "Acme Corp", "555-0000"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page_id = app.page_id(1001);
    app.control()
        .person_update_page(
            &page_id,
            json!({
                "Phone": {"phone_number": "555-1111"},
                "Website": {"url": "https://acme.example"}
            }),
        )
        .unwrap();
    let mut c = app.contact("1001").await.unwrap();
    c["phone"] = json!("555-2222");
    c["website"] = json!("https://acme.test/new");
    c["updatedAt"] = json!(chrono::Utc::now().to_rfc3339());
    app.put_contact(c).await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    app
}

#[tokio::test]
async fn status_says_never_run_then_in_sync() {
    let app = TestApp::spawn().await;
    let (status, body) = get_json(&app, "sync-status", &[]).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["health"], "never_run", "{body:#}");
    assert_eq!(body["last_run"], Value::Null);

    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("sync-to-notion", json!({})).await);
    let (_, body) = get_json(&app, "sync-status", &[]).await;
    assert_eq!(body["health"], "ok", "{body:#}");
    assert_eq!(body["message"], "In sync.");
    assert_eq!(body["last_run"]["summary"]["created_in_notion"], 1);
    assert!(body["last_ok_at"].is_string(), "{body:#}");
    assert_eq!(body["running"], Value::Null);
    assert_eq!(body["open_conflicts"], 0);
    assert_eq!(body["queued_pushes"], 0);
}

#[tokio::test]
async fn status_shows_the_run_going_on_now_and_ignores_an_expired_lease() {
    let app = TestApp::spawn().await;
    let now = chrono::Utc::now();
    let lease = |expires: chrono::DateTime<chrono::Utc>| json!({"owner": "scheduled-sync:run-1", "taken_at": now, "expires_at": expires});
    let state = app.sync_state();
    state
        .set_json(
            "lock",
            &lease(now + chrono::Duration::minutes(5)),
            Default::default(),
        )
        .await
        .unwrap();
    let (_, body) = get_json(&app, "sync-status", &[]).await;
    assert_eq!(body["running"]["owner"], "scheduled-sync:run-1", "{body:#}");
    state
        .set_json(
            "lock",
            &lease(now - chrono::Duration::minutes(1)),
            Default::default(),
        )
        .await
        .unwrap();
    let (_, body) = get_json(&app, "sync-status", &[]).await;
    assert_eq!(
        body["running"],
        Value::Null,
        "a crashed run's lease: {body:#}"
    );
}

#[tokio::test]
async fn a_failed_run_turns_the_banner_red_and_stays_in_the_history() {
    let app = TestApp::spawn_with_env(&[("NOTION_API_TOKEN", "secret_wrong_0123456789")]).await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    let inv = app.post("scheduled-sync", json!({})).await;
    assert_eq!(inv.status, 502, "{}", inv.body);

    let (_, status) = get_json(&app, "sync-status", &[]).await;
    assert_eq!(status["health"], "failing", "{status:#}");
    let message = status["message"].as_str().unwrap();
    assert!(message.contains("token"), "says what failed: {message}");
    assert!(!status.to_string().contains("secret_wrong_0123456789"));

    let (_, history) = get_json(&app, "sync-history", &[]).await;
    let runs = history["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{history:#}");
    assert_eq!(runs[0]["ok"], false);
    assert!(runs[0]["error"].as_str().unwrap().contains("token"));
}

#[tokio::test]
async fn history_lists_runs_newest_first_and_opens_one_in_full() {
    let app = TestApp::spawn().await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0100")).await;
    ok_json(&app.post("sync-from-notion", json!({})).await);

    let (status, history) = get_json(&app, "sync-history", &[]).await;
    assert_eq!(status, 200, "{history:#}");
    let runs = history["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{history:#}");
    assert_eq!(runs[0]["mode"], "pull from Notion", "newest first");
    assert_eq!(runs[1]["mode"], "push of 1 contact(s)");
    assert_eq!(runs[1]["summary"]["created_in_notion"], 1);
    assert!(runs[0].get("records").is_none(), "the list stays small");

    let (_, one) = get_json(&app, "sync-history", &[("limit", "1")]).await;
    assert_eq!(one["runs"].as_array().unwrap().len(), 1);

    let id = runs[1]["run_id"].as_str().unwrap();
    let (status, full) = get_json(&app, "sync-history", &[("run", id)]).await;
    assert_eq!(status, 200, "{full:#}");
    assert_eq!(full["records"][0]["company_name"], "Acme Corp", "{full:#}");

    let (status, body) = get_json(&app, "sync-history", &[("limit", "0")]).await;
    assert_eq!(status, 400, "{body:#}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`limit`"),
        "{body:#}"
    );
    let (status, _) = get_json(
        &app,
        "sync-history",
        &[("run", "20200101T000000.000Z-0000")],
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_console_shows_both_values_and_recommends_the_later_edit() {
    let app = acme_in_conflict("ask").await;
    let (status, body) = get_json(&app, "sync-conflicts", &[]).await;
    assert_eq!(status, 200, "{body:#}");
    let conflicts = body["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{body:#}");
    let acme = &conflicts[0];
    assert_eq!(acme["companyName"], "Acme Corp");
    assert_eq!(acme["contactId"], "1001", "as the dialer spells ids");
    assert_eq!(
        acme["recommended"], "dialer",
        "the dialer edited later: {acme:#}"
    );
    let phone = acme["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "phone")
        .expect("phone conflict");
    assert_eq!(phone["label"], "Phone");
    assert_eq!(phone["notionText"], "555-1111");
    assert_eq!(phone["dialerText"], "555-2222");
    assert_eq!(phone["dialer"], "555-2222", "in the dialer's own shape");
    assert_eq!(phone["applied"], Value::Null, "ask: nothing applied yet");
    assert!(phone["notionEditedAt"].is_string() && phone["dialerEditedAt"].is_string());

    let (_, status) = get_json(&app, "sync-status", &[]).await;
    assert_eq!(status["health"], "attention", "{status:#}");
    assert_eq!(status["open_conflicts"], 1);
    assert_eq!(status["conflicts_waiting"], 1);
}

#[tokio::test]
async fn manual_merge_picks_field_by_field_and_keeps_the_rest() {
    let app = acme_in_conflict("ask").await;
    let inv = app
        .post(
            "sync-conflicts",
            json!({"contactId": "1001", "fields": {"phone": "notion", "website": "dialer"}}),
        )
        .await;
    let resolved = ok_json(&inv);
    assert_eq!(
        resolved["values"]["phone"]["value"], "555-1111",
        "{resolved:#}"
    );

    let page = app.page_by_dialer_id(1001).unwrap();
    assert_eq!(prop(&page, "Phone")["phone_number"], "555-1111");
    assert_eq!(prop(&page, "Website")["url"], "https://acme.test/new");
    let c = app.contact("1001").await.unwrap();
    assert_eq!(c["phone"], "555-1111");
    assert_eq!(c["website"], "https://acme.test/new");

    let (_, body) = get_json(&app, "sync-conflicts", &[]).await;
    assert_eq!(body["conflicts"], json!([]), "{body:#}");
    // The values not chosen are kept with the resolution.
    let kept = app.sync_state().list(Some("resolved/")).await.unwrap();
    assert_eq!(kept.len(), 1);
    let again = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(again["summary"]["conflicts"], 0, "{again:#}");
    assert_eq!(again["summary"]["updated_in_notion"], 0, "{again:#}");
    assert_eq!(again["summary"]["updated_in_dialer"], 0, "{again:#}");
}

#[tokio::test]
async fn keep_notion_and_keep_dialer_from_the_console() {
    let app = acme_in_conflict("ask").await;
    ok_json(
        &app.post(
            "sync-conflicts",
            json!({"contactId": 1001, "keep": "notion"}),
        )
        .await,
    );
    assert_eq!(
        app.contact("1001").await.unwrap()["website"],
        "https://acme.example"
    );

    // A policy already applied the later edit (the dialer's); the console
    // can still take it back to Notion's value.
    let app = acme_in_conflict("last_edit_wins").await;
    let (_, body) = get_json(&app, "sync-conflicts", &[]).await;
    assert_eq!(
        body["conflicts"][0]["fields"][0]["applied"], "dialer",
        "{body:#}"
    );
    let (_, status) = get_json(&app, "sync-status", &[]).await;
    assert_eq!(status["health"], "ok", "settled by the policy: {status:#}");
    assert_eq!(status["open_conflicts"], 1);
    assert_eq!(status["conflicts_waiting"], 0);
    assert!(
        status["message"].as_str().unwrap().contains("review"),
        "{status:#}"
    );
    ok_json(
        &app.post(
            "sync-conflicts",
            json!({"contactId": "1001", "keep": "notion"}),
        )
        .await,
    );
    let page = app.page_by_dialer_id(1001).unwrap();
    assert_eq!(prop(&page, "Phone")["phone_number"], "555-1111");
    assert_eq!(app.contact("1001").await.unwrap()["phone"], "555-1111");
}

#[tokio::test]
async fn bad_answers_are_refused_with_what_to_send() {
    let app = acme_in_conflict("ask").await;
    for (body, field) in [
        (json!({"keep": "dialer"}), "contactId"),
        (json!({"contactId": "1001", "keep": "everything"}), "keep"),
        (
            json!({"contactId": "1001", "fields": {"colour": "notion"}}),
            "fields.colour",
        ),
    ] {
        let inv = app.post("sync-conflicts", body.clone()).await;
        assert_eq!(inv.status, 400, "{body}: {}", inv.body);
        let message = inv.json.as_ref().unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains(&format!("`{field}`")), "{body}: {message}");
    }
    let inv = app
        .post(
            "sync-conflicts",
            json!({"contactId": "2002", "keep": "dialer"}),
        )
        .await;
    assert_eq!(inv.status, 400, "{}", inv.body);
    assert!(inv.body.contains("no open conflict"), "{}", inv.body);
    let inv = app
        .invoke(
            "sync-conflicts",
            ApiEvent::new("DELETE", "/.netlify/functions/sync-conflicts"),
        )
        .await;
    assert_eq!(inv.status, 405, "{}", inv.body);
    // Nothing was written by the refused answers.
    let (_, body) = get_json(&app, "sync-conflicts", &[]).await;
    assert_eq!(body["conflicts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn old_run_records_are_pruned_and_a_lost_index_is_rebuilt() {
    let app = TestApp::spawn_with_env(&[("SYNC_HISTORY_DAYS", "7")]).await;
    let state = app.sync_state();
    let old_id = "20200101T000000.000Z-0000";
    let old = json!({
        "run_id": old_id, "mode": "both ways",
        "started_at": "2020-01-01T00:00:00Z", "finished_at": "2020-01-01T00:00:01Z",
        "dry_run": false, "full_scan": false, "held": null,
        "summary": {"created_in_notion": 0, "updated_in_notion": 0, "archived_in_notion": 0,
            "created_in_dialer": 0, "updated_in_dialer": 0, "marked_archived_in_dialer": 0,
            "calls_logged": 0, "conflicts": 0, "unchanged": 0, "failed": 0, "remaining": 0, "invalid": 0},
        "records": [], "problems": [], "plan": "", "notion_requests": 1, "blobs_requests": 1
    });
    let key = format!("runs/{old_id}");
    state
        .set_json(&key, &old, Default::default())
        .await
        .unwrap();
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(
        state.get_json::<Value>(&key).await.unwrap(),
        None,
        "a record older than SYNC_HISTORY_DAYS is deleted"
    );
    let (_, history) = get_json(&app, "sync-history", &[]).await;
    assert_eq!(history["runs"].as_array().unwrap().len(), 1, "{history:#}");

    // Without its index (deleted, or a store from before it), the history
    // is read from the records themselves.
    state.delete("history").await.unwrap();
    let (_, history) = get_json(&app, "sync-history", &[]).await;
    assert_eq!(history["runs"].as_array().unwrap().len(), 1, "{history:#}");
    assert_eq!(history["runs"][0]["mode"], "both ways");
}

/// Acme synced, then deleted in the dialer while a teammate filled in its
/// address in Notion.
async fn acme_deleted_but_edited_in_notion() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0100")).await;
    let page_id = app.page_id(1001);
    app.delete_contact("1001").await;
    app.control()
        .person_update_page(
            &page_id,
            json!({"Address": {"rich_text": [{"text": {"content": "12 Main St"}}]}}),
        )
        .unwrap();
    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["summary"]["archived_in_notion"], 0, "{report:#}");
    (app, page_id)
}

#[tokio::test]
async fn a_delete_against_a_notion_edit_waits_and_keep_notion_restores_the_contact() {
    let (app, page_id) = acme_deleted_but_edited_in_notion().await;
    let (_, body) = get_json(&app, "sync-conflicts", &[]).await;
    let acme = &body["conflicts"][0];
    assert_eq!(acme["deletedInDialer"], true, "{body:#}");
    assert_eq!(acme["recommended"], "notion", "restoring loses nothing");
    assert_eq!(acme["fields"][0]["field"], "address");
    assert_eq!(acme["fields"][0]["notionText"], "12 Main St");

    // Waiting changes nothing on either side.
    ok_json(&app.post("scheduled-sync", json!({})).await);
    assert!(app.contact("1001").await.is_none());
    assert!(app.page_by_dialer_id(1001).is_some(), "the page stays live");

    ok_json(
        &app.post(
            "sync-conflicts",
            json!({"contactId": "1001", "keep": "notion"}),
        )
        .await,
    );
    let restored = app.contact("1001").await.expect("the contact is back");
    assert_eq!(restored["companyName"], "Acme Corp");
    assert_eq!(restored["address"], "12 Main St");
    assert_eq!(app.page_id(1001), page_id, "the same page, no duplicate");
    let (_, body) = get_json(&app, "sync-conflicts", &[]).await;
    assert_eq!(body["conflicts"], json!([]));
    let again = ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    let s = &again["summary"];
    assert_eq!(
        (
            s["created_in_notion"].clone(),
            s["created_in_dialer"].clone(),
            s["archived_in_notion"].clone()
        ),
        (json!(0), json!(0), json!(0)),
        "{again:#}"
    );
}

#[tokio::test]
async fn keep_dialer_archives_the_edited_page_and_a_delete_cannot_be_merged() {
    let (app, page_id) = acme_deleted_but_edited_in_notion().await;
    let inv = app
        .post(
            "sync-conflicts",
            json!({"contactId": "1001", "fields": {"address": "notion"}}),
        )
        .await;
    assert_eq!(inv.status, 400, "{}", inv.body);
    assert!(inv.body.contains("cannot be merged"), "{}", inv.body);

    ok_json(
        &app.post(
            "sync-conflicts",
            json!({"contactId": "1001", "keep": "dialer"}),
        )
        .await,
    );
    let page = app
        .control()
        .pages()
        .into_iter()
        .find(|p| p["id"] == page_id.as_str())
        .unwrap();
    assert_eq!(
        page["in_trash"], true,
        "archived, recoverable from Notion's trash"
    );
    ok_json(&app.post("scheduled-sync", json!({"fullScan": true})).await);
    assert!(app.contact("1001").await.is_none(), "it never comes back");
    // The teammate's edit is kept with the resolution.
    let kept = app.sync_state().list(Some("resolved/")).await.unwrap();
    let record: Value = app
        .sync_state()
        .get_json(&kept[0].key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record["conflict"]["fields"][0]["notion"]["value"],
        "12 Main St"
    );
}

#[tokio::test]
async fn conflicts_a_policy_settled_are_retired_after_the_history_retention() {
    let app = acme_in_conflict("last_edit_wins").await;
    let state = app.sync_state();
    let mut record: Value = state.get_json("conflicts/1001").await.unwrap().unwrap();
    record["detected_at"] = json!("2020-01-01T00:00:00Z");
    state
        .set_json("conflicts/1001", &record, Default::default())
        .await
        .unwrap();
    // The daily prune is due again (its mark lives in the history index).
    state.delete("history").await.unwrap();
    ok_json(&app.post("scheduled-sync", json!({})).await);

    let (_, body) = get_json(&app, "sync-conflicts", &[]).await;
    assert_eq!(body["conflicts"], json!([]), "{body:#}");
    let kept = state.list(Some("resolved/")).await.unwrap();
    assert_eq!(kept.len(), 1, "filed, every value kept");
    let filed: Value = state.get_json(&kept[0].key).await.unwrap().unwrap();
    assert_eq!(
        filed["conflict"]["fields"][0]["notion"]["value"], "555-1111",
        "{filed:#}"
    );
    assert_eq!(
        filed["values"]["phone"]["value"], "555-2222",
        "as the policy decided"
    );
}
