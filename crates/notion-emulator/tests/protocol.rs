//! Protocol-level behaviour: auth, versions, ids, errors, rate limiting.

mod common;

use std::time::Duration;

use common::*;
use notion_emulator::{EmulatorConfig, DEFAULT_DATABASE_ID, DEFAULT_DATA_SOURCE_ID};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn users_me_is_the_bot() {
    let api = start().await;
    let r = api.get("/v1/users/me").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["object"], "user");
    assert_eq!(r.body["type"], "bot");
    assert!(r.body["bot"].is_object());
    assert!(r.headers.contains_key("x-notion-request-id"));
}

#[tokio::test]
async fn missing_or_wrong_token_is_unauthorized() {
    let mut api = start().await;
    api.token = "wrong".into();
    let msg = assert_error(&api.get("/v1/users/me").await, 401, "unauthorized");
    assert_eq!(msg, "API token is invalid.");
    let no_auth = reqwest::Client::new()
        .get(format!("{}/v1/users/me", api.emu.base_url()))
        .header("Notion-Version", "2025-09-03")
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status().as_u16(), 401);
}

#[tokio::test]
async fn missing_version_is_rejected() {
    let api = start().await;
    let r = reqwest::Client::new()
        .get(format!("{}/v1/users/me", api.emu.base_url()))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "missing_version");
}

#[tokio::test]
async fn unknown_or_unshared_objects_are_not_found() {
    let api = start().await;
    let other = "0123456789abcdef0123456789abcdef";
    let msg = assert_error(
        &api.get(&format!("/v1/databases/{other}")).await,
        404,
        "object_not_found",
    );
    assert_eq!(
        msg,
        "Could not find database with ID: 01234567-89ab-cdef-0123-456789abcdef. Make sure the relevant pages and databases are shared with your integration \"Dialer Sync\"."
    );
    let r = api.get(&format!("/v1/data_sources/{other}")).await;
    let msg = assert_error(&r, 404, "object_not_found");
    // Notion names a missing data source a "database" in this message.
    assert!(
        msg.starts_with("Could not find database with ID: 01234567-"),
        "{msg}"
    );
    assert_eq!(
        r.body["additional_data"],
        json!({"integration_id": notion_emulator::BOT_USER_ID})
    );
    assert_error(
        &api.get(&format!("/v1/pages/{other}")).await,
        404,
        "object_not_found",
    );

    let page = api.create(contact("Acme", 1)).await;
    let page_id = page.body["id"].as_str().unwrap().to_string();
    api.emu.control().set_shared(false);
    assert_error(
        &api.get(&format!("/v1/databases/{DEFAULT_DATABASE_ID}"))
            .await,
        404,
        "object_not_found",
    );
    assert_error(
        &api.get(&format!("/v1/data_sources/{DEFAULT_DATA_SOURCE_ID}"))
            .await,
        404,
        "object_not_found",
    );
    assert_error(
        &api.get(&format!("/v1/pages/{page_id}")).await,
        404,
        "object_not_found",
    );
    assert_error(&api.query(json!({})).await, 404, "object_not_found");
    api.emu.control().set_shared(true);
    assert_eq!(api.get(&format!("/v1/pages/{page_id}")).await.status, 200);
}

#[tokio::test]
async fn malformed_json_and_unknown_routes() {
    let api = start().await;
    let r = api
        .client
        .post(format!("{}/v1/pages", api.emu.base_url()))
        .bearer_auth(&api.token)
        .header("Notion-Version", "2025-09-03")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_json");

    let msg = assert_error(&api.get("/v1/nope").await, 400, "invalid_request_url");
    assert_eq!(msg, "Invalid request URL.");
    assert_error(
        &api.call(Method::DELETE, "/v1/users/me", None).await,
        400,
        "invalid_request_url",
    );
}

#[tokio::test]
async fn ids_accepted_with_or_without_dashes_and_returned_dashed() {
    let api = start().await;
    let undashed = DEFAULT_DATABASE_ID.replace('-', "").to_uppercase();
    let r = api.get(&format!("/v1/databases/{undashed}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], DEFAULT_DATABASE_ID);
    assert_eq!(r.body["data_sources"][0]["id"], DEFAULT_DATA_SOURCE_ID);
    assert_eq!(r.body["title"][0]["plain_text"], "Sales CRM");

    let page = api.create(contact("Acme", 1)).await;
    let id = page.body["id"].as_str().unwrap();
    assert!(uuid_like(id));
    let r = api.get(&format!("/v1/pages/{}", id.replace('-', ""))).await;
    assert_eq!(r.body["id"], id);

    let bad = api.get("/v1/pages/not-a-uuid").await;
    assert_error(&bad, 400, "validation_error");
}

#[tokio::test]
async fn data_source_schema_and_old_version_shape() {
    let mut api = start().await;
    let ds = api
        .get(&format!("/v1/data_sources/{DEFAULT_DATA_SOURCE_ID}"))
        .await;
    assert_eq!(ds.body["object"], "data_source");
    assert_eq!(
        ds.body["parent"],
        json!({"type": "database_id", "database_id": DEFAULT_DATABASE_ID})
    );
    let props = &ds.body["properties"];
    assert_eq!(props.as_object().unwrap().len(), 22);
    assert_eq!(props["Name"]["type"], "title");
    assert_eq!(props["Dialer ID"]["number"]["format"], "number");
    let outcomes: Vec<_> = props["Outcome"]["select"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outcomes, ["DM", "GK", "NA"]);
    assert!(props["Priority"]["select"]["options"][0]["color"].is_string());

    api.version = "2022-06-28";
    let db = api
        .get(&format!("/v1/databases/{DEFAULT_DATABASE_ID}"))
        .await;
    assert!(db.body["properties"]["Phone"].is_object());
    assert!(db.body.get("data_sources").is_none());
    let page = api
        .post("/v1/pages", json!({"parent": {"database_id": DEFAULT_DATABASE_ID}, "properties": contact("Old", 2)}))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["parent"]["type"], "database_id");
    let q = api
        .post(
            &format!("/v1/databases/{DEFAULT_DATABASE_ID}/query"),
            json!({}),
        )
        .await;
    assert_eq!(q.body["results"].as_array().unwrap().len(), 1);

    api.version = "2026-03-11";
    let page = api
        .get(&format!("/v1/pages/{}", page.body["id"].as_str().unwrap()))
        .await;
    assert!(page.body.get("archived").is_none());
    assert_eq!(page.body["in_trash"], false);

    api.version = "1999-01-01";
    let msg = assert_error(&api.get("/v1/users/me").await, 400, "validation_error");
    assert_eq!(
        msg,
        "Notion-Version header failed validation: Notion-Version header should be \"2022-06-28\", \"2025-09-03\", or \"2026-03-11\", instead was `\"1999-01-01\"`."
    );
}

/// Key sets of a recorded 2025-09-03 database and data source (ramnes/notion-sdk-py
/// test_is_full_database.yaml, test_data_sources_retrieve.yaml).
#[tokio::test]
async fn database_and_data_source_have_the_recorded_key_sets() {
    let mut api = start().await;
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let db = api
        .get(&format!("/v1/databases/{DEFAULT_DATABASE_ID}"))
        .await;
    assert_eq!(
        keys(&db.body),
        [
            "object",
            "id",
            "title",
            "description",
            "parent",
            "is_inline",
            "in_trash",
            "is_locked",
            "created_time",
            "last_edited_time",
            "data_sources",
            "icon",
            "cover",
            "url",
            "public_url",
            "archived",
            "request_id"
        ]
    );
    // Databases show exact times with a numeric offset, not minute-rounded `Z`.
    let created = db.body["created_time"].as_str().unwrap();
    assert!(
        created.ends_with("+00:00") && created.len() == 29,
        "{created}"
    );
    assert!(db.body["url"]
        .as_str()
        .unwrap()
        .starts_with("https://app.notion.com/p/"));

    let ds = api
        .get(&format!("/v1/data_sources/{DEFAULT_DATA_SOURCE_ID}"))
        .await;
    assert_eq!(
        keys(&ds.body),
        [
            "object",
            "id",
            "cover",
            "icon",
            "created_time",
            "created_by",
            "last_edited_by",
            "last_edited_time",
            "title",
            "description",
            "is_inline",
            "properties",
            "parent",
            "database_parent",
            "url",
            "public_url",
            "in_trash",
            "archived",
            "request_id"
        ]
    );
    assert!(ds.body["created_time"]
        .as_str()
        .unwrap()
        .ends_with(":00.000Z"));
    assert_eq!(
        ds.body["properties"]["Name"]["description"],
        serde_json::Value::Null
    );

    api.version = "2026-03-11";
    let db = api
        .get(&format!("/v1/databases/{DEFAULT_DATABASE_ID}"))
        .await;
    assert!(db.body.get("archived").is_none());
    assert!(db.body.get("created_by").is_none());
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_until_the_window_resets() {
    let api = start_with(EmulatorConfig {
        rate_limit: 3,
        rate_window: Duration::from_secs(1),
        ..EmulatorConfig::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(api.get("/v1/users/me").await.status, 200);
    }
    let limited = api.get("/v1/users/me").await;
    assert_error(&limited, 429, "rate_limited");
    assert_eq!(
        limited.body["additional_data"]["rate_limit_reason"],
        "public_api_request_rate_limit"
    );
    assert_eq!(limited.body["additional_data"]["retry_after"], "1");
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        retry_after, 1,
        "whole seconds until the 1 s window ends, at least 1"
    );
    assert_eq!(api.emu.control().rate_limited_count(), 1);

    // Honour Retry-After (a real wait: rate limiting uses real time).
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(
        api.get("/v1/users/me").await.status,
        200,
        "a new window opened"
    );

    // The budget is configurable at run time.
    api.emu.control().set_rate_limit(1, Duration::from_secs(60));
    assert_eq!(api.get("/v1/users/me").await.status, 200);
    let limited = api.get("/v1/users/me").await;
    let secs: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((58..=60).contains(&secs), "retry-after {secs}");
    // Person edits bypass the limit.
    assert!(api
        .emu
        .control()
        .person_create_page(contact("Walk-in", 9))
        .is_ok());
}

#[tokio::test]
async fn config_from_env_accepts_pasted_urls() {
    // Only this test touches these variables.
    std::env::set_var("NOTION_API_TOKEN", "ntn_test_token");
    std::env::set_var(
        "NOTION_DATABASE_ID",
        "https://www.notion.so/acme/Sales-CRM-AABBCCDDEEFF00112233445566778899?v=1234",
    );
    let config = EmulatorConfig::from_env().unwrap();
    std::env::remove_var("NOTION_API_TOKEN");
    std::env::remove_var("NOTION_DATABASE_ID");
    assert_eq!(config.token, "ntn_test_token");
    assert_eq!(config.database_id, "aabbccdd-eeff-0011-2233-445566778899");
}

#[tokio::test]
async fn artificial_latency_delays_answers() {
    let api = start_with(EmulatorConfig {
        latency: Duration::from_millis(150),
        ..EmulatorConfig::default()
    })
    .await;
    let t = std::time::Instant::now();
    assert_eq!(api.get("/v1/users/me").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
}
