//! The `echo` example of netlify-function run exactly as Netlify runs a
//! Rust function: a separate process polling a (fake) Lambda Runtime API.

use std::time::Duration;

use serde_json::json;
use test_harness::event::ApiEvent;
use test_harness::lambda::{build_example, FunctionProcess, LambdaHarnessError};

async fn echo(env: &[(&str, &str)]) -> FunctionProcess {
    let path = build_example("netlify-function", "echo")
        .await
        .expect("echo example builds");
    FunctionProcess::start_path(path, env)
        .await
        .expect("echo starts")
}

#[tokio::test]
async fn warm_invocations_reuse_one_process() {
    let function = echo(&[]).await;
    let first = function
        .invoke(ApiEvent::get("/.netlify/functions/echo").build())
        .await
        .expect("first invocation");
    let second = function
        .invoke(ApiEvent::get("/.netlify/functions/echo").build())
        .await
        .expect("second invocation");
    assert_eq!((first.status, second.status), (200, 200));
    assert_ne!(first.request_id, second.request_id);
    let ids =
        |inv: &test_harness::lambda::Invocation| inv.json.as_ref().map(|j| j["request_id"].clone());
    assert_eq!(ids(&first), Some(json!(first.request_id)));
    assert_eq!(ids(&second), Some(json!(second.request_id)));
    // One process served both, and logged one line per invocation, as JSON
    // (it runs "under Lambda").
    let logs = function.logs();
    let invocation_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("\"invocation\""))
        .collect();
    assert_eq!(invocation_lines.len(), 2, "logs:\n{logs}");
    for line in invocation_lines {
        let entry: serde_json::Value = serde_json::from_str(line).expect("JSON log line");
        assert_eq!(entry["fields"]["status"], 200, "{line}");
        assert!(entry["fields"]["duration_ms"].is_u64(), "{line}");
    }
}

#[tokio::test]
async fn event_fields_reach_the_handler() {
    let function = echo(&[("SITE_ID", "site-from-env")]).await;
    let event = ApiEvent::post("/.netlify/functions/echo")
        .json(&json!({"hello": "world"}))
        .header("X-Custom", "yes")
        .query("limit", "5")
        .blobs("eyJ1cmwiOiJodHRwOi8vMTI3LjAuMC4xOjEifQ==")
        .site_id("site-from-header")
        .build();
    let answer = function
        .invoke_with_deadline(event, Duration::from_secs(7))
        .await
        .expect("invocation");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let seen = answer.json.expect("JSON body");
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/.netlify/functions/echo");
    assert_eq!(seen["headers"]["x-custom"], "yes");
    assert_eq!(seen["query"]["limit"], "5");
    assert_eq!(seen["body"], r#"{"hello":"world"}"#);
    assert_eq!(seen["site_id"], "site-from-header");
    assert_eq!(seen["has_blobs"], true);
    assert_eq!(seen["is_scheduled"], false);
    let remaining = seen["remaining_ms"].as_u64().expect("a deadline");
    assert!(remaining > 0 && remaining <= 7_000, "{remaining}");

    let scheduled = function
        .invoke(
            ApiEvent::get("/.netlify/functions/echo")
                .scheduled()
                .build(),
        )
        .await
        .expect("scheduled invocation");
    let seen = scheduled.json.expect("JSON body");
    assert_eq!(seen["is_scheduled"], true);
    assert_eq!(seen["site_id"], "site-from-env", "falls back to SITE_ID");
    assert_eq!(seen["has_blobs"], false);
}

#[tokio::test]
async fn a_panic_becomes_a_500_json_and_the_process_survives() {
    let function = echo(&[]).await;
    let answer = function
        .invoke(ApiEvent::get("/.netlify/functions/echo/panic").build())
        .await
        .expect("invocation");
    assert_eq!(answer.status, 500);
    let body = answer.json.expect("JSON body");
    assert_eq!(body["error"]["code"], "internal");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("failed unexpectedly (request ") && !message.contains("asked to panic"),
        "a generic answer with the request id; the panic's text stays in the log: {message}"
    );
    assert!(
        function.logs().contains("echo was asked to panic"),
        "{}",
        function.logs()
    );

    let after = function
        .invoke(ApiEvent::get("/.netlify/functions/echo").build())
        .await
        .expect("still alive");
    assert_eq!(after.status, 200);
}

#[tokio::test]
async fn options_preflight_gets_204_with_cors() {
    let function = echo(&[("DIALER_ORIGIN", "https://dialer.example.com")]).await;
    let answer = function
        .invoke(
            ApiEvent::options("/.netlify/functions/echo/typed")
                .header("origin", "https://dialer.example.com")
                .header("access-control-request-method", "POST")
                .build(),
        )
        .await
        .expect("preflight");
    assert_eq!(answer.status, 204);
    assert_eq!(answer.body, "");
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("https://dialer.example.com")
    );
    assert!(answer
        .header("access-control-allow-headers")
        .is_some_and(|h| h.contains("authorization") && h.contains("content-type")));
}

#[tokio::test]
async fn bad_json_body_is_a_400_naming_the_field() {
    let function = echo(&[]).await;
    let answer = function
        .invoke(
            ApiEvent::post("/.netlify/functions/echo/typed")
                .json(&json!({"name": "Ada", "count": "three"}))
                .build(),
        )
        .await
        .expect("invocation");
    assert_eq!(answer.status, 400);
    let body = answer.json.expect("JSON body");
    assert_eq!(body["error"]["code"], "bad_request");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("`count`"), "{message}");

    let good = function
        .invoke(
            ApiEvent::post("/.netlify/functions/echo/typed")
                .json(&json!({"name": "Ada", "count": 3}))
                .build(),
        )
        .await
        .expect("invocation");
    assert_eq!(good.status, 200);
    assert_eq!(good.json.expect("JSON")["typed"]["count"], 3);
}

#[tokio::test]
async fn the_function_sees_a_clean_environment() {
    let function = echo(&[("NOTION_DATA_SOURCE_ID", "given")]).await;
    // Make sure it is up before reading its environment.
    function
        .invoke(ApiEvent::get("/.netlify/functions/echo").build())
        .await
        .expect("invocation");
    let pid = function.pid().expect("pid");
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("read environ");
    let mut names: Vec<String> = environ
        .split(|b| *b == 0)
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            String::from_utf8_lossy(kv)
                .split('=')
                .next()
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "AWS_LAMBDA_RUNTIME_API",
            "NOTION_DATA_SOURCE_ID",
            "PATH",
        ]
    );
}

#[tokio::test]
async fn a_missing_binary_is_a_clear_error() {
    let err = FunctionProcess::start_path("/nonexistent/function", &[])
        .await
        .err()
        .expect("must fail");
    assert!(
        matches!(err, LambdaHarnessError::BinaryMissing { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_crashing_process_is_reported_with_its_logs() {
    // `false` exits at once: the invocation must fail, not hang.
    let function = FunctionProcess::start_path("/bin/false", &[])
        .await
        .expect("spawns");
    let err = function
        .invoke(ApiEvent::get("/x").build())
        .await
        .expect_err("must fail");
    assert!(matches!(err, LambdaHarnessError::Exited { .. }), "{err}");
}

#[tokio::test]
async fn tokens_stay_out_of_the_logs_even_at_trace() {
    let function = echo(&[("RUST_LOG", "trace")]).await;
    let blobs = "eyJ0b2tlbiI6InNla3JpdC1ibG9icy10b2tlbiJ9";
    let answer = function
        .invoke(
            ApiEvent::post("/.netlify/functions/echo")
                .header("authorization", "Bearer sekrit-bearer")
                .blobs(blobs)
                .json(&json!({"password": "sekrit-body"}))
                .build(),
        )
        .await
        .expect("invocation");
    assert_eq!(answer.status, 200);
    let logs = function.logs();
    assert!(logs.contains("\"invocation\""), "logs:\n{logs}");
    for secret in ["sekrit-bearer", blobs, "sekrit-body"] {
        assert!(!logs.contains(secret), "{secret} leaked into logs:\n{logs}");
    }
}
