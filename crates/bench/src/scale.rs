//! Scenario 6: 10 to 10,000 contacts, as a team after a year has them,
//! through the `scheduled-sync` binary invoked back to back with Netlify's
//! 30-second limit (the budget raised to 1,800 requests a minute and the
//! latency cut to 50 ms, as issue 11 says, so 10,000 fit in minutes):
//! the first import until done, an idle run, then 1% and 10% of the
//! contacts changed. Per step: invocations, Notion and Blobs requests, wall
//! time, whether every invocation answered before its deadline, the
//! function's peak memory, and the ratio to the floor (the Notion requests
//! the step needed at the budget). Beside it, a naive sync (per contact:
//! query by Dialer ID, then create or update, one at a time) for the ratio.
//!
//! `BENCH_SIZES=10,100` picks the sizes, `BENCH_NO_NAIVE=1` skips the naive
//! sync, `BENCH_ROUTES=1` prints each step's Notion requests by route and
//! the cursor it left (to see where requests go), and after each
//! invocation the function's peak memory so far (to see what raises it).

use std::time::{Duration, Instant};

use futures::{stream, StreamExt, TryStreamExt};
use serde_json::{json, Map, Value};
use test_harness::app::{AppOptions, TestApp};

use crate::measure::{megabytes, ratio, secs, Row};
use crate::scenarios::{child_pid_named, peak_rss_kib, progress, put_contact, unexpected, Result};

/// Issue 11's conditions.
const BUDGET: u32 = 1_800;
const LATENCY: Duration = Duration::from_millis(50);
const DEADLINE: Duration = Duration::from_secs(30);
/// Requests the engine has in flight at once.
const CONCURRENCY: u64 = 8;
const FUNCTION: &str = "scheduled-sync";
const FIRST_ID: u64 = 1001;
/// Targets.
const RSS_TARGET_MB: f64 = 64.0;
const FLOOR_FACTOR_TARGET: f64 = 1.2;
const IDLE_NOTION_TARGET: u64 = 2;
const IDLE_WALL_TARGET: Duration = Duration::from_secs(2);

/// The sizes measured (`BENCH_SIZES=10,100` to choose).
pub fn sizes() -> Vec<u64> {
    std::env::var("BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .filter(|v: &Vec<u64>| !v.is_empty())
        .unwrap_or_else(|| vec![10, 100, 1_000, 10_000])
}

/// What a step took: every invocation until nothing was left.
#[derive(Default, Debug)]
struct Step {
    invocations: u32,
    notion: u64,
    blobs: u64,
    wall: Duration,
    /// Invocations that found Notion's budget spent and did nothing.
    idle_ticks: u32,
    /// The longest any invocation took to answer.
    slowest: Duration,
    overran: u32,
}

impl Step {
    /// The wall time Notion's budget allows at best for this many requests:
    /// a full window per budget's worth before the last, and the last
    /// window's share at the latency, `CONCURRENCY` at a time.
    fn floor(&self) -> Duration {
        let windows = self.notion.saturating_sub(1) / BUDGET as u64;
        let rest = self.notion - windows * BUDGET as u64;
        Duration::from_secs(60 * windows) + LATENCY * (rest.div_ceil(CONCURRENCY)) as u32
    }
}

pub struct ScaleFigures {
    pub rows: Vec<Row>,
    pub json: Vec<Value>,
}

pub async fn measure(release: Option<&std::path::Path>) -> Result<ScaleFigures> {
    let mut out = ScaleFigures {
        rows: Vec::new(),
        json: Vec::new(),
    };
    for n in sizes() {
        measure_size(n, release, &mut out).await?;
    }
    Ok(out)
}

async fn measure_size(
    n: u64,
    release: Option<&std::path::Path>,
    out: &mut ScaleFigures,
) -> Result<()> {
    let app = TestApp::spawn_with(AppOptions {
        rate_limit: BUDGET,
        rate_window: Duration::from_secs(60),
        latency: LATENCY,
        env: vec![
            ("NOTION_REQUESTS_PER_MINUTE".into(), BUDGET.to_string()),
            // Every tick is due, whatever the hour the bench runs at.
            ("SYNC_AFTER_HOURS_EVERY".into(), "5".into()),
            ("SYNC_WEEKEND_EVERY".into(), "5".into()),
        ],
    })
    .await;
    if let Some(path) = release {
        app.run_function_from(FUNCTION, path, &[]).await;
    }
    progress(&format!("scale {n}: seeding the dialer"));
    seed(&app, n).await?;
    progress(&format!("scale {n}: first import through {FUNCTION}"));
    let import = until_done(&app, &format!("scale {n}: first import")).await?;
    let pages = app.control().pages().len() as u64;
    if pages != n {
        return Err(unexpected(
            &format!("scale {n}: first import"),
            format!("{pages} pages for {n} contacts"),
        ));
    }
    // Past the minute Notion rounds edit times to, so the import's own
    // writes are behind the cursor.
    app.control().advance(Duration::from_secs(120));
    until_done(&app, "settling").await?;
    let idle = until_done(&app, &format!("scale {n}: idle")).await?;
    let mut changed = Vec::new();
    for percent in [1, 10] {
        let k = (n * percent / 100).max(1);
        edit(&app, n, k).await?;
        changed.push((
            percent,
            until_done(&app, &format!("scale {n}: {percent}% changed")).await?,
        ));
    }
    let rss = child_pid_named(FUNCTION).and_then(peak_rss_kib);
    drop(app);
    progress(&format!("scale {n}: the naive sync"));
    let naive = if std::env::var("BENCH_NO_NAIVE").is_ok() {
        Step::default()
    } else {
        naive_import(n).await?
    };
    report(n, &import, &idle, &changed, rss, naive, out);
    Ok(())
}

async fn seed(app: &TestApp, n: u64) -> Result<()> {
    stream::iter(FIRST_ID..FIRST_ID + n)
        .map(|id| async move { put_contact(app, &contact(id), "seeding").await })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

fn contact(id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "companyName": format!("Company {id}"),
        "phone": format!("+1 415 555 {:04}", id % 10_000),
        "website": format!("https://company-{id}.test"),
        "totalDials": 0,
        "callHistory": [],
        "createdAt": "2026-09-01T09:00:00.000Z"
    })
}

/// `k` contacts spread over the `n` edited in the dialer.
async fn edit(app: &TestApp, n: u64, k: u64) -> Result<()> {
    let step = n / k;
    for i in 0..k {
        let id = FIRST_ID + i * step;
        let mut c = contact(id);
        c["website"] = json!(format!("https://edited-{id}-{k}.test"));
        put_contact(app, &c, "editing").await?;
    }
    Ok(())
}

/// Invokes the scheduled function back to back until a run leaves nothing.
async fn until_done(app: &TestApp, step: &str) -> Result<Step> {
    let mut s = Step::default();
    let started = Instant::now();
    let notion_before = app.control().request_log().len() as u64;
    loop {
        let t = Instant::now();
        let inv = app.scheduled_within(DEADLINE).await;
        let took = t.elapsed();
        s.invocations += 1;
        s.slowest = s.slowest.max(took);
        if took > DEADLINE {
            s.overran += 1;
        }
        let body = inv.json.unwrap_or(Value::Null);
        if !(200..300).contains(&inv.status) || body["status"] == "skipped" {
            return Err(unexpected(step, format!("{}: {}", inv.status, inv.body)));
        }
        s.blobs += body["blobs_requests"].as_u64().unwrap_or(0);
        if std::env::var("BENCH_ROUTES").is_ok() {
            let peak = child_pid_named(FUNCTION).and_then(peak_rss_kib);
            progress(&format!(
                "{step}: invocation {} took {took:.1?}, {} left, function peak {} MB so far",
                s.invocations + s.idle_ticks,
                body["summary"]["remaining"],
                peak.map_or("-".into(), |k| (k / 1024).to_string())
            ));
        }
        if body["out_of_time"] == true {
            // Notion's budget for this minute is spent: the scheduler's next
            // tick would come later; this one did nothing.
            s.invocations -= 1;
            s.idle_ticks += 1;
            tokio::time::sleep(Duration::from_secs(2)).await;
            continue;
        }
        let remaining = body["summary"]["remaining"].as_u64().unwrap_or(0);
        let failed = body["summary"]["failed"].as_u64().unwrap_or(0);
        if remaining == 0 && failed == 0 {
            break;
        }
        if s.invocations + s.idle_ticks > 500 {
            return Err(unexpected(step, "no end after 500 invocations"));
        }
    }
    s.wall = started.elapsed();
    s.notion = app.control().request_log().len() as u64 - notion_before;
    if std::env::var("BENCH_ROUTES").is_ok() {
        let mut routes = std::collections::BTreeMap::<String, usize>::new();
        for r in app
            .control()
            .request_log()
            .iter()
            .skip(notion_before as usize)
        {
            *routes
                .entry(format!("{} {}", r.route, r.status))
                .or_default() += 1;
        }
        progress(&format!("{step}: {routes:?}"));
        let state: Option<Value> = app.sync_state().get_json("state").await.ok().flatten();
        if let Some(st) = state {
            progress(&format!(
                "  cursor {} full scan {} first done {} emulator now {}",
                st["notion_cursor"],
                st["last_full_scan"],
                st["first_sync_done"],
                app.control().now()
            ));
        }
    }
    Ok(s)
}

/// Per contact: a query by Dialer ID, then a create (the first import), one
/// at a time, under the same budget and latency.
async fn naive_import(n: u64) -> Result<Step> {
    let app = TestApp::spawn_with(AppOptions {
        rate_limit: BUDGET,
        rate_window: Duration::from_secs(60),
        latency: LATENCY,
        env: Vec::new(),
    })
    .await;
    let engine = crate::scenarios::engine_with_rpm(&app, BUDGET)?;
    let notion = &engine.notion;
    let ds = app.control().data_source_id();
    let started = Instant::now();
    let fail = |e: sync_engine::EngineError| unexpected("the naive sync", e.to_string());
    for id in FIRST_ID..FIRST_ID + n {
        let found = notion
            .query_by_number(&ds, "Dialer ID", id as i64)
            .await
            .map_err(|e| fail(e.into()))?;
        let mut props = Map::new();
        props.insert(
            "Name".into(),
            json!({"title": [{"text": {"content": format!("Company {id}")}}]}),
        );
        props.insert("Dialer ID".into(), json!({"number": id}));
        props.insert(
            "Phone".into(),
            json!({"phone_number": format!("+1 415 555 {:04}", id % 10_000)}),
        );
        match found.first() {
            Some(page) => drop(
                notion
                    .update_page(&page.id, props)
                    .await
                    .map_err(|e| fail(e.into()))?,
            ),
            None => drop(
                notion
                    .create_page(&ds, props, vec![], None)
                    .await
                    .map_err(|e| fail(e.into()))?,
            ),
        }
    }
    Ok(Step {
        invocations: 1,
        notion: app.control().request_log().len() as u64,
        wall: started.elapsed(),
        ..Step::default()
    })
}

fn report(
    n: u64,
    import: &Step,
    idle: &Step,
    changed: &[(u64, Step)],
    rss_kib: Option<u64>,
    naive: Step,
    out: &mut ScaleFigures,
) {
    let scenario = format!("6. {n} contacts");
    let floor_ratio = import.wall.as_secs_f64() / import.floor().as_secs_f64().max(0.001);
    let naive_ratio = naive.wall.as_secs_f64() / import.wall.as_secs_f64().max(0.001);
    let rss_mb = rss_kib.map(|k| k as f64 / 1024.0);
    let step_text = |s: &Step| {
        format!(
            "{} run(s){}, {} Notion, {} Blobs, {} (slowest answer {})",
            s.invocations,
            if s.idle_ticks > 0 {
                format!(" + {} with the budget spent", s.idle_ticks)
            } else {
                String::new()
            },
            s.notion,
            s.blobs,
            secs(s.wall),
            secs(s.slowest)
        )
    };
    out.rows.push(
        Row::new(&scenario, "first import", step_text(import)).target(
            format!("<= {FLOOR_FACTOR_TARGET}x floor ({})", secs(import.floor())),
            Some(floor_ratio),
            floor_ratio <= FLOOR_FACTOR_TARGET,
        ),
    );
    out.rows.push(
        Row::new(
            &scenario,
            "naive sync, first import",
            format!("{} Notion, {}", naive.notion, secs(naive.wall)),
        )
        .target("ratio: naive / ours", Some(naive_ratio), naive_ratio >= 1.0),
    );
    out.rows.push(
        Row::new(&scenario, "every answer before its deadline", {
            let all: u32 =
                import.overran + idle.overran + changed.iter().map(|(_, s)| s.overran).sum::<u32>();
            format!("{all} overran")
        })
        .target(
            "0",
            None,
            import.overran + idle.overran == 0 && changed.iter().all(|(_, s)| s.overran == 0),
        ),
    );
    out.rows
        .push(Row::new(&scenario, "idle run", step_text(idle)).target(
            format!(
                "<= {IDLE_NOTION_TARGET} Notion, < {}",
                secs(IDLE_WALL_TARGET)
            ),
            ratio(idle.notion as f64, IDLE_NOTION_TARGET as f64),
            idle.notion <= IDLE_NOTION_TARGET && idle.wall < IDLE_WALL_TARGET,
        ));
    for (percent, s) in changed {
        out.rows.push(Row::new(
            &scenario,
            &format!("{percent}% changed"),
            step_text(s),
        ));
    }
    out.rows.push(
        Row::new(
            &scenario,
            "function peak memory",
            rss_kib.map_or("-".into(), |k| megabytes(k * 1024)),
        )
        .target(
            format!("< {RSS_TARGET_MB} MB"),
            rss_mb.and_then(|m| ratio(m, RSS_TARGET_MB)),
            rss_mb.is_some_and(|m| m < RSS_TARGET_MB),
        ),
    );
    let step_json = |s: &Step| {
        json!({"invocations": s.invocations, "budget_spent_invocations": s.idle_ticks, "notion_requests": s.notion, "blobs_requests": s.blobs,
               "wall_ms": s.wall.as_millis(), "slowest_ms": s.slowest.as_millis(), "overran": s.overran})
    };
    out.json.push(json!({
        "scenario": "scale",
        "contacts": n,
        "budget_per_minute": BUDGET,
        "latency_ms": LATENCY.as_millis(),
        "first_import": step_json(import),
        "floor_ms": import.floor().as_millis(),
        "ratio_to_floor": floor_ratio,
        "idle": step_json(idle),
        "changed": changed.iter().map(|(p, s)| json!({"percent": p, "run": step_json(s)})).collect::<Vec<_>>(),
        "peak_rss_kib": rss_kib,
        "naive": {"notion_requests": naive.notion, "wall_ms": naive.wall.as_millis()},
        "naive_over_ours": naive_ratio,
    }));
}
