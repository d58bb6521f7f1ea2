//! Call notes as an append-only call log in Notion.
//!
//! Each call becomes one entry, appended once (the base remembers the keys
//! of logged calls) and never rewritten: Notion's own notes are untouched.
//! Every entry ends with a short reference derived from the call's key, so a
//! run that crashed between appending and saving its base can find the
//! entries it already wrote instead of writing them twice.

use chrono_tz::Tz;
use serde_json::{json, Value as Json};

use crate::contact::CallRecord;
use crate::notion_value::{split_text, MAX_ARRAY, MAX_TEXT_CHUNK};

/// UTF-8 bytes of text per paragraph block (a 2000-character piece of
/// Japanese is 6000 bytes; 99 of them would be over Notion's body limit).
const MAX_PARAGRAPH_BYTES: usize = 60_000;

/// `ref:1a2b3c4d`: what a call's entry ends with.
pub fn call_ref(call: &CallRecord) -> String {
    let hash = call.key.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("ref:{hash:08x}")
}

/// One call as text: the summary line, then the notes.
pub fn entry_text(call: &CallRecord, zone: Tz) -> String {
    let mut parts = Vec::new();
    let when = match call.at {
        Some(t) => t
            .with_timezone(&zone)
            .format("%a %-d %b %Y, %-I:%M %p %Z")
            .to_string(),
        None => "Call (time not recorded)".to_string(),
    };
    parts.push(format!("📞 {when}"));
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
    let pieces = split_text(&entry_text(call, zone), MAX_TEXT_CHUNK);
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
                "text": {"content": format!("  {}", call_ref(call))},
                "annotations": {"color": "gray", "code": false, "bold": false, "italic": false, "strikethrough": false, "underline": false}
            }));
        }
    }
    blocks
}

/// The entries as lines for the Notes property (when so configured).
pub fn notes_text(existing: &str, calls: &[CallRecord], zone: Tz) -> String {
    let mut text = existing.trim_end().to_string();
    for call in calls {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&entry_text(call, zone));
        text.push_str("  ");
        text.push_str(&call_ref(call));
    }
    text
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
    fn notes_are_appended_after_what_is_there() {
        let text = notes_text("Met at the fair.", &[call(None)], New_York);
        assert!(text.starts_with("Met at the fair.\n\n📞 Tue 15 Sep 2026"));
        assert!(text.ends_with(&call_ref(&call(None))));
    }
}
