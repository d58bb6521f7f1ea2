//! The imperative shell: tracing setup, the Lambda runtime loop, panic
//! catching and the one log line per invocation. The decisions live in
//! [`handle_event`], which tests call directly.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use futures::FutureExt as _;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use tracing_subscriber::EnvFilter;

use crate::error::HttpError;
use crate::event::NetlifyEvent;
use crate::request::{InvocationMeta, Request};
use crate::response::{to_proxy_response, Cors, IntoResponse, Response};

/// Runs `handler` for every invocation until the runtime stops us.
///
/// ```no_run
/// use netlify_function::{run, Request, Response, HttpError};
///
/// async fn handler(req: Request) -> Result<Response, HttpError> {
///     Ok(Response::json(200, &serde_json::json!({ "path": req.path })))
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), netlify_function::RuntimeError> {
///     netlify_function::run(handler).await
/// }
/// ```
///
/// Sets up tracing, answers CORS preflights itself, turns handler panics
/// into a 500 JSON error (a panic reaching the runtime would be reported to
/// Netlify as a bare 502 with no body the dialer can show) and logs one
/// line per invocation.
pub async fn run<H, Fut, R>(handler: H) -> Result<(), RuntimeError>
where
    H: Fn(Request) -> Fut + 'static,
    Fut: Future<Output = R>,
    R: IntoResponse,
{
    init_tracing();
    let handler = Arc::new(handler);
    let cors = Arc::new(Cors::from_env());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = Arc::clone(&handler);
        let cors = Arc::clone(&cors);
        async move {
            let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(event.context.deadline);
            let meta = InvocationMeta::from_env(event.context.request_id, Some(deadline));
            let proxy = handle_event(&*handler, event.payload, meta, &cors).await;
            Ok::<ApiGatewayProxyResponse, std::convert::Infallible>(proxy)
        }
    }))
    .await
}

/// The runtime's own failure (it could not reach the Runtime API, say).
pub type RuntimeError = lambda_runtime::Error;

/// Tracing for functions: JSON lines under Lambda (`AWS_LAMBDA_FUNCTION_NAME`
/// set) so Netlify's log view keeps fields apart, human-readable otherwise;
/// level from `RUST_LOG`, default `info`. Safe to call twice.
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // At TRACE, lambda_runtime logs the raw event: the Blobs token and any
    // authorization header with it. Never let RUST_LOG=trace do that.
    let filter = match "lambda_runtime::layers::api_response=debug".parse() {
        Ok(cap) => filter.add_directive(cap),
        Err(_) => filter,
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // An Err means a subscriber is already set: keep it.
    let _ = if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        builder
            .json()
            .with_ansi(false)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}

/// One invocation, from raw event to proxy response: parse leniently,
/// answer `OPTIONS` preflights, call the handler with panics caught, add
/// CORS and content type, log one line.
pub async fn handle_event<H, Fut, R>(
    handler: &H,
    event: Value,
    meta: InvocationMeta,
    cors: &Cors,
) -> ApiGatewayProxyResponse
where
    H: Fn(Request) -> Fut,
    Fut: Future<Output = R>,
    R: IntoResponse,
{
    let started = Instant::now();
    let request_id = meta.request_id.clone();
    let parsed = NetlifyEvent::from_value(event)
        .map_err(|e| HttpError::bad_request("event", format!("not a Netlify proxy event: {e}")));
    let (method, path) = parsed
        .as_ref()
        .map(|ev| (ev.http_method.to_ascii_uppercase(), ev.path.clone()))
        .unwrap_or_default();

    let response = match parsed.and_then(|event| Request::from_event(event, meta)) {
        Err(err) => Response::error(err),
        Ok(request) if request.method == "OPTIONS" => Response::no_content(),
        Ok(request) => call_catching_panics(handler, request, &request_id).await,
    };

    tracing::info!(
        method = %method,
        path = %path,
        status = response.status,
        duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        request_id = %request_id,
        "invocation"
    );
    to_proxy_response(response, cors)
}

/// A panic's message stays in the log (it may hold data from the request);
/// the caller gets a generic 500 with the request id to find it by.
async fn call_catching_panics<H, Fut, R>(
    handler: &H,
    request: Request,
    request_id: &str,
) -> Response
where
    H: Fn(Request) -> Fut,
    Fut: Future<Output = R>,
    R: IntoResponse,
{
    // The handler may panic while building its future or while polling it.
    let outcome = match std::panic::catch_unwind(AssertUnwindSafe(|| handler(request))) {
        Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
        Err(panic) => Err(panic),
    };
    match outcome {
        Ok(result) => result.into_response(),
        Err(panic) => {
            let message = panic_message(panic.as_ref());
            tracing::error!(panic = %message, request_id, "handler panicked");
            Response::error(HttpError::internal(format!(
                "the function failed unexpectedly (request {request_id}); nothing more was done. Try again; if it keeps failing, send this request id to whoever runs the sync (it is in the function's log)"
            )))
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}
