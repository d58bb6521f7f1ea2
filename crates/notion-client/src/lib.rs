//! The Notion API client for the dialer sync: the only code that knows
//! Notion's HTTP details (versions, limits, retries, error codes).
//!
//! Properties stay raw JSON in [`Page::properties`]; mapping them to contacts
//! is the sync core's job.

mod client;
mod config;
mod database_ref;
mod error;
mod limiter;
mod model;
mod retry;
mod route;
mod secret;
mod stats;
pub mod webhook;

pub use client::{NotionClient, QueryCursor, RequestWindow};
pub use config::{
    ConfigError, NotionConfig, DEFAULT_BASE_URL, DEFAULT_NOTION_VERSION,
    DEFAULT_REQUESTS_PER_MINUTE, SUPPORTED_NOTION_VERSIONS,
};
pub use database_ref::{DatabaseRef, DatabaseRefError};
pub use error::{NotionError, RateLimit};
pub use model::{
    CreateDedupe, DataSource, DataSourceRef, Database, Page, PropertySchema, Query, QueryPage, User,
};
pub use route::Route;
pub use secret::Secret;
pub use stats::{NotionStats, RateLimitStats};
