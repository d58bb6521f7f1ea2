//! The real event shapes Netlify sends (see shared/reference/netlify.md),
//! through the same core `run` uses.

use std::cell::Cell;
use std::time::{Duration, SystemTime};

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use base64::Engine as _;
use netlify_function::{handle_event, Cors, HttpError, InvocationMeta, Request, Response};
use serde::Deserialize;
use serde_json::{json, Value};

/// The event `netlify functions:serve` (CLI 26.x) passes: capitalised
/// multi-value names, `[null]` values, a `blobs` context, a thin
/// `requestContext`.
fn cli_event() -> Value {
    let blobs = base64::engine::general_purpose::STANDARD.encode(
        json!({"primary_region":"dev","url":"http://localhost:40123","url_uncached":"http://localhost:40123","token":"tok"}).to_string(),
    );
    json!({
        "resource": "",
        "path": "/.netlify/functions/echo",
        "httpMethod": "GET",
        "headers": {
            "accept": "*/*",
            "host": "localhost:9999",
            "user-agent": "curl/8.5.0",
            "x-nf-site-id": "site-from-header",
            "x-nf-account-id": null,
            "X-Amzn-Trace-Id": "1a2b3c4d5e6f"
        },
        "multiValueHeaders": {
            "Accept": ["*/*"],
            "x-nf-account-id": [null],
            "X-Forwarded-For": ["127.0.0.1", "10.0.0.1"]
        },
        "queryStringParameters": {"limit": "5"},
        "multiValueQueryStringParameters": {"limit": ["5"], "tag": ["a", "b"]},
        "body": null,
        "isBase64Encoded": false,
        "rawUrl": "http://localhost:9999/.netlify/functions/echo?limit=5",
        "rawQuery": "limit=5",
        "blobs": blobs,
        "requestContext": {"httpMethod": "GET", "requestTimeEpoch": 0}
    })
}

/// A production-like event: full `requestContext`, `blobs`, JSON body.
fn production_event() -> Value {
    json!({
        "path": "/api/sync-to-notion",
        "httpMethod": "post",
        "headers": {"content-type": "application/json", "x-nf-site-id": "prod-site", "x-nf-deploy-context": "production"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "body": "{\"name\":\"Ada\",\"count\":3}",
        "isBase64Encoded": false,
        "blobs": "eyJ1cmwiOiJodHRwczovL2VkZ2UifQ==",
        "requestContext": {
            "accountId": "123", "resourceId": "x", "stage": "prod", "requestId": "r",
            "identity": {"sourceIp": "1.2.3.4"}, "resourcePath": "/", "httpMethod": "POST", "apiId": "a"
        }
    })
}

fn scheduled_event() -> Value {
    json!({
        "path": "/.netlify/functions/scheduled-sync",
        "httpMethod": "POST",
        "headers": {"user-agent": "Netlify Clockwork", "x-nf-event": "schedule"},
        "multiValueHeaders": {"x-nf-account-id": [null]},
        "queryStringParameters": null,
        "body": "{\"next_run\":\"2026-11-02T10:05:00.000Z\"}",
        "isBase64Encoded": false
    })
}

fn meta() -> InvocationMeta {
    InvocationMeta {
        request_id: "req-1".into(),
        deadline: Some(SystemTime::now() + Duration::from_secs(30)),
        env_site_id: Some("site-from-env".into()),
    }
}

fn request_of(event: Value) -> Request {
    Request::from_event(
        netlify_function::NetlifyEvent::from_value(event).expect("lenient parse"),
        meta(),
    )
    .expect("request")
}

fn body_json(resp: &ApiGatewayProxyResponse) -> Value {
    let text = match &resp.body {
        Some(aws_lambda_events::encodings::Body::Text(t)) => t.clone(),
        other => panic!("expected a text body, got {other:?}"),
    };
    serde_json::from_str(&text).expect("JSON body")
}

fn header<'a>(resp: &'a ApiGatewayProxyResponse, name: &str) -> Option<&'a str> {
    resp.headers.get(name).and_then(|v| v.to_str().ok())
}

async fn echo(req: Request) -> Response {
    Response::json(
        200,
        &json!({"method": req.method, "path": req.path, "query": req.query}),
    )
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Typed {
    name: String,
    count: u32,
    tags: Option<Vec<String>>,
}

#[test]
fn cli_event_with_null_multi_value_headers_parses() {
    let req = request_of(cli_event());
    assert_eq!(req.method, "GET");
    assert_eq!(req.path, "/.netlify/functions/echo");
    assert_eq!(req.header("Accept"), Some("*/*"));
    assert_eq!(req.header("x-amzn-trace-id"), Some("1a2b3c4d5e6f"));
    assert_eq!(req.header("x-nf-account-id"), None);
    assert_eq!(req.header("x-forwarded-for"), Some("127.0.0.1, 10.0.0.1"));
    assert_eq!(req.query_param("limit"), Some("5"));
    assert_eq!(req.query_param("tag"), Some("b"));
    assert!(req.body.is_empty());
    assert_eq!(req.site_id(), Some("site-from-header"));
    assert!(req.blobs_context().is_some());
    assert!(!req.is_scheduled());
    assert_eq!(req.request_id, "req-1");
    assert!(req.remaining().is_some_and(|d| d > Duration::from_secs(20)));
}

#[test]
fn production_event_with_blobs_and_request_context_parses() {
    let req = request_of(production_event());
    assert_eq!(req.method, "POST", "method is upper-cased");
    assert_eq!(
        req.blobs_context(),
        Some("eyJ1cmwiOiJodHRwczovL2VkZ2UifQ==")
    );
    assert_eq!(req.site_id(), Some("prod-site"));
    assert!(req.query.is_empty());
    let typed: Typed = req.json().expect("typed body");
    assert_eq!(typed.name, "Ada");
    assert_eq!(typed.count, 3);
}

#[test]
fn scheduled_event_is_recognised_by_header_and_by_body() {
    assert!(request_of(scheduled_event()).is_scheduled());

    let mut body_only = scheduled_event();
    body_only["headers"] = json!({});
    assert!(request_of(body_only).is_scheduled());

    let mut header_only = scheduled_event();
    header_only["body"] = Value::Null;
    assert!(request_of(header_only).is_scheduled());
}

#[test]
fn base64_body_is_decoded() {
    let encoded = base64::engine::general_purpose::STANDARD.encode(br#"{"name":"B","count":1}"#);
    let req = request_of(
        json!({"httpMethod":"POST","path":"/x","body": encoded,"isBase64Encoded": true}),
    );
    assert_eq!(req.body, br#"{"name":"B","count":1}"#);
    assert_eq!(req.json::<Typed>().expect("typed").name, "B");
}

#[test]
fn invalid_base64_body_is_a_400() {
    let err = Request::from_event(
        netlify_function::NetlifyEvent::from_value(
            json!({"httpMethod":"POST","body":"%%%","isBase64Encoded":true}),
        )
        .expect("parse"),
        meta(),
    )
    .expect_err("bad base64");
    assert_eq!(err.status, 400);
    assert!(err.message.contains("body"), "{}", err.message);
}

#[test]
fn minimal_and_null_filled_events_parse() {
    let empty = request_of(json!({}));
    assert_eq!(empty.method, "");
    assert!(empty.headers.is_empty());

    let nulls = request_of(json!({
        "httpMethod": null, "path": null, "headers": null, "multiValueHeaders": null,
        "queryStringParameters": null, "body": null, "isBase64Encoded": null,
        "blobs": null, "requestContext": null
    }));
    assert!(nulls.body.is_empty());
    assert_eq!(nulls.blobs_context(), None);
    assert_eq!(
        nulls.site_id(),
        Some("site-from-env"),
        "falls back to SITE_ID"
    );
}

#[test]
fn bad_json_names_the_field() {
    let wrong_type =
        request_of(json!({"httpMethod":"POST","body":"{\"name\":\"A\",\"count\":\"three\"}"}));
    let err = wrong_type.json::<Typed>().expect_err("wrong type");
    assert_eq!(err.status, 400);
    assert_eq!(err.code, "bad_request");
    assert!(err.message.contains("`count`"), "{}", err.message);
    assert!(err.message.contains("line 1"), "{}", err.message);

    let nested = request_of(
        json!({"httpMethod":"POST","body":"{\"name\":\"A\",\"count\":1,\"tags\":[\"x\",2]}"}),
    );
    let err = nested.json::<Typed>().expect_err("nested wrong type");
    assert!(err.message.contains("`tags[1]`"), "{}", err.message);

    let missing = request_of(json!({"httpMethod":"POST","body":"{\"name\":\"A\"}"}));
    let err = missing.json::<Typed>().expect_err("missing field");
    assert!(err.message.contains("count"), "{}", err.message);

    let syntax =
        request_of(json!({"httpMethod":"POST","body":"{\n\"name\": \"A\",\n\"count\": }"}));
    let err = syntax.json::<Typed>().expect_err("syntax error");
    assert!(err.message.contains("line 3"), "{}", err.message);

    let empty = request_of(json!({"httpMethod":"POST","body":""}));
    let err = empty.json::<Typed>().expect_err("empty body");
    assert!(err.message.contains("empty"), "{}", err.message);

    let trailing = request_of(json!({"httpMethod":"POST","body":"{\"name\":\"A\",\"count\":1} x"}));
    assert_eq!(trailing.json::<Typed>().expect_err("trailing").status, 400);
}

#[tokio::test]
async fn responses_are_json_with_cors_and_headers_set() {
    let resp = handle_event(&echo, cli_event(), meta(), &Cors::default()).await;
    assert_eq!(resp.status_code, 200);
    assert_eq!(header(&resp, "content-type"), Some("application/json"));
    assert_eq!(header(&resp, "access-control-allow-origin"), Some("*"));
    assert_eq!(body_json(&resp)["query"]["limit"], "5");

    // Netlify reads `headers`; make sure they are in the serialised form.
    let wire = serde_json::to_value(&resp).expect("serialise");
    assert_eq!(wire["statusCode"], 200);
    assert_eq!(wire["headers"]["content-type"], "application/json");
    assert!(wire["headers"]["access-control-allow-headers"]
        .as_str()
        .is_some_and(|h| h.contains("authorization") && h.contains("content-type")));
}

#[tokio::test]
async fn cors_uses_the_dialer_origin() {
    let cors = Cors {
        allow_origin: "https://dialer.example.com".into(),
    };
    let resp = handle_event(&echo, production_event(), meta(), &cors).await;
    assert_eq!(
        header(&resp, "access-control-allow-origin"),
        Some("https://dialer.example.com")
    );
    assert_eq!(header(&resp, "vary"), Some("origin"));
}

#[tokio::test]
async fn options_preflight_is_answered_without_the_handler() {
    let called = Cell::new(false);
    let handler = |_req: Request| {
        called.set(true);
        async { Response::json(200, &json!({})) }
    };
    let event = json!({"httpMethod":"OPTIONS","path":"/x","headers":{"origin":"https://d","access-control-request-method":"POST"}});
    let resp = handle_event(&handler, event, meta(), &Cors::default()).await;
    assert_eq!(resp.status_code, 204);
    assert!(resp.body.is_none());
    assert!(header(&resp, "access-control-allow-methods").is_some_and(|m| m.contains("POST")));
    assert!(!called.get());
}

#[tokio::test]
async fn panics_become_500_json() {
    async fn panics(_req: Request) -> Response {
        panic!("boom in the handler")
    }
    let resp = handle_event(&panics, cli_event(), meta(), &Cors::default()).await;
    assert_eq!(resp.status_code, 500);
    let body = body_json(&resp);
    assert_eq!(body["error"]["code"], "internal");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        !message.contains("boom"),
        "the panic's text stays in the log: {message}"
    );
    assert!(message.contains(&meta().request_id), "{message}");
    assert_eq!(header(&resp, "access-control-allow-origin"), Some("*"));

    // A panic before the future exists is caught too.
    let eager = |_req: Request| -> std::future::Ready<Response> { panic!("eager") };
    let resp = handle_event(&eager, cli_event(), meta(), &Cors::default()).await;
    assert_eq!(resp.status_code, 500);
}

#[tokio::test]
async fn handler_errors_become_error_bodies() {
    async fn typed(req: Request) -> Result<Response, HttpError> {
        let t: Typed = req.json()?;
        Ok(Response::json(200, &json!({"name": t.name})))
    }
    let event = json!({"httpMethod":"POST","path":"/x","body":"{\"name\":1,\"count\":1}"});
    let resp = handle_event(&typed, event, meta(), &Cors::default()).await;
    assert_eq!(resp.status_code, 400);
    let body = body_json(&resp);
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("`name`")));
    assert!(body["error"]
        .as_object()
        .is_some_and(|e| e.contains_key("hint")));
}

#[tokio::test]
async fn a_non_object_event_is_a_400_not_a_crash() {
    let resp = handle_event(&echo, json!("not an event"), meta(), &Cors::default()).await;
    assert_eq!(resp.status_code, 400);
}

#[test]
fn config_missing_says_where_to_set_it() {
    let err = HttpError::config_missing("NOTION_API_TOKEN");
    assert_eq!(err.status, 500);
    assert_eq!(err.message, "NOTION_API_TOKEN is not set");
    assert_eq!(
        err.hint.as_deref(),
        Some("Set it in Netlify: Site configuration > Environment variables, scope Functions, then redeploy.")
    );
    let body = err.to_body();
    assert_eq!(body["error"]["code"], "config_missing");
}

#[test]
fn own_error_types_convert_with_from() {
    #[derive(Debug)]
    enum MyError {
        NoToken,
    }
    impl From<MyError> for HttpError {
        fn from(e: MyError) -> Self {
            match e {
                MyError::NoToken => HttpError::unauthorized("no token"),
            }
        }
    }
    fn handler() -> Result<Response, HttpError> {
        Err(MyError::NoToken)?
    }
    assert_eq!(handler().expect_err("err").status, 401);
    let resp = netlify_function::IntoResponse::into_response(Err::<Response, _>(MyError::NoToken));
    assert_eq!(resp.status, 401);
}

#[test]
fn blobs_client_comes_from_the_event_context() {
    let blobs = base64::engine::general_purpose::STANDARD.encode(
        json!({"url":"http://127.0.0.1:1","url_uncached":"http://127.0.0.1:1","token":"t","primary_region":"dev"}).to_string(),
    );
    let mut event = cli_event();
    event["blobs"] = json!(blobs);
    assert!(request_of(event).blobs_client().is_ok());

    let mut broken = cli_event();
    broken["blobs"] = json!("not base64 at all!");
    let Err(err) = request_of(broken).blobs_client() else {
        panic!("an unusable context must be an error");
    };
    assert_eq!(err.status, 500);
    assert_eq!(err.code, "config_invalid");
}
