//! The command line as the person types it. The help texts are written for
//! someone who set the sync up by following the roadmap, not for a developer:
//! they use the roadmap's words ("Sync to Notion", "Keep Notion", ...).

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use sync_core::ContactId;

#[derive(Debug, Parser)]
#[command(
    name = "dialer-sync",
    version,
    about = "Keeps your dialer contacts and your Notion CRM in step.",
    long_about = "Keeps your dialer contacts and your Notion CRM in step.\n\n\
        It uses the same settings as the Netlify functions: NOTION_API_TOKEN and \
        NOTION_DATABASE_ID for Notion, and NETLIFY_BLOBS_CONTEXT (or NETLIFY_SITE_ID with \
        NETLIFY_API_TOKEN) for the dialer's contacts. Start with `dialer-sync doctor`.\n\n\
        Exit codes: 0 all good, 1 something needs your attention, 2 a setting is missing or wrong.",
    after_help = "Set RUST_LOG=info to see what the sync is doing (your token is never shown)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Checks your setup: settings, the Notion token, the database and its fields.
    ///
    /// Each check is shown with ✔ or ✘; a failed check says how to fix it.
    /// Setting values (such as your token) are never shown, only whether they are set.
    Doctor {
        /// Print the full check as JSON, for support.
        #[arg(long)]
        json: bool,
    },
    /// Shows what a sync would change, without changing anything.
    Plan {
        /// Print the full dry-run report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Syncs both ways: new calls and dialer edits to Notion, Notion edits to the dialer.
    Sync {
        #[command(flatten)]
        run: RunArgs,
        /// Read every Notion page, not only the recently edited ones (finds pages moved to the trash).
        #[arg(long)]
        full_scan: bool,
    },
    /// Sync to Notion: sends these contacts (or every changed contact) to Notion.
    ///
    /// Each contact is still merged both ways, so an edit made in Notion is never overwritten.
    Push {
        /// Dialer IDs of the contacts to send, e.g. `1001 1002`. None: every changed contact.
        #[arg(value_name = "CONTACT_ID", value_parser = parse_contact_id)]
        ids: Vec<ContactId>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Pull from Notion: brings contacts edited or added in Notion into the dialer.
    Pull {
        #[command(flatten)]
        run: RunArgs,
        /// Read every Notion page, not only the recently edited ones.
        #[arg(long)]
        full_scan: bool,
    },
    /// Lists contacts that were changed in both places and need your choice.
    Conflicts {
        /// Print the conflicts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Settles a conflict: keep Notion's version, the dialer's, or choose field by field.
    #[command(
        group(ArgGroup::new("choice").required(true).args(["keep", "fields"])),
        after_help = "Examples:\n  dialer-sync resolve 1001 --keep notion\n  dialer-sync resolve 1001 --field phone=notion --field website=dialer"
    )]
    Resolve {
        /// The Dialer ID of the contact (shown by `dialer-sync conflicts`).
        #[arg(value_name = "CONTACT_ID", value_parser = parse_contact_id)]
        id: ContactId,
        /// Keep this side's value for every field in conflict.
        #[arg(long, value_enum, value_name = "SIDE")]
        keep: Option<KeepSide>,
        /// Manual merge: choose a side per field, as FIELD=notion or FIELD=dialer (repeat for each field).
        #[arg(long = "field", value_name = "FIELD=SIDE", value_parser = parse_field_choice)]
        fields: Vec<(String, KeepSide)>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lists the backups taken before syncs changed values (kept 7 days).
    Backups {
        /// Only this run's (a run id from `dialer-sync history --json`).
        #[arg(long, value_name = "RUN_ID")]
        run: Option<String>,
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Puts a contact back, on both sides, as it was before a sync run changed it.
    #[command(after_help = "Example:\n  dialer-sync restore 20261201T100000.000Z-1a2b 1001")]
    Restore {
        /// The run whose changes to undo (shown by `dialer-sync backups`).
        #[arg(value_name = "RUN_ID")]
        run: String,
        /// The Dialer ID of the contact.
        #[arg(value_name = "CONTACT_ID", value_parser = parse_contact_id)]
        id: ContactId,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Shows what the last syncs did, newest first.
    History {
        /// How many runs to show.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print the runs as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Options every applying run shares.
#[derive(Debug, Clone, Copy, Args)]
pub struct RunArgs {
    /// Apply the changes even if the safety brake holds them (many contacts created or archived at once).
    #[arg(long)]
    pub force: bool,
    /// Print the full report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The side a person keeps, in the words of the conflict dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeepSide {
    /// Keep the value in Notion.
    Notion,
    /// Keep the value in the dialer.
    Dialer,
}

fn parse_contact_id(s: &str) -> Result<ContactId, String> {
    s.parse::<ContactId>()
}

/// `phone=notion`: the field may be typed as its key (`phone`,
/// `companyName`) or its Notion property (`Phone`, `Name`), in any case.
fn parse_field_choice(s: &str) -> Result<(String, KeepSide), String> {
    let (field, side) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not FIELD=SIDE, e.g. phone=notion"))?;
    let side = KeepSide::from_str(side.trim(), true)
        .map_err(|_| format!("{:?} is not a side: use notion or dialer", side.trim()))?;
    let field = field.trim();
    if field.is_empty() {
        return Err(format!("{s:?} names no field, e.g. phone=notion"));
    }
    Ok((canonical_field(field), side))
}

/// The field key for what the person typed; unknown names pass through, so
/// the engine's answer names them.
fn canonical_field(typed: &str) -> String {
    sync_core::FIELDS
        .iter()
        .find(|f| f.key.eq_ignore_ascii_case(typed) || f.property.eq_ignore_ascii_case(typed))
        .map(|f| f.key.to_string())
        .unwrap_or_else(|| typed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn field_choices_accept_keys_and_property_names() {
        assert_eq!(
            parse_field_choice("phone=notion"),
            Ok(("phone".into(), KeepSide::Notion))
        );
        assert_eq!(
            parse_field_choice("Name = Dialer"),
            Ok(("companyName".into(), KeepSide::Dialer))
        );
        assert_eq!(
            parse_field_choice("LINKEDIN=notion"),
            Ok(("linkedin".into(), KeepSide::Notion))
        );
        assert_eq!(
            parse_field_choice("whatever=notion"),
            Ok(("whatever".into(), KeepSide::Notion))
        );
        assert!(parse_field_choice("phone").is_err());
        assert!(parse_field_choice("phone=both").is_err());
        assert!(parse_field_choice("=notion").is_err());
    }

    #[test]
    fn resolve_needs_exactly_one_way_of_choosing() {
        assert!(Cli::try_parse_from(["dialer-sync", "resolve", "1001"]).is_err());
        assert!(Cli::try_parse_from([
            "dialer-sync",
            "resolve",
            "1001",
            "--keep",
            "notion",
            "--field",
            "phone=dialer"
        ])
        .is_err());
        let cli = Cli::try_parse_from([
            "dialer-sync",
            "resolve",
            "1001",
            "--field",
            "phone=notion",
            "--field",
            "website=dialer",
        ])
        .expect("parses");
        match cli.command {
            Command::Resolve {
                id, keep, fields, ..
            } => {
                assert_eq!(id.get(), 1001);
                assert_eq!(keep, None);
                assert_eq!(
                    fields,
                    vec![
                        ("phone".to_string(), KeepSide::Notion),
                        ("website".to_string(), KeepSide::Dialer)
                    ]
                );
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn contact_ids_are_dialer_ids() {
        assert!(Cli::try_parse_from(["dialer-sync", "push", "1001", "1002"]).is_ok());
        assert!(Cli::try_parse_from(["dialer-sync", "push", "acme"]).is_err());
        assert!(Cli::try_parse_from(["dialer-sync", "push", "0"]).is_err());
    }
}
