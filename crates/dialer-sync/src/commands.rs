//! The imperative shell: each subcommand builds the engine from the
//! environment, calls it, and prints what it answered. Every decision about
//! what to sync is the engine's.

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use sync_core::{FieldChoice, Resolution};
use sync_engine::check::Step;
use sync_engine::{Engine, RunOptions, RunReport, Scope};

use crate::cli::{Command, KeepSide, RunArgs};
use crate::error::CliError;
use crate::output;
use crate::settings::{engine_from_env, variable_report};

/// Who the lock and the run history name for runs started here.
const ACTOR: &str = "cli";
/// How often a long run says it is still going.
const PROGRESS_EVERY: Duration = Duration::from_secs(3);

/// Whether the command found everything in order (exit 0) or not (exit 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    NeedsAttention,
}

impl Outcome {
    fn from_ok(ok: bool) -> Outcome {
        if ok {
            Outcome::Ok
        } else {
            Outcome::NeedsAttention
        }
    }
}

pub async fn run(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::Doctor { json } => doctor(json).await,
        Command::Plan { json } => plan(json).await,
        Command::Sync { run, full_scan } => sync(Scope::All, run, full_scan, "sync").await,
        Command::Push { ids, run } => {
            let scope = if ids.is_empty() {
                Scope::All
            } else {
                Scope::Contacts(ids)
            };
            sync(scope, run, false, "push").await
        }
        Command::Pull { run, full_scan } => {
            sync(Scope::NotionChanges, run, full_scan, "pull").await
        }
        Command::Conflicts { json } => conflicts(json).await,
        Command::Resolve {
            id,
            keep,
            fields,
            json,
        } => resolve(id, resolution(keep, &fields), json).await,
        Command::History { limit, json } => history(limit, json).await,
        Command::Backups { run, limit, json } => backups(run.as_deref(), limit, json).await,
        Command::Restore { run, id, json } => restore(&run, id, json).await,
    }
}

/// Awaits `work`, saying on stderr every few seconds that it is still going.
/// The engine has no progress callback; elapsed time is all there is to say.
async fn with_progress<T>(doing: &str, work: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let mut ticks =
        tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            _ = ticks.tick() => eprintln!("still {doing}... {} s", started.elapsed().as_secs()),
        }
    }
}

fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => println!("{text}"),
        // Our own types always serialise; say so rather than print nothing.
        Err(e) => eprintln!("could not write JSON: {e}"),
    }
}

async fn doctor(json: bool) -> Result<Outcome, CliError> {
    let vars = variable_report(|name| std::env::var(name).ok());
    if !json {
        println!("{}", output::settings(&vars));
    }
    let engine = engine_from_env()?;
    let check = with_progress("checking", engine.check(5)).await;
    let blobs = with_progress("checking", blobs_step(&engine)).await;
    let ok = check.ok && blobs.ok;
    if json {
        let vars: serde_json::Map<String, Json> = vars
            .iter()
            .map(|v| (v.name.to_string(), Json::from(v.label())))
            .collect();
        print_json(&serde_json::json!({
            "ok": ok,
            "settings": vars,
            "notion": check,
            "dialer": blobs,
        }));
    } else {
        println!("{}", output::steps("Notion", &check.steps));
        println!(
            "{}",
            output::steps("Dialer contacts (Netlify Blobs)", &[blobs])
        );
        if ok {
            println!("All good: the sync is ready. Try `dialer-sync plan` to preview a sync.");
        } else {
            println!("Something needs fixing: follow the Fix lines above, then run `dialer-sync doctor` again.");
        }
    }
    Ok(Outcome::from_ok(ok))
}

/// Can the dialer's contacts be listed? The engine's check covers Notion only.
async fn blobs_step(engine: &Engine) -> Step {
    let store = &engine.config.contacts_store;
    match engine.dialer.list().await {
        Ok(contacts) => Step {
            name: "contacts",
            ok: true,
            message: format!("{} contact(s) in the store \"{store}\".", contacts.len()),
            fix: None,
        },
        Err(e) => Step {
            name: "contacts",
            ok: false,
            message: e.to_string(),
            fix: Some(format!(
                "Check NETLIFY_BLOBS_CONTEXT, or NETLIFY_SITE_ID with NETLIFY_API_TOKEN (a personal access token from Netlify: User settings > Applications), and that the dialer keeps its contacts in the store \"{store}\" (DIALER_CONTACTS_STORE)."
            )),
        },
    }
}

async fn plan(json: bool) -> Result<Outcome, CliError> {
    let engine = engine_from_env()?;
    let options = RunOptions {
        dry_run: true,
        ..RunOptions::new(Scope::All, ACTOR)
    };
    let report = with_progress("planning", engine.run(options)).await?;
    if json {
        print_json(&report);
    } else {
        print!("{}", report.plan);
        println!("(Dry run: nothing was changed. Run `dialer-sync sync` to apply.)");
    }
    Ok(Outcome::Ok)
}

async fn sync(
    scope: Scope,
    args: RunArgs,
    full_scan: bool,
    command: &str,
) -> Result<Outcome, CliError> {
    let engine = engine_from_env()?;
    let options = RunOptions {
        force: args.force,
        full_scan,
        ..RunOptions::new(scope, ACTOR)
    };
    let report = with_progress("syncing", engine.run(options)).await?;
    print_report(&report, args.json, command);
    Ok(Outcome::from_ok(report.ok()))
}

fn print_report(report: &RunReport, json: bool, command: &str) {
    if json {
        print_json(report);
    } else {
        print!("{report}");
    }
    if let Some(advice) = output::run_advice(report, command) {
        eprintln!("{advice}");
    }
}

async fn conflicts(json: bool) -> Result<Outcome, CliError> {
    let engine = engine_from_env()?;
    let open = engine.conflicts().await?;
    if json {
        print_json(&open);
    } else {
        print!("{}", output::conflicts(&open));
    }
    Ok(Outcome::Ok)
}

/// The person's choice in the engine's terms.
fn resolution(keep: Option<KeepSide>, fields: &[(String, KeepSide)]) -> Resolution {
    let choice = |side: KeepSide| match side {
        KeepSide::Notion => FieldChoice::Notion,
        KeepSide::Dialer => FieldChoice::Dialer,
    };
    match keep {
        Some(KeepSide::Notion) => Resolution::KeepNotion,
        Some(KeepSide::Dialer) => Resolution::KeepDialer,
        None => Resolution::Merge {
            fields: fields
                .iter()
                .map(|(field, side)| (field.clone(), choice(*side)))
                .collect(),
        },
    }
}

async fn resolve(
    id: sync_core::ContactId,
    resolution: Resolution,
    json: bool,
) -> Result<Outcome, CliError> {
    let engine = engine_from_env()?;
    let resolved =
        with_progress("resolving", engine.resolve_conflict(id, resolution, ACTOR)).await?;
    if json {
        print_json(&resolved);
    } else {
        print!("{}", output::resolved(&resolved));
    }
    Ok(Outcome::Ok)
}

async fn backups(run: Option<&str>, limit: usize, json: bool) -> Result<Outcome, CliError> {
    let engine = engine_from_env()?;
    let backups = engine.backups(run, limit).await?;
    if json {
        print_json(&backups);
    } else if backups.is_empty() {
        println!(
            "No backups: no sync changed a value in the last {} days.",
            engine.config.backup_days
        );
    } else {
        for b in &backups {
            print!("{}", output::backup(b));
        }
    }
    Ok(Outcome::Ok)
}

async fn restore(run: &str, id: sync_core::ContactId, json: bool) -> Result<Outcome, CliError> {
    let engine = engine_from_env()?;
    let restored = with_progress("restoring", engine.restore_backup(run, id, ACTOR)).await?;
    if json {
        print_json(&restored);
    } else {
        println!(
            "Contact #{id} is back as it was before run {run}, in the dialer and in Notion: {}",
            restored
                .values
                .iter()
                .map(|(k, v)| format!("{k} = {}", v.display()))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(Outcome::Ok)
}

/// The newest runs first, as the engine keeps them.
async fn history(limit: usize, json: bool) -> Result<Outcome, CliError> {
    let engine = engine_from_env()?;
    let runs = engine.history(limit).await?;
    if json {
        print_json(&runs);
    } else if runs.is_empty() {
        println!("No syncs have run yet.");
    } else {
        for r in &runs {
            println!("{}", output::history_line(r));
        }
    }
    Ok(Outcome::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_become_resolutions() {
        assert_eq!(
            resolution(Some(KeepSide::Notion), &[]),
            Resolution::KeepNotion
        );
        assert_eq!(
            resolution(Some(KeepSide::Dialer), &[]),
            Resolution::KeepDialer
        );
        let merge = resolution(
            None,
            &[
                ("phone".into(), KeepSide::Notion),
                ("website".into(), KeepSide::Dialer),
            ],
        );
        let Resolution::Merge { fields } = merge else {
            panic!("not a merge: {merge:?}");
        };
        assert_eq!(fields.get("phone"), Some(&FieldChoice::Notion));
        assert_eq!(fields.get("website"), Some(&FieldChoice::Dialer));
    }
}
