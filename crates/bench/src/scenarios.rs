//! The benchmark's imperative shell: starts the stand-ins, seeds and syncs
//! the contacts under a generous budget, then switches to Notion-like
//! latency and budget and measures each scenario from a fresh budget window.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt, TryStreamExt};
use netlify_blobs::{BlobsError, BlobsStats, SetOptions};
use serde_json::{json, Value};
use sync_engine::{ContactId, Engine, EngineConfig, EngineError, RunOptions, RunReport, Scope};
use test_harness::app::{AppOptions, TestApp};
use test_harness::event::ApiEvent;
use test_harness::lambda::{FunctionProcess, Invocation, LambdaHarnessError};

use crate::measure::{
    ratio, render_table, secs, timeline, timeline_text, NotionLimits, NotionTraffic, Phases, Row,
    TimeBound,
};

/// Notion's documented per-connection budget and a typical round trip.
const NOTION_LIKE: NotionLimits = NotionLimits {
    budget: 180,
    window: Duration::from_secs(60),
    latency: Duration::from_millis(200),
    concurrency: 8,
};
/// For seeding only: fast enough that 1,000 creates take seconds.
const GENEROUS_BUDGET: u32 = 10_000;
const RPM_VARIABLE: &str = "NOTION_REQUESTS_PER_MINUTE";
const FUNCTION: &str = "sync-to-notion";
/// The first Dialer ID; contacts are `FIRST_ID..FIRST_ID + n`.
const FIRST_ID: u64 = 1001;
/// Scenario 1's target: a push after a call answers within this.
const PUSH_WALL_TARGET: Duration = Duration::from_secs(1);
/// Scenario 3's target: within this factor of the fastest possible run.
const BOUND_FACTOR_TARGET: f64 = 1.2;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("the sync run for {step} failed: {source}")]
    Engine {
        step: String,
        #[source]
        source: EngineError,
    },
    #[error("a Blobs request for {step} failed: {source}")]
    Blobs {
        step: String,
        #[source]
        source: BlobsError,
    },
    #[error("the function for {step} failed: {source}")]
    Function {
        step: String,
        #[source]
        source: Box<LambdaHarnessError>,
    },
    #[error("{step}: {message}")]
    Unexpected { step: String, message: String },
}

pub type Result<T, E = BenchError> = std::result::Result<T, E>;

pub(crate) fn unexpected(step: &str, message: impl Into<String>) -> BenchError {
    BenchError::Unexpected {
        step: step.to_string(),
        message: message.into(),
    }
}

/// Everything measured, rendered for people (table) and machines (JSON lines).
#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    json_lines: Vec<Value>,
    notes: Vec<String>,
    sections: Vec<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Notion-like conditions: {} ms latency per request, {} requests per {} s (emulator and client), engine concurrency {}.",
            NOTION_LIKE.latency.as_millis(),
            NOTION_LIKE.budget,
            NOTION_LIKE.window.as_secs(),
            NOTION_LIKE.concurrency
        )?;
        writeln!(f)?;
        for section in &self.sections {
            writeln!(f, "{section}")?;
        }
        write!(f, "{}", render_table(&self.rows))?;
        writeln!(f)?;
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        writeln!(f)?;
        for line in &self.json_lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

pub async fn run_all() -> Result<String> {
    let mut report = Report::default();

    progress("building the debug function binary the harness invokes");
    test_harness::lambda::build(FUNCTION)
        .await
        .map_err(|e| BenchError::Function {
            step: "building sync-to-notion (debug)".into(),
            source: Box::new(e),
        })?;

    function_binaries(&mut report).await?;

    let mut unchanged = Vec::new();
    {
        let app = seeded_app(100).await?;
        unchanged.push(unchanged_runs(&app, 100).await?);
    }
    let app = seeded_app(1000).await?;
    unchanged.push(unchanged_runs(&app, 1000).await?);
    report_unchanged(&mut report, &unchanged);

    push_after_call_debug(&app, &mut report).await?;
    match release_function_binary() {
        Some(path) => {
            let variants = [
                PushVariant {
                    label: "release",
                    contact: CALLED_CONTACT + 1,
                    extra_env: Vec::new(),
                },
                // Call notes in the Notes property instead of the page body:
                // the one configuration that can push a call in one write.
                PushVariant {
                    label: "release, SYNC_CALL_NOTES=notes_property",
                    contact: CALLED_CONTACT + 2,
                    extra_env: vec![("SYNC_CALL_NOTES".into(), "notes_property".into())],
                },
            ];
            for variant in variants {
                push_after_call_release(&app, &path, variant, &mut report).await?;
            }
        }
        None => report.notes.push(format!(
            "no release build of {FUNCTION} found; scripts/bench builds it (scripts/package)"
        )),
    }
    changed_contacts(&app, 100, &mut report).await?;
    webhook_scenario(app, &mut report).await?;
    scale_scenario(&mut report).await?;

    report.notes.push(
        "every measured step starts a fresh 180/min window in the emulator and, through a new engine or a new function invocation, in the client; the seeding before ran with a 10,000/min budget and no latency".into(),
    );
    report.notes.push(
        "scenario 2: Notion's edit times are minute-rounded, so the cursor trails Notion's clock by a minute and the seeding sync's own writes come back until a query runs a minute past them (runs 1 and 2, each page skipped by its fingerprint, no base read); run 3 is the steady state of a scheduled sync with nothing changed".into(),
    );
    report.notes.push(
        "engine runs include the run lock's 150 ms settle wait (SYNC_LOCK_SETTLE_MS, set by the harness because the local Blobs server's conditional writes are not atomic; 0 on Netlify)".into(),
    );
    Ok(report.to_string())
}

/// Only scenario 6 (`scripts/bench scale`; `BENCH_SIZES=10,100` to choose).
pub async fn run_scale_only() -> Result<String> {
    let mut report = Report::default();
    scale_scenario(&mut report).await?;
    Ok(report.to_string())
}

/// Scenario 6, with the packaged `scheduled-sync` when scripts/package built it.
async fn scale_scenario(report: &mut Report) -> Result<()> {
    let packaged = crate::functions::packaged_binaries().map(|dir| dir.join("scheduled-sync"));
    let release = packaged.as_deref().filter(|p| p.is_file());
    if release.is_none() {
        report.notes.push("scenario 6 ran the debug scheduled-sync binary (no scripts/package build): its memory and time are a debug build's".into());
    }
    let scale = crate::scale::measure(release).await?;
    report.rows.extend(scale.rows);
    report.json_lines.extend(scale.json);
    report.notes.push("scenario 6: 1,800 requests a minute and 50 ms latency (issue 11's conditions), the scheduled-sync binary invoked back to back with a 30 s deadline until a run leaves nothing; the floor is the Notion requests the step made at that budget; the naive sync queries by Dialer ID then creates, one contact at a time".into());
    Ok(())
}

/// Only scenario 5 (`scripts/bench webhook`), over 100 synced contacts.
pub async fn run_webhook_only() -> Result<String> {
    let mut report = Report::default();
    let app = seeded_app(100).await?;
    webhook_scenario(app, &mut report).await?;
    Ok(report.to_string())
}

/// Scenario 5 over `app` (its contacts synced), with the packaged
/// `notion-webhook` when scripts/package built it.
async fn webhook_scenario(app: TestApp, report: &mut Report) -> Result<()> {
    let packaged = crate::functions::packaged_binaries().map(|dir| dir.join("notion-webhook"));
    let release = packaged.as_deref().filter(|p| p.is_file());
    let webhook = crate::webhooks::measure(app, FIRST_ID, release).await?;
    report.rows.extend(webhook.rows);
    report.json_lines.push(webhook.json);
    Ok(())
}

pub fn progress(message: &str) {
    eprintln!("bench: {message}");
}

/// Size, cold start and peak memory of every function's deployable binary.
async fn function_binaries(report: &mut Report) -> Result<()> {
    let Some(dir) = crate::functions::packaged_binaries() else {
        report.notes.push("no dist/prebuilt: run scripts/package for the function binaries' size, cold start and memory".into());
        return Ok(());
    };
    let app = TestApp::spawn().await;
    for figures in crate::functions::measure_all(&app, &dir).await? {
        report.rows.extend(figures.rows());
        report.json_lines.push(figures.to_json());
    }
    report.notes.push(format!(
        "function binaries: the packaged ones in {} (scripts/package); cold start = process start to the first answer through the Lambda Runtime API (a request without the key, answered 401 by the function itself), median of {} fresh processes; peak memory = VmHWM after the first answer",
        dir.display(),
        crate::functions::COLD_STARTS
    ));
    Ok(())
}

// ---------------------------------------------------------------------------
// Setup

/// A contact as the dialer stores it.
fn contact(id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "companyName": format!("Company {id}"),
        "phone": format!("555-{:04}", id % 10_000),
        "website": format!("https://company-{id}.test"),
        "totalDials": 0,
        "callHistory": [],
        "createdAt": "2026-09-01T09:00:00.000Z"
    })
}

/// `contact` with one more call, as the dialer's "Save & Next" saves it.
fn with_call(mut contact: Value, at: &str, notes: &str) -> Result<Value> {
    let calls = contact["callHistory"]
        .as_array_mut()
        .ok_or_else(|| unexpected("adding a call", "the contact has no callHistory array"))?;
    calls.push(json!({
        "timestamp": at, "outcome": "DM", "duration": 185,
        "hadConversation": true, "hadTriage": false, "objection": null, "notes": notes
    }));
    let dials = calls.len();
    contact["totalDials"] = json!(dials);
    contact["lastCall"] = json!(at);
    contact["currentOkCode"] = json!("OK-3");
    Ok(contact)
}

pub(crate) async fn put_contact(app: &TestApp, contact: &Value, step: &str) -> Result<()> {
    let id = contact["id"]
        .as_str()
        .ok_or_else(|| unexpected(step, "contact without a string id"))?;
    app.contacts()
        .set_json(id, contact, SetOptions::default())
        .await
        .map(drop)
        .map_err(|source| BenchError::Blobs {
            step: step.to_string(),
            source,
        })
}

async fn get_contact(app: &TestApp, id: u64, step: &str) -> Result<Value> {
    app.contacts()
        .get_json::<Value>(&id.to_string())
        .await
        .map_err(|source| BenchError::Blobs {
            step: step.to_string(),
            source,
        })?
        .ok_or_else(|| unexpected(step, format!("contact {id} is missing")))
}

fn contact_ids(n: u64) -> impl Iterator<Item = u64> {
    FIRST_ID..FIRST_ID + n
}

/// An engine over `app` whose client budget is `rpm` requests per minute,
/// whatever the functions are given.
pub(crate) fn engine_with_rpm(app: &TestApp, rpm: u32) -> Result<Engine> {
    let lookup = app.lookup();
    let rpm = rpm.to_string();
    let config = EngineConfig::from_lookup(move |k| {
        if k == RPM_VARIABLE {
            Some(rpm.clone())
        } else {
            lookup(k)
        }
    })
    .map_err(|e| unexpected("building the engine", e.to_string()))?;
    Engine::new(config, app.blobs_client()).map_err(|source| BenchError::Engine {
        step: "building the engine".into(),
        source,
    })
}

/// `n` contacts in the dialer, all synced to Notion, then Notion-like
/// latency and budget switched on. The functions are given 180/min.
async fn seeded_app(n: u64) -> Result<TestApp> {
    progress(&format!("seeding and syncing {n} contacts"));
    let app = TestApp::spawn_with(AppOptions {
        rate_limit: GENEROUS_BUDGET,
        rate_window: Duration::from_secs(60),
        latency: Duration::ZERO,
        env: vec![(RPM_VARIABLE.into(), NOTION_LIKE.budget.to_string())],
    })
    .await;
    let app_ref = &app;
    stream::iter(contact_ids(n))
        .map(|id| async move { put_contact(app_ref, &contact(id), "seeding contacts").await })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;

    let engine = engine_with_rpm(&app, GENEROUS_BUDGET)?;
    let started = Instant::now();
    let mut created = 0;
    for _ in 0..3 {
        let r = run(&engine, Scope::All, "initial sync").await?;
        created += r.summary.created_in_notion;
        if r.summary.remaining == 0 && r.summary.failed == 0 {
            break;
        }
    }
    let pages = app.control().pages().len();
    if created as u64 != n || pages as u64 != n {
        return Err(unexpected(
            "initial sync",
            format!("{created} created, {pages} pages in Notion for {n} contacts"),
        ));
    }
    progress(&format!(
        "initial sync of {n} contacts took {} (generous budget)",
        secs(started.elapsed())
    ));
    app.control()
        .set_rate_limit(NOTION_LIKE.budget, NOTION_LIKE.window);
    app.control().set_latency(NOTION_LIKE.latency);
    Ok(app)
}

async fn run(engine: &Engine, scope: Scope, step: &str) -> Result<RunReport> {
    engine
        .run(RunOptions::new(scope, "bench"))
        .await
        .map_err(|source| BenchError::Engine {
            step: step.to_string(),
            source,
        })
}

/// A fresh window on the emulator and the emulator's log emptied.
fn fresh_window(app: &TestApp) {
    let control = app.control();
    control.set_rate_limit(NOTION_LIKE.budget, NOTION_LIKE.window);
    control.clear_log();
}

// ---------------------------------------------------------------------------
// Scenario 2: nothing changed

struct UnchangedRun {
    contacts: u64,
    run: usize,
    /// Runs 2 and 3 come a scheduled interval after the seeding sync (the
    /// emulator's clock moved on); run 1 comes at once, so Notion still
    /// returns the seeding sync's own writes, which sit inside the cursor's
    /// minute of overlap, and the run skips them by fingerprint.
    clock_advanced: bool,
    wall: Duration,
    notion: NotionTraffic,
    blobs: BlobsStats,
    full_scan: bool,
}

impl UnchangedRun {
    fn blobs_reads(&self) -> u64 {
        self.blobs.gets + self.blobs.lists
    }
}

async fn unchanged_runs(app: &TestApp, n: u64) -> Result<Vec<UnchangedRun>> {
    let mut runs = Vec::new();
    for run_no in 1..=3 {
        progress(&format!(
            "scenario 2: unchanged run {run_no} over {n} contacts"
        ));
        let clock_advanced = run_no >= 2;
        if run_no == 2 {
            app.control().advance(SCHEDULE_INTERVAL);
        }
        let engine = app.engine();
        fresh_window(app);
        let blobs_before = engine.blobs().stats();
        let started = Instant::now();
        let r = run(&engine, Scope::All, "scenario 2").await?;
        let wall = started.elapsed();
        runs.push(UnchangedRun {
            contacts: n,
            run: run_no,
            clock_advanced,
            wall,
            notion: NotionTraffic::from_log(&app.control().request_log()),
            blobs: engine.blobs().stats().since(&blobs_before),
            full_scan: r.full_scan,
        });
    }
    Ok(runs)
}

/// How far the emulator's clock moves before scenario 2's second run, as if
/// the next scheduled run came this much later.
const SCHEDULE_INTERVAL: Duration = Duration::from_secs(10 * 60);

impl UnchangedRun {
    fn label(&self) -> String {
        if self.clock_advanced {
            format!(
                "run {} (+{} min)",
                self.run,
                SCHEDULE_INTERVAL.as_secs() / 60
            )
        } else {
            format!("run {}", self.run)
        }
    }
}

fn report_unchanged(report: &mut Report, by_size: &[Vec<UnchangedRun>]) {
    let mut section = String::from(
        "Scenario 2, incremental Scope::All runs with nothing changed (side by side):\n",
    );
    let _ = writeln!(
        section,
        "  contacts | run             | wall    | notion req | notion writes | blobs gets | blobs lists | blobs sets | notion routes"
    );
    for r in by_size.iter().flatten() {
        let _ = writeln!(
            section,
            "  {:>8} | {:<15} | {:>7} | {:>10} | {:>13} | {:>10} | {:>11} | {:>10} | {}",
            r.contacts,
            r.label(),
            secs(r.wall),
            r.notion.total,
            r.notion.writes,
            r.blobs.gets,
            r.blobs.lists,
            r.blobs.sets,
            r.notion.routes_text()
        );
        let scenario = format!("2. unchanged x{} {}", r.contacts, r.label());
        report.rows.push(
            Row::new(
                &scenario,
                "notion requests",
                format!("{} ({})", r.notion.total, r.notion.routes_text()),
            )
            .target(
                "<= 2",
                ratio(r.notion.total as f64, 2.0),
                r.notion.total <= 2,
            ),
        );
        report.rows.push(
            Row::new(&scenario, "notion writes", r.notion.writes.to_string()).target(
                "0",
                None,
                r.notion.writes == 0,
            ),
        );
        report.rows.push(Row::new(
            &scenario,
            "blobs reads (gets+lists)",
            format!(
                "{} ({} gets + {} lists)",
                r.blobs_reads(),
                r.blobs.gets,
                r.blobs.lists
            ),
        ));
        report.json_lines.push(json!({
            "bench": "notion-sync",
            "scenario": "2-unchanged-incremental",
            "contacts": r.contacts,
            "run": r.run,
            "emulator_clock_advanced_s": if r.clock_advanced { SCHEDULE_INTERVAL.as_secs() } else { 0 },
            "full_scan": r.full_scan,
            "wall_s": r.wall.as_secs_f64(),
            "notion": r.notion.to_json(),
            "blobs": {"gets": r.blobs.gets, "lists": r.blobs.lists, "sets": r.blobs.sets,
                      "deletes": r.blobs.deletes, "heads": r.blobs.heads, "reads": r.blobs_reads()},
            "targets": {"notion_requests_max": 2, "notion_writes": 0},
        }));
    }
    // Growth: the same run at 100 and at 1,000 contacts. One listing may
    // grow by pages; nothing else may grow with the unchanged contacts.
    if let [small, large] = by_size {
        for (s, l) in small.iter().zip(large) {
            let scenario = format!("2. growth 100->1000 {}", s.label());
            let extra_gets = l.blobs.gets as i64 - s.blobs.gets as i64;
            report.rows.push(
                Row::new(
                    &scenario,
                    "blobs gets",
                    format!("{} vs {} (+{extra_gets})", s.blobs.gets, l.blobs.gets),
                )
                .target(
                    "no growth",
                    ratio(l.blobs.gets as f64, s.blobs.gets as f64),
                    extra_gets <= 0,
                ),
            );
            // Informative only: one listing of more keys may take more pages.
            report.rows.push(Row::new(
                &scenario,
                "blobs lists",
                format!("{} vs {}", s.blobs.lists, l.blobs.lists),
            ));
            report.rows.push(
                Row::new(
                    &scenario,
                    "notion requests",
                    format!("{} vs {}", s.notion.total, l.notion.total),
                )
                .target(
                    "no growth",
                    ratio(l.notion.total as f64, s.notion.total as f64),
                    l.notion.total <= s.notion.total,
                ),
            );
        }
    }
    report.sections.push(section);
}

// ---------------------------------------------------------------------------
// Scenario 1: one push after a call

/// The contact scenario 1 calls first; each further variant calls the next.
const CALLED_CONTACT: u64 = 1500;

/// One way of running the function for scenario 1.
struct PushVariant {
    /// "debug", "release", ...
    label: &'static str,
    contact: u64,
    /// Environment added to what `TestApp` gives the functions.
    extra_env: Vec<(String, String)>,
}

struct PushMeasurement {
    label: &'static str,
    contact: u64,
    extra_env: Vec<(String, String)>,
    cold_start: Duration,
    wall: Duration,
    notion: NotionTraffic,
    timeline: Vec<(String, i64)>,
    status: u16,
    function_report: Option<Value>,
    peak_rss_kib: Option<u64>,
}

async fn add_call(app: &TestApp, id: u64) -> Result<()> {
    let step = "scenario 1: adding a call";
    let c = get_contact(app, id, step).await?;
    let c = with_call(
        c,
        "2026-09-15T14:00:00.000Z",
        "Interested, call back Tuesday",
    )?;
    put_contact(app, &c, step).await
}

/// What the brief asks for: the harness's own (debug) binary via `TestApp::post`.
async fn push_after_call_debug(app: &TestApp, report: &mut Report) -> Result<()> {
    progress("scenario 1: push after a call, debug function via TestApp::post");
    let step = "scenario 1 (debug binary)";
    // Start the process with a request that touches neither side (405), so
    // the measured push is warm and its cold start is reported apart.
    let started = Instant::now();
    let warm = app.get(FUNCTION).await;
    let cold_start = started.elapsed();
    expect_405(&warm, step)?;
    let pid = child_pid_named(FUNCTION);

    add_call(app, CALLED_CONTACT).await?;
    fresh_window(app);
    let t0 = app.control().now();
    let started = Instant::now();
    let answer = app
        .post(FUNCTION, json!({"contactId": CALLED_CONTACT.to_string()}))
        .await;
    let wall = started.elapsed();
    let log = app.control().request_log();
    let m = PushMeasurement {
        label: "debug",
        contact: CALLED_CONTACT,
        extra_env: Vec::new(),
        cold_start,
        wall,
        notion: NotionTraffic::from_log(&log),
        timeline: timeline(&log, t0),
        status: answer.status,
        function_report: answer.json.clone(),
        peak_rss_kib: pid.and_then(peak_rss_kib),
    };
    report_push(report, &m);
    Ok(())
}

/// The release binary (what Netlify runs), started here with the same
/// environment plus `variant.extra_env`.
async fn push_after_call_release(
    app: &TestApp,
    path: &PathBuf,
    variant: PushVariant,
    report: &mut Report,
) -> Result<()> {
    progress(&format!(
        "scenario 1: push after a call, {} function started directly",
        variant.label
    ));
    let step = format!("scenario 1 ({})", variant.label);
    let mut env = app.env();
    for (k, v) in &variant.extra_env {
        env.retain(|(key, _)| key != k);
        env.push((k.clone(), v.clone()));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let started = Instant::now();
    let process =
        FunctionProcess::start_path(path, &env)
            .await
            .map_err(|e| BenchError::Function {
                step: step.clone(),
                source: Box::new(e),
            })?;
    let warm = invoke(app, &process, ApiEvent::get(&function_path()), &step).await?;
    let cold_start = started.elapsed();
    expect_405(&warm, &step)?;

    add_call(app, variant.contact).await?;
    fresh_window(app);
    let t0 = app.control().now();
    let started = Instant::now();
    let answer = invoke(
        app,
        &process,
        ApiEvent::post(&function_path()).json(&json!({"contactId": variant.contact.to_string()})),
        &step,
    )
    .await?;
    let wall = started.elapsed();
    let log = app.control().request_log();
    let m = PushMeasurement {
        label: variant.label,
        contact: variant.contact,
        extra_env: variant.extra_env,
        cold_start,
        wall,
        notion: NotionTraffic::from_log(&log),
        timeline: timeline(&log, t0),
        status: answer.status,
        function_report: answer.json.clone(),
        peak_rss_kib: process.pid().and_then(peak_rss_kib),
    };
    report_push(report, &m);
    Ok(())
}

fn expect_405(warm: &Invocation, step: &str) -> Result<()> {
    if warm.status == 405 {
        Ok(())
    } else {
        Err(unexpected(
            step,
            format!("the warm-up GET answered {}: {}", warm.status, warm.body),
        ))
    }
}

fn function_path() -> String {
    format!("/.netlify/functions/{FUNCTION}")
}

/// Invokes `process` with the `blobs` and site id Netlify adds, as
/// `TestApp::invoke` does for the processes it starts.
async fn invoke(
    app: &TestApp,
    process: &FunctionProcess,
    event: ApiEvent,
    step: &str,
) -> Result<Invocation> {
    let event = event
        .header(
            "authorization",
            &format!("Bearer {}", test_harness::app::TEST_API_KEY),
        )
        .blobs(&app.blobs.event_blobs_field())
        .site_id(app.blobs.site_id())
        .build();
    process
        .invoke(event)
        .await
        .map_err(|e| BenchError::Function {
            step: step.to_string(),
            source: Box::new(e),
        })
}

fn report_push(report: &mut Report, m: &PushMeasurement) {
    let scenario = format!("1. push after call ({})", m.label);
    let summary = m
        .function_report
        .as_ref()
        .map(|r| r["summary"].clone())
        .unwrap_or(Value::Null);
    let blobs_requests = m
        .function_report
        .as_ref()
        .and_then(|r| r["blobs_requests"].as_u64());
    let sequential_notion = NOTION_LIKE.latency * m.notion.total as u32;
    report.rows.push(
        Row::new(
            &scenario,
            "notion writes",
            format!(
                "{} ({} pages.update + {} blocks.children.append)",
                m.notion.writes,
                m.notion.by_route.get("pages.update").unwrap_or(&0),
                m.notion
                    .by_route
                    .get("blocks.children.append")
                    .unwrap_or(&0)
            ),
        )
        .target(
            "exactly 1",
            ratio(m.notion.writes as f64, 1.0),
            m.notion.writes == 1,
        ),
    );
    report.rows.push(Row::new(
        &scenario,
        "notion requests (done at)",
        format!("{}: {}", m.notion.total, timeline_text(&m.timeline)),
    ));
    // The emulator answers after its latency: the first request started
    // one latency before it finished. Everything before is Blobs and lock.
    if let Some(first_done) = m.timeline.iter().map(|(_, t)| *t).min() {
        let started_ms = first_done - NOTION_LIKE.latency.as_millis() as i64;
        report.rows.push(Row::new(
            &scenario,
            "before the first Notion request",
            format!("{started_ms} ms (lock, state and contact reads in Blobs)"),
        ));
    }
    report.rows.push(
        Row::new(
            &scenario,
            "wall time (warm)",
            format!(
                "{} ({} of it Notion latency if sequential)",
                secs(m.wall),
                secs(sequential_notion)
            ),
        )
        .target(
            "< 1 s",
            ratio(m.wall.as_secs_f64(), PUSH_WALL_TARGET.as_secs_f64()),
            m.wall < PUSH_WALL_TARGET,
        ),
    );
    report.rows.push(Row::new(
        &scenario,
        "cold start (spawn + first GET)",
        secs(m.cold_start),
    ));
    if let Some(n) = blobs_requests {
        report.rows.push(Row::new(
            &scenario,
            "blobs requests (all kinds)",
            n.to_string(),
        ));
    }
    report.rows.push(Row::new(
        &scenario,
        "peak RSS (VmHWM)",
        m.peak_rss_kib
            .map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
            .unwrap_or_else(|| "unavailable".into()),
    ));
    if m.status != 200 {
        report.notes.push(format!(
            "scenario 1 ({}) answered HTTP {}: {}",
            m.label,
            m.status,
            m.function_report.clone().unwrap_or(Value::Null)
        ));
    }
    report.json_lines.push(json!({
        "bench": "notion-sync",
        "scenario": "1-push-after-call",
        "function_build": m.label,
        "extra_env": m.extra_env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
        "contacts": 1000,
        "contact_id": m.contact,
        "status": m.status,
        "wall_s": m.wall.as_secs_f64(),
        "cold_start_s": m.cold_start.as_secs_f64(),
        "notion": m.notion.to_json(),
        "notion_timeline_ms": m.timeline,
        "blobs_requests": blobs_requests,
        "summary": summary,
        "peak_rss_kib": m.peak_rss_kib,
        "targets": {"notion_writes": 1, "wall_s_max": PUSH_WALL_TARGET.as_secs_f64()},
        "ratios": {"writes": m.notion.writes as f64, "wall": m.wall.as_secs_f64() / PUSH_WALL_TARGET.as_secs_f64()},
    }));
}

/// The deployable release binary (scripts/package), else a host release build.
fn release_function_binary() -> Option<PathBuf> {
    let packaged = crate::functions::packaged_binaries().map(|dir| dir.join(FUNCTION));
    let host = test_harness::lambda::target_dir()
        .join("release")
        .join(FUNCTION);
    packaged
        .into_iter()
        .chain([host])
        .find(|path| path.is_file())
}

/// The pid of this process's child named `name` (the function process
/// `TestApp` started and keeps to itself).
pub(crate) fn child_pid_named(name: &str) -> Option<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| parse_stat(&stat))
                .is_some_and(|(comm, ppid)| comm == name && ppid == me)
        })
}

/// `(comm, ppid)` from `/proc/<pid>/stat` ("pid (comm) state ppid ...").
fn parse_stat(stat: &str) -> Option<(String, u32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let ppid = stat
        .get(close + 1..)?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((comm, ppid))
}

/// Peak resident set size in KiB (`VmHWM` in `/proc/<pid>/status`).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

// ---------------------------------------------------------------------------
// Scenario 3: 100 changed contacts

async fn changed_contacts(app: &TestApp, changed: u64, report: &mut Report) -> Result<()> {
    progress(&format!(
        "scenario 3: {changed} contacts edited in the dialer, one run"
    ));
    let step = "scenario 3: editing contacts";
    // Every tenth contact, away from the two scenario 1 touched.
    let ids: Vec<u64> = contact_ids(1000)
        .filter(|id| (id - FIRST_ID) % 10 == 3)
        .take(changed as usize)
        .collect();
    for &id in &ids {
        let mut c = get_contact(app, id, step).await?;
        c["website"] = json!(format!("https://edited-{id}.test"));
        put_contact(app, &c, step).await?;
    }
    let engine = app.engine();
    fresh_window(app);
    let notion_before = engine.notion.stats();
    let blobs_before = engine.blobs().stats();
    let t0 = app.control().now();
    let started = Instant::now();
    let r = run(&engine, Scope::All, "scenario 3").await?;
    let wall = started.elapsed();
    let log = app.control().request_log();
    let notion = NotionTraffic::from_log(&log);
    let phases = Phases::from_timeline(&timeline(&log, t0));
    let ms = |t: Option<i64>| t.map_or("-".to_string(), |t| format!("{:.3} s", t as f64 / 1000.0));
    let client = engine.notion.stats();
    let client_429s = client.rate_limited_responses - notion_before.rate_limited_responses;
    let waited_ms = client.waited_ms - notion_before.waited_ms;
    let blobs = engine.blobs().stats().since(&blobs_before);
    let bound = TimeBound::new(notion.total, NOTION_LIKE);
    let tight = bound.tightest();
    let brief = bound.sustained_or_latency();
    let scenario = format!("3. {changed} changed of 1000");
    let updated_ok = r.summary.updated_in_notion as u64 == changed && r.summary.failed == 0;
    let edited: std::collections::BTreeSet<ContactId> = ids
        .iter()
        .filter_map(|id| id.to_string().parse().ok())
        .collect();
    let synced_edited = r
        .records
        .iter()
        .filter(|rec| rec.contact_id.is_some_and(|id| edited.contains(&id)))
        .count();

    report.rows.push(
        Row::new(
            &scenario,
            "records updated in Notion",
            format!(
                "{} updated, {} failed, {} remaining ({synced_edited} of the edited in the report)",
                r.summary.updated_in_notion, r.summary.failed, r.summary.remaining
            ),
        )
        .target(changed.to_string(), None, updated_ok),
    );
    report.rows.push(Row::new(
        &scenario,
        "notion requests",
        format!("{} ({})", notion.total, notion.routes_text()),
    ));
    report
        .rows
        .push(Row::new(&scenario, "wall time", secs(wall)));
    report.rows.push(Row::new(
        &scenario,
        "notion phases (done at)",
        format!(
            "reads by {}, writes {} to {}",
            ms(phases.reads_done_ms),
            ms(phases.first_write_done_ms),
            ms(phases.last_write_done_ms)
        ),
    ));
    report.rows.push(
        Row::new(
            &scenario,
            "wall / fastest possible",
            format!(
                "{} vs {} (max of budget {} and latency {})",
                secs(wall),
                secs(tight),
                secs(bound.budget),
                secs(bound.latency)
            ),
        )
        .target(
            format!("<= {BOUND_FACTOR_TARGET}x"),
            ratio(wall.as_secs_f64(), tight.as_secs_f64()),
            wall.as_secs_f64() <= BOUND_FACTOR_TARGET * tight.as_secs_f64(),
        ),
    );
    report.rows.push(
        Row::new(
            &scenario,
            "wall / requests at 3 per s",
            format!("{} vs {}", secs(wall), secs(brief)),
        )
        .target(
            format!("<= {BOUND_FACTOR_TARGET}x"),
            ratio(wall.as_secs_f64(), brief.as_secs_f64()),
            wall.as_secs_f64() <= BOUND_FACTOR_TARGET * brief.as_secs_f64(),
        ),
    );
    report.rows.push(
        Row::new(
            &scenario,
            "429s received",
            format!(
                "{} (client saw {client_429s}, waited {waited_ms} ms in limiter/backoff)",
                notion.rate_limited
            ),
        )
        .target("0", None, notion.rate_limited == 0),
    );
    report.rows.push(Row::new(
        &scenario,
        "blobs requests",
        format!(
            "{} gets, {} lists, {} sets",
            blobs.gets, blobs.lists, blobs.sets
        ),
    ));
    report.json_lines.push(json!({
        "bench": "notion-sync",
        "scenario": "3-changed-contacts",
        "contacts": 1000,
        "changed": changed,
        "wall_s": wall.as_secs_f64(),
        "notion": notion.to_json(),
        "client": {"rate_limited_responses": client_429s, "waited_ms": waited_ms},
        "phases_ms": {"reads_done": phases.reads_done_ms, "first_write_done": phases.first_write_done_ms,
                      "last_write_done": phases.last_write_done_ms},
        "blobs": {"gets": blobs.gets, "lists": blobs.lists, "sets": blobs.sets},
        "summary": r.summary,
        "bound_s": {"fastest": tight.as_secs_f64(), "budget": bound.budget.as_secs_f64(),
                    "latency": bound.latency.as_secs_f64(), "sustained": bound.sustained.as_secs_f64()},
        "ratios": {"wall_to_fastest": wall.as_secs_f64() / tight.as_secs_f64().max(f64::MIN_POSITIVE),
                   "wall_to_sustained": wall.as_secs_f64() / brief.as_secs_f64().max(f64::MIN_POSITIVE)},
        "targets": {"wall_to_bound_max": BOUND_FACTOR_TARGET},
    }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_line_gives_comm_and_parent() {
        let stat = "4242 (sync-to-notion) S 4000 4242 4000 0 -1 4194560";
        assert_eq!(parse_stat(stat), Some(("sync-to-notion".into(), 4000)));
        // A name with a parenthesis and spaces still parses.
        let odd = "7 (a) b c) R 1 7 7";
        assert_eq!(parse_stat(odd), Some(("a) b c".into(), 1)));
    }

    #[test]
    fn a_call_bumps_the_dial_count() -> Result<()> {
        let c = with_call(contact(1001), "2026-09-15T14:00:00.000Z", "hi")?;
        assert_eq!(c["totalDials"], 1);
        assert_eq!(c["callHistory"][0]["notes"], "hi");
        Ok(())
    }
}
