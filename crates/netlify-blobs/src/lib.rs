//! A Netlify Blobs client for Rust functions and tools: the only code in
//! the repo that knows the Blobs HTTP API.
//!
//! Two access modes, as the official JS client has:
//! - edge, inside a function, from the event's `blobs` field
//!   ([`BlobsClient::from_event_blobs`]) or a `NETLIFY_BLOBS_CONTEXT` with an
//!   `edgeURL` ([`BlobsClient::from_context`]);
//! - API, anywhere, with a personal access token ([`BlobsClient::from_api`],
//!   [`BlobsClient::from_env`]).
//!
//! Works against production and the official local Blobs server alike; the
//! latter sends no etag on GET, so take etags from [`Store::set`] and
//! [`Store::list`] when a conditional write needs one.
//!
//! ```no_run
//! # async fn demo(event_blobs: &str, site_id: &str) -> netlify_blobs::Result<()> {
//! use netlify_blobs::{BlobsClient, SetOptions, SetOutcome};
//! let contacts = BlobsClient::from_event_blobs(event_blobs, site_id)?.store("contacts");
//! if let SetOutcome::Written { etag } = contacts.set("c/1", b"{}".to_vec(), SetOptions::if_new()).await? {
//!     println!("written, etag {etag:?}");
//! }
//! # Ok(()) }
//! ```

mod client;
mod config;
mod error;
mod metadata;
mod retry;
mod store;
mod validate;

pub use client::{BlobsClient, BlobsStats, DEFAULT_TIMEOUT};
pub use config::{AccessMode, DEFAULT_API_URL};
pub use error::{BlobsError, Operation, Result};
pub use metadata::METADATA_MAX_BYTES;
pub use retry::RetryPolicy;
pub use store::{
    Blob, GetOptions, GetOutcome, ListedBlob, SetOptions, SetOutcome, Store, WriteCondition,
};
pub use validate::{MAX_KEY_BYTES, MAX_STORE_NAME_BYTES};
