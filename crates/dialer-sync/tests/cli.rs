//! The built `dialer-sync` binary against the real stand-ins: the Notion
//! emulator (in-process) and the official Netlify Blobs server (a node
//! process). Every test starts its own pair, passes the child an explicit
//! environment, and looks at both sides afterwards.

use std::process::Output;

use netlify_blobs::{SetOptions, Store};
use notion_emulator::{
    Emulator, EmulatorConfig, RunningEmulator, DEFAULT_DATABASE_ID, DEFAULT_TOKEN,
};
use serde_json::{json, Value};
use test_harness::blobs_server::{BlobsServer, RunningBlobsServer};

const BIN: &str = env!("CARGO_BIN_EXE_dialer-sync");

struct Stand {
    notion: RunningEmulator,
    blobs: RunningBlobsServer,
}

impl Stand {
    async fn start() -> Stand {
        let notion = Emulator::start(EmulatorConfig {
            rate_limit: 10_000,
            ..Default::default()
        })
        .await
        .expect("the Notion emulator starts");
        let blobs = BlobsServer::start().expect("the official Blobs server starts");
        Stand { notion, blobs }
    }

    /// Starts both stand-ins and puts the sample contacts into the dialer.
    async fn with_contacts() -> Stand {
        let stand = Stand::start().await;
        for contact in sample_contacts() {
            stand.put_contact(&contact).await;
        }
        stand
    }

    fn contacts(&self) -> Store {
        self.blobs.edge_client().store("contacts")
    }

    fn state(&self) -> Store {
        self.blobs.edge_client().store("notion-sync")
    }

    async fn put_contact(&self, contact: &Value) {
        let id = contact["id"].as_str().expect("sample ids are strings");
        self.contacts()
            .set_json(id, contact, SetOptions::default())
            .await
            .expect("contact written");
    }

    async fn contact(&self, id: &str) -> Value {
        self.contacts()
            .get_json::<Value>(id)
            .await
            .expect("contact read")
            .expect("contact exists")
    }

    /// The environment the functions get, pointed at the stand-ins.
    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("NOTION_API_TOKEN".into(), DEFAULT_TOKEN.into()),
            ("NOTION_DATABASE_ID".into(), DEFAULT_DATABASE_ID.into()),
            ("NOTION_API_URL".into(), self.notion.base_url()),
            ("NETLIFY_BLOBS_CONTEXT".into(), self.blobs.context_env()),
        ]
    }

    async fn run(&self, args: &[&str]) -> Output {
        run_cli(args, &self.env()).await
    }

    async fn run_with(&self, args: &[&str], overrides: &[(&str, &str)]) -> Output {
        let mut env = self.env();
        for (k, v) in overrides {
            env.retain(|(name, _)| name != k);
            env.push((k.to_string(), v.to_string()));
        }
        run_cli(args, &env).await
    }

    /// The Notion page linked to a Dialer ID.
    fn page_for(&self, dialer_id: u64) -> Value {
        self.notion
            .control()
            .pages()
            .into_iter()
            .find(|p| p["properties"]["Dialer ID"]["number"].as_f64() == Some(dialer_id as f64))
            .unwrap_or_else(|| panic!("no page for Dialer ID {dialer_id}"))
    }
}

/// Runs the binary with exactly this environment (plus PATH).
async fn run_cli(args: &[&str], env: &[(String, String)]) -> Output {
    let mut command = tokio::process::Command::new(BIN);
    command.args(args).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        command.env("PATH", path);
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().await.expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

/// Asserts the exit code, showing both streams when it is not the one expected.
fn expect_code(o: &Output, expected: i32) {
    assert_eq!(
        code(o),
        expected,
        "stdout:\n{}\nstderr:\n{}",
        stdout(o),
        stderr(o)
    );
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", stdout(o)))
}

fn sample_contacts() -> Vec<Value> {
    vec![
        json!({"id":"1001","companyName":"Acme Corp","phone":"555-0100","callHistory":[{"timestamp":"2026-09-15T14:00:00.000Z","outcome":"DM","duration":120,"notes":"call back"}]}),
        json!({"id":"1002","companyName":"Beta LLC","phone":"555-0200","website":"https://beta.example"}),
        json!({"id":"1003","companyName":"Café & Söhne","phone":"555-0300"}),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_a_working_setup() {
    let stand = Stand::with_contacts().await;
    let out = stand.run(&["doctor"]).await;
    expect_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("✔ token"), "{text}");
    assert!(text.contains("✔ database"), "{text}");
    assert!(text.contains("✔ schema"), "{text}");
    assert!(text.contains("3 contact(s)"), "{text}");
    assert!(!text.contains('✘'), "{text}");
    let token_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("NOTION_API_TOKEN"))
        .expect("the token is listed");
    assert!(token_line.contains(" set "), "{token_line}");
    assert!(!text.contains(DEFAULT_TOKEN) && !stderr(&out).contains(DEFAULT_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_with_a_bad_token_shows_the_fix_but_never_the_token() {
    let stand = Stand::with_contacts().await;
    let bad = "secret_not_the_right_one_4242";
    let out = stand
        .run_with(&["doctor"], &[("NOTION_API_TOKEN", bad)])
        .await;
    expect_code(&out, 1);
    let text = stdout(&out);
    assert!(text.contains("✘ token"), "{text}");
    assert!(text.contains("Fix:"), "{text}");
    assert!(text.contains("notion.so/my-integrations"), "{text}");
    assert!(!text.contains(bad), "the token leaked to stdout:\n{text}");
    assert!(!stderr(&out).contains(bad), "the token leaked to stderr");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_shows_the_changes_and_writes_nothing() {
    let stand = Stand::with_contacts().await;
    let out = stand.run(&["plan"]).await;
    expect_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("3 to create in Notion"), "{text}");
    assert!(text.contains("Acme Corp"), "{text}");
    assert!(stand.notion.control().pages().is_empty());
    let state = stand.state().list(None).await.expect("state listed");
    assert!(state.is_empty(), "the dry run wrote state: {state:?}");
    let acme = stand.contact("1001").await;
    assert_eq!(acme, sample_contacts()[0], "the dry run changed a contact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_creates_the_pages_and_a_second_sync_changes_nothing() {
    let stand = Stand::with_contacts().await;
    let first = stand.run(&["sync"]).await;
    expect_code(&first, 0);
    assert!(stdout(&first).contains("Acme Corp"), "{}", stdout(&first));
    let pages = stand.notion.control().pages();
    assert_eq!(pages.len(), 3, "{pages:#?}");
    let acme = stand.page_for(1001);
    assert_eq!(
        acme["properties"]["Name"]["title"][0]["plain_text"],
        "Acme Corp"
    );
    stand.page_for(1003);

    let second = stand.run(&["sync", "--json"]).await;
    expect_code(&second, 0);
    let report = json_out(&second);
    let s = &report["summary"];
    for key in [
        "created_in_notion",
        "updated_in_notion",
        "created_in_dialer",
        "updated_in_dialer",
        "calls_logged",
        "failed",
    ] {
        assert_eq!(s[key], 0, "{key} in {report:#}");
    }
    assert_eq!(stand.notion.control().pages().len(), 3);

    // Both runs are in the history, newest first.
    let history = stand.run(&["history", "--json"]).await;
    expect_code(&history, 0);
    let runs = json_out(&history);
    let runs = runs.as_array().expect("a list of runs");
    assert_eq!(runs.len(), 2, "{runs:#?}");
    assert_eq!(runs[0]["run_id"], report["run_id"]);
    assert_eq!(runs[1]["summary"]["created_in_notion"], 3);
    let limited = json_out(&stand.run(&["history", "--limit", "1", "--json"]).await);
    assert_eq!(limited.as_array().map(Vec::len), Some(1));
    let readable = stdout(&stand.run(&["history"]).await);
    assert_eq!(readable.lines().count(), 2, "{readable}");
    assert!(readable.contains("both ways"), "{readable}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_sends_only_the_named_contact() {
    let stand = Stand::with_contacts().await;
    let out = stand.run(&["push", "1002"]).await;
    expect_code(&out, 0);
    let pages = stand.notion.control().pages();
    assert_eq!(pages.len(), 1, "{pages:#?}");
    let beta = stand.page_for(1002);
    assert_eq!(
        beta["properties"]["Name"]["title"][0]["plain_text"],
        "Beta LLC"
    );

    let unknown = stand.run(&["push", "4242"]).await;
    expect_code(&unknown, 1);
    assert!(stderr(&unknown).contains("4242"), "{}", stderr(&unknown));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_brings_a_notion_edit_into_the_dialer() {
    let stand = Stand::with_contacts().await;
    expect_code(&stand.run(&["sync"]).await, 0);
    let page_id = stand.page_for(1001)["id"]
        .as_str()
        .expect("page id")
        .to_string();
    stand
        .notion
        .control()
        .person_update_page(&page_id, json!({"Phone": {"phone_number": "555-9999"}}))
        .expect("a person edits the phone");

    let out = stand.run(&["pull"]).await;
    expect_code(&out, 0);
    assert!(
        stdout(&out).contains("pull from Notion"),
        "{}",
        stdout(&out)
    );
    let acme = stand.contact("1001").await;
    assert_eq!(acme["phone"], "555-9999", "{acme:#}");
    assert_eq!(acme["companyName"], "Acme Corp");
    assert_eq!(stand.contact("1002").await["phone"], "555-0200");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_is_listed_and_keep_notion_settles_it() {
    let stand = Stand::with_contacts().await;
    let ask = [("SYNC_CONFLICT_POLICY", "ask")];
    expect_code(&stand.run_with(&["sync"], &ask).await, 0);
    let page_id = stand.page_for(1001)["id"]
        .as_str()
        .expect("page id")
        .to_string();

    // The roadmap's scenario: the phone edited in both places.
    stand
        .notion
        .control()
        .person_update_page(&page_id, json!({"Phone": {"phone_number": "555-1111"}}))
        .expect("a person edits the phone in Notion");
    let mut acme = stand.contact("1001").await;
    acme["phone"] = json!("555-2222");
    stand.put_contact(&acme).await;

    let synced = stand.run_with(&["sync", "--json"], &ask).await;
    expect_code(&synced, 0);
    assert_eq!(json_out(&synced)["summary"]["conflicts"], 1);

    let listed = stand.run_with(&["conflicts"], &ask).await;
    expect_code(&listed, 0);
    let text = stdout(&listed);
    assert!(text.contains("#1001 Acme Corp"), "{text}");
    assert!(
        text.contains("555-1111") && text.contains("555-2222"),
        "{text}"
    );
    assert!(text.contains("dialer-sync resolve 1001"), "{text}");
    let open = json_out(&stand.run_with(&["conflicts", "--json"], &ask).await);
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open:#}");
    assert_eq!(open[0]["fields"][0]["field"], "phone");

    let resolved = stand
        .run_with(&["resolve", "1001", "--keep", "notion"], &ask)
        .await;
    expect_code(&resolved, 0);
    assert!(
        stdout(&resolved).contains("phone = \"555-1111\""),
        "{}",
        stdout(&resolved)
    );
    assert_eq!(stand.contact("1001").await["phone"], "555-1111");
    assert_eq!(
        stand.page_for(1001)["properties"]["Phone"]["phone_number"],
        "555-1111"
    );
    let open = json_out(&stand.run_with(&["conflicts", "--json"], &ask).await);
    assert_eq!(open, json!([]));
    // Settled for good: the next sync finds nothing to do.
    let after = json_out(&stand.run_with(&["sync", "--json"], &ask).await);
    for key in [
        "conflicts",
        "updated_in_notion",
        "updated_in_dialer",
        "failed",
    ] {
        assert_eq!(after["summary"][key], 0, "{key} in {after:#}");
    }

    let again = stand
        .run_with(&["resolve", "1001", "--keep", "dialer"], &ask)
        .await;
    expect_code(&again, 1);
    assert!(
        stderr(&again).contains("no open conflict"),
        "{}",
        stderr(&again)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_list_what_a_sync_replaced_and_restore_puts_it_back() {
    let stand = Stand::with_contacts().await;
    expect_code(&stand.run(&["sync"]).await, 0);
    let empty = stand.run(&["backups"]).await;
    expect_code(&empty, 0);
    assert!(stdout(&empty).contains("No backups"), "{}", stdout(&empty));

    let mut acme = stand.contact("1001").await;
    acme["phone"] = json!("555-9999");
    stand.put_contact(&acme).await;
    expect_code(&stand.run(&["push", "1001"]).await, 0);
    let listed = stand.run(&["backups"]).await;
    expect_code(&listed, 0);
    let text = stdout(&listed);
    assert!(
        text.contains("#1001") && text.contains("phone in Notion"),
        "{text}"
    );
    let backups = json_out(&stand.run(&["backups", "--json"]).await);
    let run_id = backups[0]["run_id"].as_str().expect("run id").to_string();

    let restored = stand.run(&["restore", &run_id, "1001"]).await;
    expect_code(&restored, 0);
    assert!(
        stdout(&restored).contains("is back"),
        "{}",
        stdout(&restored)
    );
    let phone = stand.page_for(1001)["properties"]["Phone"]["phone_number"].clone();
    assert_eq!(
        stand.contact("1001").await["phone"],
        phone,
        "both sides agree"
    );
    assert_ne!(phone, "555-9999", "the value from before the push");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_setting_is_named_and_exits_2() {
    let stand = Stand::start().await;
    let mut env = stand.env();
    env.retain(|(k, _)| k != "NOTION_API_TOKEN");
    let out = run_cli(&["sync"], &env).await;
    expect_code(&out, 2);
    assert!(
        stderr(&out).contains("NOTION_API_TOKEN"),
        "{}",
        stderr(&out)
    );

    let mut env = stand.env();
    env.retain(|(k, _)| k != "NETLIFY_BLOBS_CONTEXT");
    let out = run_cli(&["history"], &env).await;
    expect_code(&out, 2);
    assert!(
        stderr(&out).contains("NETLIFY_BLOBS_CONTEXT"),
        "{}",
        stderr(&out)
    );
    assert!(stand.notion.control().pages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_sync_says_it_is_still_going() {
    let stand = Stand::with_contacts().await;
    // Every Notion answer takes 1.5 s: the run's sequential reads alone
    // (database, data source, query) outlast the first progress tick.
    stand
        .notion
        .control()
        .set_latency(std::time::Duration::from_millis(1_500));
    let out = stand.run(&["sync"]).await;
    expect_code(&out, 0);
    assert!(
        stderr(&out).contains("still syncing... "),
        "stderr:\n{}",
        stderr(&out)
    );
    assert_eq!(stand.notion.control().pages().len(), 3);
}
