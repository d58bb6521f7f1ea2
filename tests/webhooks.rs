//! Notion's edits in the dialer within seconds: the `notion-webhook`
//! function, driven end to end. The emulator subscribes the local site's
//! `/api/notion-webhook` (the real function binary behind the Lambda Runtime
//! API), sends the verification POST, and after a person pastes the token
//! back, signed deliveries of what people and the sync did in Notion.

use std::sync::Arc;

use e2e::*;
use notion_emulator::{EmulatorControl, WebhookOptions};
use serde_json::{json, Value};
use test_harness::local_site::LocalSite;

/// The world with the site served over HTTP, so the emulator can POST to it.
struct Hooked {
    app: Arc<TestApp>,
    url: String,
    http: reqwest::Client,
    _server: tokio::task::JoinHandle<()>,
}

impl Hooked {
    async fn start() -> Hooked {
        Hooked::start_with(&[]).await
    }

    async fn start_with(env: &[(&str, &str)]) -> Hooked {
        let app = TestApp::spawn_with_env(env).await;
        let site = LocalSite::serving(app, Some(0))
            .await
            .expect("the site binds");
        let (url, app) = (site.url(), Arc::clone(&site.app));
        let server = tokio::spawn(async move {
            let _ = site.serve(std::future::pending()).await;
        });
        Hooked {
            app,
            url,
            http: reqwest::Client::new(),
            _server: server,
        }
    }

    fn control(&self) -> EmulatorControl {
        self.app.control()
    }

    fn endpoint(&self) -> String {
        format!("{}/api/notion-webhook", self.url)
    }

    /// Subscribes, reads the token where a person reads it (the endpoint's
    /// GET with the sync key) and pastes it into Notion.
    async fn subscribed(&self, options: WebhookOptions) {
        let (status, sent) = self
            .control()
            .subscribe_webhook(&self.endpoint(), options)
            .await
            .expect("the endpoint is reachable");
        assert_eq!(status, 200);
        let shown = self.status().await;
        assert_eq!(shown["verificationToken"], sent, "{shown:#}");
        assert_eq!(shown["verified"], false);
        assert!(self.control().verify_webhook(sent.as_str()));
    }

    async fn status(&self) -> Value {
        let response = self
            .http
            .get(self.endpoint())
            .bearer_auth(test_harness::app::TEST_API_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn post_raw(&self, body: &str, signature: Option<&str>) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.endpoint())
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(s) = signature {
            request = request.header("x-notion-signature", s);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Every blob of the sync's own store with its etag.
    async fn sync_store(&self) -> Vec<(String, Option<String>)> {
        let store = self.app.sync_state();
        let mut out = Vec::new();
        for b in store.list(None).await.unwrap() {
            let etag = store.get(&b.key).await.unwrap().and_then(|b| b.etag);
            out.push((b.key, etag));
        }
        out
    }
}

/// A contact synced to its page, returned with the page id.
async fn synced_contact(h: &Hooked) -> String {
    h.app
        .put_contact(contact(1001, "Acme Corp", "(415) 555-0100"))
        .await;
    ok_json(&h.app.scheduled().await);
    h.app.page_id(1001)
}

/// A synced contact, a verified subscription, and a person's edit of the
/// contact's page in Notion (not delivered yet); the page id.
async fn edited_after_subscribing(h: &Hooked) -> String {
    let page = synced_contact(h).await;
    h.subscribed(WebhookOptions::default()).await;
    h.control()
        .person_update_page(&page, company("Acme Inc"))
        .unwrap();
    page
}

/// A person's two edits of the page, one field each; the request log cleared.
fn two_edits(h: &Hooked, page: &str) {
    h.control()
        .person_update_page(page, company("Acme Inc"))
        .unwrap();
    h.control()
        .person_update_page(page, json!({"Phone": {"phone_number": "(415) 555-0111"}}))
        .unwrap();
    h.control().clear_log();
}

async fn both_edits_in_dialer(h: &Hooked) {
    let stored = h.app.contact("1001").await.unwrap();
    assert_eq!(stored["companyName"], "Acme Inc");
    assert_eq!(stored["phone"], "(415) 555-0111");
}

fn company(name: &str) -> Value {
    json!({"Name": {"title": [{"text": {"content": name}}]}})
}

#[tokio::test]
async fn the_subscription_is_verified_with_the_token_notion_sent() {
    let h = Hooked::start().await;
    let before = h.status().await;
    assert_eq!(before["verified"], false);
    assert!(before["next"]
        .as_str()
        .unwrap()
        .contains("Create the subscription"));
    h.subscribed(WebhookOptions::default()).await;
    // Notion re-sends the token: nothing changes.
    assert_eq!(h.control().resend_webhook_token().await.unwrap(), 200);
    let page = synced_contact(&h).await;
    h.control()
        .person_update_page(&page, company("Acme Inc"))
        .unwrap();
    let sent = h.control().deliver_webhooks().await;
    assert!(
        !sent.is_empty() && sent.iter().all(|d| d.status == 200),
        "{sent:?}"
    );
    let after = h.status().await;
    assert_eq!(after["verified"], true, "{after:#}");
    assert!(after["lastEventAt"].is_string());
}

#[tokio::test]
async fn a_delivery_without_notions_signature_is_refused_and_writes_nothing() {
    let h = Hooked::start().await;
    let page = synced_contact(&h).await;
    // Before any subscription: nothing to check a signature with.
    let event = json!({
        "id": "9f1c7c1e-0000-4000-8000-000000000001", "timestamp": "2026-12-03T10:00:00.000Z",
        "type": "page.properties_updated", "authors": [{"id": "someone", "type": "person"}],
        "attempt_number": 1, "entity": {"id": page, "type": "page"}, "data": {}
    })
    .to_string();
    let (status, body) = h.post_raw(&event, None).await;
    assert_eq!(status, 401, "{body:#}");
    h.subscribed(WebhookOptions::default()).await;
    let forged = notion_emulator::webhook_signature("secret_not_notions", event.as_bytes());
    for signature in [
        None,
        Some("sha256=00"),
        Some("garbage"),
        Some(forged.as_str()),
    ] {
        let (status, body) = h.post_raw(&event, signature).await;
        assert_eq!(status, 401, "{signature:?}: {body:#}");
        assert!(body.to_string().contains("X-Notion-Signature"), "{body:#}");
    }
    // Bad JSON, unsigned: refused the same way.
    assert_eq!(h.post_raw("{not json", None).await.0, 401);
    // Another verification token once one is proven: refused, the kept one stays.
    h.control()
        .person_update_page(&page, company("Acme Inc"))
        .unwrap();
    h.control().deliver_webhooks().await;
    let kept = h.status().await["verificationToken"].clone();
    let (status, body) = h
        .post_raw(
            &json!({"verification_token": "secret_attacker"}).to_string(),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body:#}");
    assert!(body.to_string().contains("reset"), "{body:#}");
    assert_eq!(h.status().await["verificationToken"], kept);
}

#[tokio::test]
async fn refused_deliveries_leave_every_blob_and_notion_untouched() {
    let h = Hooked::start().await;
    let page = synced_contact(&h).await;
    h.subscribed(WebhookOptions::default()).await;
    let store = h.sync_store().await;
    let contact = h.app.contact("1001").await;
    h.control().clear_log();
    let event = json!({
        "id": "9f1c7c1e-0000-4000-8000-000000000002", "timestamp": "2026-12-03T10:00:00.000Z",
        "type": "page.properties_updated", "authors": [{"id": "someone", "type": "person"}],
        "attempt_number": 1, "entity": {"id": page, "type": "page"}, "data": {}
    })
    .to_string();
    let forged = notion_emulator::webhook_signature("secret_not_notions", event.as_bytes());
    for signature in [None, Some(forged.as_str())] {
        assert_eq!(h.post_raw(&event, signature).await.0, 401);
    }
    assert_eq!(h.sync_store().await, store);
    assert_eq!(h.app.contact("1001").await, contact);
    assert!(h.control().request_log().is_empty());
}

#[tokio::test]
async fn a_persons_edit_in_notion_reaches_the_dialer_through_the_webhook() {
    let h = Hooked::start().await;
    let page = synced_contact(&h).await;
    h.subscribed(WebhookOptions::default()).await;
    h.control().clear_log();
    h.control()
        .person_update_page(
            &page,
            json!({"Name": {"title": [{"text": {"content": "Acme Inc"}}]}, "Phone": {"phone_number": "(415) 555-0111"}}),
        )
        .unwrap();
    let sent = h.control().deliver_webhooks().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].status, 200);
    both_edits_in_dialer(&h).await;
    // One read of the page named, no query of the database.
    assert_eq!(h.control().count("pages.retrieve"), 1);
    assert_eq!(h.control().count("data_sources.query"), 0);
}

#[tokio::test]
async fn a_page_typed_in_notion_becomes_a_contact_through_the_webhook() {
    let h = Hooked::start().await;
    synced_contact(&h).await;
    h.subscribed(WebhookOptions::default()).await;
    let typed = h
        .control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Cedar Roofing"}}]},
            "Phone": {"phone_number": "(415) 555-0188"}
        }))
        .unwrap();
    let sent = h.control().deliver_webhooks().await;
    assert!(sent.iter().all(|d| d.status == 200), "{sent:?}");
    let page = h.control().page(&typed).unwrap();
    let id = page["properties"]["Dialer ID"]["number"]
        .as_u64()
        .expect("the typed page got its Dialer ID");
    let made = h.app.contact(&id.to_string()).await.expect("a new contact");
    assert_eq!(made["companyName"], "Cedar Roofing");
    // The sync's own writes come back as events: echoes, no work.
    h.control().clear_log();
    let echoes = h.control().deliver_webhooks().await;
    assert!(!echoes.is_empty(), "the Dialer ID write is an event too");
    assert!(echoes.iter().all(|d| d.status == 200));
    assert!(
        h.control()
            .request_log()
            .iter()
            .all(|r| r.route == "users.me"),
        "{:?}",
        h.control().request_log()
    );
    assert_eq!(h.app.contacts().list(None).await.unwrap().len(), 2);
}

#[tokio::test]
async fn repeated_out_of_order_and_echo_events_change_nothing_twice() {
    let h = Hooked::start().await;
    let page = synced_contact(&h).await;
    h.subscribed(WebhookOptions {
        repeat: 2,
        reverse: true,
        aggregate: false,
    })
    .await;
    two_edits(&h, &page);
    let sent = h.control().deliver_webhooks().await;
    // Two events, each delivered three times, the newer first.
    assert_eq!(sent.len(), 6, "{sent:?}");
    assert!(sent.iter().all(|d| d.status == 200));
    both_edits_in_dialer(&h).await;
    // One read per event, none for a repeat.
    assert_eq!(h.control().count("pages.retrieve"), 2);
    let version = h.app.contacts().get("1001").await.unwrap().unwrap().etag;
    // The sync's own writes come back as events: echoes, no read.
    h.control().clear_log();
    h.control().set_webhook_options(WebhookOptions::default());
    let echoes = h.control().deliver_webhooks().await;
    assert!(echoes.iter().all(|d| d.status == 200));
    assert_eq!(h.control().count("pages.retrieve"), 0);
    assert_eq!(
        h.app.contacts().get("1001").await.unwrap().unwrap().etag,
        version,
        "nothing changed twice"
    );
    assert_eq!(h.control().pages().len(), 1);
}

#[tokio::test]
async fn an_aggregated_event_of_several_edits_is_one_read() {
    let h = Hooked::start().await;
    let page = synced_contact(&h).await;
    h.subscribed(WebhookOptions {
        aggregate: true,
        ..Default::default()
    })
    .await;
    two_edits(&h, &page);
    let sent = h.control().deliver_webhooks().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(h.control().count("pages.retrieve"), 1);
    both_edits_in_dialer(&h).await;
}

#[tokio::test]
async fn a_lost_event_is_caught_by_the_next_scheduled_run() {
    let h = Hooked::start().await;
    edited_after_subscribing(&h).await;
    assert_eq!(h.control().lose_webhook_events(), 1);
    assert!(h.control().deliver_webhooks().await.is_empty());
    assert_eq!(
        h.app.contact("1001").await.unwrap()["companyName"],
        "Acme Corp"
    );
    ok_json(&h.app.scheduled().await);
    assert_eq!(
        h.app.contact("1001").await.unwrap()["companyName"],
        "Acme Inc"
    );
}

#[tokio::test]
async fn a_trashed_page_is_parked_through_the_webhook() {
    let h = Hooked::start().await;
    let page = synced_contact(&h).await;
    h.subscribed(WebhookOptions::default()).await;
    h.control().person_trash_page(&page).unwrap();
    let sent = h.control().deliver_webhooks().await;
    assert_eq!(sent[0].event_type, "page.deleted");
    let stored = h.app.contact("1001").await.expect("the contact is kept");
    assert_eq!(stored["notion"]["archived"], true, "{stored:#}");
}

#[tokio::test]
async fn a_schema_change_is_reported_at_once() {
    let h = Hooked::start().await;
    synced_contact(&h).await;
    h.subscribed(WebhookOptions::default()).await;
    h.control()
        .rename_property("Dialer ID", "Dialer No")
        .unwrap();
    let sent = h.control().deliver_webhooks().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].event_type, "data_source.schema_updated");
    assert_eq!(sent[0].status, 200);
    let status = ok_json(&h.app.get("sync-status").await);
    assert_eq!(status["health"], "failing", "{status:#}");
    assert!(
        status["message"].as_str().unwrap().contains("Dialer ID"),
        "{status:#}"
    );
}

#[tokio::test]
async fn an_event_while_another_run_holds_the_lock_waits_for_the_scheduled_run() {
    let h = Hooked::start().await;
    let page = synced_contact(&h).await;
    h.subscribed(WebhookOptions::default()).await;
    // A run of a stalled process holds the lease for minutes.
    let lease = json!({"owner": "scheduled-sync:stalled", "fence": 99,
        "taken_at": "2026-01-01T00:00:00Z", "expires_at": "2099-01-01T00:00:00Z"});
    h.app
        .sync_state()
        .set_json("lock", &lease, Default::default())
        .await
        .unwrap();
    h.control()
        .person_update_page(&page, company("Acme Inc"))
        .unwrap();
    let sent = h.control().deliver_webhooks().await;
    assert_eq!(sent[0].status, 202, "{sent:?}");
    let status = ok_json(&h.app.get("sync-status").await);
    assert_eq!(status["queued_pushes"], 1, "{status:#}");
}

#[tokio::test]
async fn an_event_while_notion_rate_limits_us_is_answered_and_queued() {
    let h = Hooked::start().await;
    edited_after_subscribing(&h).await;
    // Notion's budget for this minute is spent (by another integration run).
    h.control()
        .set_rate_limit(1, std::time::Duration::from_secs(60));
    let _ = reqwest::Client::new()
        .get(format!("{}/v1/users/me", h.app.notion.base_url()))
        .bearer_auth(notion_emulator::DEFAULT_TOKEN)
        .header("notion-version", "2026-03-11")
        .send()
        .await;
    let sent = h.control().deliver_webhooks().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].status, 202, "answered in time, queued: {sent:?}");
    assert_eq!(
        h.app.contact("1001").await.unwrap()["companyName"],
        "Acme Corp"
    );
}
