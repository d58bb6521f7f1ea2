//! Queries (filters, sorts, pagination, trash) and injected faults.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::*;
use notion_emulator::{Fault, FaultKind};
use serde_json::{json, Value};

fn ids(reply: &Reply) -> Vec<i64> {
    reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["properties"]["Dialer ID"]["number"].as_i64().unwrap())
        .collect()
}

async fn seeded() -> Api {
    let api = start().await;
    let control = api.emu.control();
    let t0: DateTime<Utc> = "2026-09-01T10:00:00Z".parse().unwrap();
    control.freeze_at(t0);
    let rows = [
        (1, "Acme Corp", "+1 415 555 0100", "DM", true, 5),
        (2, "Beta LLC", "+1 212 555 0199", "GK", false, 0),
        (3, "Gamma Inc", "+44 20 7946 0000", "NA", true, 12),
    ];
    for (id, name, phone, outcome, talked, dials) in rows {
        let r = api
            .create(json!({
                "Name": title(name),
                "Dialer ID": {"number": id},
                "Phone": {"phone_number": phone},
                "Outcome": {"select": {"name": outcome}},
                "Had Conversation": {"checkbox": talked},
                "Total Dials": {"number": dials},
            }))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        control.advance(Duration::from_secs(120));
    }
    api
}

#[tokio::test]
async fn property_filters() {
    let api = seeded().await;
    let q = |f: Value| {
        api.query(
            json!({"filter": f, "sorts": [{"property": "Dialer ID", "direction": "ascending"}]}),
        )
    };
    assert_eq!(
        ids(&q(json!({"property": "Dialer ID", "number": {"equals": 2}})).await),
        [2]
    );
    assert_eq!(
        ids(&q(json!({"property": "Total Dials", "number": {"greater_than": 4}})).await),
        [1, 3]
    );
    assert_eq!(
        ids(&q(json!({"property": "Total Dials", "number": {"less_than": 5}})).await),
        [2]
    );
    assert_eq!(
        ids(&q(json!({"property": "Total Dials", "number": {"is_not_empty": true}})).await),
        [1, 2, 3]
    );
    assert!(
        ids(&q(json!({"property": "Duration", "number": {"is_not_empty": true}})).await).is_empty()
    );
    assert_eq!(
        ids(&q(json!({"property": "Duration", "number": {"is_empty": true}})).await),
        [1, 2, 3]
    );
    assert_eq!(
        ids(&q(json!({"property": "Name", "title": {"contains": "corp"}})).await),
        [1]
    );
    assert_eq!(
        ids(&q(json!({"property": "Name", "rich_text": {"equals": "Beta LLC"}})).await),
        [2]
    );
    assert_eq!(
        ids(&q(json!({"property": "Notes", "rich_text": {"is_empty": true}})).await),
        [1, 2, 3]
    );
    assert_eq!(
        ids(&q(json!({"property": "Phone", "phone_number": {"contains": "555"}})).await),
        [1, 2]
    );
    assert_eq!(
        ids(&q(json!({"property": "Phone", "phone_number": {"equals": "+44 20 7946 0000"}})).await),
        [3]
    );
    assert_eq!(
        ids(&q(json!({"property": "Outcome", "select": {"equals": "GK"}})).await),
        [2]
    );
    assert_eq!(
        ids(&q(json!({"property": "Had Conversation", "checkbox": {"equals": true}})).await),
        [1, 3]
    );
    let compound = json!({"or": [
        {"property": "Dialer ID", "number": {"equals": 2}},
        {"and": [
            {"property": "Had Conversation", "checkbox": {"equals": true}},
            {"property": "Total Dials", "number": {"greater_than": 10}}
        ]}
    ]});
    assert_eq!(ids(&q(compound).await), [2, 3]);
    let bad = q(json!({"property": "Nope", "number": {"equals": 1}})).await;
    assert_error(&bad, 400, "validation_error");
    let mismatch = q(json!({"property": "Outcome", "checkbox": {"equals": true}})).await;
    assert_eq!(
        assert_error(&mismatch, 400, "validation_error"),
        "The property type in the database does not match the property type of the filter provided: database property select does not match filter checkbox"
    );
}

/// Dates written with offsets, with `time_zone` and as bare days are compared
/// as instants (days by calendar day), and read back the way Notion renders.
#[tokio::test]
async fn date_filters_and_sorts_compare_instants_across_zones() {
    let api = start().await;
    let rows = [
        // 16:00Z
        (
            1,
            json!({"start": "2026-09-15T09:00:00", "time_zone": "America/Los_Angeles"}),
        ),
        // 15:00Z: earlier, although its wall-clock time is later.
        (
            2,
            json!({"start": "2026-09-15T17:00:00", "time_zone": "Europe/Berlin"}),
        ),
        // 16:30Z
        (3, json!({"start": "2026-09-15T12:30:00-04:00"})),
        // 00:00Z
        (4, json!({"start": "2026-09-15"})),
        // 03:00Z on the 16th
        (
            5,
            json!({"start": "2026-09-15T20:00:00", "time_zone": "America/Los_Angeles"}),
        ),
    ];
    for (id, date) in &rows {
        let r = api
            .create(json!({"Dialer ID": {"number": id}, "Last Call": {"date": date}}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let by_time = json!([{"property": "Last Call", "direction": "ascending"}]);
    let q = |f: Value| api.query(json!({"filter": f, "sorts": by_time}));
    let all = api.query(json!({"sorts": by_time})).await;
    assert_eq!(ids(&all), [4, 2, 1, 3, 5]);
    let starts: Vec<&str> = all.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["properties"]["Last Call"]["date"]["start"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        starts,
        [
            "2026-09-15",
            "2026-09-15T17:00:00.000+02:00",
            "2026-09-15T09:00:00.000-07:00",
            "2026-09-15T12:30:00.000-04:00",
            "2026-09-15T20:00:00.000-07:00",
        ]
    );
    assert!(all.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["properties"]["Last Call"]["date"]["time_zone"].is_null()));

    let date = |op: &str, v: &str| json!({"property": "Last Call", "date": {op: v}});
    // Instants against instants; the bare day (4) is compared by its day, so
    // it is "on" any instant of 2026-09-15 (UTC) but neither before nor after.
    let cases = [
        ("on_or_after", "2026-09-15T16:00:00Z", vec![4, 1, 3, 5]),
        ("after", "2026-09-15T09:00:00-07:00", vec![3, 5]),
        ("before", "2026-09-15T16:00:00.000+00:00", vec![2]),
        ("equals", "2026-09-15T18:00:00+02:00", vec![4, 1]),
    ];
    for (op, bound, expected) in cases {
        assert_eq!(ids(&q(date(op, bound)).await), expected, "{op} {bound}");
    }
    // A bare-date bound compares UTC calendar days.
    assert_eq!(ids(&q(date("equals", "2026-09-15")).await), [4, 2, 1, 3]);
    assert_eq!(ids(&q(date("after", "2026-09-15")).await), [5]);
    assert_eq!(
        ids(&q(date("on_or_before", "2026-09-14")).await),
        Vec::<i64>::new()
    );
    assert_error(&q(date("after", "soon")).await, 400, "validation_error");
}

#[tokio::test]
async fn timestamp_filters_and_sorts() {
    let api = seeded().await;
    // Pages were created at 10:00, 10:02 and 10:04.
    let q = |ts: &str, cond: Value| {
        api.query(json!({
            "filter": {"timestamp": ts, ts: cond},
            "sorts": [{"timestamp": "last_edited_time", "direction": "ascending"}]
        }))
    };
    assert_eq!(
        ids(&q(
            "last_edited_time",
            json!({"on_or_after": "2026-09-01T10:02:00Z"})
        )
        .await),
        [2, 3]
    );
    assert_eq!(
        ids(&q("last_edited_time", json!({"after": "2026-09-01T10:02:00Z"})).await),
        [3]
    );
    assert_eq!(
        ids(&q(
            "last_edited_time",
            json!({"before": "2026-09-01T10:02:00Z"})
        )
        .await),
        [1]
    );
    assert_eq!(
        ids(&q(
            "created_time",
            json!({"on_or_before": "2026-09-01T10:02:00Z"})
        )
        .await),
        [1, 2]
    );
    assert_eq!(
        ids(&q(
            "created_time",
            json!({"equals": "2026-09-01T10:04:00.000Z"})
        )
        .await),
        [3]
    );

    // Default order: most recently edited first.
    assert_eq!(ids(&api.query(json!({})).await), [3, 2, 1]);
    let by_name_desc = api
        .query(json!({"sorts": [{"property": "Name", "direction": "descending"}]}))
        .await;
    assert_eq!(ids(&by_name_desc), [3, 2, 1]);
    let by_dials = api
        .query(json!({"sorts": [{"property": "Total Dials", "direction": "ascending"}]}))
        .await;
    assert_eq!(ids(&by_dials), [2, 1, 3]);
    // An edit moves a page to the front of the default order.
    let control = api.emu.control();
    control.advance(Duration::from_secs(60));
    let first = control.pages()[0]["id"].as_str().unwrap().to_string();
    control
        .person_update_page(&first, json!({"Total Dials": {"number": 6}}))
        .unwrap();
    assert_eq!(ids(&api.query(json!({})).await), [1, 3, 2]);
}

#[tokio::test]
async fn pagination_over_more_than_100_pages_and_trash_hidden() {
    let api = start().await;
    let control = api.emu.control();
    for i in 0..250 {
        control
            .person_create_page(contact(&format!("C{i}"), i))
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut calls = 0;
    loop {
        let mut body = json!({"sorts": [{"property": "Dialer ID", "direction": "ascending"}]});
        if let Some(c) = &cursor {
            body["start_cursor"] = json!(c);
        }
        let r = api.query(body).await;
        assert_eq!(r.body["object"], "list");
        assert_eq!(r.body["type"], "page_or_data_source");
        calls += 1;
        seen.extend(ids(&r));
        if r.body["has_more"] == false {
            assert_eq!(r.body["next_cursor"], Value::Null);
            break;
        }
        cursor = Some(r.body["next_cursor"].as_str().unwrap().to_string());
    }
    assert_eq!(calls, 3);
    assert_eq!(seen, (0..250).collect::<Vec<_>>());

    let small = api.query(json!({"page_size": 7})).await;
    assert_eq!(small.body["results"].as_array().unwrap().len(), 7);
    assert_error(
        &api.query(json!({"page_size": 101})).await,
        400,
        "validation_error",
    );
    assert_error(
        &api.query(json!({"page_size": 0})).await,
        400,
        "validation_error",
    );

    let victim = control.pages()[10]["id"].as_str().unwrap().to_string();
    control.person_trash_page(&victim).unwrap();
    let r = api
        .query(json!({"filter": {"property": "Dialer ID", "number": {"equals": 10}}}))
        .await;
    assert!(ids(&r).is_empty(), "trashed pages are never returned");
    assert_eq!(
        control.pages().len(),
        250,
        "control still sees trashed pages"
    );
    control.person_restore_page(&victim).unwrap();
    assert_eq!(
        ids(&api
            .query(json!({"filter": {"property": "Dialer ID", "number": {"equals": 10}}}))
            .await),
        [10]
    );
}

#[tokio::test]
async fn status_faults_answer_notions_codes_n_times() {
    let api = start().await;
    let control = api.emu.control();
    control.inject_fault(Fault::on("pages.create", FaultKind::Status(503)).times(2));
    control.inject_fault(Fault::on("users.me", FaultKind::Status(529)));
    assert_error(
        &api.create(contact("A", 1)).await,
        503,
        "service_unavailable",
    );
    assert_error(
        &api.create(contact("A", 1)).await,
        503,
        "service_unavailable",
    );
    assert_eq!(api.create(contact("A", 1)).await.status, 200);
    assert_eq!(control.pages().len(), 1, "failed creates applied nothing");
    assert_error(&api.get("/v1/users/me").await, 529, "service_overload");
    assert_eq!(api.get("/v1/users/me").await.status, 200);
    for (code, name) in [
        (500, "internal_server_error"),
        (502, "bad_gateway"),
        (504, "gateway_timeout"),
    ] {
        control.inject_fault(Fault::any(FaultKind::Status(code)));
        assert_error(&api.get("/v1/users/me").await, code, name);
    }
    control.inject_fault(Fault::on("*", FaultKind::Status(500)).times(5));
    control.clear_faults();
    assert_eq!(api.get("/v1/users/me").await.status, 200);
    assert_eq!(control.count("pages.create"), 3);
    let statuses: Vec<u16> = control
        .request_log()
        .iter()
        .map(|r| r.status)
        .take(3)
        .collect();
    assert_eq!(statuses, [503, 503, 200]);
}

#[tokio::test]
async fn commit_then_fail_applies_the_write() {
    let api = start().await;
    let control = api.emu.control();
    control.inject_fault(Fault::on(
        "pages.create",
        FaultKind::CommitThenFail {
            status: 503,
            report_committed_id: true,
        },
    ));
    let r = api.create(contact("A", 1)).await;
    assert_error(&r, 503, "service_unavailable");
    let committed = r.body["additional_data"]["committed_resource_id"]
        .as_str()
        .unwrap();
    assert_eq!(control.pages()[0]["id"], committed);

    control.inject_fault(Fault::on(
        "pages.update",
        FaultKind::CommitThenFail {
            status: 504,
            report_committed_id: false,
        },
    ));
    let r = api
        .patch(
            &format!("/v1/pages/{committed}"),
            json!({"properties": {"Total Dials": {"number": 9}}}),
        )
        .await;
    assert_error(&r, 504, "gateway_timeout");
    assert!(r.body.get("additional_data").is_none());
    assert_eq!(
        control.page(committed).unwrap()["properties"]["Total Dials"]["number"],
        9
    );
}

#[tokio::test]
async fn latency_and_dropped_connection_faults() {
    let api = start().await;
    let control = api.emu.control();
    control.inject_fault(Fault::on(
        "users.me",
        FaultKind::Latency(Duration::from_millis(200)),
    ));
    let t = std::time::Instant::now();
    assert_eq!(api.get("/v1/users/me").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));

    control.inject_fault(Fault::on("pages.create", FaultKind::DropConnection));
    let sent = api
        .client
        .post(format!("{}/v1/pages", api.emu.base_url()))
        .bearer_auth(&api.token)
        .header("Notion-Version", "2025-09-03")
        .json(&json!({"parent": {"data_source_id": notion_emulator::DEFAULT_DATA_SOURCE_ID}, "properties": contact("A", 1)}))
        .send()
        .await;
    assert!(sent.is_err(), "the connection closes without a response");
    assert!(
        control.pages().is_empty(),
        "a dropped request applies nothing"
    );
    assert_eq!(control.request_log().last().unwrap().status, 0);
    assert_eq!(api.create(contact("A", 1)).await.status, 200);
}
