//! The main job on the embedded default: the Notion emulator, the official
//! Blobs server and sample contacts, synced both ways by the real function
//! binaries invoked through the Lambda Runtime API, as Netlify runs them.
//! Run with `scripts/demo`; `scripts/demo --serve` then keeps the stand-ins
//! running with the demo's data behind the local site, so a person can
//! open the sync console.

use serde_json::{json, Value};
use test_harness::app::TestApp;
use test_harness::local_site::{until_stopped, LocalSite};

fn contact(id: u64, name: &str, phone: &str, industry: &str) -> Value {
    json!({
        "id": id.to_string(), "companyName": name, "phone": phone, "industry": industry,
        "website": format!("https://{}.example", name.to_lowercase().replace([' ', ','], "")),
        "totalDials": 0, "callHistory": [], "createdAt": "2026-09-01T09:00:00.000Z"
    })
}

fn add_call(c: &mut Value, at: &str, outcome: &str, duration: u64, notes: &str, ok_code: &str) {
    let calls = c["callHistory"].as_array_mut().expect("callHistory");
    calls.push(json!({"timestamp": at, "outcome": outcome, "duration": duration, "hadConversation": outcome == "DM", "hadTriage": false, "notes": notes}));
    c["totalDials"] = json!(calls.len());
    c["lastCall"] = json!(at);
    c["currentOkCode"] = json!(ok_code);
}

fn rich(s: &str) -> Value {
    json!({"rich_text": [{"text": {"content": s}}]})
}

fn section(title: &str) {
    println!(
        "\n=== {title} {}",
        "=".repeat(70usize.saturating_sub(title.len()))
    );
}

fn print_report(inv: &test_harness::lambda::Invocation) {
    let Some(body) = &inv.json else {
        println!("HTTP {}: {}", inv.status, inv.body);
        return;
    };
    let report: Result<sync_engine::RunReport, _> = serde_json::from_value(body.clone());
    match report {
        Ok(r) => print!("{r}"),
        Err(_) => println!("HTTP {}: {body:#}", inv.status),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let serve = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--serve") => true,
        Some(other) => {
            eprintln!("demo: unknown option {other:?}; usage: scripts/demo [--serve]");
            return std::process::ExitCode::from(2);
        }
    };
    println!("Starting the stand-ins: Notion emulator, official Netlify Blobs server, function binaries...");
    let app = TestApp::spawn().await;
    println!(
        "  Notion emulator at {}  |  Blobs server at {}",
        app.notion.base_url(),
        app.blobs.url()
    );

    section("1. Sample data on both sides");
    let mut acme = contact(1001, "Acme Corp", "(415) 555-0101", "Manufacturing");
    add_call(
        &mut acme,
        "2026-11-30T15:00:00.000Z",
        "GK",
        45,
        "Gatekeeper: call after 2pm",
        "OK-1",
    );
    let samples = [
        acme,
        contact(1002, "Blue Harbor Logistics", "415-555-0102", "Logistics"),
        contact(1003, "Cedar & Pine, LLC", "415.555.0103", "Construction"),
        contact(1004, "Delta Dental Group", "+1 415 555 0104", "Healthcare"),
        contact(1005, "Zoë's Café 🚀", "415 555 0105", "Hospitality"),
        contact(1006, "Old Prospect Inc", "415-555-0106", "Retail"),
    ];
    for c in &samples {
        app.put_contact(c.clone()).await;
        println!(
            "  dialer: #{} {}",
            c["id"].as_str().unwrap_or(""),
            c["companyName"].as_str().unwrap_or("")
        );
    }
    let notion_only = app
        .control()
        .person_create_page(json!({
            "Name": {"title": [{"text": {"content": "Evergreen Partners"}}]},
            "Phone": {"phone_number": "415-555-0199"},
            "Tags": {"multi_select": [{"name": "Referral"}]},
            "Notes": rich("Met at the trade show; wants a demo.")
        }))
        .expect("page");
    println!("  notion: Evergreen Partners (typed in Notion, no Dialer ID yet) [{notion_only}]");

    section("2. Connection test (notion-test)");
    let check = app.get("notion-test").await;
    if let Some(body) = &check.json {
        for step in body["steps"].as_array().into_iter().flatten() {
            println!(
                "  {} {:<9} {}",
                if step["ok"] == true { "ok " } else { "ERR" },
                step["name"].as_str().unwrap_or(""),
                step["message"].as_str().unwrap_or("")
            );
        }
    }

    section("3. First sync, both ways (scheduled-sync)");
    print_report(&app.post("scheduled-sync", json!({})).await);

    section("4. Edits on both sides, and one conflict");
    let mut acme = app.contact("1001").await.expect("acme");
    add_call(
        &mut acme,
        "2026-12-01T16:30:00.000Z",
        "DM",
        312,
        "Spoke with Sam (ops lead). Interested; send pricing.",
        "OK-4",
    );
    app.put_contact(acme).await;
    println!("  dialer: call logged for Acme Corp (DM, 5m 12s) and OK code -> OK-4");
    let mut blue = app.contact("1002").await.expect("blue");
    blue["website"] = json!("https://blueharbor.example/logistics");
    app.put_contact(blue).await;
    println!("  dialer: Blue Harbor's website changed");
    let page = |id: u64| {
        app.page_by_dialer_id(id).expect("page")["id"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    app.control()
        .person_update_page(
            &page(1003),
            json!({"Address": rich("12 Timber Way, Portland OR")}),
        )
        .expect("edit");
    println!("  notion: Cedar & Pine's address filled in by a teammate");
    app.control()
        .person_update_page(
            &page(1001),
            json!({"Notes": rich("Decision maker is Sam. Budget cycle: Q1.")}),
        )
        .expect("edit");
    println!("  notion: a note on Acme Corp (Notion's own notes: never overwritten)");
    app.control()
        .person_update_page(
            &page(1004),
            json!({"Phone": {"phone_number": "415-555-1111"}}),
        )
        .expect("edit");
    let mut delta = app.contact("1004").await.expect("delta");
    delta["phone"] = json!("415-555-2222");
    delta["updatedAt"] = json!(chrono::Utc::now().to_rfc3339());
    app.put_contact(delta).await;
    println!(
        "  both:   Delta Dental's phone: Notion 415-555-1111, dialer 415-555-2222 (a conflict)"
    );
    app.delete_contact("1006").await;
    println!("  dialer: Old Prospect Inc deleted");

    section("5. Dry run: what the next sync will do");
    let plan = app
        .engine()
        .run(sync_engine::RunOptions {
            dry_run: true,
            ..sync_engine::RunOptions::new(sync_engine::Scope::All, "demo")
        })
        .await
        .expect("plan");
    print!("{}", plan.plan);

    section("6. Second sync, both ways (scheduled-sync)");
    print_report(&app.post("scheduled-sync", json!({})).await);

    section("7. What each side holds now");
    for id in ["1001", "1003", "1004", "1007"] {
        if let Some(c) = app.contact(id).await {
            println!(
                "  dialer #{id} {:<24} phone {:<16} address {:<28} notion.notes {:?}",
                c["companyName"].as_str().unwrap_or(""),
                c["phone"].as_str().unwrap_or(""),
                c["address"].as_str().unwrap_or(""),
                c["notion"]["notes"].as_str().unwrap_or("")
            );
        }
    }
    let acme_page = page(1001);
    println!("  notion Acme Corp call log:");
    for block in app.control().block_children(&acme_page) {
        let text: String = block["paragraph"]["rich_text"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["plain_text"].as_str())
            .collect();
        println!("    {}", text.replace('\n', "\n      "));
    }
    let trashed = app
        .control()
        .pages()
        .into_iter()
        .filter(|p| p["in_trash"] == true)
        .count();
    println!("  notion pages in the trash (archived, recoverable): {trashed}");

    section("8. The conflict console (GET /api/sync-conflicts)");
    let listed = app.get("sync-conflicts").await;
    let conflicts = listed.json.clone().unwrap_or_default()["conflicts"].clone();
    for c in conflicts.as_array().into_iter().flatten() {
        println!(
            "  (!) Conflict: {} (#{}) -- recommended: keep {}",
            c["companyName"].as_str().unwrap_or(""),
            c["contactId"].as_str().unwrap_or(""),
            c["recommended"].as_str().unwrap_or("")
        );
        for f in c["fields"].as_array().into_iter().flatten() {
            println!(
                "      {}: Notion says {:?}, dialer says {:?} -> {}",
                f["label"].as_str().unwrap_or(""),
                f["notionText"].as_str().unwrap_or(""),
                f["dialerText"].as_str().unwrap_or(""),
                match f["applied"].as_str() {
                    Some("dialer") => "the dialer's applied (edited later); Notion's kept here",
                    Some("notion") => "Notion's applied (edited later); the dialer's kept here",
                    _ => "waiting for a choice",
                }
            );
        }
    }
    println!("  A person chooses [Keep Notion] for Delta Dental (POST /api/sync-conflicts):");
    let chosen = app
        .post(
            "sync-conflicts",
            json!({"contactId": "1004", "keep": "notion"}),
        )
        .await;
    if chosen.status == 200 {
        let phone = app.contact("1004").await.unwrap_or_default()["phone"].clone();
        println!(
            "  dialer and Notion now both say {phone}; the unchosen value stays in the history"
        );
    } else {
        println!("  HTTP {}: {}", chosen.status, chosen.body);
    }

    section("9. A third sync finds nothing to do");
    print_report(&app.post("scheduled-sync", json!({})).await);

    section("10. Status banner and history (GET /api/sync-status, /api/sync-history)");
    let status = app.get("sync-status").await.json.unwrap_or_default();
    println!(
        "  status: {} -- {}",
        status["health"].as_str().unwrap_or(""),
        status["message"].as_str().unwrap_or("")
    );
    let history = app.get("sync-history").await.json.unwrap_or_default();
    for run in history["runs"].as_array().into_iter().flatten() {
        let s = &run["summary"];
        println!(
            "  {}  {:<22} {}  Notion +{} ~{} | dialer +{} ~{} | {} conflict(s)",
            run["started_at"]
                .as_str()
                .and_then(|t| t.get(..19))
                .unwrap_or("")
                .replace('T', " "),
            run["mode"].as_str().unwrap_or(""),
            if run["ok"] == true {
                "ok    "
            } else {
                "FAILED"
            },
            s["created_in_notion"],
            s["updated_in_notion"],
            s["created_in_dialer"],
            s["updated_in_dialer"],
            s["conflicts"]
        );
    }

    section("11. The sync console");
    if !serve {
        println!(
            "  Run `scripts/demo --serve` to keep these stand-ins running and open the console"
        );
        println!("  at http://127.0.0.1:8888/sync/ (or `scripts/local-site` for fresh samples).");
        return std::process::ExitCode::SUCCESS;
    }
    serve_console(app).await
}

/// Keeps the demo's stand-ins running behind the local site until Ctrl-C,
/// with the roadmap's conflict open for the console to show.
async fn serve_console(app: TestApp) -> std::process::ExitCode {
    let page_id = app.page_id(1001);
    let edited = app
        .control()
        .person_update_page(&page_id, json!({"Phone": {"phone_number": "555-1111"}}));
    let mut acme = app.contact("1001").await.unwrap_or_default();
    acme["phone"] = json!("555-2222");
    acme["updatedAt"] = json!(chrono::Utc::now().to_rfc3339());
    app.put_contact(acme).await;
    let synced = app.post("scheduled-sync", json!({})).await;
    if edited.is_ok() && synced.status == 200 {
        println!(
            "  Acme Corp's phone was just edited on both sides (Notion 555-1111, dialer 555-2222):"
        );
        println!(
            "  the console shows the conflict, settled by last-edit-wins and kept for review."
        );
    }
    let site = match LocalSite::serving(app, None).await {
        Ok(site) => site,
        Err(e) => {
            eprintln!("demo: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("  The stand-ins keep the demo's data; stop with Ctrl-C.");
    println!(
        "  Open {} and enter the key {}",
        site.console_url(),
        site.api_key
    );
    match site.serve(until_stopped()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
