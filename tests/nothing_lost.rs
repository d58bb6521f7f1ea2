//! "Never a duplicate, nothing lost": one named story per way the promise
//! was seen to break (issue 9's list, and what the model-based test found),
//! through the real function binaries. Each failed before its fix.

use std::time::Duration;

use e2e::*;
use notion_emulator::{Fault, FaultKind};
use serde_json::{json, Value};

/// The page body's text (the call log).
fn body(app: &TestApp, page_id: &str) -> String {
    app.control()
        .block_children(page_id)
        .iter()
        .flat_map(|b| {
            b["paragraph"]["rich_text"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|t| t["plain_text"].as_str().map(str::to_string))
        .collect()
}

async fn edit_contact(app: &TestApp, id: &str, key: &str, value: Value) {
    let mut c = app.contact(id).await.expect("contact");
    c[key] = value;
    app.put_contact(c).await;
}

async fn dialer_keys(app: &TestApp) -> Vec<String> {
    app.contacts()
        .list(None)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.key)
        .collect()
}

#[tokio::test]
async fn a_pull_keeps_a_dialer_edit_made_since_the_last_sync() {
    let app = TestApp::spawn().await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0100")).await;
    let page = app.page_id(1001);
    edit_contact(&app, "1001", "address", json!("1 Dialer Way")).await;
    app.control()
        .person_update_page(
            &page,
            json!({"Name": {"title": [{"text": {"content": "Acme Inc"}}]}}),
        )
        .unwrap();
    ok_json(&app.post("sync-from-notion", json!({})).await);
    let c = app.contact("1001").await.unwrap();
    assert_eq!(
        c["address"], "1 Dialer Way",
        "the pull kept the dialer's edit: {c:#}"
    );
    assert_eq!(c["companyName"], "Acme Inc");
    assert_eq!(
        text(&app.page_by_dialer_id(1001).unwrap(), "Address"),
        "1 Dialer Way"
    );
}

#[tokio::test]
async fn under_ask_a_second_conflict_keeps_the_first() {
    let app = TestApp::spawn_with_env(&[("SYNC_CONFLICT_POLICY", "ask")]).await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0000")).await;
    let page = app.page_id(1001);
    let both = |notion: Value, key: &'static str, value: Value| {
        let app = &app;
        let page = page.clone();
        async move {
            app.control().person_update_page(&page, notion).unwrap();
            edit_contact(app, "1001", key, value).await;
            ok_json(&app.post("scheduled-sync", json!({})).await);
        }
    };
    both(
        json!({"Phone": {"phone_number": "555-1111"}}),
        "phone",
        json!("555-2222"),
    )
    .await;
    both(
        json!({"Address": {"rich_text": [{"text": {"content": "1 Notion St"}}]}}),
        "address",
        json!("2 Dialer Rd"),
    )
    .await;
    let conflicts = ok_json(&app.get("sync-conflicts").await);
    let fields: Vec<&str> = conflicts["conflicts"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["address", "phone"], "{conflicts:#}");
}

#[tokio::test]
async fn call_notes_sent_with_a_new_page_are_logged_once_when_the_contact_changes_meanwhile() {
    let app = TestApp::spawn().await;
    let c = with_call(
        contact(1001, "Acme Corp", "555-0100"),
        "2026-09-15T14:00:00.000Z",
        "DM",
        60,
        "Wants a demo on Tuesday",
    );
    app.put_contact(c).await;
    // The page's create takes a while; the salesperson saves the contact meanwhile.
    app.control().inject_fault(Fault::on(
        "pages.create",
        FaultKind::Latency(Duration::from_millis(1500)),
    ));
    let push = app.post("sync-to-notion", json!({"contactId": "1001"}));
    let edit = async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        edit_contact(&app, "1001", "address", json!("9 Later St")).await;
    };
    let (first, ()) = tokio::join!(push, edit);
    assert!(first.status < 300, "{}", first.body);
    ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    );
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page = app.page_id(1001);
    assert_eq!(
        body(&app, &page).matches("Wants a demo on Tuesday").count(),
        1
    );
    assert_eq!(
        text(&app.page_by_dialer_id(1001).unwrap(), "Address"),
        "9 Later St"
    );
}

#[tokio::test]
async fn a_fictional_555_number_links_a_typed_page_to_its_contact() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-777-8888"))
        .await;
    app.control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Acme Corp"}}]},
            "Phone": {"phone_number": "+1 (555) 777-8888"},
        }))
        .unwrap();
    ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(live_pages(&app).len(), 1, "one page: the typed one, linked");
    assert_eq!(dialer_keys(&app).await, ["1001"], "no second contact");
}

#[tokio::test]
async fn a_contact_made_from_a_page_keeps_its_call_fields() {
    let app = TestApp::spawn().await;
    app.control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Typed Co"}}]},
            "Outcome": {"select": {"name": "DM"}},
            "Duration": {"number": 95},
            "Objection": {"rich_text": [{"text": {"content": "budget"}}]},
            "Had Conversation": {"checkbox": true},
        }))
        .unwrap();
    ok_json(&app.post("sync-from-notion", json!({})).await);
    let key = dialer_keys(&app).await.pop().expect("a contact was made");
    let c = app.contact(&key).await.unwrap();
    assert_eq!(c["callHistory"][0]["outcome"], "DM", "{c:#}");
    // An unrelated edit in the dialer leaves the page's call data alone.
    edit_contact(&app, &key, "address", json!("3 New Rd")).await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page = app.page_by_dialer_id(key.parse().unwrap()).unwrap();
    assert_eq!(prop(&page, "Outcome")["select"]["name"], "DM");
    assert_eq!(prop(&page, "Duration")["number"], 95);
    assert_eq!(text(&page, "Objection"), "budget");
    assert_eq!(text(&page, "Address"), "3 New Rd");
}

#[tokio::test]
async fn a_resolution_never_writes_over_a_newer_edit() {
    let app = TestApp::spawn_with_env(&[("SYNC_CONFLICT_POLICY", "ask")]).await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0000")).await;
    let page = app.page_id(1001);
    app.control()
        .person_update_page(&page, json!({"Phone": {"phone_number": "555-1111"}}))
        .unwrap();
    edit_contact(&app, "1001", "phone", json!("555-2222")).await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    // A teammate changes the phone again before anyone answers the conflict.
    app.control()
        .person_update_page(&page, json!({"Phone": {"phone_number": "555-3333"}}))
        .unwrap();
    let answer = app
        .post(
            "sync-conflicts",
            json!({"contactId": "1001", "keep": "dialer"}),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("changed since this conflict was found"),
        "{}",
        answer.body
    );
    let phone = prop(&app.page_by_dialer_id(1001).unwrap(), "Phone")["phone_number"].clone();
    assert_eq!(phone, "555-3333", "the newer edit is still there");
    // The conflict now shows both sides as they are, and can be answered.
    let conflicts = ok_json(&app.get("sync-conflicts").await);
    assert_eq!(
        conflicts["conflicts"][0]["fields"][0]["notionText"], "555-3333",
        "{conflicts:#}"
    );
    ok_json(
        &app.post(
            "sync-conflicts",
            json!({"contactId": "1001", "keep": "dialer"}),
        )
        .await,
    );
    let phone = prop(&app.page_by_dialer_id(1001).unwrap(), "Phone")["phone_number"].clone();
    assert_eq!(phone, "555-2222");
}

#[tokio::test]
async fn a_blob_whose_id_is_another_contacts_is_reported_not_synced() {
    let app = TestApp::spawn().await;
    push_contact(&app, contact(1001, "Acme Corp", "555-0100")).await;
    // Saved under key 1002, but claiming to be 1001.
    let impostor = contact(1001, "Other Co", "555-0199");
    app.contacts()
        .set_json("1002", &impostor, Default::default())
        .await
        .unwrap();
    let report = app.post("scheduled-sync", json!({})).await;
    let body = report.json.clone().unwrap();
    let invalid = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "invalid")
        .unwrap_or_else(|| panic!("the blob is reported: {body:#}"));
    assert!(
        invalid["error"].as_str().unwrap().contains("key 1002"),
        "{invalid:#}"
    );
    assert_eq!(
        text(&app.page_by_dialer_id(1001).unwrap(), "Name"),
        "Acme Corp"
    );
    assert_eq!(live_pages(&app).len(), 1);
}

#[tokio::test]
async fn a_page_whose_dialer_id_write_failed_never_becomes_a_second_contact() {
    let app = TestApp::spawn().await;
    app.control()
        .person_create_page(json!({"Name": {"title": [{"text": {"content": "Typed Co"}}]}}))
        .unwrap();
    // The contact is made, then writing its Dialer ID to the page fails.
    app.control()
        .inject_fault(Fault::on("pages.update", FaultKind::Status(500)).times(20));
    let _ = app.post("sync-from-notion", json!({})).await;
    app.control().clear_faults();
    ok_json(&app.post("scheduled-sync", json!({})).await);
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let keys = dialer_keys(&app).await;
    assert_eq!(keys.len(), 1, "one contact for the page: {keys:?}");
    let page = &live_pages(&app)[0];
    assert_eq!(
        prop(page, "Dialer ID")["number"]
            .as_u64()
            .map(|n| n.to_string()),
        Some(keys[0].clone())
    );
}

#[tokio::test]
async fn notes_typed_after_the_first_sync_reach_notion_once() {
    let app = TestApp::spawn().await;
    let c = with_call(
        contact(1001, "Acme Corp", "555-0100"),
        "2026-09-15T14:00:00.000Z",
        "DM",
        60,
        "",
    );
    push_contact(&app, c).await;
    let mut c = app.contact("1001").await.unwrap();
    c["callHistory"][0]["notes"] = json!("Call back after the board meeting");
    app.put_contact(c).await;
    ok_json(
        &app.post("sync-to-notion", json!({"contactId": "1001"}))
            .await,
    );
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let log = body(&app, &app.page_id(1001));
    assert_eq!(
        log.matches("Call back after the board meeting").count(),
        1,
        "{log}"
    );
}

#[tokio::test]
async fn a_failing_record_does_not_keep_the_brake_off() {
    let app = TestApp::spawn().await;
    for n in 1..=6u64 {
        app.put_contact(contact(
            1000 + n,
            &format!("Co {n}"),
            &format!("555-010{n}"),
        ))
        .await;
    }
    // One contact Notion refuses every time (a website longer than Notion takes).
    let mut bad = contact(1007, "Too Long", "555-0107");
    bad["website"] = json!(format!("https://{}.test", "x".repeat(2100)));
    app.put_contact(bad).await;
    let first = app.post("scheduled-sync", json!({})).await;
    assert_eq!(
        first.json.clone().unwrap()["summary"]["failed"],
        1,
        "{}",
        first.body
    );
    // Then many contacts appear at once: the brake holds them for a person.
    for n in 10..=30u64 {
        app.put_contact(contact(1000 + n, &format!("Co {n}"), &format!("555-02{n}")))
            .await;
    }
    let second = app.post("scheduled-sync", json!({})).await;
    let body = second.json.clone().unwrap();
    assert!(
        body["held"].as_str().is_some_and(|h| h.contains("create")),
        "{body:#}"
    );
    assert_eq!(live_pages(&app).len(), 6);
}
