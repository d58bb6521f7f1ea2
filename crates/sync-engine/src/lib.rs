//! The sync engine: the imperative shell around `sync-core`. It reads both
//! sides through the Notion and Blobs clients, asks the core for a plan,
//! applies it record by record, and keeps its own state (bases, cursor,
//! lock, intents, queue, history) in a Blobs store of its own.
//!
//! Every function and the CLI call into this crate; none of them holds a
//! sync rule.

pub mod alerting;
pub mod backup;
pub mod cadence;
pub mod check;
pub mod clock;
pub mod config;
pub mod conflicts;
pub mod dialer;
pub mod error;
pub mod jobs;
pub mod lock;
pub mod queue;
pub mod report;
pub mod run;
pub mod state;
pub mod status;
pub mod webhook;

pub use check::ConnectionCheck;
pub use config::{ConfigError, ContactsLayout, EngineConfig};
pub use error::EngineError;
pub use report::{RecordReport, RunReport, Summary};
pub use run::{Engine, RunOptions, Scope};
pub use status::{Health, RunLine, SyncStatus};
pub use sync_core::{ContactId, Resolution};
