//! Pages and blocks: validation limits, timestamps, person edits.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::*;
use notion_emulator::{DEFAULT_DATA_SOURCE_ID, PERSON_USER_IDS};
use serde_json::{json, Value};

async fn rejected(api: &Api, properties: Value) -> String {
    assert_error(&api.create(properties).await, 400, "validation_error")
}

fn text(content: &str) -> Value {
    json!([{"type": "text", "text": {"content": content}}])
}

#[tokio::test]
async fn create_returns_the_read_shape() {
    let api = start().await;
    let r = api
        .create(json!({
            "Name": title("Acme Corp"),
            "Dialer ID": {"number": 12345},
            "Phone": {"phone_number": "+1 415 555 0100"},
            "Website": {"url": "https://acme.example"},
            "Address": {"rich_text": text("1 Main St")},
            "Outcome": {"select": {"name": "DM"}},
            "Tags": {"multi_select": [{"name": "Hot"}, {"name": "Q3"}]},
            "Last Call": {"date": {"start": "2026-09-15T09:00:00-07:00"}},
            "Next Follow Up Date": {"date": {"start": "2026-09-20"}},
            "Had Conversation": {"checkbox": true},
            "Assigned To": {"people": [{"object": "user", "id": PERSON_USER_IDS[1]}]},
        }))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = &r.body["properties"];
    assert_eq!(r.body["object"], "page");
    assert_eq!(r.body["parent"]["type"], "data_source_id");
    assert_eq!(r.body["parent"]["data_source_id"], DEFAULT_DATA_SOURCE_ID);
    assert_eq!(p["Name"]["id"], "title");
    assert_eq!(p["Name"]["title"][0]["plain_text"], "Acme Corp");
    assert_eq!(p["Name"]["title"][0]["annotations"]["color"], "default");
    assert_eq!(p["Name"]["title"][0]["href"], Value::Null);
    assert_eq!(
        p["Dialer ID"],
        json!({"id": "%3AdId", "type": "number", "number": 12345})
    );
    assert_eq!(p["Outcome"]["select"]["name"], "DM");
    assert_eq!(p["Outcome"]["select"]["color"], "green");
    assert_eq!(p["Tags"]["multi_select"].as_array().unwrap().len(), 2);
    assert_eq!(
        p["Last Call"]["date"]["start"],
        "2026-09-15T09:00:00.000-07:00"
    );
    assert_eq!(p["Next Follow Up Date"]["date"]["start"], "2026-09-20");
    assert_eq!(p["Assigned To"]["people"][0]["type"], "person");
    assert_eq!(p["Total Dials"]["number"], Value::Null);
    assert_eq!(p["Notes"]["rich_text"], json!([]));
    assert!(r.body["url"]
        .as_str()
        .unwrap()
        .starts_with("https://app.notion.com/p/Acme-Corp-"));
    assert_eq!(r.body["in_trash"], false);
    assert_eq!(r.body["is_archived"], false);
    assert_eq!(r.body["archived"], false);
}

#[tokio::test]
async fn new_select_names_become_schema_options() {
    let api = start().await;
    assert_eq!(
        api.create(json!({"Industry": {"select": {"name": "Mining"}}}))
            .await
            .status,
        200
    );
    let ds = api
        .get(&format!("/v1/data_sources/{DEFAULT_DATA_SOURCE_ID}"))
        .await;
    let names: Vec<&str> = ds.body["properties"]["Industry"]["select"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Mining"));
}

#[tokio::test]
async fn validation_limits_use_notions_messages() {
    let api = start().await;
    assert_eq!(
        rejected(&api, json!({"Foo": {"number": 1}})).await,
        "Foo is not a property that exists."
    );
    assert_eq!(
        rejected(&api, json!({"Phone": {"phone_number": "1".repeat(201)}})).await,
        "body failed validation: body.properties.Phone.phone_number.length should be ≤ `200`, instead was `201`."
    );
    assert_eq!(
        rejected(&api, json!({"Notes": {"rich_text": text(&"x".repeat(2001))}})).await,
        "body failed validation: body.properties.Notes.rich_text[0].text.content.length should be ≤ `2000`, instead was `2001`."
    );
    let many: Vec<Value> = (0..101)
        .map(|_| json!({"text": {"content": "a"}}))
        .collect();
    assert_eq!(
        rejected(&api, json!({"Notes": {"rich_text": many}})).await,
        "body failed validation: body.properties.Notes.rich_text.length should be ≤ `100`, instead was `101`."
    );
    let tags: Vec<Value> = (0..101).map(|i| json!({"name": format!("t{i}")})).collect();
    assert!(rejected(&api, json!({"Tags": {"multi_select": tags}}))
        .await
        .contains("multi_select.length should be ≤ `100`"));
    assert_eq!(
        rejected(&api, json!({"Website": {"url": format!("https://{}", "a".repeat(1995))}})).await,
        "body failed validation: body.properties.Website.url.length should be ≤ `2000`, instead was `2003`."
    );
    assert!(
        rejected(&api, json!({"Outcome": {"select": {"name": "DM, GK"}}}))
            .await
            .contains("commas not allowed")
    );
    assert_eq!(
        rejected(&api, json!({"Total Dials": {"number": "three"}})).await,
        "body failed validation: body.properties.Total Dials.number should be a number or `null`, instead was `\"three\"`."
    );
    assert!(
        rejected(&api, json!({"Last Call": {"date": {"start": "tomorrow"}}}))
            .await
            .contains("ISO 8601")
    );
    assert_eq!(
        rejected(&api, json!({"Phone": {"number": 5}})).await,
        "Phone is expected to be phone_number."
    );
    assert!(rejected(
        &api,
        json!({"Assigned To": {"people": [{"id": "0123456789abcdef0123456789abcdef"}]}})
    )
    .await
    .contains("people[0].id"));
    // Nothing was created by the rejected requests.
    assert!(api.emu.control().pages().is_empty());
}

#[tokio::test]
async fn read_only_properties_are_rejected() {
    let api = start().await;
    for (name, value) in [
        (
            "Created Time",
            json!({"created_time": "2026-09-01T10:00:00.000Z"}),
        ),
        (
            "Last Edited",
            json!({"last_edited_time": "2026-09-01T10:00:00.000Z"}),
        ),
    ] {
        let msg = rejected(&api, json!({ name: value })).await;
        assert!(msg.contains("read-only"), "{msg}");
    }
    let control = api.emu.control();
    for (name, t) in [
        ("Notes", "formula"),
        ("Objection", "rollup"),
        ("Address", "created_by"),
        ("Ok Code", "last_edited_by"),
        ("Duration", "unique_id"),
    ] {
        control
            .set_property_type(name, json!({ "type": t }))
            .unwrap();
        let msg = rejected(&api, json!({ name: { t: null } })).await;
        assert!(msg.contains("read-only"), "{name}: {msg}");
    }
}

#[tokio::test]
async fn payload_and_block_limits() {
    let api = start().await;
    // > 500 KB: many max-size text objects spread over properties.
    let chunk: Vec<Value> = (0..100)
        .map(|_| json!({"text": {"content": "x".repeat(2000)}}))
        .collect();
    let props = json!({
        "Notes": {"rich_text": chunk.clone()},
        "Address": {"rich_text": chunk.clone()},
        "Objection": {"rich_text": chunk.clone()},
    });
    let msg = rejected(&api, props).await;
    assert!(msg.contains("500KB"), "{msg}");

    let page = api.create(contact("Acme", 1)).await;
    let id = page.body["id"].as_str().unwrap().to_string();
    let para = |s: &str| json!({"object": "block", "type": "paragraph", "paragraph": {"rich_text": text(s)}});
    let too_many: Vec<Value> = (0..101).map(|i| para(&i.to_string())).collect();
    let r = api
        .patch(
            &format!("/v1/blocks/{id}/children"),
            json!({"children": too_many}),
        )
        .await;
    assert_eq!(
        assert_error(&r, 400, "validation_error"),
        "body failed validation: body.children.length should be ≤ `100`, instead was `101`."
    );
    // > 1000 elements overall, through nesting.
    let nested: Vec<Value> = (0..100)
        .map(|_| {
            let kids: Vec<Value> = (0..10).map(|_| para("k")).collect();
            json!({"type": "toggle", "toggle": {"rich_text": text("t"), "children": kids}})
        })
        .collect();
    let r = api
        .patch(
            &format!("/v1/blocks/{id}/children"),
            json!({"children": nested}),
        )
        .await;
    assert!(assert_error(&r, 400, "validation_error").contains("1000"));
}

#[tokio::test]
async fn timestamps_round_down_to_the_minute_and_every_write_bumps_them() {
    let api = start().await;
    let control = api.emu.control();
    let t0: DateTime<Utc> = "2026-09-01T10:07:42.123Z".parse().unwrap();
    control.freeze_at(t0);
    let page = api.create(contact("Acme", 1)).await;
    assert_eq!(page.body["created_time"], "2026-09-01T10:07:00.000Z");
    assert_eq!(page.body["last_edited_time"], "2026-09-01T10:07:00.000Z");
    assert_eq!(
        page.body["properties"]["Created Time"]["created_time"],
        "2026-09-01T10:07:00.000Z"
    );
    let id = page.body["id"].as_str().unwrap().to_string();

    control.advance(Duration::from_secs(60));
    let upd = api
        .patch(
            &format!("/v1/pages/{id}"),
            json!({"properties": {"Total Dials": {"number": 3}}}),
        )
        .await;
    assert_eq!(upd.body["last_edited_time"], "2026-09-01T10:08:00.000Z");
    assert_eq!(upd.body["created_time"], "2026-09-01T10:07:00.000Z");
    assert_eq!(
        upd.body["properties"]["Last Edited"]["last_edited_time"],
        "2026-09-01T10:08:00.000Z"
    );

    control.advance(Duration::from_secs(60));
    let r = api
        .patch(
            &format!("/v1/blocks/{id}/children"),
            json!({"children": [{"paragraph": {"rich_text": text("Called: DM")}}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["results"][0]["type"], "paragraph");
    assert_eq!(
        control.page(&id).unwrap()["last_edited_time"],
        "2026-09-01T10:09:00.000Z"
    );

    control.advance(Duration::from_secs(60));
    control
        .person_update_page(&id, json!({"Notes": {"rich_text": text("hi")}}))
        .unwrap();
    let p = control.page(&id).unwrap();
    assert_eq!(p["last_edited_time"], "2026-09-01T10:10:00.000Z");
    assert_eq!(p["last_edited_by"]["id"], PERSON_USER_IDS[0]);
}

#[tokio::test]
async fn updates_are_partial_and_replace_whole_values() {
    let api = start().await;
    let page = api
        .create(json!({"Name": title("Acme"), "Tags": {"multi_select": [{"name": "A"}, {"name": "B"}]}, "Total Dials": {"number": 1}}))
        .await;
    let id = page.body["id"].as_str().unwrap();
    let r = api
        .patch(
            &format!("/v1/pages/{id}"),
            json!({"properties": {"Tags": {"multi_select": [{"name": "C"}]}}}),
        )
        .await;
    assert_eq!(r.body["properties"]["Tags"]["multi_select"][0]["name"], "C");
    assert_eq!(
        r.body["properties"]["Tags"]["multi_select"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(r.body["properties"]["Total Dials"]["number"], 1);
    assert_eq!(
        r.body["properties"]["Name"]["title"][0]["plain_text"],
        "Acme"
    );
    let r = api
        .patch(
            &format!("/v1/pages/{id}"),
            json!({"properties": {"Total Dials": {"number": null}}}),
        )
        .await;
    assert_eq!(r.body["properties"]["Total Dials"]["number"], Value::Null);
}

#[tokio::test]
async fn trash_restore_and_trashed_pages_reject_edits() {
    let api = start().await;
    let page = api.create(contact("Acme", 1)).await;
    let id = page.body["id"].as_str().unwrap();
    let r = api
        .patch(&format!("/v1/pages/{id}"), json!({"in_trash": true}))
        .await;
    assert_eq!(r.body["in_trash"], true);
    assert_eq!(r.body["archived"], true);
    assert_eq!(
        api.get(&format!("/v1/pages/{id}")).await.body["in_trash"],
        true
    );
    let r = api
        .patch(
            &format!("/v1/pages/{id}"),
            json!({"properties": {"Total Dials": {"number": 2}}}),
        )
        .await;
    assert!(assert_error(&r, 400, "validation_error").contains("archived"));
    let r = api
        .patch(&format!("/v1/pages/{id}"), json!({"archived": false}))
        .await;
    assert_eq!(r.body["in_trash"], false);
}

#[tokio::test]
async fn person_edits_are_validated_and_not_logged() {
    let api = start().await;
    let control = api.emu.control();
    let id = control.person_create_page(contact("Walk-in", 77)).unwrap();
    let err = control
        .person_update_page(&id, json!({"Phone": {"phone_number": "9".repeat(201)}}))
        .unwrap_err();
    assert_eq!(err.code, "validation_error");
    control
        .person_update_page(&id, json!({"Phone": {"phone_number": "+1 555"}}))
        .unwrap();
    let seen = api.get(&format!("/v1/pages/{id}")).await;
    assert_eq!(seen.body["properties"]["Phone"]["phone_number"], "+1 555");
    assert_eq!(seen.body["created_by"]["id"], PERSON_USER_IDS[0]);
    control.person_trash_page(&id).unwrap();
    assert_eq!(control.page(&id).unwrap()["in_trash"], true);
    control.person_restore_page(&id).unwrap();
    assert_eq!(control.page(&id).unwrap()["in_trash"], false);
    let log = control.request_log();
    assert_eq!(log.len(), 1, "only the API GET is logged: {log:?}");
    assert_eq!(log[0].route, "pages.retrieve");
    assert_eq!(control.count("pages.retrieve"), 1);
}

#[tokio::test]
async fn block_children_paginate() {
    let api = start().await;
    let page = api.create(contact("Acme", 1)).await;
    let id = page.body["id"].as_str().unwrap().to_string();
    let children: Vec<Value> = (0..60)
        .map(|i| json!({"type": "bulleted_list_item", "bulleted_list_item": {"rich_text": text(&format!("call {i}"))}}))
        .collect();
    assert_eq!(
        api.patch(
            &format!("/v1/blocks/{id}/children"),
            json!({"children": children.clone()})
        )
        .await
        .status,
        200
    );
    let r = api
        .patch(
            &format!("/v1/blocks/{id}/children"),
            json!({"children": children}),
        )
        .await;
    assert_eq!(r.body["results"].as_array().unwrap().len(), 60);
    let first = api
        .get(&format!("/v1/blocks/{id}/children?page_size=100"))
        .await;
    assert_eq!(first.body["results"].as_array().unwrap().len(), 100);
    assert_eq!(first.body["has_more"], true);
    assert_eq!(first.body["type"], "block");
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = api
        .get(&format!("/v1/blocks/{id}/children?start_cursor={cursor}"))
        .await;
    assert_eq!(rest.body["results"].as_array().unwrap().len(), 20);
    assert_eq!(rest.body["has_more"], false);
    assert_eq!(
        rest.body["results"][19]["bulleted_list_item"]["rich_text"][0]["plain_text"],
        "call 59"
    );
    assert_eq!(api.emu.control().block_children(&id).len(), 120);
    assert_error(
        &api.get(&format!("/v1/blocks/{id}/children?page_size=101"))
            .await,
        400,
        "validation_error",
    );
}

#[tokio::test]
async fn create_with_children_and_reset() {
    let api = start().await;
    let r = api
        .post(
            "/v1/pages",
            json!({"parent": {"data_source_id": DEFAULT_DATA_SOURCE_ID}, "properties": contact("A", 1),
                   "children": [{"paragraph": {"rich_text": text("hello")}}]}),
        )
        .await;
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(api.emu.control().block_children(id).len(), 1);
    api.emu.control().reset();
    assert!(api.emu.control().pages().is_empty());
    assert!(api.emu.control().request_log().is_empty());
}

#[tokio::test]
async fn schema_edits_show_in_reads_and_writes() {
    let api = start().await;
    let control = api.emu.control();
    control.rename_property("Phone", "Phone Number").unwrap();
    assert_eq!(
        rejected(&api, json!({"Phone": {"phone_number": "1"}})).await,
        "Phone is not a property that exists."
    );
    assert_eq!(
        api.create(json!({"Phone Number": {"phone_number": "1"}}))
            .await
            .status,
        200
    );
    control.remove_property("Website").unwrap();
    let ds = api
        .get(&format!("/v1/data_sources/{DEFAULT_DATA_SOURCE_ID}"))
        .await;
    assert!(ds.body["properties"].get("Website").is_none());
    control
        .set_property_type("Industry", json!({"type": "rich_text"}))
        .unwrap();
    assert_eq!(
        rejected(&api, json!({"Industry": {"select": {"name": "SaaS"}}})).await,
        "Industry is expected to be rich_text."
    );
}
