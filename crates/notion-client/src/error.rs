//! Errors callers see, and the pure mapping from Notion's answers to them.

use std::time::Duration;

use serde_json::Value;

use crate::route::Route;

/// Everything that can go wrong talking to Notion. Each message says what to
/// do about it; none ever contains the token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotionError {
    #[error(
        "Notion rejected the token (401). Copy the Internal Integration Secret again from \
         notion.so/my-integrations and set NOTION_API_TOKEN."
    )]
    Unauthorized,

    #[error(
        "Notion cannot see database {database} (404). Open the database in Notion, click \
         ... (top right) > Connections > add your integration, then try again."
    )]
    DatabaseNotShared { database: String },

    #[error(
        "Notion found no {object} {id} (404). Check the id, and that its database is shared with \
         the integration (... > Connections)."
    )]
    NotFound { object: &'static str, id: String },

    #[error(
        "Notion refused access (403 restricted_resource): {message}. Give the integration the \
         read, update and insert content capabilities at notion.so/my-integrations."
    )]
    Forbidden { message: String },

    #[error("Notion rejected the request ({code}): {message}")]
    Validation { code: String, message: String },

    #[error("Notion reported a conflicting edit (409): {message}. Re-read and try again.")]
    Conflict { message: String },

    #[error(
        "Notion is rate limiting this integration ({limit}{}); {}",
        retry_after_text(*retry_after), limit.advice()
    )]
    RateLimited {
        retry_after: Option<Duration>,
        /// Which of Notion's limits it was.
        limit: RateLimit,
    },

    #[error(
        "Notion refused to add content: this Free workspace has used all of its blocks (403, \
         Notion's Free plan block limit). Pages and page content cannot be created until a \
         workspace owner upgrades its plan in Notion; editing properties still works."
    )]
    BlockLimit,

    #[error(
        "Notion did not confirm whether a new page was created ({cause}), and it cannot be \
         found yet. It is not created again now; the next run looks for it first."
    )]
    CreateUnconfirmed { cause: String },

    #[error(
        "Notion blocked this integration's API requests (public_api_request_blocked): {message}. \
         Retrying will not help; a workspace admin must check the integration's status."
    )]
    Blocked { message: String },

    #[error(
        "{route} was not sent: Notion's request budget frees up only after this run must \
         answer; the next run sends it."
    )]
    OutOfTime { route: Route },

    #[error("Notion is unavailable ({status} {code}); try again in a few minutes.")]
    Unavailable {
        status: u16,
        code: String,
        /// Set when Notion says a create committed despite the error.
        committed_resource_id: Option<String>,
    },

    #[error("Notion did not answer {route} within {after:?}; try again later.")]
    Timeout { route: Route, after: Duration },

    #[error(
        "could not reach Notion for {route}: {message}. Check the network and NOTION_API_URL."
    )]
    Network { route: Route, message: String },

    #[error("Notion's answer to {route} could not be read: {message}")]
    Decode { route: Route, message: String },

    #[error("Notion answered {status} ({code}): {message}")]
    Unexpected {
        status: u16,
        code: String,
        message: String,
    },

    #[error(
        "database {database} has no data source. Open it in Notion and make sure it is a \
         database (not a page or a linked view)."
    )]
    NoDataSource { database: String },

    #[error("the Notion client could not be set up: {message}")]
    Setup { message: String },
}

fn retry_after_text(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(", it asked to wait {} s", d.as_secs()),
        None => String::new(),
    }
}

/// Which of Notion's limits slowed a request down (request-limits
/// reference: `additional_data.rate_limit_reason` of a 429; a 529 is
/// Notion's own overload).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RateLimit {
    /// This connection's budget per 60-second window.
    Connection,
    /// The workspace's budget, shared by every integration in it.
    Workspace,
    /// An endpoint's own limit.
    Endpoint,
    /// 529 `service_overload`: Notion is overloaded.
    Overload,
    /// A 429 naming no limit this client knows.
    Other,
}

impl RateLimit {
    pub const ALL: [RateLimit; 5] = [
        RateLimit::Connection,
        RateLimit::Workspace,
        RateLimit::Endpoint,
        RateLimit::Overload,
        RateLimit::Other,
    ];

    /// The limit a 429 or 529 answer names.
    pub(crate) fn of(status: u16, body: &ApiErrorBody) -> Self {
        if status == 529 {
            return RateLimit::Overload;
        }
        match body.rate_limit_reason() {
            Some("public_api_request_rate_limit") => RateLimit::Connection,
            Some("public_api_space_request_rate_limit") => RateLimit::Workspace,
            Some("public_api_endpoint_rate_limit") => RateLimit::Endpoint,
            _ => RateLimit::Other,
        }
    }

    /// A short name for reports and JSON: `connection`, `workspace`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            RateLimit::Connection => "connection",
            RateLimit::Workspace => "workspace",
            RateLimit::Endpoint => "endpoint",
            RateLimit::Overload => "overload",
            RateLimit::Other => "other",
        }
    }

    /// What to do about it, for a person.
    pub fn advice(self) -> &'static str {
        match self {
            RateLimit::Connection => {
                "this integration sent too many requests this minute; try again in a minute, \
                 and lower NOTION_REQUESTS_PER_MINUTE if it keeps happening."
            }
            RateLimit::Workspace => {
                "the workspace's budget, shared by every integration in it, is used up; the \
                 next scheduled run continues, or ask who runs the other integrations."
            }
            RateLimit::Endpoint | RateLimit::Other => {
                "Notion limits this request on its own; the next scheduled run continues."
            }
            RateLimit::Overload => "Notion is overloaded; the next scheduled run continues.",
        }
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RateLimit::Connection => "its per-connection limit",
            RateLimit::Workspace => "the workspace's limit",
            RateLimit::Endpoint => "an endpoint's own limit",
            RateLimit::Overload => "Notion overloaded",
            RateLimit::Other => "a limit Notion did not name",
        })
    }
}

impl NotionError {
    /// Whether the same call may succeed later without any change by the user.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            NotionError::RateLimited { .. }
                | NotionError::Unavailable { .. }
                | NotionError::Timeout { .. }
                | NotionError::Network { .. }
                | NotionError::Conflict { .. }
                | NotionError::CreateUnconfirmed { .. }
                | NotionError::OutOfTime { .. }
        )
    }

    /// The HTTP status Notion answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            NotionError::Unauthorized => Some(401),
            NotionError::DatabaseNotShared { .. } | NotionError::NotFound { .. } => Some(404),
            NotionError::Forbidden { .. } | NotionError::BlockLimit => Some(403),
            NotionError::Validation { .. } => Some(400),
            NotionError::Conflict { .. } => Some(409),
            NotionError::RateLimited { .. } => Some(429),
            NotionError::Unavailable { status, .. } | NotionError::Unexpected { status, .. } => {
                Some(*status)
            }
            NotionError::Blocked { .. }
            | NotionError::CreateUnconfirmed { .. }
            | NotionError::OutOfTime { .. }
            | NotionError::Timeout { .. }
            | NotionError::Network { .. }
            | NotionError::Decode { .. }
            | NotionError::NoDataSource { .. }
            | NotionError::Setup { .. } => None,
        }
    }
}

/// Notion's error body: `{"object":"error","status","code","message",...}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct ApiErrorBody {
    pub code: String,
    pub message: String,
    pub additional_data: Option<Value>,
}

impl ApiErrorBody {
    /// Reads the body leniently: proxies in front of Notion answer 502/504
    /// with HTML, which must still map to a useful error.
    pub fn parse(bytes: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
            return Self::default();
        };
        let text = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Self {
            code: text("code"),
            message: text("message"),
            additional_data: value.get("additional_data").cloned(),
        }
    }

    /// The id of the resource a failed create committed anyway, from
    /// `additional_data.committed_resource_id` or inside `retry_guidance`.
    pub fn committed_resource_id(&self) -> Option<String> {
        let data = self.additional_data.as_ref()?;
        data.get("committed_resource_id")
            .or_else(|| data.get("retry_guidance")?.get("committed_resource_id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// `additional_data.rate_limit_reason` of a 429.
    pub fn rate_limit_reason(&self) -> Option<&str> {
        self.additional_data
            .as_ref()?
            .get("rate_limit_reason")?
            .as_str()
    }

    /// Retrying will not help: the connection's API access is restricted
    /// (as the code, or as the reason of a 429).
    pub fn is_blocked(&self) -> bool {
        self.code == "public_api_request_blocked"
            || self.rate_limit_reason() == Some("public_api_request_blocked")
    }

    /// The Free plan's block limit (`additional_data.block_limit`).
    pub fn is_block_limit(&self) -> bool {
        self.additional_data
            .as_ref()
            .is_some_and(|d| d.get("block_limit").is_some())
    }
}

/// One failed attempt, before deciding whether to retry it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: ApiErrorBody,
    },
    Timeout,
    /// The connection was never made: nothing reached Notion.
    Connect(String),
    /// The request may have reached Notion.
    Network(String),
    Decode(String),
    /// Never sent: the rate limit would let it start only after the deadline.
    PastDeadline,
}

/// What the failed call was about, for the 404 message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Target {
    pub object: &'static str,
    pub id: String,
}

/// Maps a final failure to the error the caller sees.
pub(crate) fn to_error(
    route: Route,
    target: Option<&Target>,
    timeout: Duration,
    failure: Failure,
) -> NotionError {
    match failure {
        Failure::Status {
            status,
            retry_after,
            body,
        } => {
            if body.is_blocked() {
                return NotionError::Blocked {
                    message: body.message,
                };
            }
            match status {
                401 => NotionError::Unauthorized,
                403 if body.is_block_limit() => NotionError::BlockLimit,
                403 => NotionError::Forbidden {
                    message: body.message,
                },
                404 => {
                    let id = target.map(|t| t.id.clone()).unwrap_or_default();
                    if route == Route::DatabasesRetrieve {
                        NotionError::DatabaseNotShared { database: id }
                    } else {
                        NotionError::NotFound {
                            object: target.map_or("object", |t| t.object),
                            id,
                        }
                    }
                }
                400 | 413 | 422 => NotionError::Validation {
                    code: body.code,
                    message: body.message,
                },
                409 => NotionError::Conflict {
                    message: body.message,
                },
                429 => NotionError::RateLimited {
                    retry_after,
                    limit: RateLimit::of(status, &body),
                },
                500..=599 => NotionError::Unavailable {
                    status,
                    committed_resource_id: body.committed_resource_id(),
                    code: body.code,
                },
                _ => NotionError::Unexpected {
                    status,
                    code: body.code,
                    message: body.message,
                },
            }
        }
        Failure::Timeout => NotionError::Timeout {
            route,
            after: timeout,
        },
        Failure::Connect(message) | Failure::Network(message) => {
            NotionError::Network { route, message }
        }
        Failure::Decode(message) => NotionError::Decode { route, message },
        Failure::PastDeadline => NotionError::OutOfTime { route },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, code: &str) -> Failure {
        Failure::Status {
            status,
            retry_after: None,
            body: ApiErrorBody {
                code: code.into(),
                message: "msg".into(),
                additional_data: None,
            },
        }
    }

    #[test]
    fn maps_statuses() {
        let t = Duration::from_secs(1);
        let page = Target {
            object: "page",
            id: "p1".into(),
        };
        let map = |route, f| to_error(route, Some(&page), t, f);
        assert_eq!(
            map(Route::PagesRetrieve, status(401, "unauthorized")),
            NotionError::Unauthorized
        );
        assert!(matches!(
            map(Route::DatabasesRetrieve, status(404, "object_not_found")),
            NotionError::DatabaseNotShared { .. }
        ));
        assert!(matches!(
            map(Route::PagesRetrieve, status(404, "object_not_found")),
            NotionError::NotFound { object: "page", .. }
        ));
        assert!(matches!(
            map(
                Route::PagesRetrieve,
                status(429, "public_api_request_blocked")
            ),
            NotionError::Blocked { .. }
        ));
        assert!(matches!(
            map(Route::PagesRetrieve, status(529, "service_overload")),
            NotionError::Unavailable { status: 529, .. }
        ));
    }

    #[test]
    fn names_the_limit_and_the_block_limit() {
        let t = Duration::from_secs(1);
        let failure = |status, body: &[u8]| Failure::Status {
            status,
            retry_after: Some(Duration::from_secs(90)),
            body: ApiErrorBody::parse(body),
        };
        let workspace = to_error(
            Route::PagesUpdate,
            None,
            t,
            failure(429, br#"{"code":"rate_limited","additional_data":{"rate_limit_reason":"public_api_space_request_rate_limit"}}"#),
        );
        assert_eq!(
            workspace,
            NotionError::RateLimited {
                retry_after: Some(Duration::from_secs(90)),
                limit: RateLimit::Workspace
            }
        );
        assert!(workspace
            .to_string()
            .contains("the workspace's limit, it asked to wait 90 s"));
        let blocked = to_error(
            Route::PagesCreate,
            None,
            t,
            failure(403, br#"{"code":"restricted_resource","additional_data":{"block_limit":"block_creation"}}"#),
        );
        assert_eq!(blocked, NotionError::BlockLimit);
        let access = failure(429, br#"{"code":"rate_limited","additional_data":{"rate_limit_reason":"public_api_request_blocked"}}"#);
        assert!(matches!(
            to_error(Route::UsersMe, None, t, access),
            NotionError::Blocked { .. }
        ));
    }

    #[test]
    fn finds_committed_resource_id_in_either_place() {
        let direct = ApiErrorBody::parse(
            br#"{"code":"service_unavailable","additional_data":{"committed_resource_id":"abc"}}"#,
        );
        assert_eq!(direct.committed_resource_id().as_deref(), Some("abc"));
        let nested = ApiErrorBody::parse(
            br#"{"additional_data":{"retry_guidance":{"committed_resource_id":"def"}}}"#,
        );
        assert_eq!(nested.committed_resource_id().as_deref(), Some("def"));
        assert_eq!(ApiErrorBody::parse(b"<html>").committed_resource_id(), None);
    }
}
