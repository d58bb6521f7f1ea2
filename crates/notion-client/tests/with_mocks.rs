//! The client against scripted answers (wiremock): error mapping, retries,
//! create dedupe, pagination, limits.

use std::sync::Arc;
use std::time::Duration;

use notion_client::{
    CreateDedupe, DatabaseRef, NotionClient, NotionConfig, NotionError, Query, RateLimit, Route,
};
use serde_json::{json, Map, Value};
use tokio::time::Instant;
use url::Url;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "ntn_TEST_token_that_must_never_print";
const DB: &str = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";
const DS: &str = "2b2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";
const PAGE: &str = "3c3b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";

fn config(server: &MockServer) -> NotionConfig {
    let mut config = NotionConfig::new(TOKEN, DatabaseRef::parse(DB).expect("db id"));
    config.base_url = Url::parse(&server.uri()).expect("mock url");
    config.retry_base_delay = Duration::from_millis(10);
    config.retry_max_delay = Duration::from_millis(50);
    config.request_timeout = Duration::from_secs(5);
    config
}

fn client(server: &MockServer) -> NotionClient {
    NotionClient::new(config(server)).expect("client")
}

fn page_json(id: &str, dialer_id: i64) -> Value {
    json!({
        "object": "page", "id": id, "url": format!("https://www.notion.so/{}", id.replace('-', "")),
        "created_time": "2026-09-01T10:00:00.000Z",
        "last_edited_time": "2026-09-01T10:01:00.000Z",
        "in_trash": false,
        "properties": {
            "Name": {"id": "title", "type": "title", "title": [{"type": "text", "text": {"content": "Acme"}, "plain_text": "Acme"}]},
            "Dialer ID": {"id": "a", "type": "number", "number": dialer_id}
        }
    })
}

fn list_json(results: Vec<Value>, next_cursor: Option<&str>) -> Value {
    json!({"object": "list", "results": results, "next_cursor": next_cursor, "has_more": next_cursor.is_some()})
}

fn error_response(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "object": "error", "status": status, "code": code, "message": message,
        "request_id": "req-1"
    }))
}

fn name_props(name: &str) -> Map<String, Value> {
    let mut props = Map::new();
    props.insert(
        "Name".into(),
        json!({"title": [{"type": "text", "text": {"content": name}}]}),
    );
    props
}

async fn requests_to(server: &MockServer, verb: &str, route_path: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == route_path)
        .count()
}

/// Polls until `done` holds, so tests wait on state rather than on luck.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn assert_no_token(error: &NotionError) {
    let printed = format!("{error} {error:?}");
    assert!(!printed.contains(TOKEN), "token leaked: {printed}");
    assert!(!printed.contains("TEST_token"), "token leaked: {printed}");
}

#[tokio::test]
async fn sends_auth_and_version_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/users/me"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header("notion-version", "2026-03-11"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"object": "user", "id": "bot-1", "type": "bot", "name": "Sync"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let me = client(&server).me().await.expect("me");
    assert_eq!((me.id.as_str(), me.kind.as_str()), ("bot-1", "bot"));
}

/// Method, path, scripted answer, and the error expected from it.
type ErrorCase = (
    &'static str,
    &'static str,
    ResponseTemplate,
    fn(&NotionError) -> bool,
);

#[tokio::test]
async fn every_error_status_maps_to_a_typed_error() {
    let cases: Vec<ErrorCase> = vec![
        (
            "GET",
            "/v1/users/me",
            error_response(401, "unauthorized", "API token is invalid."),
            |e| matches!(e, NotionError::Unauthorized),
        ),
        (
            "GET",
            "/v1/databases/DB",
            error_response(404, "object_not_found", "Could not find database"),
            |e| matches!(e, NotionError::DatabaseNotShared { database } if database == DB),
        ),
        (
            "GET",
            "/v1/pages/PAGE",
            error_response(404, "object_not_found", "Could not find page"),
            |e| matches!(e, NotionError::NotFound { object: "page", id } if id == PAGE),
        ),
        (
            "GET",
            "/v1/pages/PAGE",
            error_response(403, "restricted_resource", "Insufficient permissions"),
            |e| matches!(e, NotionError::Forbidden { message } if message == "Insufficient permissions"),
        ),
        (
            "GET",
            "/v1/pages/PAGE",
            error_response(
                400,
                "validation_error",
                "body.properties.Phone.phone_number should be a string",
            ),
            |e| matches!(e, NotionError::Validation { code, message } if code == "validation_error" && message.contains("Phone")),
        ),
        (
            "GET",
            "/v1/pages/PAGE",
            error_response(409, "conflict_error", "Conflict occurred while saving."),
            |e| matches!(e, NotionError::Conflict { .. }),
        ),
        (
            "GET",
            "/v1/pages/PAGE",
            error_response(429, "rate_limited", "slow down").insert_header("Retry-After", "0"),
            |e| matches!(e, NotionError::RateLimited { .. }),
        ),
        (
            "GET",
            "/v1/pages/PAGE",
            error_response(429, "public_api_request_blocked", "blocked"),
            |e| matches!(e, NotionError::Blocked { .. }),
        ),
        (
            "GET",
            "/v1/pages/PAGE",
            error_response(503, "service_unavailable", "try later"),
            |e| matches!(e, NotionError::Unavailable { status: 503, code, .. } if code == "service_unavailable"),
        ),
        (
            "GET",
            "/v1/pages/PAGE",
            ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"),
            |e| matches!(e, NotionError::Unavailable { status: 502, .. }),
        ),
        (
            "GET",
            "/v1/pages/PAGE",
            ResponseTemplate::new(200).set_body_string("not json"),
            |e| {
                matches!(
                    e,
                    NotionError::Decode {
                        route: Route::PagesRetrieve,
                        ..
                    }
                )
            },
        ),
        (
            "GET",
            "/v1/pages/PAGE",
            ResponseTemplate::new(200).set_body_json(json!({"object": "page"})),
            |e| matches!(e, NotionError::Decode { .. }),
        ),
    ];
    for (verb, route_path, response, expected) in cases {
        let server = MockServer::start().await;
        let route_path = route_path.replace("DB", DB).replace("PAGE", PAGE);
        Mock::given(method(verb))
            .and(path(route_path.as_str()))
            .respond_with(response)
            .mount(&server)
            .await;
        let mut config = config(&server);
        config.max_rate_limit_retries = 1;
        let client = NotionClient::new(config).expect("client");
        let error = if route_path.starts_with("/v1/users") {
            client.me().await.map(|_| ())
        } else if route_path.starts_with("/v1/databases") {
            client.retrieve_database(DB).await.map(|_| ())
        } else {
            client.retrieve_page(PAGE).await.map(|_| ())
        }
        .expect_err(&route_path);
        assert!(expected(&error), "{route_path}: unexpected {error:?}");
        assert_no_token(&error);
        assert!(!error.to_string().is_empty());
    }
}

#[tokio::test]
async fn error_messages_say_what_to_do() {
    assert!(NotionError::Unauthorized
        .to_string()
        .contains("notion.so/my-integrations"));
    assert!(NotionError::Unauthorized
        .to_string()
        .contains("NOTION_API_TOKEN"));
    let not_shared = NotionError::DatabaseNotShared {
        database: DB.into(),
    };
    assert!(not_shared.to_string().contains("Connections"));
    assert!(!NotionError::Unauthorized.is_retryable());
    assert!(NotionError::RateLimited {
        retry_after: None,
        limit: RateLimit::Connection
    }
    .is_retryable());
    assert!(!NotionError::BlockLimit.is_retryable());
    assert!(NotionError::BlockLimit
        .to_string()
        .contains("upgrades its plan"));
    assert_eq!(not_shared.status(), Some(404));
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/pages/{PAGE}")))
        .respond_with(
            error_response(429, "rate_limited", "slow down").insert_header("Retry-After", "1"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/pages/{PAGE}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_json(PAGE, 1)))
        .mount(&server)
        .await;
    let client = client(&server);
    let started = Instant::now();
    let page = client
        .retrieve_page(PAGE)
        .await
        .expect("page after the wait");
    assert_eq!(page.id, PAGE);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried too early"
    );
    let stats = client.stats();
    assert_eq!((stats.rate_limited_responses, stats.retries), (1, 1));
    assert_eq!(stats.route(Route::PagesRetrieve), 2);
}

#[tokio::test]
async fn a_workspace_level_retry_after_pauses_every_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/data_sources/{DS}/query")))
        .respond_with(
            error_response(429, "rate_limited", "workspace limit")
                .insert_header("Retry-After", "3"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/data_sources/{DS}/query")))
        .respond_with(ResponseTemplate::new(200).set_body_json(list_json(vec![], None)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/users/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"object": "user", "id": "bot", "type": "bot"})),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    let started = Instant::now();
    let querying = tokio::spawn({
        let client = client.clone();
        async move { client.query(DS, &Query::default()).await }
    });
    // Once the 429 is in, an unrelated request on another clone must wait too.
    wait_until("the 429", || client.stats().rate_limited_responses == 1).await;
    client.clone().me().await.expect("me after the pause");
    let other_done = started.elapsed();
    querying
        .await
        .expect("task")
        .expect("query after the pause");
    assert!(
        other_done >= Duration::from_millis(2900),
        "unrelated request ran during the pause: {other_done:?}"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_fails_fast() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/pages/{PAGE}")))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(json!({
                    "object": "error", "status": 429, "code": "rate_limited",
                    "message": "You have been rate limited. Please try again in a few minutes.",
                    "additional_data": {"rate_limit_reason": "public_api_space_request_rate_limit", "retry_after": "3600"},
                }))
                .insert_header("Retry-After", "3600"),
        )
        .mount(&server)
        .await;
    let started = Instant::now();
    let error = client(&server)
        .retrieve_page(PAGE)
        .await
        .expect_err("capped");
    assert_eq!(
        error,
        NotionError::RateLimited {
            retry_after: Some(Duration::from_secs(3600)),
            limit: RateLimit::Workspace,
        }
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        requests_to(&server, "GET", &format!("/v1/pages/{PAGE}")).await,
        1
    );
}

#[tokio::test]
async fn rate_limits_are_retried_for_creates_too() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/pages"))
        .respond_with(error_response(429, "rate_limited", "slow").insert_header("Retry-After", "0"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/pages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_json(PAGE, 1)))
        .mount(&server)
        .await;
    let page = client(&server)
        .create_page(DS, name_props("Acme"), vec![], None)
        .await
        .expect("created after 429s");
    assert_eq!(page.id, PAGE);
    assert_eq!(requests_to(&server, "POST", "/v1/pages").await, 3);
}

#[tokio::test]
async fn server_errors_are_retried_for_queries_not_for_creates() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/data_sources/{DS}/query")))
        .respond_with(error_response(500, "internal_server_error", "oops"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/data_sources/{DS}/query")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(list_json(vec![page_json(PAGE, 1)], None)),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/pages"))
        .respond_with(error_response(500, "internal_server_error", "oops"))
        .mount(&server)
        .await;
    let client = client(&server);
    let pages = client
        .query(DS, &Query::default())
        .await
        .expect("query after 500s");
    assert_eq!(pages.len(), 1);
    assert_eq!(
        requests_to(&server, "POST", &format!("/v1/data_sources/{DS}/query")).await,
        3
    );

    let error = client
        .create_page(DS, name_props("Acme"), vec![], None)
        .await
        .expect_err("create is not retried");
    assert!(
        matches!(error, NotionError::Unavailable { status: 500, .. }),
        "{error:?}"
    );
    assert_eq!(requests_to(&server, "POST", "/v1/pages").await, 1);
}

#[tokio::test]
async fn server_errors_give_up_after_max_retries() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("/v1/pages/{PAGE}")))
        .respond_with(error_response(503, "service_unavailable", "down"))
        .mount(&server)
        .await;
    let error = client(&server)
        .update_page(PAGE, name_props("Acme"))
        .await
        .expect_err("down");
    assert!(error.is_retryable());
    assert_eq!(error.status(), Some(503));
    // 1 attempt + max_retries (3)
    assert_eq!(
        requests_to(&server, "PATCH", &format!("/v1/pages/{PAGE}")).await,
        4
    );
}

#[tokio::test]
async fn a_create_that_committed_is_fetched_not_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/pages"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "object": "error", "status": 503, "code": "service_unavailable", "message": "timeout",
            "additional_data": {"committed_resource_id": PAGE}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/pages/{PAGE}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(page_json(PAGE, 42)))
        .expect(1)
        .mount(&server)
        .await;
    let dedupe = CreateDedupe {
        property: "Dialer ID".into(),
        number: 42,
    };
    let page = client(&server)
        .create_page(DS, name_props("Acme"), vec![], Some(dedupe))
        .await
        .expect("the committed page");
    assert_eq!(page.id, PAGE);
    assert_eq!(requests_to(&server, "POST", "/v1/pages").await, 1);
}

#[tokio::test]
async fn a_create_that_committed_is_found_by_dialer_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/pages"))
        .respond_with(error_response(503, "service_unavailable", "timeout"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/data_sources/{DS}/query")))
        .and(body_partial_json(
            json!({"filter": {"property": "Dialer ID", "number": {"equals": 42}}}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(list_json(vec![page_json(PAGE, 42)], None)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let dedupe = CreateDedupe {
        property: "Dialer ID".into(),
        number: 42,
    };
    let page = client(&server)
        .create_page(DS, name_props("Acme"), vec![], Some(dedupe))
        .await
        .expect("found by dedupe");
    assert_eq!(page.id, PAGE);
    assert_eq!(requests_to(&server, "POST", "/v1/pages").await, 1);
}

/// A 503 without a committed id, and a lookup that finds nothing: the
/// query may lag behind the write, so the create is not sent again.
#[tokio::test]
async fn a_create_that_may_have_committed_is_never_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/pages"))
        .respond_with(error_response(503, "service_unavailable", "timeout"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/data_sources/{DS}/query")))
        .respond_with(ResponseTemplate::new(200).set_body_json(list_json(vec![], None)))
        .expect(1)
        .mount(&server)
        .await;
    let dedupe = CreateDedupe {
        property: "Dialer ID".into(),
        number: 42,
    };
    let error = client(&server)
        .create_page(DS, name_props("Acme"), vec![], Some(dedupe))
        .await
        .expect_err("unconfirmed");
    assert!(
        matches!(error, NotionError::CreateUnconfirmed { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(requests_to(&server, "POST", "/v1/pages").await, 1);
}

#[tokio::test]
async fn blocked_requests_are_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/data_sources/{DS}/query")))
        .respond_with(
            error_response(429, "public_api_request_blocked", "requests blocked")
                .insert_header("Retry-After", "1"),
        )
        .mount(&server)
        .await;
    let error = client(&server)
        .query(DS, &Query::default())
        .await
        .expect_err("blocked");
    assert!(matches!(error, NotionError::Blocked { .. }), "{error:?}");
    assert!(!error.is_retryable());
    // Notion's request-limits reference names it as the reason of a 429 too.
    Mock::given(method("GET"))
        .and(path("/v1/users/me"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(json!({"object": "error", "status": 429, "code": "rate_limited", "message": "blocked",
                    "additional_data": {"rate_limit_reason": "public_api_request_blocked"}}))
                .insert_header("Retry-After", "1"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server).me().await.expect_err("blocked");
    assert!(matches!(error, NotionError::Blocked { .. }), "{error:?}");
    assert_eq!(
        requests_to(&server, "POST", &format!("/v1/data_sources/{DS}/query")).await,
        1
    );
}

#[tokio::test]
async fn timeouts_are_retried_for_reads_and_reported() {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200)
        .set_body_json(page_json(PAGE, 1))
        .set_delay(Duration::from_secs(3));
    Mock::given(method("GET"))
        .and(path(format!("/v1/pages/{PAGE}")))
        .respond_with(slow.clone())
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/pages"))
        .respond_with(slow)
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.request_timeout = Duration::from_millis(200);
    config.max_retries = 1;
    let client = NotionClient::new(config).expect("client");

    let error = client.retrieve_page(PAGE).await.expect_err("timeout");
    assert!(
        matches!(
            error,
            NotionError::Timeout {
                route: Route::PagesRetrieve,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        requests_to(&server, "GET", &format!("/v1/pages/{PAGE}")).await,
        2
    );

    let error = client
        .create_page(DS, name_props("Acme"), vec![], None)
        .await
        .expect_err("timeout");
    assert!(
        matches!(
            error,
            NotionError::Timeout {
                route: Route::PagesCreate,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(requests_to(&server, "POST", "/v1/pages").await, 1);
    assert_no_token(&error);
}

#[tokio::test]
async fn unreachable_server_is_a_network_error() {
    // Bind and drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut config = NotionConfig::new(TOKEN, DatabaseRef::parse(DB).expect("db"));
    config.base_url = Url::parse(&format!("http://127.0.0.1:{port}")).expect("url");
    config.retry_base_delay = Duration::from_millis(5);
    let client = NotionClient::new(config).expect("client");
    let error = client.me().await.expect_err("nothing listens");
    assert!(
        matches!(
            error,
            NotionError::Network {
                route: Route::UsersMe,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(client.stats().route(Route::UsersMe), 4);
    assert_no_token(&error);
}

#[tokio::test]
async fn queries_follow_cursors_through_every_page() {
    let server = MockServer::start().await;
    let query_path = format!("/v1/data_sources/{DS}/query");
    let cursor_is = |expected: Option<&'static str>| {
        move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            body.get("start_cursor").and_then(Value::as_str) == expected
        }
    };
    for (cursor, ids, next) in [
        (None, ["p1", "p2"], Some("c2")),
        (Some("c2"), ["p3", "p4"], Some("c3")),
        (Some("c3"), ["p5", "p6"], None),
    ] {
        let results = ids
            .iter()
            .enumerate()
            .map(|(i, id)| page_json(id, i as i64))
            .collect();
        Mock::given(method("POST"))
            .and(path(query_path.as_str()))
            .and(cursor_is(cursor))
            .and(body_partial_json(json!({"page_size": 2, "filter": {"property": "Dialer ID", "number": {"is_not_empty": true}}})))
            .respond_with(ResponseTemplate::new(200).set_body_json(list_json(results, next)))
            .expect(2)
            .mount(&server)
            .await;
    }
    let client = client(&server);
    let query = Query {
        filter: Some(json!({"property": "Dialer ID", "number": {"is_not_empty": true}})),
        sorts: vec![],
        page_size: Some(2),
    };
    let pages = client.query(DS, &query).await.expect("all pages");
    let ids: Vec<&str> = pages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p1", "p2", "p3", "p4", "p5", "p6"]);

    let mut cursor = client.query_pages(DS, query);
    let mut batches = Vec::new();
    while let Some(batch) = cursor.next_batch().await.expect("batch") {
        batches.push(batch.len());
    }
    assert_eq!(batches, [2, 2, 2]);
}

#[tokio::test]
async fn trash_uses_the_field_of_the_version() {
    let server = MockServer::start().await;
    let mut trashed = page_json(PAGE, 1);
    trashed["in_trash"] = json!(true);
    Mock::given(method("PATCH"))
        .and(path(format!("/v1/pages/{PAGE}")))
        .and(body_partial_json(json!({"in_trash": true})))
        .respond_with(ResponseTemplate::new(200).set_body_json(trashed))
        .expect(1)
        .mount(&server)
        .await;
    let mut archived = page_json(PAGE, 1);
    archived.as_object_mut().expect("object").remove("in_trash");
    archived["archived"] = json!(true);
    Mock::given(method("PATCH"))
        .and(path(format!("/v1/pages/{PAGE}")))
        .and(body_partial_json(json!({"archived": true})))
        .and(header("notion-version", "2022-06-28"))
        .respond_with(ResponseTemplate::new(200).set_body_json(archived))
        .expect(1)
        .mount(&server)
        .await;
    assert!(
        client(&server)
            .set_in_trash(PAGE, true)
            .await
            .expect("trash")
            .in_trash
    );
    let mut old = config(&server);
    old.notion_version = "2022-06-28".into();
    let old = NotionClient::new(old).expect("client");
    assert!(
        old.set_in_trash(PAGE, true)
            .await
            .expect("archive")
            .in_trash
    );
}

#[tokio::test]
async fn appends_in_chunks_of_100_and_lists_children() {
    let server = MockServer::start().await;
    let children_path = format!("/v1/blocks/{PAGE}/children");
    Mock::given(method("PATCH"))
        .and(path(children_path.as_str()))
        .respond_with(|request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let children = body["children"].as_array().cloned().unwrap_or_default();
            assert!(children.len() <= 100, "chunk of {}", children.len());
            ResponseTemplate::new(200).set_body_json(list_json(children, None))
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(children_path.as_str()))
        .and(|r: &Request| !r.url.query().unwrap_or_default().contains("start_cursor"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(list_json(vec![json!({"id": "b1"})], Some("n"))),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(children_path.as_str()))
        .and(|r: &Request| r.url.query().unwrap_or_default().contains("start_cursor=n"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(list_json(vec![json!({"id": "b2"})], None)),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    let blocks: Vec<Value> = (0..250)
        .map(|i| json!({"paragraph": {"rich_text": [{"type": "text", "text": {"content": format!("call {i}")}}]}}))
        .collect();
    let created = client.append_children(PAGE, blocks).await.expect("append");
    assert_eq!(created.len(), 250);
    assert_eq!(requests_to(&server, "PATCH", &children_path).await, 3);
    let listed = client.list_children(PAGE).await.expect("list");
    assert_eq!(listed.len(), 2);
    let stats = client.stats();
    assert_eq!(stats.route(Route::BlocksChildrenAppend), 3);
    assert_eq!(stats.writes, 3);
}

#[tokio::test]
async fn the_limiter_keeps_every_window_within_budget() {
    let server = MockServer::start().await;
    let arrivals = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorder = arrivals.clone();
    Mock::given(method("GET"))
        .and(path("/v1/users/me"))
        .respond_with(move |_: &Request| {
            recorder.lock().expect("lock").push(Instant::now());
            ResponseTemplate::new(200)
                .set_body_json(json!({"object": "user", "id": "bot", "type": "bot"}))
        })
        .mount(&server)
        .await;
    let window = Duration::from_millis(500);
    let mut config = config(&server);
    config.requests_per_window = 5;
    config.window = window;
    config.max_concurrency = 16;
    let client = NotionClient::new(config).expect("client");
    let started = Instant::now();
    let tasks: Vec<_> = (0..15)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.me().await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("me");
    }
    // 15 requests at 5 per 500 ms: the last batch cannot start before 1 s.
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    let mut arrivals = arrivals.lock().expect("lock").clone();
    arrivals.sort();
    assert_eq!(arrivals.len(), 15);
    for six in arrivals.windows(6) {
        assert!(
            six[5] - six[0] >= window,
            "6 requests within {:?}",
            six[5] - six[0]
        );
    }
    assert_eq!(client.stats().route(Route::UsersMe), 15);
}

#[tokio::test]
async fn resolves_the_first_data_source_of_the_database() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/databases/{DB}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "database", "id": DB, "title": [{"plain_text": "Sales CRM"}],
            "data_sources": [{"id": DS, "name": "Sales CRM"}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/data_sources/{DS}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "data_source", "id": DS, "title": [{"plain_text": "Sales CRM"}],
            "properties": {"Dialer ID": {"id": "a", "name": "Dialer ID", "type": "number", "number": {"format": "number"}}}
        })))
        .mount(&server)
        .await;
    let client = client(&server);
    let database = client.retrieve_database(DB).await.expect("db");
    assert_eq!(database.title, "Sales CRM");
    let data_source = client.resolve_data_source().await.expect("ds");
    assert_eq!(data_source.id, DS);
    assert_eq!(data_source.properties["Dialer ID"].kind, "number");
}

#[tokio::test]
async fn a_database_without_data_sources_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/databases/{DB}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"object": "database", "id": DB, "data_sources": []})),
        )
        .mount(&server)
        .await;
    let error = client(&server)
        .resolve_data_source()
        .await
        .expect_err("none");
    assert!(
        matches!(error, NotionError::NoDataSource { .. }),
        "{error:?}"
    );
}

#[test]
fn database_urls_and_ids_parse() {
    let expected = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";
    for input in [
        "https://www.notion.so/acme/Sales-CRM-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d?v=0123456789abcdef0123456789abcdef",
        "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
        "1A2B3C4D-5E6F-7A8B-9C0D-1E2F3A4B5C6D",
    ] {
        assert_eq!(DatabaseRef::parse(input).expect(input).as_str(), expected);
    }
    let error = DatabaseRef::parse("my sales database").expect_err("not an id");
    assert!(error.to_string().contains("Copy link"));
}

#[test]
fn no_token_in_config_or_client_debug() {
    let config = NotionConfig::new(TOKEN, DatabaseRef::parse(DB).expect("db"));
    assert!(!format!("{config:?}").contains(TOKEN));
    let client = NotionClient::new(config).expect("client");
    assert!(!format!("{client:?}").contains(TOKEN));
}
