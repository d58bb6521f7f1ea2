//! Notion under load and over time: both rate limits across connections,
//! 529 with Retry-After, read-after-write lag and the Free plan's block limit.

mod common;

use std::time::Duration;

use common::{assert_error, contact, start, start_with};
use notion_emulator::{EmulatorConfig, Fault, FaultKind, DEFAULT_DATA_SOURCE_ID};
use reqwest::Method;
use serde_json::json;

fn retry_after(reply: &common::Reply) -> u64 {
    reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_workspace_limit_is_shared_by_every_connection() {
    let api = start_with(EmulatorConfig {
        rate_limit: 2,
        rate_window: Duration::from_secs(60),
        ..EmulatorConfig::default()
    })
    .await;
    let control = api.emu.control();
    control.add_connection("secret_other_integration");
    control.set_workspace_rate_limit(Some((3, Duration::from_secs(120))));
    let other =
        |path: &'static str| api.call_as("secret_other_integration", Method::GET, path, None);
    assert_eq!(api.get("/v1/users/me").await.status, 200);
    assert_eq!(api.get("/v1/users/me").await.status, 200);
    let own = api.get("/v1/users/me").await;
    assert_error(&own, 429, "rate_limited");
    assert_eq!(
        own.body["additional_data"]["rate_limit_reason"],
        "public_api_request_rate_limit"
    );
    assert!(retry_after(&own) <= 60);

    assert_eq!(other("/v1/users/me").await.status, 200);
    let shared = other("/v1/users/me").await;
    assert_error(&shared, 429, "rate_limited");
    assert_eq!(
        shared.body["additional_data"]["rate_limit_reason"],
        "public_api_space_request_rate_limit"
    );
    assert!(retry_after(&shared) > 60, "the workspace window is 120 s");
    assert_eq!(
        shared.body["additional_data"]["retry_after"],
        retry_after(&shared).to_string()
    );
}

#[tokio::test]
async fn overload_and_injected_limits_carry_retry_after() {
    let api = start().await;
    let control = api.emu.control();
    control.inject_fault(Fault::on("users.me", FaultKind::Status(529)));
    let overloaded = api.get("/v1/users/me").await;
    assert_error(&overloaded, 529, "service_overload");
    assert_eq!(retry_after(&overloaded), 1);
    control.inject_fault(Fault::on(
        "users.me",
        FaultKind::RateLimited {
            limit: notion_emulator::RateLimit::Workspace,
            retry_after_secs: 95,
        },
    ));
    let limited = api.get("/v1/users/me").await;
    assert_eq!(retry_after(&limited), 95);
    assert_eq!(
        limited.body["additional_data"]["rate_limit_reason"],
        "public_api_space_request_rate_limit"
    );
}

#[tokio::test]
async fn queries_lag_behind_writes_while_retrieve_is_current() {
    let api = start().await;
    let control = api.emu.control();
    control.freeze_at("2026-09-14T10:00:00Z".parse().unwrap());
    control.set_query_lag(Duration::from_secs(30));
    let created = api.create(contact("Acme", 1)).await;
    let id = created.body["id"].as_str().unwrap().to_string();
    let by_id = json!({"filter": {"property": "Dialer ID", "number": {"equals": 1}}});
    assert_eq!(
        api.query(by_id.clone()).await.body["results"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(api.get(&format!("/v1/pages/{id}")).await.status, 200);

    control.advance(Duration::from_secs(31));
    assert_eq!(
        api.query(by_id.clone()).await.body["results"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    api.patch(
        &format!("/v1/pages/{id}"),
        json!({"properties": {"Dialer ID": {"number": 2}}}),
    )
    .await;
    let stale = api.query(by_id.clone()).await;
    assert_eq!(
        stale.body["results"][0]["properties"]["Dialer ID"]["number"], 1,
        "stale"
    );
    let current = api.get(&format!("/v1/pages/{id}")).await;
    assert_eq!(current.body["properties"]["Dialer ID"]["number"], 2);
    control.advance(Duration::from_secs(31));
    assert_eq!(
        api.query(by_id).await.body["results"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[tokio::test]
async fn past_its_grace_period_a_free_workspace_creates_no_blocks() {
    let api = start().await;
    let control = api.emu.control();
    let page = api.create(contact("Acme", 1)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    control.set_block_limit_past_grace();
    let refused = api.create(contact("Beta", 2)).await;
    let message = assert_error(&refused, 403, "restricted_resource");
    assert!(message.starts_with("This workspace has used all of its free blocks."));
    assert_eq!(
        refused.body["additional_data"]["block_limit"],
        "block_creation"
    );
    let append = api
        .patch(
            &format!("/v1/blocks/{page}/children"),
            json!({"children": [{"paragraph": {"rich_text": [{"text": {"content": "Called"}}]}}]}),
        )
        .await;
    assert_error(&append, 403, "restricted_resource");
    // Property edits, trash and reads keep working.
    let edit = api
        .patch(
            &format!("/v1/pages/{page}"),
            json!({"properties": {"Total Dials": {"number": 3}}}),
        )
        .await;
    assert_eq!(edit.status, 200);
    assert_eq!(api.query(json!({})).await.status, 200);
    assert_eq!(control.pages().len(), 1);
}

#[tokio::test]
async fn the_write_reaching_the_block_limit_succeeds_then_grace_runs_three_days() {
    let api = start().await;
    let control = api.emu.control();
    control.freeze_at("2026-09-14T10:00:00Z".parse().unwrap());
    control.set_block_limit(1000, 999);
    assert_eq!(
        api.create(contact("Acme", 1)).await.status,
        200,
        "reaches the limit"
    );
    assert_eq!(api.create(contact("Beta", 2)).await.status, 200, "grace");
    control.advance(Duration::from_secs(3 * 24 * 3600));
    assert_eq!(api.create(contact("Gamma", 3)).await.status, 403);
    assert_eq!(control.blocks_used(), 1001);
}

#[tokio::test]
async fn appends_go_where_position_says() {
    let api = start().await;
    let page = api.create(contact("Acme", 1)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let para = |t: &str| json!({"paragraph": {"rich_text": [{"text": {"content": t}}]}});
    let path = format!("/v1/blocks/{page}/children");
    let first = api
        .patch(&path, json!({"children": [para("b"), para("d")]}))
        .await;
    let b_id = first.body["results"][0]["id"].as_str().unwrap().to_string();
    api.patch(
        &path,
        json!({"children": [para("a")], "position": {"type": "start"}}),
    )
    .await;
    api.patch(
        &path,
        json!({"children": [para("c")], "position": {"type": "after_block", "after_block": {"id": b_id}}}),
    )
    .await;
    api.patch(
        &path,
        json!({"children": [para("e")], "position": {"type": "end"}}),
    )
    .await;
    let texts: Vec<String> = api
        .emu
        .control()
        .block_children(&page)
        .iter()
        .map(|b| {
            b["paragraph"]["rich_text"][0]["plain_text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(texts, ["a", "b", "c", "d", "e"]);
}

#[tokio::test]
async fn filter_properties_and_in_trash() {
    let api = start().await;
    let id = api.create(contact("Acme", 1)).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let only = api
        .get(&format!(
            "/v1/pages/{id}?filter_properties=title&filter_properties=%3AdId"
        ))
        .await;
    let keys: Vec<&String> = only.body["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["Name", "Dialer ID"]);
    let queried = api
        .post(
            &format!("/v1/data_sources/{DEFAULT_DATA_SOURCE_ID}/query?filter_properties[]=Phone"),
            json!({}),
        )
        .await;
    assert_eq!(
        queried.body["results"][0]["properties"]
            .as_object()
            .unwrap()
            .len(),
        1
    );

    api.patch(&format!("/v1/pages/{id}"), json!({"in_trash": true}))
        .await;
    assert_eq!(
        api.query(json!({})).await.body["results"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let trash = api.query(json!({"in_trash": true})).await;
    assert_eq!(trash.body["results"][0]["id"], id.as_str());
}
