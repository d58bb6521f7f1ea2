//! Scenario: a teammate's edit in Notion reaching the dialer through the
//! webhook. The emulator (200 ms per request) sends its signed delivery at
//! once, as Notion does for a page's first edit, to the `notion-webhook`
//! function binary behind the local site's HTTP front; the time is from the
//! person's edit to the dialer's blob holding the new value. Also counted:
//! Notion requests per event, per repeated delivery and per echo of the
//! sync's own writes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use test_harness::app::TestApp;
use test_harness::local_site::LocalSite;

use crate::measure::{median, millis, ratio, Row};
use crate::scenarios::{progress, unexpected, Result};

/// The target: Notion edit to dialer blob.
const LATENCY_TARGET: Duration = Duration::from_secs(2);
const EDITS: usize = 10;
const SCENARIO: &str = "5. Notion edit -> dialer (webhook)";

pub struct WebhookFigures {
    pub rows: Vec<Row>,
    pub json: Value,
}

/// `app` has its contacts synced; its emulator runs with Notion-like latency.
pub async fn measure(
    app: TestApp,
    first_id: u64,
    release: Option<&std::path::Path>,
) -> Result<WebhookFigures> {
    progress("webhook: subscribing the local site");
    if let Some(path) = release {
        app.run_function_from("notion-webhook", path, &[]).await;
    }
    let site = LocalSite::serving(app, Some(0))
        .await
        .map_err(|e| unexpected("webhook: serving the site", e.to_string()))?;
    let url = format!("{}/api/notion-webhook", site.url());
    let app = Arc::clone(&site.app);
    let server = tokio::spawn(async move {
        let _ = site.serve(std::future::pending()).await;
    });
    let control = app.control();
    let (_, token) = control
        .subscribe_webhook(&url, Default::default())
        .await
        .map_err(|e| unexpected("webhook: subscribing", e))?;
    control.verify_webhook(&token);

    let mut latencies = Vec::with_capacity(EDITS);
    let mut requests = Vec::with_capacity(EDITS);
    for i in 0..EDITS {
        let id = first_id + i as u64;
        let page = app.page_id(id);
        let name = format!("Renamed in Notion {i}");
        control.clear_log();
        let started = Instant::now();
        control
            .person_update_page(
                &page,
                json!({"Name": {"title": [{"text": {"content": name}}]}}),
            )
            .map_err(|e| unexpected("webhook: a person's edit", e.to_string()))?;
        control.deliver_webhooks().await;
        loop {
            let stored = app.contact(&id.to_string()).await;
            if stored.is_some_and(|c| c["companyName"] == name.as_str()) {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(unexpected(
                    "webhook: the edit reaching the dialer",
                    format!("contact {id} still lacks {name:?}"),
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        latencies.push(started.elapsed());
        requests.push(control.request_log().len());
    }
    // The sync's own writes come back as events (echoes): a push of three
    // contacts edited in the dialer writes three pages.
    let pushed: Vec<String> = (0..3).map(|i| (first_id + 50 + i).to_string()).collect();
    for id in &pushed {
        let mut contact = app
            .contact(id)
            .await
            .ok_or_else(|| unexpected("webhook: echoes", format!("no contact {id}")))?;
        contact["website"] = json!(format!("https://edited-{id}.test"));
        app.put_contact(contact).await;
    }
    let push = app
        .post("sync-to-notion", json!({ "contactIds": pushed }))
        .await;
    if push.status != 200 {
        return Err(unexpected(
            "webhook: echoes",
            format!("the push answered {}: {}", push.status, push.body),
        ));
    }
    control.clear_log();
    let echoes = control.deliver_webhooks().await.len();
    let echo_requests = control.request_log().len();
    server.abort();

    let latency = median(&latencies);
    let per_event = requests.iter().sum::<usize>() as f64 / requests.len().max(1) as f64;
    let rows = vec![
        Row::new(SCENARIO, "edit to dialer blob, median", millis(latency)).target(
            format!("< {}", millis(LATENCY_TARGET)),
            ratio(latency.as_secs_f64(), LATENCY_TARGET.as_secs_f64()),
            latency < LATENCY_TARGET,
        ),
        Row::new(
            SCENARIO,
            "Notion requests per event",
            format!("{per_event:.1}"),
        )
        .target("1", ratio(per_event, 1.0), per_event <= 1.0),
        Row::new(
            SCENARIO,
            "Notion requests for echoes",
            format!("{echo_requests} for {echoes} echo event(s)"),
        )
        .target("0 (1 once: the bot's id)", None, echo_requests <= 1),
    ];
    let json = json!({
        "scenario": "webhook",
        "edits": EDITS,
        "median_ms": latency.as_millis(),
        "max_ms": latencies.iter().max().map(|d| d.as_millis()),
        "notion_requests_per_event": per_event,
        "echo_events": echoes,
        "echo_notion_requests": echo_requests,
        "function": if release.is_some() { "release" } else { "debug" },
    });
    Ok(WebhookFigures { rows, json })
}
