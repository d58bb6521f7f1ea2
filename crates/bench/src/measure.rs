//! The benchmark's pure part: what a request log says, the fastest a run
//! could possibly be under Notion's budget and latency, and how a measured
//! number compares with its target. No I/O here, so the arithmetic the
//! report rests on is unit-tested.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use notion_emulator::LoggedRequest;
use serde_json::{json, Value};

/// Routes that change data in Notion. Queries are POSTs but only read.
pub fn is_write(route: &str) -> bool {
    matches!(
        route,
        "pages.create" | "pages.update" | "blocks.children.append" | "blocks.update"
    ) || route.starts_with("blocks.delete")
}

/// What one step sent to Notion, as the emulator logged it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotionTraffic {
    /// Requests per route name, any status.
    pub by_route: BTreeMap<String, usize>,
    pub total: usize,
    pub writes: usize,
    /// 429 answers (the emulator's budget was spent).
    pub rate_limited: usize,
}

impl NotionTraffic {
    pub fn from_log(log: &[LoggedRequest]) -> Self {
        let mut traffic = NotionTraffic::default();
        for request in log {
            *traffic.by_route.entry(request.route.clone()).or_default() += 1;
            traffic.total += 1;
            if is_write(&request.route) {
                traffic.writes += 1;
            }
            if request.status == 429 {
                traffic.rate_limited += 1;
            }
        }
        traffic
    }

    /// `pages.update=1, blocks.children.append=1`, for the table.
    pub fn routes_text(&self) -> String {
        if self.by_route.is_empty() {
            return "none".to_string();
        }
        self.by_route
            .iter()
            .map(|(route, n)| format!("{route}={n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn to_json(&self) -> Value {
        json!({
            "by_route": self.by_route,
            "total": self.total,
            "writes": self.writes,
            "rate_limited": self.rate_limited,
        })
    }
}

/// When each request finished, in ms after `start` (emulator clock), for
/// seeing which requests ran one after another.
pub fn timeline(log: &[LoggedRequest], start: DateTime<Utc>) -> Vec<(String, i64)> {
    log.iter()
        .map(|r| (r.route.clone(), (r.at - start).num_milliseconds()))
        .collect()
}

/// `route@ms` for each request, in the order they finished.
pub fn timeline_text(timeline: &[(String, i64)]) -> String {
    timeline
        .iter()
        .map(|(route, ms)| format!("{route}@{ms}ms"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a run's Notion time went: reads before writes, writes in parallel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Phases {
    /// When the last read finished (ms after the start).
    pub reads_done_ms: Option<i64>,
    pub first_write_done_ms: Option<i64>,
    pub last_write_done_ms: Option<i64>,
}

impl Phases {
    pub fn from_timeline(timeline: &[(String, i64)]) -> Self {
        let reads = timeline
            .iter()
            .filter(|(r, _)| !is_write(r))
            .map(|(_, t)| *t);
        let writes = || {
            timeline
                .iter()
                .filter(|(r, _)| is_write(r))
                .map(|(_, t)| *t)
        };
        Phases {
            reads_done_ms: reads.max(),
            first_write_done_ms: writes().min(),
            last_write_done_ms: writes().max(),
        }
    }
}

/// The conditions a run is measured under.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NotionLimits {
    /// Requests allowed per `window` (Notion: 180 per minute).
    pub budget: u32,
    pub window: Duration,
    /// Added by the emulator to every request.
    pub latency: Duration,
    /// Requests the engine keeps in flight at once.
    pub concurrency: usize,
}

/// Lower bounds on a run's wall time for `requests` requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeBound {
    /// The sustained rate alone: `requests / (budget / window)`. Ignores the
    /// burst a fresh window allows, so a short run can beat it.
    pub sustained: Duration,
    /// The budget as a sliding window starting empty: request k (from 0)
    /// cannot start before `floor(k / budget)` windows have passed, and the
    /// last one still takes one latency to answer.
    pub budget: Duration,
    /// Latency alone: `requests * latency / concurrency`.
    pub latency: Duration,
}

impl TimeBound {
    pub fn new(requests: usize, limits: NotionLimits) -> Self {
        let budget = limits.budget.max(1) as f64;
        let window = limits.window.as_secs_f64();
        let concurrency = limits.concurrency.max(1) as f64;
        let n = requests as f64;
        let windows_waited = if requests == 0 {
            0.0
        } else {
            ((requests - 1) as f64 / budget).floor()
        };
        let last_latency = if requests == 0 {
            0.0
        } else {
            limits.latency.as_secs_f64()
        };
        TimeBound {
            sustained: Duration::from_secs_f64(n * window / budget),
            budget: Duration::from_secs_f64(windows_waited * window + last_latency),
            latency: Duration::from_secs_f64(n * limits.latency.as_secs_f64() / concurrency),
        }
    }

    /// The fastest the run could be: whichever of budget and latency binds.
    pub fn tightest(&self) -> Duration {
        self.budget.max(self.latency)
    }

    /// The brief's bound: the sustained rate, or latency where that dominates.
    pub fn sustained_or_latency(&self) -> Duration {
        self.sustained.max(self.latency)
    }
}

/// `measured / target`; `None` when the target is zero (then only "met or
/// not" means anything).
pub fn ratio(measured: f64, target: f64) -> Option<f64> {
    (target > 0.0).then(|| measured / target)
}

/// The target for a function's cold start.
pub const COLD_START_TARGET: Duration = Duration::from_millis(50);

/// One function's deployable binary, measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BinaryFigures {
    pub function: String,
    pub size_bytes: u64,
    /// Process start to first answer, one per fresh process.
    pub cold_starts: Vec<Duration>,
    /// The largest VmHWM seen after a first answer.
    pub peak_rss_kib: Option<u64>,
}

impl BinaryFigures {
    pub fn cold_start_median(&self) -> Duration {
        median(&self.cold_starts)
    }

    /// Size, cold start (against [`COLD_START_TARGET`]) and peak memory.
    pub fn rows(&self) -> Vec<Row> {
        let scenario = format!("function {}", self.function);
        let median = self.cold_start_median();
        let (min, max) = (
            self.cold_starts.iter().min().copied().unwrap_or_default(),
            self.cold_starts.iter().max().copied().unwrap_or_default(),
        );
        vec![
            Row::new(&scenario, "release binary", megabytes(self.size_bytes)),
            Row::new(
                &scenario,
                "cold start (median)",
                format!(
                    "{} (min {}, max {}, {} starts)",
                    millis(median),
                    millis(min),
                    millis(max),
                    self.cold_starts.len()
                ),
            )
            .target(
                format!("< {}", millis(COLD_START_TARGET)),
                ratio(median.as_secs_f64(), COLD_START_TARGET.as_secs_f64()),
                median < COLD_START_TARGET,
            ),
            Row::new(
                &scenario,
                "peak memory (RSS)",
                self.peak_rss_kib
                    .map(|kib| megabytes(kib * 1024))
                    .unwrap_or_else(|| "unknown".into()),
            ),
        ]
    }

    pub fn to_json(&self) -> Value {
        json!({
            "bench": "notion-sync",
            "scenario": "function-binary",
            "function": self.function,
            "size_bytes": self.size_bytes,
            "cold_start_ms": self.cold_starts.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>(),
            "cold_start_median_ms": self.cold_start_median().as_secs_f64() * 1e3,
            "peak_rss_kib": self.peak_rss_kib,
            "targets": {"cold_start_ms_max": COLD_START_TARGET.as_secs_f64() * 1e3},
            "ratios": {"cold_start": self.cold_start_median().as_secs_f64() / COLD_START_TARGET.as_secs_f64()},
        })
    }
}

/// The middle value (the lower of the two middle ones); zero when empty.
pub fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or_default()
}

pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// One line of the printed table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub scenario: String,
    pub metric: String,
    pub measured: String,
    pub target: String,
    pub ratio: Option<f64>,
    pub met: Option<bool>,
}

impl Row {
    pub fn new(scenario: &str, metric: &str, measured: impl Into<String>) -> Self {
        Row {
            scenario: scenario.to_string(),
            metric: metric.to_string(),
            measured: measured.into(),
            target: String::new(),
            ratio: None,
            met: None,
        }
    }

    pub fn target(mut self, target: impl Into<String>, ratio: Option<f64>, met: bool) -> Self {
        self.target = target.into();
        self.ratio = ratio;
        self.met = Some(met);
        self
    }
}

/// The rows as an aligned plain-text table.
pub fn render_table(rows: &[Row]) -> String {
    let header = ["scenario", "metric", "measured", "target", "ratio", "met"];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.scenario.clone(),
                r.metric.clone(),
                r.measured.clone(),
                r.target.clone(),
                r.ratio.map(|x| format!("{x:.2}x")).unwrap_or_default(),
                match r.met {
                    Some(true) => "yes".to_string(),
                    Some(false) => "NO".to_string(),
                    None => String::new(),
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    let mut out = String::new();
    out.push_str(&line(&header.map(String::from)));
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-"),
    );
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

pub fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(route: &str, status: u16) -> LoggedRequest {
        LoggedRequest {
            method: "GET".into(),
            route: route.into(),
            path: "/v1/x".into(),
            status,
            at: chrono::DateTime::UNIX_EPOCH,
            version: None,
        }
    }

    const NOTION_LIKE: NotionLimits = NotionLimits {
        budget: 180,
        window: Duration::from_secs(60),
        latency: Duration::from_millis(200),
        concurrency: 8,
    };

    #[test]
    fn traffic_counts_routes_writes_and_429s() {
        let log = [
            logged("data_sources.retrieve", 200),
            logged("pages.retrieve", 200),
            logged("pages.update", 200),
            logged("blocks.children.append", 200),
            logged("data_sources.query", 429),
        ];
        let t = NotionTraffic::from_log(&log);
        assert_eq!(t.total, 5);
        assert_eq!(t.writes, 2);
        assert_eq!(t.rate_limited, 1);
        assert_eq!(t.by_route["pages.update"], 1);
        assert_eq!(
            t.routes_text(),
            "blocks.children.append=1, data_sources.query=1, data_sources.retrieve=1, pages.retrieve=1, pages.update=1"
        );
    }

    #[test]
    fn a_short_run_is_bound_by_latency_not_the_budget() {
        let b = TimeBound::new(112, NOTION_LIKE);
        assert!((b.sustained.as_secs_f64() - 37.333).abs() < 0.01);
        assert_eq!(b.budget, Duration::from_millis(200));
        assert!((b.latency.as_secs_f64() - 2.8).abs() < 1e-9);
        assert_eq!(b.tightest(), b.latency);
        assert_eq!(b.sustained_or_latency(), b.sustained);
    }

    #[test]
    fn a_run_over_the_budget_waits_whole_windows() {
        let b = TimeBound::new(361, NOTION_LIKE);
        assert!((b.budget.as_secs_f64() - 120.2).abs() < 1e-9);
        assert_eq!(b.tightest(), b.budget);
        assert_eq!(TimeBound::new(180, NOTION_LIKE).budget, NOTION_LIKE.latency);
        assert_eq!(TimeBound::new(0, NOTION_LIKE).tightest(), Duration::ZERO);
    }

    #[test]
    fn phases_split_reads_from_writes() {
        let t = |r: &str, ms: i64| (r.to_string(), ms);
        let timeline = [
            t("data_sources.query", 200),
            t("pages.update", 450),
            t("pages.update", 420),
        ];
        assert_eq!(
            Phases::from_timeline(&timeline),
            Phases {
                reads_done_ms: Some(200),
                first_write_done_ms: Some(420),
                last_write_done_ms: Some(450)
            }
        );
        assert_eq!(timeline_text(&timeline[..1]), "data_sources.query@200ms");
    }

    #[test]
    fn ratio_needs_a_nonzero_target() {
        assert_eq!(ratio(2.0, 1.0), Some(2.0));
        assert_eq!(ratio(0.0, 0.0), None);
    }

    #[test]
    fn a_binary_reports_size_median_cold_start_against_50_ms_and_memory() {
        let ms = Duration::from_millis;
        let figures = BinaryFigures {
            function: "sync-status".into(),
            size_bytes: 12_345_678,
            cold_starts: vec![ms(30), ms(10), ms(20), ms(90)],
            peak_rss_kib: Some(8_000),
        };
        assert_eq!(figures.cold_start_median(), ms(20));
        let rows = figures.rows();
        assert_eq!(rows[0].measured, "12.3 MB");
        assert_eq!(
            rows[1].measured,
            "20.0 ms (min 10.0 ms, max 90.0 ms, 4 starts)"
        );
        assert!((rows[1].ratio.unwrap() - 0.4).abs() < 1e-9);
        assert_eq!(rows[1].met, Some(true));
        assert_eq!(rows[2].measured, "8.2 MB");
        assert_eq!(figures.to_json()["cold_start_median_ms"], 20.0);
        assert_eq!(median(&[]), Duration::ZERO);
    }

    #[test]
    fn table_aligns_columns() {
        let rows = [
            Row::new("1", "writes", "2").target("1", Some(2.0), false),
            Row::new("2", "wall", "0.5 s"),
        ];
        let table = render_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[2].contains("2.00x") && lines[2].ends_with("NO"));
        assert_eq!(lines[0].find("metric"), lines[2].find("writes"));
    }
}
