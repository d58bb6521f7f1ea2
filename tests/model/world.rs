//! One sequence's world: a fresh Notion emulator, a fresh pair of stores on
//! the shared Blobs server, fault proxies in front of both, a shifted clock,
//! the people, and the oracle. `apply` plays one step; `settle` stops the
//! faults, answers every conflict and runs until the sides should agree.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use netlify_blobs::{BlobsClient, RetryPolicy};
use notion_emulator::{Emulator, EmulatorConfig, Fault, FaultKind, RunningEmulator};
use serde_json::json;
use sync_core::{ContactId, ContactPolicy, FieldChoice, Resolution};
use sync_engine::clock::Clock;
use sync_engine::jobs::Pushed;
use sync_engine::{Engine, EngineConfig, EngineError, RunOptions, Scope};
use test_harness::blobs_server::RunningBlobsServer;
use test_harness::fault_proxy::{FaultProxy, Hook, Seen, Timeline, Verdict};
use tokio::sync::Notify;

use super::oracle::{Corpus, Obs, Oracle, StepReport};
use super::person::Person;
use super::steps::{FaultKindSpec, How, Run, Step, Twist};

/// What a sequence did, for the summary line.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub steps: usize,
    pub runs: usize,
    pub failed_runs: usize,
}

pub struct World {
    notion: RunningEmulator,
    timeline: Timeline,
    _proxies: (FaultProxy, FaultProxy),
    env_proxied: Vec<(String, String)>,
    env_direct: Vec<(String, String)>,
    blobs_proxied: BlobsClient,
    blobs_direct: BlobsClient,
    contacts_store: String,
    state_store: String,
    clock: Clock,
    pub person: Person,
    pub oracle: Oracle,
    pub tally: Tally,
    /// Lines describing what each run did (printed with a failure).
    pub trace: Vec<String>,
}

fn blobs_client(server: &RunningBlobsServer, url: &str) -> BlobsClient {
    let field = base64::engine::general_purpose::STANDARD.encode(
        json!({"url": url, "url_uncached": url, "token": server.token(), "primary_region": "dev"})
            .to_string(),
    );
    BlobsClient::from_event_blobs(&field, server.site_id())
        .expect("blobs client")
        .with_retry_policy(RetryPolicy {
            max_retries: 2,
            base_backoff: Duration::from_millis(1),
            max_wait: Duration::from_millis(5),
        })
}

impl World {
    pub async fn new(blobs: &RunningBlobsServer, policy: ContactPolicy, name: &str) -> World {
        let notion = Emulator::start(EmulatorConfig {
            rate_limit: 100_000,
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator");
        let timeline = Timeline::new();
        let blobs_proxy = FaultProxy::start("blobs", blobs.url(), &timeline)
            .await
            .expect("proxy");
        let notion_proxy = FaultProxy::start("notion", &notion.base_url(), &timeline)
            .await
            .expect("proxy");
        let contacts_store = format!("contacts-{name}");
        let state_store = format!("sync-{name}");
        let policy = match policy {
            ContactPolicy::LastEditWins => "last_edit_wins",
            ContactPolicy::DialerWins => "dialer_wins",
            ContactPolicy::NotionWins => "notion_wins",
            ContactPolicy::Ask => "ask",
        };
        let env = |notion_url: &str| -> Vec<(String, String)> {
            [
                (
                    "NOTION_API_TOKEN",
                    notion_emulator::DEFAULT_TOKEN.to_string(),
                ),
                ("NOTION_DATABASE_ID", notion.control().database_id()),
                ("NOTION_API_URL", notion_url.to_string()),
                ("SITE_ID", blobs.site_id().to_string()),
                ("DIALER_CONTACTS_STORE", contacts_store.clone()),
                ("SYNC_STATE_STORE", state_store.clone()),
                ("SYNC_CONFLICT_POLICY", policy.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
        };
        let clock = Clock::shifted();
        let blobs_direct = blobs_client(blobs, blobs.url());
        let person = Person::new(
            blobs_direct.store(&contacts_store),
            notion.control(),
            clock.clone(),
        );
        World {
            env_proxied: env(&notion_proxy.url()),
            env_direct: env(&notion.base_url()),
            blobs_proxied: blobs_client(blobs, &blobs_proxy.url()),
            blobs_direct,
            notion,
            timeline,
            _proxies: (blobs_proxy, notion_proxy),
            contacts_store,
            state_store,
            clock,
            person,
            oracle: Oracle::default(),
            tally: Tally::default(),
            trace: Vec::new(),
        }
    }

    /// An engine as a function builds it; through the fault proxies or not.
    fn engine(&self, proxied: bool) -> Engine {
        let env = if proxied {
            &self.env_proxied
        } else {
            &self.env_direct
        };
        let lookup = |k: &str| env.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let mut config = EngineConfig::from_lookup(lookup).expect("model config");
        config.clock = self.clock.clone();
        config.concurrency = 4;
        config.notion.max_retries = 2;
        config.notion.max_rate_limit_retries = 2;
        config.notion.retry_base_delay = Duration::from_millis(1);
        config.notion.retry_max_delay = Duration::from_millis(5);
        // A 429 that asks for a wait ends the run (its records wait for the next).
        config.notion.max_retry_after = Duration::ZERO;
        config.notion.request_timeout = Duration::from_secs(20);
        let blobs = if proxied {
            &self.blobs_proxied
        } else {
            &self.blobs_direct
        };
        Engine::new(config, blobs.clone()).expect("engine")
    }

    fn advance(&self, minutes: i64) {
        self.clock.advance(chrono::Duration::minutes(minutes));
        self.notion
            .control()
            .advance(Duration::from_secs(60 * minutes as u64));
    }

    /// Plays one step and checks it. Returns the oracle's complaints.
    pub async fn apply(&mut self, step: &Step) -> Vec<String> {
        self.tally.steps += 1;
        let ran = matches!(step, Step::Run { .. } | Step::Together(..));
        // A run that loses its lease while Notion fails may leave a call note
        // logged twice, or a page made twice, until a later run removes the
        // copy (README: limits).
        let cleanup_may_fail = self.notion.control().faults_pending();
        if matches!(
            step,
            Step::Run {
                twist: Some(Twist::LeaseExpires { .. }),
                ..
            }
        ) && cleanup_may_fail
        {
            self.oracle.repeat_grace = true;
        } else if ran && !cleanup_may_fail {
            self.oracle.repeat_grace = false;
        }
        match *step {
            Step::DialerCreate { phone, updated_at } => {
                self.person.create_contact(phone, updated_at).await;
            }
            Step::DialerEdit { who, field } => {
                if let Some(key) = self.person.pick_contact(who).await {
                    self.person.edit_contact(&key, field).await;
                }
            }
            Step::DialerCall { who, shape, notes } => {
                if let Some(key) = self.person.pick_contact(who).await {
                    self.person.log_call(&key, shape, notes).await;
                }
            }
            Step::DialerEditNotes { who, call } => {
                if let Some(key) = self.person.pick_contact(who).await {
                    self.person.edit_call_notes(&key, call).await;
                }
            }
            Step::DialerDelete { who } => {
                if let Some(key) = self.person.pick_contact(who).await {
                    self.person.delete_contact(&key).await;
                }
            }
            Step::NotionCreate { phone } => self.person.type_page(phone),
            Step::NotionEdit { who, field } => {
                if let Some(p) = self.person.pick_page(who, false) {
                    self.person.edit_page(&p, field);
                }
            }
            Step::NotionEditOwn { who, field } => {
                if let Some(p) = self.person.pick_page(who, false) {
                    self.person.edit_own(&p, field);
                }
            }
            Step::NotionEditCallData { who } => {
                if let Some(p) = self.person.pick_page(who, false) {
                    self.person.edit_call_data(&p);
                }
            }
            Step::NotionTrash { who } => {
                if let Some(p) = self.person.pick_page(who, false) {
                    self.person.trash(&p);
                }
            }
            Step::NotionRestore { who } => {
                if let Some(p) = self.person.pick_page(who, true) {
                    self.person.restore(&p);
                }
            }
            Step::NotionClearId { who } => {
                if let Some(p) = self.person.pick_page(who, false) {
                    self.person.clear_dialer_id(&p);
                }
            }
            Step::Wait { minutes } => self.advance(minutes as i64),
            Step::Fault(nf) => self.notion.control().inject_fault(Fault {
                route: (nf.route != "*").then(|| nf.route.to_string()),
                kind: match nf.kind {
                    FaultKindSpec::Status(s) => FaultKind::Status(s),
                    FaultKindSpec::DropConnection => FaultKind::DropConnection,
                    FaultKindSpec::CommitThen503 { report_id } => FaultKind::CommitThenFail {
                        status: 503,
                        report_committed_id: report_id,
                    },
                },
                times: nf.times as u32,
            }),
            Step::Run { run, twist } => self.run(run, twist).await,
            Step::Together(a, b) => {
                let (ea, eb) = (self.engine(true), self.engine(true));
                self.timeline.clear_hook();
                let (ra, rb) = tokio::join!(self.start(&ea, a), self.start(&eb, b));
                self.record(a, ra);
                self.record(b, rb);
            }
        }
        self.check(ran).await
    }

    async fn check(&mut self, ran: bool) -> Vec<String> {
        let did = self.person.take_log();
        let obs = Obs::read(&self.person.contacts, &self.notion.control()).await;
        let (mut v, replaced) = self.oracle.check(StepReport { did: &did, ran }, obs);
        if !replaced.is_empty() {
            let corpus = Corpus::read(&self.blobs_direct.store(&self.state_store)).await;
            v.extend(Oracle::lost(&replaced, &corpus));
        }
        v
    }

    /// One run through the proxies, with its twist.
    async fn run(&mut self, run: Run, twist: Option<Twist>) {
        let engine = self.engine(true);
        let cut = Arc::new(Notify::new());
        let nested = Arc::new(tokio::sync::Mutex::new(None));
        match twist {
            Some(t) => self
                .timeline
                .set_hook(self.hook(t, cut.clone(), nested.clone())),
            None => self.timeline.clear_hook(),
        }
        let outcome = tokio::select! {
            r = self.start(&engine, run) => Some(r),
            _ = cut.notified() => None,
        };
        self.timeline.clear_hook();
        if let Some((then, result)) = nested.lock().await.take() {
            self.record(then, result);
        }
        match outcome {
            Some(result) => self.record(run, result),
            None => {
                self.trace.push(format!("{run}: cut off"));
                // The dead run's lease blocks everyone until it expires.
                self.advance(6);
            }
        }
    }

    fn record(&mut self, run: Run, result: Result<String, String>) {
        self.tally.runs += 1;
        match result {
            Ok(summary) => self.trace.push(format!("{run}: {summary}")),
            Err(e) => {
                self.tally.failed_runs += 1;
                self.trace.push(format!("{run}: error: {e}"));
            }
        }
    }

    /// Starts a run of kind `run` on `engine`; `Ok` with a one-line summary.
    async fn start(&self, engine: &Engine, run: Run) -> Result<String, String> {
        let show = |r: Result<sync_engine::RunReport, EngineError>| match r {
            Ok(report) => Ok(format!(
                "{}{}{} [{} Notion, {} Blobs requests]",
                report.summary.sides(),
                if report.summary.remaining > 0 {
                    format!(", {} left", report.summary.remaining)
                } else {
                    String::new()
                },
                if report.summary.failed > 0 {
                    format!(", {} failed", report.summary.failed)
                } else {
                    String::new()
                },
                report.notion_requests,
                report.blobs_requests
            )),
            Err(e) => Err(e.to_string()),
        };
        match run {
            Run::Scheduled => show(
                engine
                    .run_and_drain(RunOptions::new(Scope::All, "scheduled-sync"))
                    .await,
            ),
            Run::Pull => show(
                engine
                    .run(RunOptions::new(Scope::NotionChanges, "sync-from-notion"))
                    .await,
            ),
            Run::Webhook => {
                let Some(page) = self.person.last_page.lock().unwrap().clone() else {
                    return Ok("no page changed in Notion".into());
                };
                show(
                    engine
                        .run(RunOptions::new(Scope::Pages(vec![page]), "notion-webhook"))
                        .await,
                )
            }
            Run::Push { who } => {
                let Some(key) = self.person.pick_contact(who).await else {
                    return Ok("no contact to push".into());
                };
                let id: ContactId = key.parse().map_err(|e: String| e)?;
                match engine
                    .push(vec![id], RunOptions::new(Scope::All, "sync-to-notion"))
                    .await
                {
                    Ok(Pushed::Ran(report)) => show(Ok(report)),
                    Ok(Pushed::Queued { reason, .. }) => Ok(format!("queued: {reason}")),
                    Err(e) => Err(e.to_string()),
                }
            }
            Run::Resolve { who, how } => self.resolve(engine, who, how).await,
            Run::Restore { who } => {
                let backups = engine.backups(None, 50).await.map_err(|e| e.to_string())?;
                if backups.is_empty() {
                    return Ok("no backup to restore".into());
                }
                let b = &backups[who as usize % backups.len()];
                engine
                    .restore_backup(&b.run_id, b.contact_id, "console")
                    .await
                    .map(|r| format!("restored contact {} from {}", r.contact_id, r.run_id))
                    .map_err(|e| e.to_string())
            }
        }
    }

    async fn resolve(&self, engine: &Engine, who: u8, how: How) -> Result<String, String> {
        let open = engine.conflicts().await.map_err(|e| e.to_string())?;
        if open.is_empty() {
            return Ok("no conflict to resolve".into());
        }
        let c = &open[who as usize % open.len()];
        let resolution = match how {
            How::KeepNotion => Resolution::KeepNotion,
            How::KeepDialer => Resolution::KeepDialer,
            How::Merge(bits) => Resolution::Merge {
                fields: c
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let choice = match (bits >> (2 * (i % 4))) & 3 {
                            0 | 3 => FieldChoice::Dialer,
                            1 => FieldChoice::Notion,
                            _ => {
                                let kind = sync_core::fields::field(&f.field)
                                    .map_or(sync_core::Kind::Text, |s| s.kind);
                                match sync_core::contact::parse_value_kind(
                                    kind,
                                    &self.person.typed_value(&f.field),
                                    chrono_tz::America::New_York,
                                ) {
                                    Ok(v) => FieldChoice::Value(v),
                                    Err(_) => FieldChoice::Notion,
                                }
                            }
                        };
                        (f.field.clone(), choice)
                    })
                    .collect(),
            },
        };
        let kept_notion = c.deleted_in_dialer && resolution == Resolution::KeepNotion;
        let result = engine
            .resolve_conflict(c.contact_id, resolution, "console")
            .await;
        match result {
            Ok(r) => {
                if kept_notion {
                    self.person.note_kept_notion(&r.contact_id.to_string());
                }
                Ok(format!("resolved contact {}", r.contact_id))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// The hook that plays `twist` at its moment.
    fn hook(
        &self,
        twist: Twist,
        cut: Arc<Notify>,
        nested: Arc<tokio::sync::Mutex<Option<(Run, Result<String, String>)>>>,
    ) -> Hook {
        let fired = Arc::new(AtomicBool::new(false));
        let left = Arc::new(AtomicU8::new(match twist {
            Twist::BlobsFail { times, .. } => times,
            _ => 0,
        }));
        let person = self.person.clone();
        let contacts_path = format!("/site:{}/", self.contacts_store);
        let other = self.engine(false);
        let world = WorldHandle {
            clock: self.clock.clone(),
            notion: self.notion.control(),
        };
        Arc::new(move |seen: Seen| {
            let (fired, left, person, cut, nested) = (
                fired.clone(),
                left.clone(),
                person.clone(),
                cut.clone(),
                nested.clone(),
            );
            let contacts_path = contacts_path.clone();
            let other = other.clone();
            let world = world.clone();
            Box::pin(async move {
                let once = |cond: bool| cond && !fired.swap(true, Ordering::SeqCst);
                match twist {
                    Twist::DialerEditAt { at, who, field } if once(seen.index >= at as u64) => {
                        if let Some(key) = person.pick_contact(who).await {
                            person.edit_contact(&key, field).await;
                        }
                        Verdict::Forward
                    }
                    Twist::DialerEditBeforeWrite { field }
                        if once(seen.method == "PUT" && seen.path.contains(&contacts_path)) =>
                    {
                        let key = seen.path.rsplit('/').next().unwrap_or_default().to_string();
                        person.edit_contact(&key, field).await;
                        Verdict::Forward
                    }
                    Twist::BlobsFail { at, .. }
                        if seen.upstream == "blobs"
                            && seen.is_write()
                            && seen.index >= at as u64 =>
                    {
                        let took = left
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok();
                        if took {
                            Verdict::Fail(500)
                        } else {
                            Verdict::Forward
                        }
                    }
                    Twist::CutOff { at, delivered } if once(seen.index >= at as u64) => {
                        cut.notify_one();
                        if delivered {
                            Verdict::ForwardThenHang
                        } else {
                            Verdict::Hang
                        }
                    }
                    Twist::LeaseExpires { at, then } if once(seen.index >= at as u64) => {
                        world.advance(6);
                        let result = start_nested(&other, then).await;
                        *nested.lock().await = Some((then, result));
                        Verdict::Forward
                    }
                    _ => Verdict::Forward,
                }
            })
        })
    }

    /// Stops every fault, answers every conflict (as a person would: keep
    /// the dialer's, then Notion's, alternately), and runs until nothing is
    /// left; then checks that the sides agree.
    /// `MODEL_DUMP`: what a step did, for a person chasing a failure: the
    /// Notion requests since the last step, each contact's page, each page.
    pub async fn dump(&self, label: &str) {
        let control = self.notion.control();
        let obs = Obs::read(&self.person.contacts, &control).await;
        let requests: Vec<String> = control
            .request_log()
            .iter()
            .map(|r| format!("{} {} {}", r.route, r.path, r.status))
            .collect();
        control.clear_log();
        let links: Vec<String> = obs
            .contacts
            .iter()
            .map(|(k, c)| format!("{k} -> {:?}", Obs::mirror(c)))
            .collect();
        let pages: Vec<String> = obs
            .pages
            .iter()
            .map(|p| {
                format!(
                    "{} Dialer ID {:?}, in trash {}, body {} bytes",
                    p.id,
                    p.dialer_id,
                    p.in_trash,
                    p.body.len()
                )
            })
            .collect();
        let state: Vec<String> = self
            .blobs_direct
            .store(&self.state_store)
            .list(None)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|b| b.key)
            .filter(|k| !k.starts_with("history/") && !k.starts_with("backups/"))
            .collect();
        eprintln!(
            "STEP {label}\n  requests: {requests:#?}\n  links: {links:?}\n  pages: {pages:#?}\n  state: {state:?}"
        );
    }

    pub async fn settle(&mut self) -> Vec<String> {
        self.notion.control().clear_faults();
        self.timeline.clear_hook();
        // Each settling run has Notion answering: the first removes any copy
        // a stalled run left, and is judged without grace.
        self.oracle.repeat_grace = false;
        self.advance(6);
        let engine = self.engine(false);
        for round in 0..4 {
            let open = engine.conflicts().await.unwrap_or_default();
            for (i, c) in open.iter().enumerate() {
                let how = if (i + round) % 2 == 0 {
                    How::KeepDialer
                } else {
                    How::KeepNotion
                };
                let r = self.resolve(&engine, 0, how).await;
                self.trace
                    .push(format!("settle: resolve {}: {r:?}", c.contact_id));
            }
            // A full scan on the last rounds: pages trashed meanwhile are noticed.
            self.advance(if round >= 2 { 61 } else { 1 });
            let mut options = RunOptions::new(Scope::All, "scheduled-sync");
            options.force = true;
            let r = engine.run_and_drain(options).await;
            self.trace.push(format!(
                "settle: run: {}",
                match &r {
                    Ok(rep) => format!(
                        "{} ({} left, {} failed)",
                        rep.summary.sides(),
                        rep.summary.remaining,
                        rep.summary.failed
                    ),
                    Err(e) => format!("error: {e}"),
                }
            ));
            let mut v = self.check(true).await;
            if let Err(e) = r {
                v.push(format!("a clean run failed: {e}"));
            }
            if !v.is_empty() {
                return v;
            }
        }
        let open = engine.conflicts().await.map(|c| c.len()).unwrap_or(0);
        let obs = Obs::read(&self.person.contacts, &self.notion.control()).await;
        if std::env::var("MODEL_DUMP").is_ok() {
            eprintln!(
                "FINAL contacts: {:#?}\nFINAL pages: {:#?}",
                obs.contacts, obs.pages
            );
        }
        self.oracle.converged(&obs, open)
    }
}

/// The clocks of both sides, moved together from inside a hook.
#[derive(Clone)]
struct WorldHandle {
    clock: Clock,
    notion: notion_emulator::EmulatorControl,
}

impl WorldHandle {
    fn advance(&self, minutes: i64) {
        self.clock.advance(chrono::Duration::minutes(minutes));
        self.notion
            .advance(Duration::from_secs(60 * minutes as u64));
    }
}

/// Starts a run from inside a hook (a run that takes over a stalled one).
async fn start_nested(engine: &Engine, run: Run) -> Result<String, String> {
    let r = match run {
        Run::Pull => {
            engine
                .run(RunOptions::new(Scope::NotionChanges, "sync-from-notion"))
                .await
        }
        _ => {
            engine
                .run_and_drain(RunOptions::new(Scope::All, "scheduled-sync"))
                .await
        }
    };
    r.map(|rep| rep.summary.sides()).map_err(|e| e.to_string())
}
