//! Call notes as an append-only call log in Notion.
//!
//! Each call becomes one entry, appended once (the base remembers the keys
//! of logged calls) and never rewritten: Notion's own notes are untouched.
//! A call's identity is its `id`, else its time, else its content apart
//! from its notes (see `contact.rs`). Notes typed or changed after the call
//! was logged are appended as one more entry ("notes on the call of ..."),
//! once per version of the notes: the log stays append-only and every
//! version of a note reaches Notion exactly once.
//!
//! Every entry ends with a short reference derived from its identity, so a
//! run that crashed between appending and saving its base can find the
//! entries it already wrote instead of writing them twice.

use std::collections::BTreeSet;

use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{json, Value as Json};

use crate::contact::CallRecord;
use crate::notion_value::{split_text, MAX_ARRAY, MAX_TEXT_CHUNK};

/// One entry of the call log: a call, or notes typed for a call already logged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogEntry {
    pub call: CallRecord,
    /// Only the call's notes, typed or changed after the call was logged.
    pub notes_edit: bool,
}

impl LogEntry {
    /// What the entry's reference is made from: the call's key, and for
    /// notes typed later, the notes too.
    pub fn identity(&self) -> String {
        if self.notes_edit {
            notes_marker(&self.call)
        } else {
            self.call.key.clone()
        }
    }

    /// `ref:1a2b3c4d`: what the entry ends with.
    pub fn reference(&self) -> String {
        reference(&self.identity())
    }

    pub fn text(&self, zone: Tz) -> String {
        if self.notes_edit {
            format!(
                "📝 Notes on the call of {}\n{}",
                when(&self.call, zone),
                self.call.notes.as_deref().unwrap_or_default()
            )
        } else {
            entry_text(&self.call, zone)
        }
    }

    pub fn blocks(&self, zone: Tz) -> Vec<Json> {
        text_blocks(&self.text(zone), &self.reference())
    }
}

/// The base's record of which notes of a call are logged: `{key}~{hash}`.
pub fn notes_marker(call: &CallRecord) -> String {
    match call.notes.as_deref() {
        Some(n) if !n.is_empty() => format!(
            "{}~{:016x}",
            call.key,
            crate::value::stable_hash(n.as_bytes())
        ),
        _ => format!("{}~-", call.key),
    }
}

fn has_notes_marker(logged: &BTreeSet<String>, key: &str) -> bool {
    let prefix = format!("{key}~");
    logged
        .range(prefix.clone()..)
        .next()
        .is_some_and(|k| k.starts_with(&prefix))
}

/// What of `calls` goes to the log, given what `logged` says is there: calls
/// never logged, and notes typed or changed since their call was. (A base
/// from before notes were tracked knows the calls only: their notes count as
/// logged.)
pub fn to_log(calls: &[CallRecord], logged: &BTreeSet<String>) -> Vec<LogEntry> {
    calls
        .iter()
        .filter_map(|c| {
            if !logged.contains(&c.key) {
                Some(LogEntry {
                    call: c.clone(),
                    notes_edit: false,
                })
            } else if c.notes.as_deref().is_some_and(|n| !n.is_empty())
                && has_notes_marker(logged, &c.key)
                && !logged.contains(&notes_marker(c))
            {
                Some(LogEntry {
                    call: c.clone(),
                    notes_edit: true,
                })
            } else {
                None
            }
        })
        .collect()
}

/// Takes back [`mark_logged`] for entries that did not reach Notion.
pub fn unmark_logged(logged: &mut BTreeSet<String>, entries: &[LogEntry]) {
    for e in entries {
        logged.remove(&notes_marker(&e.call));
        if !e.notes_edit {
            logged.remove(&e.call.key);
        }
    }
}

/// Records a call already in Notion (one imported from a page) as logged.
pub fn mark_imported(logged: &mut BTreeSet<String>, key: &str) {
    logged.insert(key.to_string());
    logged.insert(format!("{key}~-"));
}

/// Records `calls`, with their notes as they are now, as logged.
pub fn mark_logged(logged: &mut BTreeSet<String>, calls: &[CallRecord]) {
    for c in calls {
        logged.insert(c.key.clone());
        logged.insert(notes_marker(c));
    }
}

/// UTF-8 bytes of text per paragraph block (a 2000-character piece of
/// Japanese is 6000 bytes; 99 of them would be over Notion's body limit).
const MAX_PARAGRAPH_BYTES: usize = 60_000;

/// `ref:1a2b3c4d`: what a call's entry ends with.
pub fn call_ref(call: &CallRecord) -> String {
    reference(&call.key)
}

fn reference(identity: &str) -> String {
    let hash = identity.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("ref:{hash:08x}")
}

fn when(call: &CallRecord, zone: Tz) -> String {
    match call.at {
        Some(t) => t
            .with_timezone(&zone)
            .format("%a %-d %b %Y, %-I:%M %p %Z")
            .to_string(),
        None => "Call (time not recorded)".to_string(),
    }
}

/// One call as text: the summary line, then the notes.
pub fn entry_text(call: &CallRecord, zone: Tz) -> String {
    let mut parts = Vec::new();
    parts.push(format!("📞 {}", when(call, zone)));
    if let Some(o) = &call.outcome {
        parts.push(o.clone());
    }
    if let Some(d) = call.duration {
        let secs = d.round() as u64;
        parts.push(format!("{}m {:02}s", secs / 60, secs % 60));
    }
    if let Some(c) = call.had_conversation {
        parts.push(format!("conversation: {}", if c { "yes" } else { "no" }));
    }
    if let Some(t) = call.had_triage {
        parts.push(format!("triage: {}", if t { "yes" } else { "no" }));
    }
    if let Some(o) = &call.objection {
        parts.push(format!("objection: {o}"));
    }
    let mut text = parts.join(" · ");
    if let Some(notes) = &call.notes {
        text.push('\n');
        text.push_str(notes);
    }
    text
}

/// Paragraph blocks for a page body. A long note spans several rich-text
/// pieces, and several paragraphs past Notion's 100 pieces, so no note is
/// ever cut; the last piece is the entry's reference, in gray.
pub fn entry_blocks(call: &CallRecord, zone: Tz) -> Vec<Json> {
    text_blocks(&entry_text(call, zone), &call_ref(call))
}

fn text_blocks(text: &str, reference: &str) -> Vec<Json> {
    let pieces = split_text(text, MAX_TEXT_CHUNK);
    // At most 99 pieces per paragraph (one is left for the reference), and a
    // byte budget, so a long note in any script fits Notion's 500 KB bodies.
    let mut paragraphs: Vec<Vec<String>> = Vec::new();
    let mut bytes = 0;
    for piece in pieces {
        let full = paragraphs
            .last()
            .is_none_or(|p| p.len() >= MAX_ARRAY - 1 || bytes + piece.len() > MAX_PARAGRAPH_BYTES);
        if full {
            paragraphs.push(Vec::new());
            bytes = 0;
        }
        bytes += piece.len();
        if let Some(p) = paragraphs.last_mut() {
            p.push(piece);
        }
    }
    let mut blocks: Vec<Json> = paragraphs
        .iter()
        .map(|chunk| {
            let rich: Vec<Json> = chunk
                .iter()
                .map(|p| json!({"type": "text", "text": {"content": p}}))
                .collect();
            json!({"object": "block", "type": "paragraph", "paragraph": {"rich_text": rich}})
        })
        .collect();
    if let Some(last) = blocks.last_mut() {
        if let Some(rich) = last["paragraph"]["rich_text"].as_array_mut() {
            rich.push(json!({
                "type": "text",
                "text": {"content": format!("  {reference}")},
                "annotations": {"color": "gray", "code": false, "bold": false, "italic": false, "strikethrough": false, "underline": false}
            }));
        }
    }
    blocks
}

/// The entries as lines for the Notes property (when so configured).
pub fn notes_text(existing: &str, entries: &[LogEntry], zone: Tz) -> String {
    let mut text = existing.trim_end().to_string();
    for entry in entries {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&entry.text(zone));
        text.push_str("  ");
        text.push_str(&entry.reference());
    }
    text
}

/// The reference an entry's last block ends with (`  ref:xxxxxxxx`, the
/// block's last piece of text), if this block ends an entry.
fn entry_end(block: &Json) -> Option<&str> {
    let kind = block["type"].as_str().unwrap_or("paragraph");
    let last = block[kind]["rich_text"].as_array()?.last()?;
    let text = last["plain_text"]
        .as_str()
        .or(last["text"]["content"].as_str())?
        .trim();
    (text.len() == 12 && text.starts_with("ref:")).then_some(text)
}

/// The blocks of every entry among `refs` that a page body (its blocks, in
/// order, as Notion lists them) holds more than once, but the first: an
/// entry is the blocks after the previous entry's end up to its own. Two
/// runs that both logged an entry (one had lost its lease) leave it once.
pub fn repeated_entry_blocks(blocks: &[Json], refs: &BTreeSet<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut entry = Vec::new();
    let mut repeated = Vec::new();
    for block in blocks {
        entry.extend(block["id"].as_str().map(str::to_string));
        let Some(reference) = entry_end(block) else {
            continue;
        };
        if refs.contains(reference) && !seen.insert(reference.to_string()) {
            repeated.append(&mut entry);
        }
        entry.clear();
    }
    repeated
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use chrono_tz::America::New_York;

    fn call(notes: Option<String>) -> CallRecord {
        CallRecord {
            key: "at:2026-09-15T14:00:00.000Z".into(),
            at: Some(Utc.with_ymd_and_hms(2026, 9, 15, 14, 0, 0).unwrap()),
            outcome: Some("DM".into()),
            duration: Some(185.0),
            had_conversation: Some(true),
            had_triage: Some(false),
            objection: Some("price".into()),
            notes,
        }
    }

    #[test]
    fn an_entry_reads_like_a_log_line() {
        let text = entry_text(&call(Some("Call back Tuesday".into())), New_York);
        assert_eq!(
            text,
            "📞 Tue 15 Sep 2026, 10:00 AM EDT · DM · 3m 05s · conversation: yes · triage: no · objection: price\nCall back Tuesday"
        );
    }

    #[test]
    fn huge_notes_are_split_never_cut() {
        let notes = "n".repeat(250_000);
        let blocks = entry_blocks(&call(Some(notes)), New_York);
        assert_eq!(blocks.len(), 5, "60 KB of text per paragraph");
        let text: String = blocks
            .iter()
            .flat_map(|b| b["paragraph"]["rich_text"].as_array().unwrap().iter())
            .map(|p| p["text"]["content"].as_str().unwrap())
            .collect();
        let expected = format!(
            "{}  {}",
            entry_text(&call(Some("n".repeat(250_000))), New_York),
            call_ref(&call(None))
        );
        assert_eq!(text, expected);
        assert!(blocks
            .iter()
            .all(|b| b["paragraph"]["rich_text"].as_array().unwrap().len() <= 100));
    }

    #[test]
    fn notes_typed_after_the_call_was_logged_are_logged_once() {
        let mut logged = BTreeSet::new();
        let first = call(None);
        assert_eq!(to_log(std::slice::from_ref(&first), &logged).len(), 1);
        mark_logged(&mut logged, std::slice::from_ref(&first));
        assert!(to_log(std::slice::from_ref(&first), &logged).is_empty());
        let typed = call(Some("Call back Tuesday".into()));
        let entries = to_log(std::slice::from_ref(&typed), &logged);
        assert_eq!(entries.len(), 1);
        assert!(entries[0].notes_edit);
        assert!(entries[0].text(New_York).contains("Call back Tuesday"));
        assert_ne!(entries[0].reference(), call_ref(&typed));
        mark_logged(&mut logged, std::slice::from_ref(&typed));
        assert!(to_log(std::slice::from_ref(&typed), &logged).is_empty());
        // A base from before notes were tracked: nothing is logged again.
        let old: BTreeSet<String> = [typed.key.clone()].into();
        assert!(to_log(&[typed], &old).is_empty());
    }

    #[test]
    fn notes_are_appended_after_what_is_there() {
        let entry = LogEntry {
            call: call(None),
            notes_edit: false,
        };
        let text = notes_text("Met at the fair.", &[entry], New_York);
        assert!(text.starts_with("Met at the fair.\n\n📞 Tue 15 Sep 2026"));
        assert!(text.ends_with(&call_ref(&call(None))));
    }

    #[test]
    fn a_repeated_entry_loses_every_copy_but_the_first() {
        let mut logged = CallRecord {
            notes: Some("x".repeat(MAX_TEXT_CHUNK * MAX_ARRAY)),
            ..call(None)
        };
        logged.key = "at:2026-09-15T15:00:00.000Z".into();
        let long = LogEntry {
            call: logged,
            notes_edit: false,
        };
        let short = LogEntry {
            call: call(Some("hi".into())),
            notes_edit: false,
        };
        let mut n = 0;
        let mut ids = |blocks: Vec<Json>| -> Vec<Json> {
            blocks
                .into_iter()
                .map(|mut b| {
                    n += 1;
                    b["id"] = json!(format!("b{n}"));
                    b
                })
                .collect()
        };
        let zone = New_York;
        assert!(long.blocks(zone).len() > 1, "a long note spans paragraphs");
        let mut page = ids(short.blocks(zone));
        page.extend(ids(long.blocks(zone)));
        let first_copy = page.len();
        page.extend(ids(long.blocks(zone)));
        page.extend(ids(short.blocks(zone)));
        let refs: BTreeSet<String> = [long.reference()].into();
        let gone = repeated_entry_blocks(&page, &refs);
        let expected: Vec<String> = page[first_copy..first_copy + long.blocks(zone).len()]
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(gone, expected, "only the long entry's second copy goes");
        let both: BTreeSet<String> = [long.reference(), short.reference()].into();
        assert_eq!(
            repeated_entry_blocks(&page, &both).len(),
            expected.len() + 1
        );
    }
}
