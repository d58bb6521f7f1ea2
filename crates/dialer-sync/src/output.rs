//! How results read on screen: pure functions from the engine's types to
//! text, so every wording is testable without a terminal. No sync rule is
//! decided here; this only shows what the engine decided.

use std::fmt::Write as _;

use sync_core::{Resolution, Side};
use sync_engine::check::Step;
use sync_engine::conflicts::Resolved;
use sync_engine::state::ConflictRecord;
use sync_engine::{RunLine, RunReport};

use crate::settings::VariableState;

/// The settings, by name only: a value (the token above all) is never shown.
pub fn settings(vars: &[VariableState]) -> String {
    let width = vars.iter().map(|v| v.name.len()).max().unwrap_or(0);
    let mut out = String::from("Settings (names only; values are never shown):\n");
    for v in vars {
        let _ = writeln!(
            out,
            "  {:width$}  {:8} {}",
            v.name,
            v.label(),
            v.about,
            width = width
        );
    }
    out
}

/// Checks as ✔/✘ lines, each failed one followed by its fix.
pub fn steps(title: &str, steps: &[Step]) -> String {
    let mut out = format!("{title}:\n");
    for s in steps {
        let mark = if s.ok { '✔' } else { '✘' };
        let _ = writeln!(out, "  {mark} {}: {}", s.name, s.message);
        if let Some(fix) = s.fix.as_deref().filter(|_| !s.ok) {
            for (i, line) in fix.lines().enumerate() {
                let lead = if i == 0 { "Fix:" } else { "    " };
                let _ = writeln!(out, "      {lead} {line}");
            }
        }
    }
    out
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Notion => "Notion",
        Side::Dialer => "the dialer",
    }
}

/// Open conflicts, as the roadmap's conflict dialog shows them, with the
/// command that settles each.
pub fn conflicts(records: &[ConflictRecord]) -> String {
    if records.is_empty() {
        return "No open conflicts: every contact agrees in both places.\n".into();
    }
    let mut out = format!("{} contact(s) changed in both places:\n", records.len());
    for c in records {
        let _ = writeln!(
            out,
            "\n(!) #{} {} (found {})",
            c.contact_id,
            if c.company_name.is_empty() {
                "(no name)"
            } else {
                &c.company_name
            },
            c.detected_at.format("%Y-%m-%d %H:%M UTC")
        );
        let width = c.fields.iter().map(|f| f.field.len()).max().unwrap_or(0);
        for f in &c.fields {
            let _ = write!(
                out,
                "    {:width$}  Notion says: {}  |  Dialer says: {}",
                f.field,
                f.notion.display(),
                f.dialer.display(),
                width = width
            );
            match f.applied {
                Some(side) => {
                    let _ = writeln!(out, "  (for now {} is used: {})", side_name(side), f.reason);
                }
                None => {
                    let _ = writeln!(out, "  ({})", f.reason);
                }
            }
        }
        if c.deleted_in_dialer {
            let _ = writeln!(
                out,
                "    Deleted in the dialer, edited in Notion since. Choose with: dialer-sync resolve {id} --keep dialer   (archive the page) or --keep notion   (restore the contact)",
                id = c.contact_id
            );
            continue;
        }
        let example = c
            .fields
            .first()
            .map(|f| f.field.as_str())
            .unwrap_or("phone");
        let _ = writeln!(
            out,
            "    Choose with: dialer-sync resolve {id} --keep notion   (or --keep dialer, or --field {example}=notion ...)",
            id = c.contact_id
        );
    }
    out
}

/// The outcome of a resolution: the values both sides now hold.
pub fn resolved(r: &Resolved) -> String {
    let how = match &r.resolution {
        Resolution::KeepNotion => "kept Notion's version",
        Resolution::KeepDialer => "kept the dialer's version",
        Resolution::Merge { .. } => "manual merge",
    };
    let name = &r.conflict.company_name;
    let mut out = format!("Resolved #{} {name} ({how}):\n", r.contact_id);
    for (field, value) in &r.values {
        let _ = writeln!(out, "  {field} = {}", value.display());
    }
    out.push_str(
        "The dialer and Notion now both hold these values; the replaced ones are kept in the sync's records.\n",
    );
    out
}

/// One run of the history, on one line.
pub fn history_line(r: &RunLine) -> String {
    let s = &r.summary;
    let status = if r.error.is_some() {
        "FAILED".to_string()
    } else if r.held.is_some() {
        "held".to_string()
    } else if s.failed > 0 {
        format!("{} FAILED", s.failed)
    } else {
        "ok".to_string()
    };
    format!(
        "{}  {:18} {:9} {} | {} call(s) logged, {} conflict(s), {} left for next run",
        r.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        r.mode,
        status,
        s.sides(),
        s.calls_logged,
        s.conflicts,
        s.remaining,
    )
}

/// What to do after a run that did not end well, in the person's words.
pub fn run_advice(r: &RunReport, command: &str) -> Option<String> {
    if r.held.is_some() {
        Some(format!(
            "Nothing was changed: the safety brake held this run because it would change many contacts at once. Check both sides, then run `dialer-sync {command} --force` to apply it."
        ))
    } else if r.summary.failed > 0 {
        Some(format!(
            "{} contact(s) could not be synced (see FAILED above); the others were. The next sync tries them again.",
            r.summary.failed
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::variable_report;

    #[test]
    fn settings_show_names_and_states_only() {
        let text = settings(&variable_report(|n| {
            (n == "NOTION_API_TOKEN").then(|| "secret_do_not_show".to_string())
        }));
        assert!(text.contains("NOTION_API_TOKEN"));
        assert!(text.contains("NOTION_DATABASE_ID"));
        assert!(!text.contains("secret_do_not_show"));
        let token_line = text
            .lines()
            .find(|l| l.contains("NOTION_API_TOKEN"))
            .expect("token line");
        assert!(token_line.contains(" set "), "{token_line}");
        let db_line = text
            .lines()
            .find(|l| l.contains("NOTION_DATABASE_ID"))
            .expect("database line");
        assert!(db_line.contains("missing"), "{db_line}");
    }

    #[test]
    fn failed_steps_carry_their_fix() {
        let text = steps(
            "Notion",
            &[
                Step {
                    name: "token",
                    ok: false,
                    message: "rejected".into(),
                    fix: Some("Copy the secret\nthen redeploy".into()),
                },
                Step {
                    name: "database",
                    ok: true,
                    message: "shared".into(),
                    fix: None,
                },
            ],
        );
        assert!(text.contains("✘ token: rejected"));
        assert!(text.contains("Fix: Copy the secret"));
        assert!(text.contains("then redeploy"));
        assert!(text.contains("✔ database: shared"));
    }

    #[test]
    fn no_conflicts_says_so() {
        assert!(conflicts(&[]).contains("No open conflicts"));
    }
}

/// One backup: which values a run replaced, and how to put them back.
pub fn backup(b: &sync_engine::backup::Backup) -> String {
    let mut out = format!(
        "#{} {} -- run {} at {}\n",
        b.contact_id,
        b.company_name,
        b.run_id,
        b.taken_at.format("%Y-%m-%d %H:%M UTC")
    );
    for r in &b.replaced {
        let _ = writeln!(
            out,
            "    {} in {}: was {}, became {}",
            r.field,
            side_name(r.side),
            r.before.display(),
            r.after.display()
        );
    }
    if b.archived_page {
        let _ = writeln!(
            out,
            "    the page was archived (restore it from Notion's trash)"
        );
    }
    let _ = writeln!(
        out,
        "    undo with: dialer-sync restore {} {}",
        b.run_id, b.contact_id
    );
    out
}
