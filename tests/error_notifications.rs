//! The roadmap's Phase 7C, "Error Handling & Notifications": a failing sync
//! tells a person by Slack and email, once, says what to fix, never shows a
//! secret, and says so again when it works again.

use e2e::*;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const BAD_TOKEN: &str = "secret_wrong_0123456789";

async fn slack_and_email() -> MockServer {
    let server = MockServer::start().await;
    for route in ["/slack", "/email"] {
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
    }
    server
}

fn alert_env(server: &MockServer) -> Vec<(String, String)> {
    [
        ("ALERT_SLACK_WEBHOOK_URL", format!("{}/slack", server.uri())),
        ("ALERT_EMAIL_TO", "owner@acme.test".into()),
        ("ALERT_EMAIL_FROM", "sync@acme.test".into()),
        ("ALERT_EMAIL_PROVIDER", "postmark".into()),
        ("ALERT_EMAIL_API_KEY", "pm-test-key".into()),
        ("ALERT_EMAIL_API_URL", format!("{}/email", server.uri())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

async fn received(server: &MockServer, route: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r: &&Request| r.url.path() == route)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

#[tokio::test]
async fn a_failing_sync_alerts_once_by_slack_and_email_and_again_when_it_recovers() {
    let server = slack_and_email().await;
    let mut env = alert_env(&server);
    env.push(("NOTION_API_TOKEN".into(), BAD_TOKEN.into()));
    let app = TestApp::spawn_with(AppOptions {
        env: env.clone(),
        ..AppOptions::default()
    })
    .await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    for _ in 0..2 {
        let inv = app.post("scheduled-sync", json!({})).await;
        assert_eq!(inv.status, 502, "{}", inv.body);
    }

    let slack = received(&server, "/slack").await;
    assert_eq!(
        slack.len(),
        1,
        "told once, not every five minutes: {slack:?}"
    );
    let text = slack[0]["text"].as_str().unwrap();
    assert!(text.contains("failing"), "{text}");
    assert!(text.contains("notion-test"), "says where to look: {text}");
    let email = received(&server, "/email").await;
    assert_eq!(email.len(), 1);
    assert_eq!(email[0]["To"], "owner@acme.test");
    assert!(email[0]["TextBody"].as_str().unwrap().contains("token"));
    for body in slack.iter().chain(&email) {
        assert!(
            !body.to_string().contains(BAD_TOKEN),
            "no secret in an alert"
        );
    }

    // The token is fixed: the next run works and says so.
    let fixed = sync_engine::EngineConfig::from_lookup(|k| {
        if k == "NOTION_API_TOKEN" {
            return Some(notion_emulator::DEFAULT_TOKEN.to_string());
        }
        app.lookup()(k)
    })
    .unwrap();
    let engine = sync_engine::Engine::new(fixed, app.blobs_client()).unwrap();
    engine
        .run(sync_engine::RunOptions::new(
            sync_engine::Scope::All,
            "test",
        ))
        .await
        .unwrap();
    let slack = received(&server, "/slack").await;
    assert_eq!(slack.len(), 2, "{slack:?}");
    assert!(slack[1]["text"].as_str().unwrap().contains("recovered"));
    let status = ok_json(&app.get("sync-status").await);
    assert_eq!(status["health"], "ok", "{status:#}");
}

#[tokio::test]
async fn an_alert_channel_that_is_down_does_not_break_the_sync_and_is_tried_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let app = TestApp::spawn_with_env(&[
        (
            "ALERT_SLACK_WEBHOOK_URL",
            &format!("{}/slack", server.uri()),
        ),
        ("NOTION_API_TOKEN", BAD_TOKEN),
    ])
    .await;
    let first = app.post("scheduled-sync", json!({})).await;
    assert_eq!(first.status, 502, "the sync's own error, not the alert's");
    let tries = received(&server, "/slack").await.len();
    assert_eq!(tries, 2, "one retry");
    app.post("scheduled-sync", json!({})).await;
    assert_eq!(
        received(&server, "/slack").await.len(),
        4,
        "not delivered: tried again on the next run"
    );
}

#[tokio::test]
async fn a_half_configured_email_says_which_variable_to_set() {
    let app = TestApp::spawn_with_env(&[("ALERT_EMAIL_TO", "owner@acme.test")]).await;
    let inv = app.post("scheduled-sync", json!({})).await;
    assert_eq!(inv.status, 500, "{}", inv.body);
    let body = inv.json.clone().unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ALERT_EMAIL_PROVIDER"),
        "{body:#}"
    );
    assert!(inv.body.contains("Environment variables"), "{body:#}");
}
