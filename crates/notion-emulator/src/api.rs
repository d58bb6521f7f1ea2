//! The `/v1` HTTP surface: auth, version, rate limit, faults and the request
//! log wrap a synchronous dispatch onto the store. Routing is done by hand so
//! every request, matched or not, gets a route name for the log.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::control::{EmulatorControl, FaultKind, Inner, LoggedRequest, Shared};
use crate::error::ApiError;
use crate::ids::new_id;
use crate::params::QueryParams;
use crate::query::{page_size, paginate, run_query, ParamSource};
use crate::render::Selection;
use crate::rules;
use crate::schema::bot_user;
use crate::store::{Store, API_AUTHOR};
use crate::version::ApiVersion;

/// Notion's overall request payload limit.
pub(crate) const MAX_PAYLOAD_BYTES: usize = 500 * 1024;

/// A matched endpoint: its name for logs/faults and its path id, if any.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Route {
    pub name: &'static str,
    pub id: Option<String>,
}

pub(crate) fn classify(method: &Method, path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let route = |name: &'static str, id: Option<&str>| {
        Some(Route {
            name,
            id: id.map(str::to_string),
        })
    };
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["v1", "users", "me"]) => route("users.me", None),
        ("GET", ["v1", "databases", id]) => route("databases.retrieve", Some(id)),
        ("POST", ["v1", "databases", id, "query"]) => route("databases.query", Some(id)),
        ("GET", ["v1", "data_sources", id]) => route("data_sources.retrieve", Some(id)),
        ("POST", ["v1", "data_sources", id, "query"]) => route("data_sources.query", Some(id)),
        ("POST", ["v1", "pages"]) => route("pages.create", None),
        ("GET", ["v1", "pages", id]) => route("pages.retrieve", Some(id)),
        ("PATCH", ["v1", "pages", id]) => route("pages.update", Some(id)),
        ("GET", ["v1", "blocks", id, "children"]) => route("blocks.children.list", Some(id)),
        ("PATCH", ["v1", "blocks", id, "children"]) => route("blocks.children.append", Some(id)),
        ("DELETE", ["v1", "blocks", id]) => route("blocks.delete", Some(id)),
        _ => None,
    }
}

enum Outcome {
    Ok(Value),
    Err(ApiError),
    Drop,
}

/// Entry point for every non-control request.
pub(crate) async fn handle(
    State(control): State<EmulatorControl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shared = control.shared.clone();
    let request_id = new_id();
    let route = classify(&method, uri.path());
    let latency = shared.lock().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let outcome = respond(&shared, route.as_ref(), &method, &uri, &headers, &body).await;
    let status = match &outcome {
        Outcome::Ok(_) => 200,
        Outcome::Err(e) => e.status,
        Outcome::Drop => 0,
    };
    {
        let mut inner = shared.lock();
        let at = inner.clock.now();
        if status == 429 {
            inner.rate_limited += 1;
        }
        inner.log.push(LoggedRequest {
            method: method.to_string(),
            route: route.as_ref().map_or("unknown", |r| r.name).to_string(),
            path: uri.path().to_string(),
            status,
            at,
            version: headers
                .get("notion-version")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        });
    }
    tracing::debug!(%method, path = uri.path(), status, "notion emulator request");
    match outcome {
        Outcome::Ok(value) => json_response(
            StatusCode::OK,
            with_request_id(value, &request_id),
            &request_id,
        ),
        Outcome::Err(e) => error_response(&e, &request_id),
        Outcome::Drop => dropped_connection(),
    }
}

async fn respond(
    shared: &Arc<Shared>,
    route: Option<&Route>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Outcome {
    let Some(route) = route else {
        return Outcome::Err(ApiError::invalid_request_url());
    };
    let version = match admit(shared, headers, route) {
        Ok(v) => v,
        Err(e) => return Outcome::Err(e),
    };
    let fault = shared.lock().take_fault(route.name);
    let commit_then_fail = match fault {
        Some(FaultKind::Status(code)) => return Outcome::Err(ApiError::for_status(code)),
        Some(FaultKind::RateLimited {
            limit,
            retry_after_secs,
        }) => return Outcome::Err(ApiError::rate_limited(limit, retry_after_secs)),
        Some(FaultKind::DropConnection) => return Outcome::Drop,
        Some(FaultKind::Latency(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        Some(FaultKind::CommitThenFail {
            status,
            report_committed_id,
        }) => Some((status, report_committed_id)),
        None => None,
    };
    let parsed = match parse_body(method, body)
        .and_then(|b| rules::body::check(route.name, version, &b).map(|()| b))
    {
        Ok(v) => v,
        Err(e) => return Outcome::Err(e),
    };
    let params = QueryParams::parse(uri.query());
    let result = {
        let mut inner = shared.lock();
        execute(&mut inner, route, version, &parsed, &params)
    };
    match (result, commit_then_fail) {
        (Ok(value), Some((status, report_id))) => {
            let mut err = ApiError::for_status(status);
            if report_id {
                err = err.with_additional_data(json!({"committed_resource_id": value["id"]}));
            }
            Outcome::Err(err)
        }
        (Ok(value), None) => Outcome::Ok(value),
        (Err(e), _) => Outcome::Err(e),
    }
}

/// Auth, then the version (a route the version lacks is an unknown URL),
/// then both rate limits (unauthenticated requests are not charged to any
/// budget).
fn admit(shared: &Shared, headers: &HeaderMap, route: &Route) -> Result<ApiVersion, ApiError> {
    let mut inner = shared.lock();
    let given = headers.get("authorization").and_then(|v| v.to_str().ok());
    let token = given
        .and_then(|g| g.strip_prefix("Bearer "))
        .filter(|t| inner.tokens.iter().any(|known| known == t))
        .ok_or_else(ApiError::unauthorized)?
        .to_string();
    let version = match headers
        .get("notion-version")
        .map(|v| v.to_str().unwrap_or_default())
    {
        None => return Err(ApiError::missing_version()),
        Some(raw) => ApiVersion::parse(raw).ok_or_else(|| ApiError::unsupported_version(raw))?,
    };
    if !version.serves(route.name) {
        return Err(ApiError::invalid_request_url());
    }
    inner
        .limits
        .admit(&token, Instant::now())
        .map_err(|(limit, secs)| ApiError::rate_limited(limit, secs))?;
    Ok(version)
}

fn parse_body(method: &Method, body: &Bytes) -> Result<Value, ApiError> {
    if method == Method::GET || body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    if body.len() > MAX_PAYLOAD_BYTES {
        return Err(ApiError::validation(format!(
            "body failed validation: the request payload is {} bytes, larger than the limit of 500KB ({MAX_PAYLOAD_BYTES} bytes).",
            body.len()
        )));
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| ApiError::invalid_json())?;
    if !value.is_object() {
        return Err(ApiError::should_be("body", "an object", Some(&value)));
    }
    Ok(value)
}

fn list(results: Vec<Value>, next: Option<String>, kind: &str) -> Value {
    let mut m = Map::new();
    m.insert("object".into(), json!("list"));
    m.insert("results".into(), Value::Array(results));
    m.insert("has_more".into(), json!(next.is_some()));
    m.insert("next_cursor".into(), json!(next));
    m.insert("type".into(), json!(kind));
    m.insert(kind.into(), json!({}));
    Value::Object(m)
}

fn execute(
    inner: &mut Inner,
    route: &Route,
    version: ApiVersion,
    body: &Value,
    params: &QueryParams,
) -> Result<Value, ApiError> {
    let now = inner.clock.now();
    let store = &mut inner.store;
    let id = route.id.as_deref().unwrap_or_default();
    let selection = Selection::from_params(params.list("filter_properties"));
    match route.name {
        "users.me" => Ok(bot_user()),
        "databases.retrieve" => {
            store.check_database(id)?;
            Ok(store.render_database(version))
        }
        "data_sources.retrieve" => {
            store.check_data_source(id)?;
            Ok(store.render_data_source(version))
        }
        "databases.query" | "data_sources.query" => {
            query(store, route, version, body, &selection, now)
        }
        "pages.create" => {
            let id = store.create_page(body, now, API_AUTHOR)?;
            Ok(store.render_page_only(store.page(&id)?, version, &selection))
        }
        "pages.retrieve" => Ok(store.render_page_only(store.page(id)?, version, &selection)),
        "pages.update" => {
            let id = store.update_page(id, body, now, API_AUTHOR)?;
            Ok(store.render_page_only(store.page(&id)?, version, &selection))
        }
        "blocks.children.list" => list_children(store, id, version, params),
        "blocks.children.append" => {
            let ids = store.append_children(id, body, now, API_AUTHOR)?;
            let (_, blocks) = store.children_of(id)?;
            let results = blocks
                .iter()
                .filter(|b| ids.contains(&b.id))
                .map(|b| store.render_block(b, version))
                .collect();
            Ok(list(results, None, "block"))
        }
        "blocks.delete" => {
            let block = store.delete_block(id)?;
            let mut rendered = store.render_block(&block, version);
            rendered["in_trash"] = json!(true);
            if version.has_archived() {
                rendered["archived"] = json!(true);
            }
            Ok(rendered)
        }
        other => Err(ApiError::new(
            500,
            "internal_server_error",
            format!("route {other} has no handler"),
        )),
    }
}

/// One response of a database (2022-06-28) or data source query.
fn query(
    store: &Store,
    route: &Route,
    version: ApiVersion,
    body: &Value,
    selection: &Selection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, ApiError> {
    let id = route.id.as_deref().unwrap_or_default();
    if route.name == "databases.query" {
        store.check_database(id)?;
    } else {
        store.check_data_source(id)?;
    }
    let size = page_size(body.get("page_size"), ParamSource::Body)?;
    let cursor = body.get("start_cursor").and_then(Value::as_str);
    let pages = run_query(store, body, now)?;
    let (slice, next) = paginate(&pages, |p| p.id.as_str(), cursor, size)?;
    let results = slice
        .iter()
        .map(|p| store.render_page_only(p, version, selection))
        .collect();
    let kind = if version.has_data_sources() {
        "page_or_data_source"
    } else {
        "page_or_database"
    };
    Ok(list(results, next, kind))
}

/// One response of `GET /v1/blocks/{id}/children`.
fn list_children(
    store: &Store,
    id: &str,
    version: ApiVersion,
    params: &QueryParams,
) -> Result<Value, ApiError> {
    let size = page_size(
        params.get("page_size").map(|s| json!(s)).as_ref(),
        ParamSource::Query,
    )?;
    let (_, blocks) = store.children_of(id)?;
    let (slice, next) = paginate(blocks, |b| b.id.as_str(), params.get("start_cursor"), size)?;
    let results = slice
        .iter()
        .map(|b| store.render_block(b, version))
        .collect();
    Ok(list(results, next, "block"))
}

fn with_request_id(value: Value, request_id: &str) -> Value {
    match value {
        Value::Object(mut m) => {
            m.insert("request_id".into(), json!(request_id));
            Value::Object(m)
        }
        other => other,
    }
}

fn json_response(status: StatusCode, body: Value, request_id: &str) -> Response {
    let mut resp = (
        status,
        [("content-type", "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-notion-request-id", v);
    }
    resp
}

pub(crate) fn error_response(e: &ApiError, request_id: &str) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json_response(status, e.to_body(request_id), request_id);
    if let Some(secs) = e.retry_after_secs {
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    resp
}

/// A response whose body fails on first poll: hyper then aborts the
/// connection, so the client never gets a complete answer.
fn dropped_connection() -> Response {
    let failing = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault: connection dropped",
        ))
    });
    Response::new(Body::from_stream(failing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_have_names() {
        let r = classify(&Method::PATCH, "/v1/blocks/abc/children").unwrap();
        assert_eq!(r.name, "blocks.children.append");
        assert_eq!(r.id.as_deref(), Some("abc"));
        assert!(classify(&Method::DELETE, "/v1/pages/abc").is_none());
        assert!(classify(&Method::GET, "/v2/users/me").is_none());
    }
}
