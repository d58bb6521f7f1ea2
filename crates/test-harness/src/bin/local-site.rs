//! `scripts/local-site [--port N] [--key K] [--env NAME=VALUE]... [--json]`:
//! the site on this machine (port 8888 unless given, or a free one when
//! 8888 is taken) with a stand-in Notion (see `test_harness::local_site`).
//! Prints what it started, the sync console's address, then one line to
//! paste into a second terminal:
//! `export SITE=http://127.0.0.1:PORT SYNC_API_KEY=...`. `--env` gives the
//! functions more environment (`SYNC_CONFLICT_POLICY=ask`); `--json`
//! prints one JSON line instead, for the browser tests: the site, the key,
//! and how to reach both stand-ins. Stops on Ctrl-C or SIGTERM, taking its
//! stand-ins with it.

use std::process::ExitCode;

use serde_json::json;
use test_harness::blobs_server::FAKE_SITE_ID;
use test_harness::local_site::{notion_values, until_stopped, LocalSite, LocalSiteOptions};

const USAGE: &str =
    "usage: scripts/local-site [--port N] [--key SYNC_API_KEY] [--env NAME=VALUE]... [--json]";

fn options() -> Result<(LocalSiteOptions, bool), String> {
    let mut options = LocalSiteOptions {
        port: None,
        api_key: "local-try-key".into(),
        env: Vec::new(),
    };
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--json" {
            json = true;
            continue;
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{arg} needs a value; {USAGE}"))?;
        match arg.as_str() {
            "--port" => {
                options.port = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--port {value:?} is not a port number; {USAGE}"))?,
                )
            }
            "--key" => options.api_key = value,
            "--env" => {
                let (name, value) = value
                    .split_once('=')
                    .ok_or_else(|| format!("--env {value:?} is not NAME=VALUE; {USAGE}"))?;
                options.env.push((name.to_string(), value.to_string()));
            }
            _ => return Err(format!("unknown option {arg:?}; {USAGE}")),
        }
    }
    Ok((options, json))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (options, json) = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("local-site: {message}");
            return ExitCode::from(2);
        }
    };
    let site = match LocalSite::start(options).await {
        Ok(site) => site,
        Err(e) => {
            eprintln!("local-site: {e}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        let ready = json!({
            "site": site.url(),
            "console": site.console_url(),
            "key": site.api_key,
            "notion": site.app.notion.base_url(),
            "blobs": {"url": site.app.blobs.url(), "token": site.app.blobs.token(), "siteID": FAKE_SITE_ID},
        });
        println!("{ready}");
    } else {
        describe(&site);
    }
    match site.serve(until_stopped()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("local-site: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What it started, for a person.
fn describe(site: &LocalSite) {
    let notion = notion_values(&site.app);
    println!(
        "Notion stand-in (the emulator): {}",
        notion["notion_url"].as_str().unwrap_or_default()
    );
    println!(
        "  its CRM database is laid out as docs/setup.md says and shared with its integration"
    );
    println!(
        "  integration secret: {}",
        notion["token"].as_str().unwrap_or_default()
    );
    println!(
        "  database link:      {}",
        notion["database_link"].as_str().unwrap_or_default()
    );
    println!("  one page typed by a person: Cedar Roofing");
    println!(
        "Dialer contacts (official Blobs server): Acme Corp (1001), Blue Bottle Dental (1002)"
    );
    println!(
        "Functions at {}/api/<function>; stop with Ctrl-C.",
        site.url()
    );
    println!(
        "Sync console at {} (its key: {})",
        site.console_url(),
        site.api_key
    );
    println!("Paste this line into a second terminal:");
    println!("{}", site.export_line());
}
