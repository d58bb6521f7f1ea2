//! The functions under Netlify's own local server: `netlify functions:serve
//! --offline` (netlify-cli 26.2.0) builds each Rust function from source
//! (NETLIFY_EXPERIMENTAL_BUILD_RUST_SOURCE), invokes it through its functions
//! proxy, and gives it the CLI's own Blobs server in `event.blobs` (no
//! NETLIFY_BLOBS_CONTEXT anywhere). Notion is the emulator. The dialer's
//! side is a JS function (tests/netlify/dialer-contacts.mjs) that keeps
//! contacts in that same Blobs server with `@netlify/blobs`, as the dialer
//! does. A real two-way sync over HTTP at /.netlify/functions/*: the
//! connection test, a push after a call, a page typed in Notion picked up by
//! a scheduled run (invoked as the CLI invokes scheduled functions), and the
//! status banner.

use std::path::Path;
use std::time::Instant;

use e2e::*;
use notion_emulator::{Emulator, EmulatorConfig, DEFAULT_TOKEN};
use serde_json::{json, Value};
use test_harness::app::TEST_API_KEY;
use test_harness::netlify_cli::{CliOptions, CliResponse, NetlifyCli};
use test_harness::site::function_names;

const BEARER: &str = "Bearer test-sync-api-key-0123456789";

fn ok(function: &str, response: CliResponse) -> Value {
    assert!(
        (200..300).contains(&response.status),
        "{function}: {} {}",
        response.status,
        response.body
    );
    response
        .json
        .unwrap_or_else(|| panic!("{function} answers JSON: {}", response.body))
}

async fn call(
    cli: &NetlifyCli,
    method: &'static str,
    function: &str,
    body: Option<Value>,
) -> Value {
    let response = cli
        .send(
            method,
            function,
            &[("authorization", BEARER)],
            body.as_ref(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    ok(function, response)
}

/// Bytes of the files under `dir`, and of those that are its own (not hard
/// links shared with cargo's build dir).
fn disk_use(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return total;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if meta.is_dir() {
            let (all, own) = disk_use(&entry.path());
            total = (total.0 + all, total.1 + own);
        } else if meta.is_file() {
            let own = if meta.nlink() > 1 { 0 } else { meta.len() };
            total = (total.0 + meta.len(), total.1 + own);
        }
    }
    total
}

#[tokio::test]
async fn a_two_way_sync_through_netlify_functions_serve() {
    let started = Instant::now();
    let notion = Emulator::start(EmulatorConfig::default())
        .await
        .expect("the Notion emulator starts");
    let env = [
        ("NOTION_API_TOKEN", DEFAULT_TOKEN.to_string()),
        ("NOTION_DATABASE_ID", notion.control().database_id()),
        ("NOTION_API_URL", notion.base_url()),
        ("SYNC_API_KEY", TEST_API_KEY.to_string()),
        ("SYNC_LOCK_SETTLE_MS", "150".to_string()),
        // Every tick of the schedule runs, whatever the hour and day.
        ("SYNC_WORK_HOURS", "0-24".to_string()),
        ("SYNC_WEEKEND_EVERY", "5".to_string()),
        ("RUST_LOG", "info".to_string()),
    ];
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("netlify/dialer-contacts.mjs");
    let cli = NetlifyCli::serve(CliOptions {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        fixtures: vec![fixture],
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let ready_after = started.elapsed();
    for name in function_names() {
        assert!(
            cli.logs().contains(&format!("Loaded function {name}")),
            "{name} loaded"
        );
    }

    // The connection test, as the dialer's settings page runs it.
    let check = call(&cli, "GET", "notion-test", None).await;
    assert_eq!(check["ok"], true, "{check:#}");

    // A call is saved in the dialer (in the CLI's Blobs), then pushed alone.
    let called = with_call(
        contact(1001, "Acme Corp", "555-0100"),
        "2026-09-02T15:04:00.000Z",
        "DM",
        185,
        "Wants a demo",
    );
    let saved = call(&cli, "PUT", "dialer-contacts", Some(called)).await;
    assert_eq!(saved["saved"], "1001");
    let pushed = call(
        &cli,
        "POST",
        "sync-to-notion",
        Some(json!({"contactId": "1001"})),
    )
    .await;
    assert_eq!(pushed["summary"]["created_in_notion"], 1, "{pushed:#}");
    assert_eq!(pushed["summary"]["calls_logged"], 1, "{pushed:#}");
    let page = notion
        .control()
        .pages()
        .into_iter()
        .find(|p| p["properties"]["Dialer ID"]["number"] == json!(1001))
        .expect("a page for contact 1001");
    assert_eq!(text(&page, "Name"), "Acme Corp");

    // A person types a page in Notion; the scheduler's next tick brings it
    // to the dialer. The CLI invokes a scheduled function as the scheduler
    // does and answers with its own notice, so results are read elsewhere.
    notion
        .control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Globex"}}]},
            "Phone": {"phone_number": "555-0199"}
        }))
        .expect("a page typed in Notion");
    let tick = cli
        .send("POST", "scheduled-sync", &[], None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tick.status, 200, "{}", tick.body);
    assert!(
        tick.body.contains("scheduled function"),
        "the CLI's notice: {}",
        tick.body
    );

    let contacts = call(&cli, "GET", "dialer-contacts", None).await;
    let globex = contacts
        .as_array()
        .expect("a list of contacts")
        .iter()
        .find(|c| c["companyName"] == "Globex")
        .unwrap_or_else(|| {
            panic!("the page typed in Notion is a dialer contact now: {contacts:#}")
        });
    let new_id: f64 = globex["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("a Dialer ID");
    let globex_page = notion
        .control()
        .pages()
        .into_iter()
        .find(|p| text(p, "Name") == "Globex")
        .expect("Globex's page");
    assert_eq!(
        globex_page["properties"]["Dialer ID"]["number"].as_f64(),
        Some(new_id),
        "the new Dialer ID is written back to the page"
    );

    // The banner the dialer polls.
    let status = call(&cli, "GET", "sync-status", None).await;
    assert_eq!(status["health"], "ok", "{status:#}");
    assert_eq!(
        status["last_run"]["summary"]["created_in_dialer"], 1,
        "the scheduled run: {status:#}"
    );
    assert!(
        cli.logs().contains("\"status\":200"),
        "the functions' own logs reach the CLI's output"
    );

    let (all, own) = disk_use(cli.project_dir());
    eprintln!(
        "netlify-cli test: functions loaded after {:.1} s, done after {:.1} s; project dir {:.1} MB ({:.1} MB not shared with cargo's build dir)",
        ready_after.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        all as f64 / 1e6,
        own as f64 / 1e6
    );
}
