//! `notion-emulator --port N`: serves the emulator until killed. Prints one
//! line, `notion-emulator listening on http://127.0.0.1:PORT`, that scripts
//! wait for.

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use notion_emulator::{Emulator, EmulatorConfig};

#[derive(Parser, Debug)]
#[command(about = "A stateful stand-in for the Notion API")]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, env = "NOTION_EMULATOR_PORT", default_value_t = 0)]
    port: u16,
    /// Requests allowed per rate-limit window.
    #[arg(long, env = "NOTION_EMULATOR_RATE_LIMIT", default_value_t = 180)]
    rate_limit: u32,
    #[arg(long, env = "NOTION_EMULATOR_RATE_WINDOW_SECS", default_value_t = 60)]
    rate_window_secs: u64,
    /// Fixed delay before each API answer.
    #[arg(long, env = "NOTION_EMULATOR_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// How long a written page stays missing or stale in query results.
    #[arg(long, env = "NOTION_EMULATOR_QUERY_LAG_MS", default_value_t = 0)]
    query_lag_ms: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = EmulatorConfig {
        port: Some(args.port),
        rate_limit: args.rate_limit,
        rate_window: Duration::from_secs(args.rate_window_secs.max(1)),
        latency: Duration::from_millis(args.latency_ms),
        query_lag: Duration::from_millis(args.query_lag_ms),
        ..EmulatorConfig::from_env()?
    };
    let running = Emulator::start(config).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "notion-emulator listening on {}", running.base_url())?;
    out.flush()?;
    drop(out);
    running.wait().await;
    Ok(())
}
