//! What must hold when things go wrong: a run killed mid-way and resumed,
//! two runs at once, a person's edit in the same minute as a sync write, and
//! Notion out of reach ("Sync while offline -> Queues for later").

use std::time::Duration;

use e2e::*;
use notion_emulator::{Fault, FaultKind};
use serde_json::json;
use sync_engine::{EngineError, RunOptions, Scope};

#[tokio::test]
async fn a_run_killed_midway_and_resumed_leaves_no_duplicate_and_no_lost_edit() {
    let app = TestApp::spawn_with(AppOptions {
        latency: Duration::from_millis(40),
        ..AppOptions::default()
    })
    .await;
    for n in 1..=30u64 {
        app.put_contact(with_call(
            contact(n, &format!("Company {n}"), &format!("555-01{n:02}")),
            "2026-09-15T14:00:00.000Z",
            "DM",
            60,
            "first call",
        ))
        .await;
    }
    let engine = app.engine();
    let run = tokio::spawn(async move { engine.run(RunOptions::new(Scope::All, "test")).await });
    // Once some pages exist, make Notion hang, then kill the run while its
    // requests are in flight (the task is dropped mid-await, as a crash would).
    while live_pages(&app).len() < 8 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.control()
        .inject_fault(Fault::any(FaultKind::Latency(Duration::from_secs(30))).times(1000));
    tokio::time::sleep(Duration::from_millis(500)).await;
    run.abort();
    let _ = run.await;
    app.control().clear_faults();
    let created_before_resume = live_pages(&app).len();
    assert!(
        created_before_resume < 30,
        "the run was stopped part-way ({created_before_resume} pages)"
    );
    // The crashed run's lease is still there: it expires; a test shortcut is to remove it.
    app.sync_state().delete("lock").await.unwrap();

    // Edits on both sides while no run is going.
    let mut c = app.contact("3").await.unwrap();
    c["address"] = json!("3 Resumed Rd");
    app.put_contact(c).await;

    let report = app
        .engine()
        .run(RunOptions::new(Scope::All, "test"))
        .await
        .unwrap();
    assert!(report.ok(), "{report}");
    let pages = live_pages(&app);
    assert_eq!(pages.len(), 30, "every contact has exactly one page");
    let mut ids: Vec<f64> = pages
        .iter()
        .map(|p| prop(p, "Dialer ID")["number"].as_f64().unwrap())
        .collect();
    ids.sort_by(f64::total_cmp);
    ids.dedup();
    assert_eq!(ids.len(), 30, "no duplicate Dialer IDs");
    let third = app.page_by_dialer_id(3).unwrap();
    assert_eq!(
        text(&third, "Address"),
        "3 Resumed Rd",
        "the edit made between runs arrived"
    );
    for p in &pages {
        let log = app.control().block_children(p["id"].as_str().unwrap());
        assert_eq!(log.len(), 1, "each call logged exactly once");
    }
    let again = app
        .engine()
        .run(RunOptions::new(Scope::All, "test"))
        .await
        .unwrap();
    assert_eq!(
        again.summary.created_in_notion + again.summary.updated_in_notion,
        0,
        "{again}"
    );
}

#[tokio::test]
async fn two_runs_started_together_produce_no_duplicate() {
    let app = TestApp::spawn_with(AppOptions {
        latency: Duration::from_millis(20),
        ..AppOptions::default()
    })
    .await;
    for n in 1..=10u64 {
        app.put_contact(contact(
            n,
            &format!("Company {n}"),
            &format!("555-02{n:02}"),
        ))
        .await;
    }
    let (first, second) = (app.engine(), app.engine());
    let (a, b) = tokio::join!(
        first.run(RunOptions::new(Scope::All, "a")),
        second.run(RunOptions::new(Scope::All, "b"))
    );
    let busy = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(EngineError::Busy { .. })))
        .count();
    assert_eq!(
        busy, 1,
        "one run holds the lock, the other is told so: {a:?} {b:?}"
    );
    // And through the functions: the push finds the scheduled run busy and queues.
    let (push, scheduled) = tokio::join!(
        app.post("sync-to-notion", json!({})),
        app.post("scheduled-sync", json!({}))
    );
    assert!(
        [push.status, scheduled.status]
            .iter()
            .all(|s| [200, 202, 409].contains(s)),
        "{} {}",
        push.body,
        scheduled.body
    );
    ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(live_pages(&app).len(), 10, "one page per contact");
}

#[tokio::test]
async fn a_notion_edit_in_the_same_minute_as_a_sync_write_is_not_missed() {
    let app = TestApp::spawn().await;
    let minute = chrono::Utc::now();
    app.control().freeze_at(minute);
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page = app.page_by_dialer_id(1001).unwrap();
    let written_at = page["last_edited_time"].clone();
    // A person edits within the same (minute-rounded) timestamp.
    app.control()
        .person_update_page(
            page["id"].as_str().unwrap(),
            json!({"Phone": {"phone_number": "555-7777"}}),
        )
        .unwrap();
    assert_eq!(
        app.page_by_dialer_id(1001).unwrap()["last_edited_time"],
        written_at,
        "same minute: the timestamp did not move"
    );
    let report = ok_json(&app.post("sync-from-notion", json!({})).await);
    assert_eq!(report["summary"]["updated_in_dialer"], 1, "{report:#}");
    assert_eq!(app.contact("1001").await.unwrap()["phone"], "555-7777");
}

#[tokio::test]
async fn sync_while_offline_queues_for_later() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    app.control()
        .inject_fault(Fault::any(FaultKind::DropConnection).times(1000));
    let inv = app
        .post("sync-to-notion", json!({"contactId": "1001"}))
        .await;
    assert_eq!(inv.status, 202, "{}", inv.body);
    assert_eq!(inv.json.unwrap()["status"], "queued");
    assert_eq!(
        app.sync_state().list(Some("queue/")).await.unwrap().len(),
        1
    );
    app.control().clear_faults();
    ok_json(&app.scheduled().await);
    assert!(
        app.page_by_dialer_id(1001).is_some(),
        "the scheduled run pushed it"
    );
    assert!(
        app.sync_state()
            .list(Some("queue/"))
            .await
            .unwrap()
            .is_empty(),
        "and drained the queue"
    );
}

#[tokio::test]
async fn a_run_out_of_time_stops_starting_writes_and_the_next_run_finishes() {
    let app = TestApp::spawn().await;
    for n in 1..=5u64 {
        app.put_contact(contact(n, &format!("Company {n}"), ""))
            .await;
    }
    let options = RunOptions {
        deadline: Some(std::time::Instant::now()),
        ..RunOptions::new(Scope::All, "test")
    };
    let report = app.engine().run(options).await.unwrap();
    assert_eq!(report.summary.remaining, 5, "{report}");
    assert!(live_pages(&app).is_empty());
    let report = app
        .engine()
        .run(RunOptions::new(Scope::All, "test"))
        .await
        .unwrap();
    assert_eq!(report.summary.created_in_notion, 5, "{report}");
}

#[tokio::test]
async fn bad_input_is_a_clear_400_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    let inv = app
        .post("sync-to-notion", json!({"contactId": "abc"}))
        .await;
    assert_eq!(inv.status, 400, "{}", inv.body);
    assert!(inv.body.contains("contactId"), "{}", inv.body);
    let inv = app
        .post("sync-to-notion", json!({"contactID": "1001"}))
        .await;
    assert_eq!(inv.status, 400, "unknown fields are named: {}", inv.body);
    let inv = app
        .post("sync-to-notion", json!({"contactId": "4242"}))
        .await;
    assert_eq!(inv.status, 404, "{}", inv.body);
    // A malformed contact is reported and skipped; the others still sync.
    app.contacts()
        .set("1002", b"{not json".to_vec(), Default::default())
        .await
        .unwrap();
    app.put_contact(json!({"id": "1003", "companyName": "Bad Date Inc", "lastCall": "yesterday"}))
        .await;
    let report = app.post("scheduled-sync", json!({})).await;
    let body = report.json.unwrap();
    assert_eq!(body["summary"]["invalid"], 2, "{body:#}");
    assert_eq!(body["summary"]["created_in_notion"], 1, "{body:#}");
    assert!(
        body.to_string().contains("lastCall"),
        "the bad field is named"
    );
    assert_eq!(live_pages(&app).len(), 1);
}

#[tokio::test]
async fn the_cursor_keeps_notions_time_so_a_skewed_clock_misses_nothing() {
    let app = TestApp::spawn().await;
    // Notion's clock three hours behind this machine's.
    app.control()
        .freeze_at(chrono::Utc::now() - chrono::Duration::hours(3));
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    app.control().advance(Duration::from_secs(120));
    let page = app.page_by_dialer_id(1001).unwrap();
    app.control()
        .person_update_page(
            page["id"].as_str().unwrap(),
            json!({"Phone": {"phone_number": "555-3030"}}),
        )
        .unwrap();
    let report = ok_json(&app.post("sync-from-notion", json!({})).await);
    assert_eq!(report["summary"]["updated_in_dialer"], 1, "{report:#}");
    assert_eq!(app.contact("1001").await.unwrap()["phone"], "555-3030");
}

/// The cursor is Notion's clock as the run's query answered it, in a fresh
/// process too (each invocation starts a new client): an idle run does not
/// read again what the last run saw (before, with no answer yet to take the
/// time from, it fell back to this machine's clock minus a margin).
#[tokio::test]
async fn the_cursor_is_notions_time_at_the_query_in_a_fresh_client() {
    let app = TestApp::spawn().await;
    // Notion's clock ten minutes ahead of this machine's.
    let notion_now = chrono::Utc::now() + chrono::Duration::minutes(10);
    app.control().freeze_at(notion_now);
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.scheduled().await);
    app.control().advance(Duration::from_secs(180));
    ok_json(&app.scheduled().await);
    let state: serde_json::Value = app
        .sync_state()
        .get_json("state")
        .await
        .unwrap()
        .expect("the state");
    let cursor: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(state["notion_cursor"].clone()).unwrap();
    assert!(
        cursor > notion_now,
        "the cursor {cursor} trails Notion's clock (it was {notion_now} at the first run)"
    );
}

#[tokio::test]
async fn a_page_trashed_in_notion_between_full_scans_is_noticed_on_the_next_write() {
    let app = TestApp::spawn().await;
    app.put_contact(contact(1001, "Acme Corp", "555-0100"))
        .await;
    ok_json(&app.post("scheduled-sync", json!({})).await);
    let page_id = app.page_id(1001);
    app.control().person_trash_page(&page_id).unwrap();
    let mut c = app.contact("1001").await.unwrap();
    c["website"] = json!("https://acme.example");
    app.put_contact(c).await;
    let report = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(report["full_scan"], false);
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    let stored = app.contact("1001").await.unwrap();
    assert_eq!(stored["notion"]["archived"], true, "{stored:#}");
    assert_eq!(
        stored["website"], "https://acme.example",
        "the contact is kept as it is"
    );
    assert_eq!(app.control().pages().len(), 1, "no new page");
}

#[tokio::test]
async fn every_phase_stops_at_the_deadline_and_the_next_run_finishes() {
    let app = with_twenty_contacts().await;
    let engine = app.engine();
    let report = engine
        .run(RunOptions::new(Scope::All, "test"))
        .await
        .unwrap();
    assert_eq!(report.summary.created_in_notion, 20, "{report}");
    for page in live_pages(&app) {
        app.control()
            .person_trash_page(page["id"].as_str().unwrap())
            .unwrap();
    }
    // A full scan must look up each linked page it no longer lists; with its
    // deadline already reached it stops at once instead.
    app.control().clear_log();
    let rushed = RunOptions {
        full_scan: true,
        deadline: Some(std::time::Instant::now()),
        ..RunOptions::new(Scope::All, "test")
    };
    engine.run(rushed).await.unwrap();
    assert!(
        app.control().count("pages.retrieve") <= 1,
        "{} pages read after the deadline",
        app.control().count("pages.retrieve")
    );
    let full = RunOptions {
        full_scan: true,
        ..RunOptions::new(Scope::All, "test")
    };
    let report = engine.run(full).await.unwrap();
    assert_eq!(report.summary.marked_archived_in_dialer, 20, "{report}");
}

/// An engine whose clock the test moves, with the emulator's clock frozen at
/// the same instant: the query lag passes only when both are advanced.
fn engine_on_a_moved_clock(app: &TestApp) -> (sync_engine::Engine, sync_engine::clock::Clock) {
    let clock = sync_engine::clock::Clock::shifted();
    let mut config = sync_engine::EngineConfig::from_lookup(app.lookup()).unwrap();
    config.clock = clock.clone();
    app.control().freeze_at(clock.now());
    let engine = sync_engine::Engine::new(config, app.blobs_client()).unwrap();
    (engine, clock)
}

fn later(app: &TestApp, clock: &sync_engine::clock::Clock, minutes: i64) {
    clock.advance(chrono::Duration::minutes(minutes));
    app.control()
        .advance(Duration::from_secs(60 * minutes as u64));
}

/// A create that commits and answers 503 without naming the page, while
/// Notion's queries lag 90 s behind its writes (far longer than the
/// client's retries): the lookup after the 503 finds nothing, yet neither
/// that run nor the next creates a second page; once the lag is over the
/// page is found through the intent and linked, its call logged once.
#[tokio::test]
async fn an_ambiguous_create_under_read_after_write_lag_makes_one_page() {
    let app = TestApp::spawn().await;
    let (engine, clock) = engine_on_a_moved_clock(&app);
    app.control().set_query_lag(Duration::from_secs(90));
    app.put_contact(with_call(
        contact(1, "Acme", "555-0101"),
        "2026-09-15T14:00:00.000Z",
        "DM",
        60,
        "first call",
    ))
    .await;
    app.control().inject_fault(Fault::on(
        "pages.create",
        FaultKind::CommitThenFail {
            status: 503,
            report_committed_id: false,
        },
    ));
    let run = || engine.run(RunOptions::new(Scope::All, "test"));
    let first = run().await.unwrap();
    assert_eq!(
        (first.summary.failed, first.summary.remaining),
        (0, 1),
        "{first}"
    );
    let second = run().await.unwrap();
    assert_eq!(
        second.summary.remaining, 1,
        "waits for the page to show: {second}"
    );
    assert_eq!(app.control().pages().len(), 1, "one page, never two");

    later(&app, &clock, sync_engine::run::CREATE_SETTLE_MINUTES + 1);
    let third = run().await.unwrap();
    assert!(third.ok() && third.summary.remaining == 0, "{third}");
    assert_eq!(app.control().pages().len(), 1);
    assert_eq!(app.control().count("pages.create"), 1, "never sent twice");
    let page = app.page_by_dialer_id(1).unwrap();
    let id = page["id"].as_str().unwrap();
    assert_eq!(app.contact("1").await.unwrap()["notion"]["pageId"], id);
    assert_eq!(
        app.control().block_children(id).len(),
        1,
        "the call logged once"
    );
}

/// The same 503 on a create that did not commit: nothing shows, so once the
/// wait is over the page is created, once.
#[tokio::test]
async fn an_ambiguous_create_that_did_not_commit_is_made_once_after_the_wait() {
    let app = TestApp::spawn().await;
    let (engine, clock) = engine_on_a_moved_clock(&app);
    app.control().set_query_lag(Duration::from_secs(90));
    app.put_contact(contact(2, "Beta", "555-0102")).await;
    app.control()
        .inject_fault(Fault::on("pages.create", FaultKind::Status(503)));
    let run = || engine.run(RunOptions::new(Scope::All, "test"));
    assert_eq!(run().await.unwrap().summary.remaining, 1);
    assert!(app.control().pages().is_empty());
    later(&app, &clock, sync_engine::run::CREATE_SETTLE_MINUTES + 1);
    let done = run().await.unwrap();
    assert!(done.ok() && done.summary.remaining == 0, "{done}");
    assert_eq!(app.control().pages().len(), 1);
}

/// Notion's two rate limits slow a run down: the run waits them out, and
/// its report names each limit, how often it answered, the waits it asked
/// for, and what is left.
#[tokio::test]
async fn the_run_report_names_the_rate_limit_that_slowed_it() {
    let app = TestApp::spawn().await;
    for n in 1..=3u64 {
        app.put_contact(contact(
            n,
            &format!("Company {n}"),
            &format!("555-02{n:02}"),
        ))
        .await;
    }
    let limited = |limit| FaultKind::RateLimited {
        limit,
        retry_after_secs: 1,
    };
    app.control().inject_fault(Fault::on(
        "pages.create",
        limited(notion_emulator::RateLimit::Connection),
    ));
    app.control().inject_fault(Fault::on(
        "pages.create",
        limited(notion_emulator::RateLimit::Workspace),
    ));
    let report = app
        .engine()
        .run(RunOptions::new(Scope::All, "test"))
        .await
        .unwrap();
    assert!(
        report.ok() && report.summary.created_in_notion == 3,
        "{report}"
    );
    let named: Vec<(&str, u64, u64)> = report
        .notion_limits
        .iter()
        .map(|l| (l.limit.as_str(), l.responses, l.asked_to_wait_ms))
        .collect();
    assert_eq!(named, [("connection", 1, 1000), ("workspace", 1, 1000)]);
    let text = report.to_string();
    assert!(
        text.contains("Notion slowed this run: the workspace's limit, shared by every integration in it (1 answer(s), asked to wait 1 s in all); nothing was left for the next run."),
        "{text}"
    );
}

/// A first import bigger than one invocation can do, through the real
/// `scheduled-sync` binary told it has 5 s (3 s of which it keeps to
/// answer), invoked every second (the 5-minute schedule, scaled down)
/// against Notion's budget scaled down to 10 requests per 2 s: every
/// invocation answers in time (the harness kills one that does not), each
/// makes progress, none meets a 429 (each starts from the window the last
/// one left), and at the end every contact has exactly one page.
#[tokio::test]
async fn a_first_import_bigger_than_one_run_finishes_over_deadline_bounded_invocations() {
    let app = budgeted_app(10, Duration::from_secs(2), Duration::from_millis(20)).await;
    const N: u64 = 20;
    for n in 1..=N {
        app.put_contact(contact(
            n,
            &format!("Company {n}"),
            &format!("555-02{n:02}"),
        ))
        .await;
    }
    let mut pages_after = Vec::new();
    while live_pages(&app).len() < N as usize {
        assert!(
            pages_after.len() < 30,
            "no end in sight: pages after each run {pages_after:?}"
        );
        let answer = app.scheduled_within(Duration::from_secs(5)).await;
        assert!((200..300).contains(&answer.status), "{}", answer.body);
        pages_after.push(live_pages(&app).len());
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        pages_after.len() > 1,
        "one invocation did it all: the test is too small to show anything"
    );
    assert!(
        pages_after.windows(2).all(|w| w[1] > w[0]),
        "an invocation made no page: {pages_after:?}"
    );
    assert_eq!(
        app.control().rate_limited_count(),
        0,
        "a run walked into Notion's limit"
    );
    let mut ids: Vec<u64> = live_pages(&app)
        .iter()
        .filter_map(|p| p["properties"]["Dialer ID"]["number"].as_u64())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        (1..=N).collect::<Vec<_>>(),
        "one page per contact, no duplicate"
    );
}

/// A run whose Notion budget for the minute is spent (the run before spent
/// it) stops reading and planning further batches: before, it read every
/// contact left and deferred each one (at 10,000 contacts its answer grew
/// past what Lambda lets a function return).
#[tokio::test]
async fn a_run_that_finds_notions_budget_spent_reads_no_further_batch() {
    let app = budgeted_app(5, Duration::from_secs(60), Duration::ZERO).await;
    const N: u64 = 3 * sync_engine::run::BATCH as u64;
    let app_ref = &app;
    futures::future::join_all((1..=N).map(|n| async move {
        app_ref
            .put_contact(contact(n, &format!("Company {n}"), &format!("555-{n:04}")))
            .await
    }))
    .await;
    let answer = app.scheduled_within(Duration::from_secs(6)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let report = answer.json.expect("a report");
    let deferred = report["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "deferred")
        .count();
    assert!(
        deferred <= sync_engine::run::BATCH,
        "{deferred} records read and deferred after the budget was spent"
    );
    assert!(report["summary"]["remaining"].as_u64().unwrap() > 0);
}

/// The world with Notion's budget `budget` per `window` (the functions told
/// the same), `latency` per request, and every scheduled tick due.
async fn budgeted_app(budget: u32, window: Duration, latency: Duration) -> TestApp {
    TestApp::spawn_with(AppOptions {
        rate_limit: budget,
        rate_window: window,
        latency,
        env: vec![
            ("NOTION_REQUESTS_PER_MINUTE".into(), budget.to_string()),
            (
                "NOTION_RATE_WINDOW_SECONDS".into(),
                window.as_secs().to_string(),
            ),
            ("SYNC_AFTER_HOURS_EVERY".into(), "5".into()),
            ("SYNC_WEEKEND_EVERY".into(), "5".into()),
        ],
    })
    .await
}

/// A full scan with nothing changed reads the database's pages and nothing
/// one by one: only a linked page the query did not list (in the trash,
/// mostly) is looked up. Before, every unchanged linked page was, so the
/// hourly full scan at 10,000 contacts cost 10,000 requests.
#[tokio::test]
async fn an_idle_full_scan_looks_up_only_the_pages_it_did_not_list() {
    let app = with_twenty_contacts().await;
    ok_json(&app.scheduled().await);
    app.control().person_trash_page(&app.page_id(7)).unwrap();
    app.control().clear_log();
    let report = ok_json(
        &app.post("sync-from-notion", json!({"fullScan": true}))
            .await,
    );
    assert_eq!(report["full_scan"], true, "{report:#}");
    assert_eq!(
        app.control().count("pages.retrieve"),
        1,
        "only the trashed page is looked up"
    );
    assert_eq!(
        report["summary"]["marked_archived_in_dialer"], 1,
        "{report:#}"
    );
}

/// The world with contacts 1 to 20 in the dialer, not synced yet.
async fn with_twenty_contacts() -> TestApp {
    let app = TestApp::spawn().await;
    for n in 1..=20u64 {
        app.put_contact(contact(
            n,
            &format!("Company {n}"),
            &format!("555-01{n:02}"),
        ))
        .await;
    }
    app
}
