//! The client against the Notion emulator: every method end to end, real
//! error bodies, injected faults, and a burst against a tight rate limit.

use std::time::Duration;

use notion_client::{
    CreateDedupe, DatabaseRef, NotionClient, NotionConfig, NotionError, Query, RateLimit, Route,
    SUPPORTED_NOTION_VERSIONS,
};
use notion_emulator::{
    Emulator, EmulatorConfig, Fault, FaultKind, RunningEmulator, DEFAULT_DATABASE_ID,
    DEFAULT_DATA_SOURCE_ID, DEFAULT_TOKEN,
};
use serde_json::{json, Map, Value};
use tokio::time::Instant;
use url::Url;

async fn emulator(config: EmulatorConfig) -> RunningEmulator {
    Emulator::start(config).await.expect("emulator starts")
}

fn config_for(emulator: &RunningEmulator, token: &str) -> NotionConfig {
    let mut config = NotionConfig::new(
        token,
        DatabaseRef::parse(DEFAULT_DATABASE_ID).expect("db id"),
    );
    config.base_url = Url::parse(&emulator.base_url()).expect("url");
    config.retry_base_delay = Duration::from_millis(10);
    config.retry_max_delay = Duration::from_millis(100);
    config.request_timeout = Duration::from_secs(10);
    config
}

fn client_for(emulator: &RunningEmulator) -> NotionClient {
    NotionClient::new(config_for(emulator, DEFAULT_TOKEN)).expect("client")
}

fn contact(name: &str, dialer_id: i64) -> Map<String, Value> {
    let props = json!({
        "Name": {"title": [{"type": "text", "text": {"content": name}}]},
        "Dialer ID": {"number": dialer_id},
        "Phone": {"phone_number": "+1 415 555 0100"},
    });
    props.as_object().cloned().unwrap_or_default()
}

fn paragraph(text: &str) -> Value {
    json!({"object": "block", "type": "paragraph", "paragraph": {"rich_text": [{"type": "text", "text": {"content": text}}]}})
}

fn dialer_id(page: &notion_client::Page) -> Option<i64> {
    page.properties.get("Dialer ID")?.get("number")?.as_i64()
}

#[tokio::test]
async fn every_method_works_end_to_end() {
    for version in SUPPORTED_NOTION_VERSIONS {
        every_method_works_under(version).await;
    }
}

async fn every_method_works_under(version: &str) {
    let emulator = emulator(EmulatorConfig::default()).await;
    let mut config = config_for(&emulator, DEFAULT_TOKEN);
    config.notion_version = version.into();
    let client = NotionClient::new(config).expect("client");

    let me = client.me().await.expect("me");
    assert_eq!(me.kind, "bot");

    let database = client
        .retrieve_database(DEFAULT_DATABASE_ID)
        .await
        .expect("database");
    assert_eq!(database.id, DEFAULT_DATABASE_ID);
    assert_eq!(database.data_sources[0].id, DEFAULT_DATA_SOURCE_ID);
    let data_source = client.resolve_data_source().await.expect("data source");
    assert_eq!(data_source.id, DEFAULT_DATA_SOURCE_ID);
    assert_eq!(data_source.properties["Name"].kind, "title");
    assert_eq!(data_source.properties["Dialer ID"].kind, "number");
    assert_eq!(data_source.properties["Phone"].kind, "phone_number");
    assert!(data_source.properties["Industry"]
        .options
        .contains(&"SaaS".to_owned()));
    let same = client
        .retrieve_data_source(DEFAULT_DATA_SOURCE_ID)
        .await
        .expect("retrieve ds");
    assert_eq!(same.properties, data_source.properties);

    let ds = data_source.id.as_str();
    let mut created = Vec::new();
    for i in 1..=5 {
        let page = client
            .create_page(ds, contact(&format!("Company {i}"), i), vec![], None)
            .await
            .expect("create");
        assert_eq!(dialer_id(&page), Some(i));
        assert!(!page.in_trash);
        created.push(page);
    }

    // Pagination: 5 pages at 2 per response.
    let query = Query {
        page_size: Some(2),
        ..Query::default()
    };
    let all = client.query(ds, &query).await.expect("query");
    assert_eq!(all.len(), 5);
    let mut cursor = client.query_pages(ds, query.clone());
    let mut sizes = Vec::new();
    while let Some(batch) = cursor.next_batch().await.expect("batch") {
        sizes.push(batch.len());
    }
    assert_eq!(sizes, [2, 2, 1]);

    let found = client
        .query_by_number(ds, "Dialer ID", 3)
        .await
        .expect("by number");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, created[2].id);

    let retrieved = client
        .retrieve_page(&created[0].id)
        .await
        .expect("retrieve");
    assert_eq!(retrieved.id, created[0].id);
    assert!(!retrieved.url.is_empty());

    let mut dials = Map::new();
    dials.insert("Total Dials".into(), json!({"number": 7}));
    let updated = client
        .update_page(&created[0].id, dials)
        .await
        .expect("update");
    assert_eq!(updated.properties["Total Dials"]["number"], json!(7));
    assert_eq!(
        dialer_id(&updated),
        Some(1),
        "omitted properties keep their values"
    );

    let trashed = client
        .set_in_trash(&created[4].id, true)
        .await
        .expect("trash");
    assert!(trashed.in_trash);
    assert_eq!(
        client
            .query(ds, &Query::default())
            .await
            .expect("query")
            .len(),
        4
    );
    let restored = client
        .set_in_trash(&created[4].id, false)
        .await
        .expect("restore");
    assert!(!restored.in_trash);

    // A create with more children than one request takes, then appends.
    let children: Vec<Value> = (0..120).map(|i| paragraph(&format!("note {i}"))).collect();
    let with_body = client
        .create_page(ds, contact("Body Co", 99), children, None)
        .await
        .expect("create with body");
    let appended = client
        .append_children(
            &with_body.id,
            (0..130).map(|i| paragraph(&format!("call {i}"))).collect(),
        )
        .await
        .expect("append");
    assert_eq!(appended.len(), 130);
    let body = client
        .list_children(&with_body.id)
        .await
        .expect("list children");
    assert_eq!(body.len(), 250);
    assert_eq!(
        body[0]["paragraph"]["rich_text"][0]["plain_text"],
        json!("note 0")
    );
    assert_eq!(
        body[249]["paragraph"]["rich_text"][0]["plain_text"],
        json!("call 129")
    );

    let control = emulator.control();
    assert_eq!(
        control.count("blocks.children.append"),
        3,
        "20 after the create, then 100 + 30"
    );
    let stats = client.stats();
    assert_eq!(stats.route(Route::PagesCreate), 6);
    assert_eq!(stats.total_requests() as usize, control.request_log().len());
    assert_eq!(stats.retries, 0);
}

#[tokio::test]
async fn a_bad_token_is_unauthorized() {
    let emulator = emulator(EmulatorConfig::default()).await;
    let client = NotionClient::new(config_for(&emulator, "ntn_wrong_token_123")).expect("client");
    let error = client.me().await.expect_err("bad token");
    assert_eq!(error, NotionError::Unauthorized);
    let printed = format!("{error} {error:?}");
    assert!(!printed.contains("ntn_wrong_token_123"));
    assert_eq!(
        emulator.control().count("users.me"),
        1,
        "401 is not retried"
    );
}

#[tokio::test]
async fn an_unshared_database_says_how_to_share_it() {
    let emulator = emulator(EmulatorConfig::default()).await;
    emulator.control().set_shared(false);
    let error = client_for(&emulator)
        .resolve_data_source()
        .await
        .expect_err("not shared");
    assert_eq!(
        error,
        NotionError::DatabaseNotShared {
            database: DEFAULT_DATABASE_ID.into()
        }
    );
    assert!(error.to_string().contains("Connections"));
}

#[tokio::test]
async fn validation_errors_keep_notions_message() {
    let emulator = emulator(EmulatorConfig::default()).await;
    let client = client_for(&emulator);
    let page = client
        .create_page(DEFAULT_DATA_SOURCE_ID, contact("Acme", 1), vec![], None)
        .await
        .expect("create");
    let mut bad = Map::new();
    bad.insert("Dialer ID".into(), json!({"number": "twelve"}));
    let error = client
        .update_page(&page.id, bad)
        .await
        .expect_err("invalid");
    let NotionError::Validation { code, message } = &error else {
        panic!("expected a validation error, got {error:?}");
    };
    assert_eq!(code, "validation_error");
    assert!(message.contains("Dialer ID"), "{message}");
    assert!(error.to_string().contains(message.as_str()));
    assert_eq!(
        emulator.control().count("pages.update"),
        1,
        "400 is not retried"
    );
}

#[tokio::test]
async fn updates_survive_three_503s() {
    let emulator = emulator(EmulatorConfig::default()).await;
    let control = emulator.control();
    let client = client_for(&emulator);
    let page = client
        .create_page(DEFAULT_DATA_SOURCE_ID, contact("Acme", 1), vec![], None)
        .await
        .expect("create");
    control.inject_fault(Fault::on("pages.update", FaultKind::Status(503)).times(3));
    let mut dials = Map::new();
    dials.insert("Total Dials".into(), json!({"number": 3}));
    let updated = client
        .update_page(&page.id, dials)
        .await
        .expect("update after retries");
    assert_eq!(updated.properties["Total Dials"]["number"], json!(3));
    assert_eq!(control.count("pages.update"), 4);
    assert_eq!(client.stats().retries, 3);
}

#[tokio::test]
async fn a_create_that_commits_then_fails_makes_exactly_one_page() {
    for report_committed_id in [false, true] {
        let emulator = emulator(EmulatorConfig::default()).await;
        let control = emulator.control();
        let client = client_for(&emulator);
        control.inject_fault(Fault::on(
            "pages.create",
            FaultKind::CommitThenFail {
                status: 503,
                report_committed_id,
            },
        ));
        let dedupe = CreateDedupe {
            property: "Dialer ID".into(),
            number: 42,
        };
        let page = client
            .create_page(
                DEFAULT_DATA_SOURCE_ID,
                contact("Acme", 42),
                vec![],
                Some(dedupe),
            )
            .await
            .expect("the committed page");
        assert_eq!(dialer_id(&page), Some(42));
        assert_eq!(
            control.pages().len(),
            1,
            "report_committed_id={report_committed_id}"
        );
        assert_eq!(control.count("pages.create"), 1);
    }
}

/// A create whose outcome is unknown (connection dropped, or committed and
/// answered 503 without the id while queries lag longer than any retry) is
/// never sent twice: the lookup finding nothing proves nothing.
#[tokio::test]
async fn a_create_whose_outcome_is_unknown_is_never_sent_twice() {
    let emulator = emulator(EmulatorConfig::default()).await;
    let control = emulator.control();
    let client = client_for(&emulator);
    let unconfirmed = |name: &'static str, n: i64| {
        let client = client.clone();
        async move {
            let dedupe = CreateDedupe {
                property: "Dialer ID".into(),
                number: n,
            };
            let error = client
                .create_page(
                    DEFAULT_DATA_SOURCE_ID,
                    contact(name, n),
                    vec![],
                    Some(dedupe),
                )
                .await
                .expect_err("unconfirmed");
            assert!(
                matches!(error, NotionError::CreateUnconfirmed { .. }),
                "{error:?}"
            );
        }
    };
    control.inject_fault(Fault::on("pages.create", FaultKind::DropConnection));
    unconfirmed("Acme", 7).await;
    assert_eq!(control.count("pages.create"), 1);
    assert!(control.pages().is_empty(), "nothing was applied");

    control.freeze_at("2026-09-14T10:00:00Z".parse().expect("time"));
    control.set_query_lag(Duration::from_secs(600));
    control.inject_fault(Fault::on(
        "pages.create",
        FaultKind::CommitThenFail {
            status: 503,
            report_committed_id: false,
        },
    ));
    unconfirmed("Beta", 8).await;
    assert_eq!(control.pages().len(), 1, "one page, never two");
    control.advance(Duration::from_secs(601));
    let found = client
        .query_by_number(DEFAULT_DATA_SOURCE_ID, "Dialer ID", 8)
        .await
        .expect("query");
    assert_eq!(found.len(), 1, "found once the lag is over");
}

#[tokio::test]
async fn the_limit_that_slowed_the_client_is_counted_and_named() {
    let emulator = emulator(EmulatorConfig::default()).await;
    let control = emulator.control();
    let client = client_for(&emulator);
    control.inject_fault(Fault::on(
        "users.me",
        FaultKind::RateLimited {
            limit: notion_emulator::RateLimit::Connection,
            retry_after_secs: 1,
        },
    ));
    client.me().await.expect("after one wait");
    control.inject_fault(Fault::on(
        "users.me",
        FaultKind::RateLimited {
            limit: notion_emulator::RateLimit::Workspace,
            retry_after_secs: 3600,
        },
    ));
    let error = client.me().await.expect_err("past the cap");
    assert_eq!(
        error,
        NotionError::RateLimited {
            retry_after: Some(Duration::from_secs(3600)),
            limit: RateLimit::Workspace
        }
    );
    let stats = client.stats();
    assert_eq!(stats.rate_limits[&RateLimit::Connection].responses, 1);
    assert_eq!(
        stats.rate_limits[&RateLimit::Workspace].asked_to_wait_ms,
        3_600_000
    );
}

#[tokio::test]
async fn a_workspace_past_its_block_limit_refuses_content_not_edits() {
    let emulator = emulator(EmulatorConfig::default()).await;
    let control = emulator.control();
    let client = client_for(&emulator);
    let page = client
        .create_page(DEFAULT_DATA_SOURCE_ID, contact("Acme", 1), vec![], None)
        .await
        .expect("created");
    control.set_block_limit_past_grace();
    let refused = client
        .append_children(&page.id, vec![paragraph("Called: DM")])
        .await
        .expect_err("block limit");
    assert_eq!(refused, NotionError::BlockLimit);
    let create = client
        .create_page(DEFAULT_DATA_SOURCE_ID, contact("Beta", 2), vec![], None)
        .await
        .expect_err("block limit");
    assert_eq!(create, NotionError::BlockLimit);
    let mut dials = Map::new();
    dials.insert("Total Dials".into(), json!({"number": 2}));
    client
        .update_page(&page.id, dials)
        .await
        .expect("edit works");
    assert_eq!(client.stats().block_limit_refusals, 2);
}

/// 500 updates against 50 requests per 2 s: the client's own limiter must
/// keep the server from ever saying 429, at close to the budget's speed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_500_updates_stays_within_the_budget() {
    const BUDGET: u32 = 50;
    const WINDOW: Duration = Duration::from_secs(2);
    const UPDATES: usize = 500;
    let emulator = emulator(EmulatorConfig {
        rate_limit: BUDGET,
        rate_window: WINDOW,
        ..Default::default()
    })
    .await;
    let control = emulator.control();
    // Pages made through the control API do not spend the request budget.
    let page_ids: Vec<String> = (0..20)
        .map(|i| {
            control
                .person_create_page(json!({
                    "Name": {"title": [{"type": "text", "text": {"content": format!("Company {i}")}}]},
                    "Dialer ID": {"number": i},
                }))
                .expect("seed page")
        })
        .collect();

    let mut config = config_for(&emulator, DEFAULT_TOKEN);
    config.requests_per_window = BUDGET;
    config.window = WINDOW;
    config.max_concurrency = 64;
    let client = NotionClient::new(config).expect("client");

    let started = Instant::now();
    let tasks: Vec<_> = (0..UPDATES)
        .map(|i| {
            let client = client.clone();
            let page_id = page_ids[i % page_ids.len()].clone();
            tokio::spawn(async move {
                let mut props = Map::new();
                props.insert("Total Dials".into(), json!({"number": i}));
                client.update_page(&page_id, props).await.map(|_| ())
            })
        })
        .collect();
    for task in tasks {
        task.await
            .expect("task")
            .expect("no error reaches the caller");
    }
    let elapsed = started.elapsed();

    let budget_bound = WINDOW.mul_f64(UPDATES as f64 / f64::from(BUDGET));
    let ratio = elapsed.as_secs_f64() / budget_bound.as_secs_f64();
    let stats = client.stats();
    println!(
        "burst: {UPDATES} updates in {elapsed:?} (budget-bound {budget_bound:?}, ratio {ratio:.3}); \
         429s received {}, retries {}, waited {} ms total",
        stats.rate_limited_responses, stats.retries, stats.waited_ms
    );
    assert!(
        control.rate_limited_count() <= 5,
        "{} 429s",
        control.rate_limited_count()
    );
    assert!(stats.rate_limited_responses <= 5);
    assert!(ratio <= 1.1, "too slow: ratio {ratio:.3}");
    assert_eq!(
        stats.route(Route::PagesUpdate) as usize,
        UPDATES + stats.retries as usize
    );
}
