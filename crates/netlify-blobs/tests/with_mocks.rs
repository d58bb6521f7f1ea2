//! Production behaviours the local Blobs server does not show: pagination,
//! etags and 304 on GET, rate limits and 5xx (wiremock on 127.0.0.1).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use netlify_blobs::{BlobsClient, BlobsError, GetOptions, GetOutcome, RetryPolicy, SetOptions};
use serde_json::json;
use wiremock::matchers::{
    header, header_exists, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SITE: &str = "site-123";
const TOKEN: &str = "mock-token-8d1f";

/// Retries without real waiting, so tests are fast and not timing-bound.
fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 5,
        base_backoff: Duration::from_millis(1),
        max_wait: Duration::from_secs(10),
    }
}

fn edge_client(server: &MockServer) -> BlobsClient {
    let field = base64::engine::general_purpose::STANDARD.encode(
        json!({"url": server.uri(), "url_uncached": server.uri(), "token": TOKEN, "primary_region": "us-east-2"})
            .to_string(),
    );
    BlobsClient::from_event_blobs(&field, SITE)
        .unwrap()
        .with_retry_policy(quick_retries())
}

fn blob_path(store: &str, key: &str) -> String {
    format!("/{SITE}/site:{store}/{key}")
}

fn page(keys: &[&str], next_cursor: Option<&str>) -> serde_json::Value {
    let blobs: Vec<_> = keys
        .iter()
        .map(|k| json!({"key": k, "etag": format!("\"etag-{k}\""), "last_modified": "2026-12-01T00:00:00Z", "size": 2}))
        .collect();
    match next_cursor {
        Some(cursor) => json!({"blobs": blobs, "directories": [], "next_cursor": cursor}),
        None => json!({"blobs": blobs, "directories": []}),
    }
}

#[tokio::test]
async fn list_follows_next_cursor_through_three_pages() {
    let server = MockServer::start().await;
    let list_path = format!("/{SITE}/site:contacts");
    for (cursor, keys, next) in [
        (None, vec!["c/1", "c/2"], Some("cursor-2")),
        (Some("cursor-2"), vec!["c/3", "c/4"], Some("cursor-3")),
        (Some("cursor-3"), vec!["c/5"], None),
    ] {
        let mock = Mock::given(method("GET"))
            .and(path(list_path.as_str()))
            .and(query_param("prefix", "c/"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()));
        let mock = match cursor {
            Some(c) => mock.and(query_param("cursor", c)),
            None => mock.and(query_param_is_missing("cursor")),
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(page(&keys, next)))
            .expect(1)
            .mount(&server)
            .await;
    }

    let client = edge_client(&server);
    let listed = client.store("contacts").list(Some("c/")).await.unwrap();
    let keys: Vec<_> = listed.iter().map(|b| b.key.as_str()).collect();
    assert_eq!(keys, ["c/1", "c/2", "c/3", "c/4", "c/5"]);
    assert_eq!(listed[4].etag, "\"etag-c/5\"");
    assert_eq!(listed[4].size, Some(2));
    assert_eq!(client.stats().lists, 3, "one count per page");
    // The directories flag is left off, i.e. a flat listing.
    for request in server.received_requests().await.unwrap() {
        assert!(!request
            .url
            .query()
            .unwrap_or("")
            .contains("directories=true"));
    }
}

#[tokio::test]
async fn list_of_a_missing_store_is_empty() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/{SITE}/site:nothing")))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    assert!(edge_client(&server)
        .store("nothing")
        .list(None)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn get_returns_the_etag_and_304_for_if_none_match() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(blob_path("contacts", "c/1")))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(blob_path("contacts", "c/1")))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .set_body_string("{\"id\":1}"),
        )
        .mount(&server)
        .await;

    let store = edge_client(&server).store("contacts");
    let blob = store.get("c/1").await.unwrap().unwrap();
    assert_eq!(blob.etag.as_deref(), Some("\"v1\""));
    assert_eq!(blob.bytes, b"{\"id\":1}");

    let again = store
        .get_with(
            "c/1",
            GetOptions {
                strong: false,
                if_none_match: blob.etag.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(again, GetOutcome::NotModified);

    let other = store
        .get_with(
            "c/1",
            GetOptions {
                strong: false,
                if_none_match: Some("\"v0\"".into()),
            },
        )
        .await
        .unwrap();
    assert!(matches!(other, GetOutcome::Found(_)));
}

#[tokio::test]
async fn retries_429_honouring_x_ratelimit_reset() {
    let server = MockServer::start().await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    // Epoch seconds: two seconds ahead means a wait of more than one second.
    let reset = now.as_secs() + 2;
    let expected_min_wait = Duration::from_secs(reset) - now;
    Mock::given(method("GET"))
        .and(path(blob_path("s", "k")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-reset", reset.to_string().as_str()),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(blob_path("s", "k")))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;

    let started = Instant::now();
    let blob = edge_client(&server)
        .store("s")
        .get("k")
        .await
        .unwrap()
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(blob.bytes, b"ok");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    // A lower bound only: the backoff alone would be 1 ms.
    assert!(
        waited + Duration::from_millis(50) >= expected_min_wait,
        "waited {waited:?}, reset asked for {expected_min_wait:?}"
    );
}

#[tokio::test]
async fn retries_503_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(blob_path("s", "k")))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(blob_path("s", "k")))
        .respond_with(ResponseTemplate::new(200).insert_header("etag", "\"new\""))
        .mount(&server)
        .await;

    let client = edge_client(&server);
    let outcome = client
        .store("s")
        .set("k", b"v".to_vec(), SetOptions::default())
        .await
        .unwrap();
    assert_eq!(
        outcome,
        netlify_blobs::SetOutcome::Written {
            etag: Some("\"new\"".into())
        }
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.iter().all(|r| r.body == b"v"),
        "the body is resent"
    );
    assert_eq!(client.stats().sets, 1, "retries are not counted as calls");
}

#[tokio::test]
async fn gives_up_after_five_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(blob_path("s", "k")))
        .respond_with(
            ResponseTemplate::new(503).set_body_string(format!("overloaded, token={TOKEN}")),
        )
        .mount(&server)
        .await;

    let err = edge_client(&server).store("s").get("k").await.unwrap_err();
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        6,
        "one attempt and five retries"
    );
    match &err {
        BlobsError::Http {
            status,
            store,
            key,
            body,
            ..
        } => {
            assert_eq!(*status, 503);
            assert_eq!(store, "s");
            assert_eq!(key.as_deref(), Some("k"));
            assert!(body.contains("overloaded"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        !format!("{err} {err:?}").contains(TOKEN),
        "an echoed token is redacted"
    );
}

#[tokio::test]
async fn unauthorized_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let err = edge_client(&server).store("s").get("k").await.unwrap_err();
    assert!(
        matches!(err, BlobsError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn api_mode_uses_signed_urls_without_the_token() {
    let server = MockServer::start().await;
    let api_path = format!("/api/v1/blobs/{SITE}/site:s/k");
    let signed = format!("{}/signed/k?sig=abc", server.uri());
    Mock::given(method("PUT"))
        .and(path(api_path.as_str()))
        .and(header("accept", "application/json;type=signed-url"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(header_exists("netlify-blobs-metadata"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"url": signed})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/signed/k"))
        .and(query_param("sig", "abc"))
        .and(header("if-none-match", "*"))
        .and(header("x-amz-meta-user", "b64;eyJhIjoxfQ=="))
        .respond_with(ResponseTemplate::new(200).insert_header("etag", "\"e\""))
        .mount(&server)
        .await;

    let client = BlobsClient::from_api(SITE, TOKEN, Some(&server.uri()))
        .unwrap()
        .with_retry_policy(quick_retries());
    let outcome = client
        .store("s")
        .set(
            "k",
            b"body".to_vec(),
            SetOptions::if_new().with_metadata(json!({"a": 1})),
        )
        .await
        .unwrap();
    assert!(outcome.is_written(), "{outcome:?}");

    let requests: Vec<Request> = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[0].body.is_empty(),
        "the body goes only to the signed URL"
    );
    assert!(
        !requests[1].headers.contains_key("authorization"),
        "no token on the signed URL"
    );
    assert_eq!(requests[1].body, b"body");
}

#[tokio::test]
async fn timeouts_end_a_hanging_request() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let client = edge_client(&server)
        .with_timeout(Duration::from_millis(200))
        .with_retry_policy(RetryPolicy::none());
    let err = client.store("s").get("k").await.unwrap_err();
    assert!(matches!(err, BlobsError::Network { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains(TOKEN) && !text.contains(&server.uri()),
        "{text}"
    );
}

#[tokio::test]
async fn refused_connections_are_network_errors() {
    // A port that was free a moment ago: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let field = base64::engine::general_purpose::STANDARD
        .encode(json!({"url": format!("http://127.0.0.1:{port}"), "token": TOKEN}).to_string());
    let client = BlobsClient::from_event_blobs(&field, SITE)
        .unwrap()
        .with_retry_policy(quick_retries());
    let err = client.store("s").get("k").await.unwrap_err();
    assert!(matches!(err, BlobsError::Network { .. }), "{err:?}");
    // Strong reads need the uncached URL, which this event lacks.
    let strong = client
        .store("s")
        .get_with(
            "k",
            GetOptions {
                strong: true,
                if_none_match: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(strong, BlobsError::Config(ref m) if m.contains("url_uncached")),
        "{strong:?}"
    );
}
