//! Phase 3 "Basic Read Test": the `notion-test` function binary, invoked
//! through the Lambda Runtime API as Netlify invokes it, against the Notion
//! emulator and the official Blobs server.

use e2e::*;
use serde_json::json;

#[tokio::test]
async fn notion_test_reports_a_ready_database_and_shows_its_contacts() {
    let app = TestApp::spawn().await;
    app.control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Acme Corp"}}]},
            "Dialer ID": {"number": 1001},
            "Phone": {"phone_number": "555-0100"},
            "Notes": {"rich_text": [{"text": {"content": "Met at the fair"}}]}
        }))
        .unwrap();
    let inv = app.get("notion-test").await;
    let body = ok_json(&inv);
    assert_eq!(body["ok"], true, "{body:#}");
    let steps: Vec<&str> = body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["token", "database", "schema", "read"]);
    assert_eq!(body["schema"]["ready"], true);
    let sample = &body["sample"][0];
    assert_eq!(sample["id"], "1001");
    assert_eq!(sample["companyName"], "Acme Corp");
    assert_eq!(sample["phone"], "555-0100");
    assert_eq!(sample["notion"]["notes"], "Met at the fair");
    assert_eq!(inv.header("access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn a_bad_token_says_how_to_fix_it_and_never_shows_the_token() {
    let app = TestApp::spawn_with_env(&[("NOTION_API_TOKEN", "secret_wrong_0123456789")]).await;
    let inv = app.get("notion-test").await;
    let body = ok_json(&inv);
    assert_eq!(body["ok"], false);
    assert_eq!(body["steps"][0]["name"], "token");
    assert_eq!(body["steps"][0]["ok"], false);
    assert!(
        body["steps"][0]["fix"]
            .as_str()
            .unwrap()
            .contains("NOTION_API_TOKEN"),
        "{body:#}"
    );
    assert!(!inv.body.contains("secret_wrong_0123456789"));
    assert!(!app
        .logs("notion-test")
        .await
        .contains("secret_wrong_0123456789"));
}

#[tokio::test]
async fn a_missing_property_names_the_exact_fix() {
    let app = TestApp::spawn().await;
    app.control().remove_property("Dialer ID").unwrap();
    app.control()
        .set_property_type("Phone", json!({"type": "checkbox"}))
        .unwrap();
    let body = ok_json(&app.get("notion-test").await);
    assert_eq!(body["ok"], false);
    let schema = body["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "schema")
        .unwrap();
    let fix = schema["fix"].as_str().unwrap();
    assert!(
        fix.contains("Add a Number property named 'Dialer ID'"),
        "{fix}"
    );
    assert!(
        fix.contains("Change the type of 'Phone' to Phone or Text (it is Checkbox now)"),
        "{fix}"
    );
}

#[tokio::test]
async fn an_unshared_database_says_to_add_the_connection() {
    let app = TestApp::spawn().await;
    app.control().set_shared(false);
    let body = ok_json(&app.get("notion-test").await);
    let step = &body["steps"][1];
    assert_eq!(
        (step["name"].as_str(), step["ok"].as_bool()),
        (Some("database"), Some(false))
    );
    assert!(
        step["fix"].as_str().unwrap().contains("Connections"),
        "{body:#}"
    );
}

#[tokio::test]
async fn missing_configuration_is_a_500_naming_the_variable() {
    let app = TestApp::spawn_with_env(&[("NOTION_API_TOKEN", "")]).await;
    let inv = app.get("notion-test").await;
    assert_eq!(inv.status, 500, "{}", inv.body);
    let body = inv.json.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("NOTION_API_TOKEN"),
        "{body:#}"
    );
    assert!(
        body["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("Environment variables"),
        "{body:#}"
    );
}

#[tokio::test]
async fn a_sync_with_a_bad_token_shows_the_error_and_queues_nothing() {
    let app = TestApp::spawn_with_env(&[("NOTION_API_TOKEN", "secret_wrong_0123456789")]).await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    let inv = app
        .post("sync-to-notion", json!({"contactId": "1001"}))
        .await;
    assert_eq!(inv.status, 502, "{}", inv.body);
    let body = inv.json.clone().unwrap();
    assert_eq!(body["error"]["code"], "notion_unauthorized");
    assert!(
        body["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("NOTION_API_TOKEN"),
        "{body:#}"
    );
    assert!(!inv.body.contains("secret_wrong_0123456789"));
    assert!(
        app.sync_state()
            .list(Some("queue/"))
            .await
            .unwrap()
            .is_empty(),
        "a bad token is not retried later"
    );
    assert_eq!(
        sync_engine::lock::current_lease(&app.sync_state(), chrono::Utc::now())
            .await
            .unwrap(),
        None,
        "the lock is released"
    );
}
