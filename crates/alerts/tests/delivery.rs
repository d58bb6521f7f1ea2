//! Delivery against HTTP mocks shaped like Slack's and the email services'.

use alerts::{Alert, AlertConfig, AlertError, Notifier};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn alert() -> Alert {
    Alert {
        subject: "Notion sync failing".into(),
        text: "Notion rejected the token. Set NOTION_API_TOKEN again.".into(),
    }
}

fn notifier(pairs: &[(&str, String)]) -> Notifier {
    let config = AlertConfig::from_lookup(|k| {
        pairs
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone())
    })
    .expect("valid");
    Notifier::new(config)
}

#[tokio::test]
async fn slack_and_postmark_get_their_own_shapes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/T0/B0/x"))
        .and(body_partial_json(
            serde_json::json!({"text": "*Notion sync failing*\nNotion rejected the token. Set NOTION_API_TOKEN again."}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/email"))
        .and(header("X-Postmark-Server-Token", "pm-key"))
        .and(body_partial_json(serde_json::json!({
            "From": "sync@acme.test", "To": "ops@acme.test, boss@acme.test",
            "Subject": "Notion sync failing"
        })))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let n = notifier(&[
        (
            "ALERT_SLACK_WEBHOOK_URL",
            format!("{}/services/T0/B0/x", server.uri()),
        ),
        ("ALERT_EMAIL_TO", "ops@acme.test, boss@acme.test".into()),
        ("ALERT_EMAIL_FROM", "sync@acme.test".into()),
        ("ALERT_EMAIL_PROVIDER", "postmark".into()),
        ("ALERT_EMAIL_API_KEY", "pm-key".into()),
        ("ALERT_EMAIL_API_URL", format!("{}/email", server.uri())),
    ]);
    let deliveries = n.send(&alert()).await;
    assert_eq!(deliveries.len(), 2);
    assert!(
        deliveries.iter().all(|d| d.result.is_ok()),
        "{deliveries:?}"
    );
}

#[tokio::test]
async fn a_5xx_is_retried_once_and_a_4xx_is_not() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let n = notifier(&[("ALERT_SLACK_WEBHOOK_URL", format!("{}/flaky", server.uri()))]);
    assert!(n.send(&alert()).await[0].result.is_ok());

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .expect(1)
        .mount(&server)
        .await;
    let n = notifier(&[("ALERT_SLACK_WEBHOOK_URL", format!("{}/gone", server.uri()))]);
    let d = n.send(&alert()).await;
    match &d[0].result {
        Err(AlertError::Rejected { status, body, .. }) => {
            assert_eq!((*status, body.as_str()), (404, "no_service"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_webhook_is_reported_without_its_secret_url() {
    let n = notifier(&[(
        "ALERT_SLACK_WEBHOOK_URL",
        "http://127.0.0.1:9/services/T0/B0/SECRET".into(),
    )]);
    let d = n.send(&alert()).await;
    let shown = d[0].result.as_ref().unwrap_err().to_string();
    assert!(!shown.contains("SECRET"), "{shown}");
    assert!(shown.contains("slack"), "{shown}");
}

#[tokio::test]
async fn sendgrid_and_resend_requests() {
    for (provider, route, auth) in [
        ("sendgrid", "/v3/mail/send", "Bearer sg-key"),
        ("resend", "/emails", "Bearer sg-key"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(route))
            .and(header("Authorization", auth))
            .respond_with(ResponseTemplate::new(202))
            .expect(1)
            .mount(&server)
            .await;
        let n = notifier(&[
            ("ALERT_EMAIL_TO", "ops@acme.test".into()),
            ("ALERT_EMAIL_FROM", "sync@acme.test".into()),
            ("ALERT_EMAIL_PROVIDER", provider.into()),
            ("ALERT_EMAIL_API_KEY", "sg-key".into()),
            ("ALERT_EMAIL_API_URL", format!("{}{route}", server.uri())),
        ]);
        let d = n.send(&alert()).await;
        assert!(d[0].result.is_ok(), "{provider}: {d:?}");
    }
}
