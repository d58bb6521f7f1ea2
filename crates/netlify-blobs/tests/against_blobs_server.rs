//! The client against the official local Blobs server (`@netlify/blobs`
//! 10.7.13), in both access modes: edge (as a function gets it from its
//! event) and API (signed-URL flow with a personal access token).
//!
//! Every scenario runs once per mode, each on its own server.

use std::io::Write;
use std::sync::{Arc, Mutex};

use netlify_blobs::{
    AccessMode, BlobsClient, BlobsError, GetOptions, GetOutcome, SetOptions, SetOutcome,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use test_harness::blobs_server::{BlobsServer, RunningBlobsServer};

fn start() -> RunningBlobsServer {
    BlobsServer::start().expect("start the official Blobs server")
}

/// Generates `mod $scenario { edge, api }`, each starting its own server.
macro_rules! in_both_modes {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn edge() {
                let server = super::start();
                let client = server.edge_client();
                assert_eq!(client.access_mode(), netlify_blobs::AccessMode::Edge);
                super::$scenario(client, &server).await;
            }

            #[tokio::test]
            async fn api() {
                let server = super::start();
                let client = server.api_client();
                assert_eq!(client.access_mode(), netlify_blobs::AccessMode::Api);
                super::$scenario(client, &server).await;
            }
        }
    )*};
}

in_both_modes!(
    set_get_delete,
    list_with_prefixes,
    json_helpers,
    conditional_writes,
    metadata_round_trip,
    odd_keys,
    large_values,
    validation_errors_send_nothing,
    bad_token_is_unauthorized_without_the_token,
    strong_reads,
);

fn etag_of(outcome: SetOutcome) -> String {
    match outcome {
        SetOutcome::Written { etag: Some(etag) } => etag,
        other => panic!("expected a write with an etag, got {other:?}"),
    }
}

async fn set_get_delete(client: BlobsClient, _server: &RunningBlobsServer) {
    let store = client.store("contacts");
    let before = client.stats();

    let written = store
        .set("greeting", b"hello".to_vec(), SetOptions::default())
        .await
        .unwrap();
    assert!(written.is_written());

    let blob = store.get("greeting").await.unwrap().expect("present");
    assert_eq!(blob.bytes, b"hello");
    assert!(store.get("absent").await.unwrap().is_none());

    // Overwrite: last write wins.
    store
        .set("greeting", b"bye".to_vec(), SetOptions::default())
        .await
        .unwrap();
    assert_eq!(store.get("greeting").await.unwrap().unwrap().bytes, b"bye");

    store.delete("greeting").await.unwrap();
    assert!(store.get("greeting").await.unwrap().is_none());
    // Deleting what is not there is fine.
    store.delete("greeting").await.unwrap();
    store.delete("never-existed").await.unwrap();

    // Stores are separate namespaces.
    let other = client.store("other");
    other
        .set("greeting", b"elsewhere".to_vec(), SetOptions::default())
        .await
        .unwrap();
    assert!(store.get("greeting").await.unwrap().is_none());

    // The counter is shared by clones and counts one per call.
    let stats = client.clone().stats().since(&before);
    assert_eq!(
        (
            stats.gets,
            stats.sets,
            stats.deletes,
            stats.lists,
            stats.heads
        ),
        (5, 3, 3, 0, 0)
    );
}

async fn list_with_prefixes(client: BlobsClient, _server: &RunningBlobsServer) {
    let store = client.store("listing");
    assert!(
        store.list(None).await.unwrap().is_empty(),
        "a store never written to lists empty"
    );

    let mut etags = std::collections::HashMap::new();
    for key in ["contacts/1", "contacts/2", "contacts/10", "other/1", "top"] {
        let etag = etag_of(
            store
                .set(key, key.as_bytes().to_vec(), SetOptions::default())
                .await
                .unwrap(),
        );
        etags.insert(key.to_owned(), etag);
    }

    let keys = |listed: Vec<netlify_blobs::ListedBlob>| {
        let mut keys: Vec<String> = listed.into_iter().map(|b| b.key).collect();
        keys.sort();
        keys
    };

    let all = store.list(None).await.unwrap();
    for blob in &all {
        assert_eq!(
            Some(&blob.etag),
            etags.get(&blob.key),
            "list etag == PUT etag"
        );
        assert_eq!(blob.size, Some(blob.key.len() as u64));
        assert!(blob.last_modified.is_some());
    }
    assert_eq!(
        keys(all),
        ["contacts/1", "contacts/10", "contacts/2", "other/1", "top"]
    );
    if client.access_mode() == AccessMode::Api {
        // The local server parses an API-layout list URL's query into the
        // store name (netlify.md: "the local server's API-layout list is
        // broken"), so prefixed lists are checked in edge mode only;
        // production serves both layouts alike.
        return;
    }
    assert_eq!(
        keys(store.list(Some("contacts/")).await.unwrap()),
        ["contacts/1", "contacts/10", "contacts/2"]
    );
    assert_eq!(
        keys(store.list(Some("contacts/1")).await.unwrap()),
        ["contacts/1", "contacts/10"]
    );
    assert_eq!(keys(store.list(Some("to")).await.unwrap()), ["top"]);
    // A prefix longer than a key must not return that key.
    assert!(store.list(Some("topper")).await.unwrap().is_empty());
    assert!(store.list(Some("nope")).await.unwrap().is_empty());
    // The empty prefix is no prefix.
    assert_eq!(store.list(Some("")).await.unwrap().len(), 5);

    store.delete("contacts/2").await.unwrap();
    assert_eq!(
        keys(store.list(Some("contacts/")).await.unwrap()),
        ["contacts/1", "contacts/10"]
    );
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Contact {
    id: String,
    name: String,
    phone: Option<String>,
}

async fn json_helpers(client: BlobsClient, _server: &RunningBlobsServer) {
    let store = client.store("json");
    let contact = Contact {
        id: "c-1".into(),
        name: "Ada Lovelace".into(),
        phone: Some("+44 20 7946 0000".into()),
    };
    store
        .set_json("contacts/c-1", &contact, SetOptions::default())
        .await
        .unwrap();
    let read: Contact = store.get_json("contacts/c-1").await.unwrap().unwrap();
    assert_eq!(read, contact);
    assert!(store
        .get_json::<Contact>("missing")
        .await
        .unwrap()
        .is_none());

    store
        .set("broken", b"{not json".to_vec(), SetOptions::default())
        .await
        .unwrap();
    let err = store.get_json::<Contact>("broken").await.unwrap_err();
    assert!(matches!(err, BlobsError::Decode { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("json") && message.contains("broken"),
        "the error names store and key: {message}"
    );
}

async fn conditional_writes(client: BlobsClient, _server: &RunningBlobsServer) {
    let store = client.store("conditional");

    // if-new: writes a new key, refuses an existing one.
    let first = etag_of(
        store
            .set("k", b"v1".to_vec(), SetOptions::if_new())
            .await
            .unwrap(),
    );
    assert_eq!(
        store
            .set("k", b"clobber".to_vec(), SetOptions::if_new())
            .await
            .unwrap(),
        SetOutcome::ConditionFailed
    );
    assert_eq!(store.get("k").await.unwrap().unwrap().bytes, b"v1");

    // if-match with the current etag writes and returns the next etag.
    let mut second = etag_of(
        store
            .set("k", b"v2".to_vec(), SetOptions::if_match(&first))
            .await
            .unwrap(),
    );
    // The local server derives etags from the file's mtime in milliseconds;
    // two writes within one millisecond share an etag. Rewrite until the
    // etag moves on so that `first` is really stale (bounded; no sleeping).
    for _ in 0..10_000 {
        if second != first {
            break;
        }
        second = etag_of(
            store
                .set("k", b"v2".to_vec(), SetOptions::default())
                .await
                .unwrap(),
        );
    }
    assert_ne!(second, first);

    // if-match with a stale etag is refused and changes nothing.
    assert_eq!(
        store
            .set("k", b"stale".to_vec(), SetOptions::if_match(&first))
            .await
            .unwrap(),
        SetOutcome::ConditionFailed
    );
    assert_eq!(store.get("k").await.unwrap().unwrap().bytes, b"v2");

    // The etag from list is good for if-match too.
    let listed = store.list(Some("k")).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].etag, second);
    assert!(store
        .set("k", b"v3".to_vec(), SetOptions::if_match(&listed[0].etag))
        .await
        .unwrap()
        .is_written());
    assert_eq!(store.get("k").await.unwrap().unwrap().bytes, b"v3");

    // if-match on a key that does not exist fails; if-new on it succeeds.
    assert_eq!(
        store
            .set("fresh", b"x".to_vec(), SetOptions::if_match(&first))
            .await
            .unwrap(),
        SetOutcome::ConditionFailed
    );
    assert!(store.get("fresh").await.unwrap().is_none());
    assert!(store
        .set("fresh", b"x".to_vec(), SetOptions::if_new())
        .await
        .unwrap()
        .is_written());
}

async fn metadata_round_trip(client: BlobsClient, _server: &RunningBlobsServer) {
    let store = client.store("meta");
    let meta = json!({"source": "dialer", "version": 3, "tags": ["a", "b"], "ü": "ñ"});
    store
        .set(
            "with-meta",
            b"body".to_vec(),
            SetOptions::default().with_metadata(meta.clone()),
        )
        .await
        .unwrap();
    assert_eq!(store.metadata("with-meta").await.unwrap(), Some(meta));
    assert_eq!(
        store.get("with-meta").await.unwrap().unwrap().bytes,
        b"body"
    );
    assert_eq!(store.metadata("absent").await.unwrap(), None);

    // Conditional writes carry metadata too.
    let replaced = json!({"version": 4});
    assert!(store
        .set(
            "new-with-meta",
            b"b".to_vec(),
            SetOptions::if_new().with_metadata(replaced.clone())
        )
        .await
        .unwrap()
        .is_written());
    assert_eq!(
        store.metadata("new-with-meta").await.unwrap(),
        Some(replaced)
    );

    // Too large: refused before anything is sent.
    let before = client.stats();
    let huge = json!({"blob": "x".repeat(2048)});
    let err = store
        .set(
            "too-much",
            b"b".to_vec(),
            SetOptions::default().with_metadata(huge),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, BlobsError::MetadataTooLarge { .. }),
        "{err:?}"
    );
    assert_eq!(client.stats().since(&before).total(), 0);
    assert!(store.get("too-much").await.unwrap().is_none());
    assert_eq!(client.stats().heads, 3);
}

async fn odd_keys(client: BlobsClient, _server: &RunningBlobsServer) {
    let store = client.store("odd");
    // URL-safe keys, including deep directories and characters that are
    // legal unencoded in a path: they round-trip and list as written.
    let url_safe = [
        "a-b_c.d~e",
        "deep/er/and/deeper/leaf",
        "CamelCase123",
        "paren(s)!'",
        "colon:at@plus+eq=comma,semi;dollar$amp&",
        "2026-12-01T21:00:00Z",
    ];
    for key in url_safe {
        store
            .set(key, key.as_bytes().to_vec(), SetOptions::default())
            .await
            .unwrap();
        let blob = store
            .get(key)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{key}"));
        assert_eq!(blob.bytes, key.as_bytes(), "{key}");
    }
    let mut listed: Vec<String> = store
        .list(None)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.key)
        .collect();
    listed.sort();
    let mut expected: Vec<String> = url_safe.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);

    // Keys needing percent-encoding (space, `%`, `?`, `#`, non-ASCII) still
    // round-trip through get/set/delete; the local server stores them
    // percent-encoded, so they are not asserted in list output (netlify.md:
    // keep keys URL-safe).
    for key in ["with space", "100%", "what?", "hash#tag", "ünï-cödé"] {
        store
            .set(key, key.as_bytes().to_vec(), SetOptions::default())
            .await
            .unwrap();
        let blob = store
            .get(key)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{key}"));
        assert_eq!(blob.bytes, key.as_bytes(), "{key}");
        store.delete(key).await.unwrap();
        assert!(store.get(key).await.unwrap().is_none(), "{key}");
    }

    // The longest allowed key works. (In segments: the local server keeps
    // each segment as a file name, and file systems stop at 255 bytes.)
    let long = vec!["k".repeat(99); 6].join("/") + "k";
    assert_eq!(long.len(), netlify_blobs::MAX_KEY_BYTES);
    store
        .set(&long, b"long".to_vec(), SetOptions::default())
        .await
        .unwrap();
    assert_eq!(store.get(&long).await.unwrap().unwrap().bytes, b"long");
}

async fn large_values(client: BlobsClient, _server: &RunningBlobsServer) {
    let store = client.store("large");
    let mut rng = fastrand::Rng::with_seed(7);
    let value: Vec<u8> = (0..1024 * 1024).map(|_| rng.u8(..)).collect();
    store
        .set("one-megabyte", value.clone(), SetOptions::default())
        .await
        .unwrap();
    let blob = store.get("one-megabyte").await.unwrap().unwrap();
    assert_eq!(blob.bytes.len(), value.len());
    assert!(blob.bytes == value, "1 MB round-trips byte for byte");
    let listed = store.list(None).await.unwrap();
    assert_eq!(listed[0].size, Some(1024 * 1024));

    // An empty value is a value.
    store
        .set("empty", Vec::new(), SetOptions::default())
        .await
        .unwrap();
    assert_eq!(store.get("empty").await.unwrap().unwrap().bytes, b"");
}

async fn validation_errors_send_nothing(client: BlobsClient, _server: &RunningBlobsServer) {
    let before = client.stats();
    for bad_store in ["", "a/b", &"s".repeat(65)] {
        let store = client.store(bad_store);
        let err = store.get("k").await.unwrap_err();
        assert!(matches!(err, BlobsError::InvalidStore { .. }), "{err:?}");
        let err = store.list(None).await.unwrap_err();
        assert!(matches!(err, BlobsError::InvalidStore { .. }), "{err:?}");
    }
    let store = client.store("valid");
    let too_long = "k".repeat(601);
    for bad_key in ["", "/leading", too_long.as_str(), "a/../b"] {
        let err = store.get(bad_key).await.unwrap_err();
        assert!(matches!(err, BlobsError::InvalidKey { .. }), "{err:?}");
        let err = store
            .set(bad_key, b"x".to_vec(), SetOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, BlobsError::InvalidKey { .. }), "{err:?}");
        assert!(store.delete(bad_key).await.is_err());
        assert!(store.metadata(bad_key).await.is_err());
    }
    assert_eq!(client.stats().since(&before).total(), 0, "nothing was sent");
}

/// Captures everything tracing logs while a test runs.
#[derive(Clone, Default)]
struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn bad_token_is_unauthorized_without_the_token(
    client: BlobsClient,
    server: &RunningBlobsServer,
) {
    let logs = LogCapture::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // Current-thread test runtime: the thread default covers every poll.
    let _guard = tracing::subscriber::set_default(subscriber);

    let bad_token = "not-the-token-5ecr3t-xyz";
    let bad = match client.access_mode() {
        AccessMode::Edge => {
            let field = base64_event(server.url(), bad_token);
            BlobsClient::from_event_blobs(&field, server.site_id()).unwrap()
        }
        AccessMode::Api => {
            BlobsClient::from_api(server.site_id(), bad_token, Some(server.url())).unwrap()
        }
    };
    let store = bad.store("contacts");
    let mut errors = vec![
        store.get("k").await.unwrap_err(),
        store
            .set("k", b"v".to_vec(), SetOptions::default())
            .await
            .unwrap_err(),
        store.list(None).await.unwrap_err(),
        store.delete("k").await.unwrap_err(),
        store.metadata("k").await.unwrap_err(),
    ];
    for err in &errors {
        assert!(
            matches!(
                err,
                BlobsError::Unauthorized {
                    status: 401 | 403,
                    ..
                }
            ),
            "{err:?}"
        );
        let text = format!("{err} {err:?}");
        assert!(text.contains("the Blobs token was rejected"), "{text}");
        assert!(!text.contains(bad_token), "token leaked into: {text}");
        assert!(!text.contains(server.token()), "token leaked into: {text}");
    }

    // Logs of failing and succeeding requests never show a token.
    let good = client.store("contacts");
    good.set("k", b"v".to_vec(), SetOptions::default())
        .await
        .unwrap();
    good.get("k").await.unwrap();
    errors.clear();
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("Blobs request"),
        "logs were captured: {logged}"
    );
    assert!(!logged.contains(bad_token), "{logged}");
    assert!(!logged.contains(server.token()), "{logged}");
    assert!(
        !logged.contains("signature="),
        "no signed URL in logs: {logged}"
    );
}

fn base64_event(url: &str, token: &str) -> String {
    use base64::Engine as _;
    let json = json!({"url": url, "url_uncached": url, "token": token, "primary_region": "dev"});
    base64::engine::general_purpose::STANDARD.encode(json.to_string())
}

async fn strong_reads(client: BlobsClient, _server: &RunningBlobsServer) {
    let store = client.store("strong");
    store
        .set("k", b"now".to_vec(), SetOptions::default())
        .await
        .unwrap();
    let strong = GetOptions {
        strong: true,
        ..GetOptions::default()
    };
    match store.get_with("k", strong.clone()).await.unwrap() {
        GetOutcome::Found(blob) => assert_eq!(blob.bytes, b"now"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        store.get_with("absent", strong).await.unwrap(),
        GetOutcome::Missing
    );
}

#[tokio::test]
async fn from_context_and_from_env_reach_the_server() {
    let server = start();
    let from_context = BlobsClient::from_context(&server.context_env()).unwrap();
    assert_eq!(from_context.access_mode(), AccessMode::Edge);
    assert_eq!(from_context.site_id(), server.site_id());
    let context = server.context_env();
    let from_env = BlobsClient::from_env_with(|name| {
        (name == "NETLIFY_BLOBS_CONTEXT").then(|| context.clone())
    })
    .unwrap();

    from_context
        .store("ctx")
        .set("k", b"via context".to_vec(), SetOptions::default())
        .await
        .unwrap();
    let blob = from_env.store("ctx").get("k").await.unwrap().unwrap();
    assert_eq!(blob.bytes, b"via context");

    // Edge and API clients see the same data.
    let via_api = server.api_client().store("ctx").get("k").await.unwrap();
    assert_eq!(via_api.unwrap().bytes, b"via context");
}

#[tokio::test]
async fn servers_are_independent() {
    let a = start();
    let b = start();
    assert_ne!(a.url(), b.url());
    assert_ne!(a.token(), b.token());
    a.edge_client()
        .store("s")
        .set("k", b"a".to_vec(), SetOptions::default())
        .await
        .unwrap();
    assert!(b.edge_client().store("s").get("k").await.unwrap().is_none());
}
