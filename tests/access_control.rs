//! Protected endpoints: the functions change the CRM, so they answer only
//! requests carrying the site's API key (`SYNC_API_KEY`), and refuse to run
//! open unless told to; the scheduler and CORS preflights need no key.

use e2e::*;
use serde_json::json;
use test_harness::app::TEST_API_KEY;
use test_harness::event::ApiEvent;

fn get(function: &str) -> ApiEvent {
    ApiEvent::get(&format!("/.netlify/functions/{function}"))
}

#[tokio::test]
async fn every_endpoint_wants_the_key() {
    let app = TestApp::spawn().await;
    for function in [
        "sync-status",
        "sync-history",
        "sync-conflicts",
        "sync-backups",
        "notion-test",
        "sync-to-notion",
        "sync-from-notion",
        "scheduled-sync",
        // (Notion's POSTs carry its signature instead: tests/webhooks.rs.)
        "notion-webhook",
    ] {
        let inv = app.invoke_as_is(function, get(function)).await;
        assert_eq!(inv.status, 401, "{function}: {}", inv.body);
        let wrong = app
            .invoke_as_is(
                function,
                get(function).header("authorization", "Bearer nope"),
            )
            .await;
        assert_eq!(wrong.status, 401, "{function}: {}", wrong.body);
        assert!(
            wrong.body.contains("SYNC_API_KEY") && !wrong.body.contains(TEST_API_KEY),
            "{function}: {}",
            wrong.body
        );
    }
    let ok = app
        .invoke_as_is(
            "sync-status",
            get("sync-status").header("x-sync-key", TEST_API_KEY),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let ok = app
        .invoke_as_is(
            "sync-status",
            get("sync-status").header("authorization", &format!("Bearer {TEST_API_KEY}")),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn nothing_is_written_for_a_request_without_the_key() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    let inv = app
        .invoke_as_is(
            "sync-to-notion",
            ApiEvent::post("/.netlify/functions/sync-to-notion").json(&json!({})),
        )
        .await;
    assert_eq!(inv.status, 401);
    assert!(app.control().pages().is_empty(), "no page created");
    assert!(
        app.sync_state().list(None).await.unwrap().is_empty(),
        "no state written"
    );
}

#[tokio::test]
async fn the_scheduler_and_preflights_need_no_key() {
    let app = TestApp::spawn().await;
    let scheduled = app
        .invoke_as_is(
            "scheduled-sync",
            ApiEvent::post("/.netlify/functions/scheduled-sync").scheduled(),
        )
        .await;
    assert!((200..300).contains(&scheduled.status), "{}", scheduled.body);
    let preflight = app
        .invoke_as_is(
            "sync-conflicts",
            ApiEvent::options("/.netlify/functions/sync-conflicts"),
        )
        .await;
    assert_eq!(preflight.status, 204, "{}", preflight.body);
    let allowed = preflight
        .headers
        .get("access-control-allow-headers")
        .cloned()
        .unwrap_or_default();
    assert!(allowed.contains("authorization"), "{allowed}");
}

#[tokio::test]
async fn without_a_key_the_endpoints_stay_closed_unless_opened_on_purpose() {
    let app = TestApp::spawn_with_env(&[("SYNC_API_KEY", "")]).await;
    let inv = app.invoke_as_is("sync-status", get("sync-status")).await;
    assert_eq!(inv.status, 500, "{}", inv.body);
    assert!(
        inv.body.contains("SYNC_API_KEY") && inv.body.contains("SYNC_ALLOW_UNAUTHENTICATED"),
        "{}",
        inv.body
    );

    let app =
        TestApp::spawn_with_env(&[("SYNC_API_KEY", ""), ("SYNC_ALLOW_UNAUTHENTICATED", "true")])
            .await;
    let inv = app.invoke_as_is("sync-status", get("sync-status")).await;
    assert_eq!(inv.status, 200, "{}", inv.body);
}
