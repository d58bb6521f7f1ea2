//! `dialer-sync`: the sync between the dialer and Notion, from a terminal.
//! A thin shell over `sync-engine`: parse the command line, build the
//! engine from the same environment variables as the Netlify functions,
//! print what it answers, and exit 0 (all good), 1 (needs attention) or
//! 2 (a setting is missing or wrong).

mod cli;
mod commands;
mod error;
mod output;
mod settings;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::Cli;
use crate::commands::Outcome;

/// Logs go to stderr so stdout stays the command's answer (and its JSON).
/// Quiet unless RUST_LOG asks; nothing logged here ever holds a setting's value.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match commands::run(cli.command).await {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::NeedsAttention) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("{hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
