//! `scripts/bench`: how much traffic and time the sync really takes against
//! Notion-like conditions (200 ms per request, 180 requests per minute) with
//! the official Blobs server, for the three cases the roadmap cares about:
//! a push right after a call, a scheduled run when nothing changed, and a
//! run with 100 changed contacts; a teammate's edit in Notion reaching the
//! dialer through the webhook (`bench webhook`: that one alone); and, first, each function's deployable
//! binary (scripts/package): size, cold start and peak memory.
//!
//! It prints a table (measured, target, ratio) and one JSON line per
//! scenario. It is a report, not a test: it fails only when it cannot
//! measure, never because a target is missed.

mod functions;
mod measure;
mod scale;
mod scenarios;
mod webhooks;

use std::process::ExitCode;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> ExitCode {
    let result = match std::env::args().nth(1).as_deref() {
        Some("webhook") => scenarios::run_webhook_only().await,
        Some("scale") => scenarios::run_scale_only().await,
        _ => scenarios::run_all().await,
    };
    match result {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
