//! What every Netlify function binary shares, so each `src/main.rs` is a
//! handler and one line of `main`:
//!
//! - [`NetlifyEvent`]: Netlify's proxy event parsed leniently (it is not the
//!   strict API Gateway shape, and it carries `blobs`).
//! - [`Request`] / [`Response`] / [`HttpError`]: plain data in, JSON out,
//!   errors as `{"error":{"code","message","hint"}}`.
//! - [`run`]: the Lambda runtime loop with tracing, CORS, preflight and
//!   panic catching.

mod blobs;
mod error;
mod event;
mod request;
mod response;
mod runtime;

pub use error::HttpError;
pub use event::NetlifyEvent;
pub use request::{InvocationMeta, Request};
pub use response::{to_proxy_response, Cors, IntoResponse, Response};
pub use runtime::{handle_event, init_tracing, run, RuntimeError};
