//! The oracle: what must hold, written from the README's rules, not from
//! the engine. It reads both sides itself (its own small readers for a
//! contact's JSON and a page's properties), remembers what people did, and
//! after every step checks:
//!
//! - no Dialer ID on two live pages, no contact given two pages, no page
//!   given two contacts, no duplicate where a page typed in Notion and a
//!   contact share a phone number;
//! - every value a side held that the sync replaced is kept in a conflict,
//!   `resolved/` or a backup;
//! - each call note at most once in Notion (exactly once in the end);
//! - Notion's own fields only ever hold what a person typed;
//! - a contact blob differs from what the person saved only in the fields
//!   the sync may write (contact info and its `notion` mirror);
//!
//! and, after the faults stop and clean runs, that both sides agree.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use netlify_blobs::Store;
use notion_emulator::EmulatorControl;
use serde_json::Value as Json;

use super::person::Did;

/// How a field's values are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    Text,
    Phone,
    Instant,
    Int,
    Bool,
}

#[derive(Clone, Copy, Debug)]
pub enum Path {
    Top(&'static str),
    /// A key of the latest call (the one with the latest time; calls without
    /// a time count as older than any timed one).
    Latest(&'static str),
}

pub struct Field {
    pub key: &'static str,
    pub dialer: Path,
    pub property: &'static str,
    pub norm: Norm,
    /// Contact info: the sync may write it in the dialer.
    pub info: bool,
}

const fn f(
    key: &'static str,
    dialer: Path,
    property: &'static str,
    norm: Norm,
    info: bool,
) -> Field {
    Field {
        key,
        dialer,
        property,
        norm,
        info,
    }
}

/// The README's synced fields.
pub const FIELDS: &[Field] = &[
    f(
        "companyName",
        Path::Top("companyName"),
        "Name",
        Norm::Text,
        true,
    ),
    f("phone", Path::Top("phone"), "Phone", Norm::Phone, true),
    f("website", Path::Top("website"), "Website", Norm::Text, true),
    f("address", Path::Top("address"), "Address", Norm::Text, true),
    f(
        "linkedin",
        Path::Top("linkedin"),
        "LinkedIn",
        Norm::Text,
        true,
    ),
    f(
        "industry",
        Path::Top("industry"),
        "Industry",
        Norm::Text,
        true,
    ),
    f(
        "nextFollowUp",
        Path::Top("nextFollowUp"),
        "Next Follow Up Date",
        Norm::Instant,
        true,
    ),
    f(
        "totalDials",
        Path::Top("totalDials"),
        "Total Dials",
        Norm::Int,
        false,
    ),
    f(
        "lastCall",
        Path::Top("lastCall"),
        "Last Call",
        Norm::Instant,
        false,
    ),
    f(
        "currentOkCode",
        Path::Top("currentOkCode"),
        "Ok Code",
        Norm::Text,
        false,
    ),
    f(
        "outcome",
        Path::Latest("outcome"),
        "Outcome",
        Norm::Text,
        false,
    ),
    f(
        "duration",
        Path::Latest("duration"),
        "Duration",
        Norm::Int,
        false,
    ),
    f(
        "hadConversation",
        Path::Latest("hadConversation"),
        "Had Conversation",
        Norm::Bool,
        false,
    ),
    f(
        "hadTriage",
        Path::Latest("hadTriage"),
        "Had Triage",
        Norm::Bool,
        false,
    ),
    f(
        "objection",
        Path::Latest("objection"),
        "Objection",
        Norm::Text,
        false,
    ),
];

/// Notion's own properties.
pub const OWN: &[&str] = &["Notes", "Tags", "Priority", "Assigned To"];

/// A value, normalized: `None` is empty (missing, null, "", false).
pub type V = Option<String>;

pub fn norm(kind: Norm, v: &Json) -> V {
    let s = match v {
        Json::Null => return None,
        Json::String(s) if s.trim().is_empty() => return None,
        Json::String(s) => s.trim().to_string(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        _ => return None,
    };
    match kind {
        Norm::Text => Some(s),
        Norm::Phone => {
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            let digits = match digits.strip_prefix('1') {
                Some(rest) if digits.len() == 11 => rest.to_string(),
                _ => digits,
            };
            (!digits.is_empty()).then_some(digits)
        }
        Norm::Instant => Some(match DateTime::parse_from_rfc3339(&s) {
            Ok(t) => t.to_utc().format("%Y-%m-%dT%H:%M").to_string(),
            Err(_) => s,
        }),
        Norm::Int => Some(match s.parse::<f64>() {
            Ok(n) => format!("{}", n.round() as i64),
            Err(_) => s,
        }),
        Norm::Bool => (s == "true").then(|| "true".into()),
    }
}

fn call_time(call: &Json) -> Option<DateTime<Utc>> {
    call.get("timestamp")
        .and_then(Json::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.to_utc())
}

fn latest_call(contact: &Json) -> Option<&Json> {
    let calls = contact.get("callHistory")?.as_array()?;
    let mut best: Option<&Json> = None;
    for c in calls {
        if best.is_none_or(|b| call_time(c) >= call_time(b)) {
            best = Some(c);
        }
    }
    best
}

pub fn dialer_value(field: &Field, contact: &Json) -> V {
    let raw = match field.dialer {
        Path::Top(k) => contact.get(k),
        Path::Latest(k) => latest_call(contact).and_then(|c| c.get(k)),
    };
    raw.and_then(|v| norm(field.norm, v))
}

/// Plain text of a property value, in the read shape or the write shape.
fn property_text(p: &Json) -> Json {
    let pieces = |a: &Json| -> Json {
        let text: String = a
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|t| t["plain_text"].as_str().or(t["text"]["content"].as_str()))
                    .collect()
            })
            .unwrap_or_default();
        Json::String(text)
    };
    if let Some(a) = p.get("title") {
        return pieces(a);
    }
    if let Some(a) = p.get("rich_text") {
        return pieces(a);
    }
    for k in ["phone_number", "url", "number", "checkbox"] {
        if let Some(v) = p.get(k) {
            return v.clone();
        }
    }
    if let Some(s) = p.get("select") {
        return s.get("name").cloned().unwrap_or(Json::Null);
    }
    if let Some(d) = p.get("date") {
        return d.get("start").cloned().unwrap_or(Json::Null);
    }
    if let Some(m) = p.get("multi_select").and_then(Json::as_array) {
        let names: Vec<&str> = m.iter().filter_map(|o| o["name"].as_str()).collect();
        return Json::String(names.join(","));
    }
    if let Some(m) = p.get("people").and_then(Json::as_array) {
        let ids: Vec<&str> = m.iter().filter_map(|o| o["id"].as_str()).collect();
        return Json::String(ids.join(","));
    }
    Json::Null
}

#[derive(Clone, Debug, Default)]
pub struct PageObs {
    pub id: String,
    pub dialer_id: Option<u64>,
    pub in_trash: bool,
    pub by_bot: bool,
    pub values: BTreeMap<&'static str, V>,
    pub own: BTreeMap<&'static str, V>,
    /// The page body's text (the call log).
    pub body: String,
}

#[derive(Clone, Debug, Default)]
pub struct Obs {
    pub contacts: BTreeMap<String, Json>,
    pub pages: Vec<PageObs>,
}

impl Obs {
    pub async fn read(contacts: &Store, notion: &EmulatorControl) -> Obs {
        let mut obs = Obs::default();
        for listed in contacts.list(None).await.expect("list contacts") {
            if let Some(blob) = contacts.get(&listed.key).await.expect("read contact") {
                let c = serde_json::from_slice(&blob.bytes).unwrap_or_else(|e| {
                    Json::String(format!(
                        "damaged blob ({e}): {}",
                        String::from_utf8_lossy(&blob.bytes)
                    ))
                });
                obs.contacts.insert(listed.key, c);
            }
        }
        for p in notion.pages() {
            let id = p["id"].as_str().unwrap_or_default().to_string();
            let props = &p["properties"];
            let body: String = notion
                .block_children(&id)
                .iter()
                .flat_map(|b| {
                    let t = b["type"].as_str().unwrap_or("paragraph").to_string();
                    b[t]["rich_text"].as_array().cloned().unwrap_or_default()
                })
                .filter_map(|r| r["plain_text"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
                .join("");
            obs.pages.push(PageObs {
                dialer_id: props["Dialer ID"]["number"].as_f64().map(|n| n as u64),
                in_trash: p["in_trash"].as_bool().unwrap_or(false),
                by_bot: p["created_by"]["id"].as_str() == Some(notion_emulator::BOT_USER_ID),
                values: FIELDS
                    .iter()
                    .map(|f| (f.key, norm(f.norm, &property_text(&props[f.property]))))
                    .collect(),
                own: OWN
                    .iter()
                    .map(|k| (*k, norm(Norm::Text, &property_text(&props[*k]))))
                    .collect(),
                body,
                id,
            });
        }
        obs
    }

    pub fn page(&self, id: &str) -> Option<&PageObs> {
        self.pages.iter().find(|p| p.id == id)
    }

    fn live_page_with_id(&self, dialer_id: u64) -> Option<&PageObs> {
        self.pages
            .iter()
            .find(|p| !p.in_trash && p.dialer_id == Some(dialer_id))
    }

    /// The page a contact's mirror points at.
    pub fn mirror(contact: &Json) -> Option<String> {
        contact["notion"]["pageId"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(|s| s.to_string())
    }
}

/// The values the sync keeps of what it replaced: conflicts, resolved
/// conflicts and backups, by blob key.
pub struct Corpus(Vec<(String, Json)>);

impl Corpus {
    pub async fn read(state: &Store) -> Corpus {
        let mut out = Vec::new();
        for prefix in ["conflicts/", "resolved/", "backups/"] {
            for listed in state.list(Some(prefix)).await.expect("list state") {
                if let Some(v) = state
                    .get_json::<Json>(&listed.key)
                    .await
                    .expect("read state")
                {
                    out.push((listed.key, v));
                }
            }
        }
        Corpus(out)
    }

    fn about(key: &str, id: u64) -> bool {
        let id = id.to_string();
        key.rsplit('/').next() == Some(id.as_str())
            || key
                .strip_prefix("resolved/")
                .is_some_and(|rest| rest.split('-').next() == Some(id.as_str()))
    }

    /// Whether `value` of a field normalized as `kind` is kept anywhere
    /// for contact `id` (anywhere at all when the record is unknown).
    pub fn keeps(&self, id: Option<u64>, kind: Norm, value: &str) -> bool {
        self.0
            .iter()
            .filter(|(k, _)| id.is_none_or(|id| Corpus::about(k, id)))
            .any(|(_, v)| {
                leaves(v)
                    .iter()
                    .any(|leaf| norm(kind, leaf).as_deref() == Some(value))
            })
    }
}

fn leaves(v: &Json) -> Vec<Json> {
    match v {
        Json::Array(a) => a.iter().flat_map(leaves).collect(),
        Json::Object(o) => o.values().flat_map(leaves).collect(),
        other => vec![other.clone()],
    }
}

/// Keys of a contact the sync may write.
fn sync_writable(key: &str) -> bool {
    key == "notion"
        || FIELDS
            .iter()
            .any(|f| f.info && matches!(f.dialer, Path::Top(k) if k == key))
}

fn without_sync_keys(c: &Json) -> Json {
    match c {
        Json::Object(o) => Json::Object(
            o.iter()
                .filter(|(k, _)| !sync_writable(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What the oracle remembers between steps.
#[derive(Default)]
pub struct Oracle {
    pub prev: Obs,
    /// The last object a person saved, per contact.
    saved: BTreeMap<String, Json>,
    /// Deleted by a person (and not brought back by "keep Notion").
    pub deleted: BTreeSet<String>,
    /// Notion's own properties as a person last set them.
    own: BTreeMap<(String, &'static str), V>,
    typed: BTreeSet<String>,
    /// Every page that ever had a Dialer ID or a contact pointing at it.
    linked: BTreeSet<String>,
    /// The Dialer ID each page the sync created was first seen with.
    bot_first_id: BTreeMap<String, Option<u64>>,
    /// Each contact key ever seen pointing at a page.
    pointers: BTreeMap<String, BTreeSet<String>>,
    /// Every call note a person wrote.
    pub notes: BTreeSet<String>,
    /// Pages a person moved to the trash (and did not restore).
    trashed_by_person: BTreeSet<String>,
    /// Pages a person took back out of the trash.
    restored_by_person: BTreeSet<String>,
    /// Restored copies (see `notes_at_most_once`), remembered: a person who
    /// then empties the Dialer ID of either page does not make the copy's
    /// notes a second logging by the sync.
    restored_copies: BTreeSet<String>,
    /// A run lost its lease while Notion was failing: a call note it logged
    /// again, or a page it created again, may stay twice until a later run
    /// (with Notion answering) removes the copy. Set and cleared by the world.
    pub repeat_grace: bool,
}

/// A value a side held that the sync replaced in this step.
pub struct Replaced {
    pub id: Option<u64>,
    pub field: &'static Field,
    pub value: String,
    pub side: &'static str,
}

pub struct StepReport<'a> {
    pub did: &'a [Did],
    pub ran: bool,
}

impl Oracle {
    /// Checks one step: `obs` is what both sides hold after it. Values the
    /// sync replaced come back as candidates for [`Oracle::lost`], which
    /// needs the state store's corpus (read only when there are any).
    pub fn check(&mut self, step: StepReport<'_>, obs: Obs) -> (Vec<String>, Vec<Replaced>) {
        let mut v = Vec::new();
        // Judged on what was known before this step: pages linked before it.
        if step.ran {
            self.phone_fallback(step.did, &obs, &mut v);
        }
        self.remember(step.did, &obs);
        self.duplicates(&obs, &mut v);
        self.own_fields(&obs, &mut v);
        self.saved_contacts(&obs, &mut v);
        if !self.repeat_grace {
            self.notes_at_most_once(&obs, &mut v);
        }
        let candidates = self.replaced(step.did, &obs, &mut v);
        self.prev = obs;
        (v, candidates)
    }

    /// The replaced values the sync kept nowhere.
    pub fn lost(candidates: &[Replaced], corpus: &Corpus) -> Vec<String> {
        candidates
            .iter()
            .filter(|r| !corpus.keeps(r.id, r.field.norm, &r.value))
            .map(|r| {
                format!(
                    "lost value: {} held {} = {:?} (contact {}); the sync replaced it and kept it nowhere",
                    r.side,
                    r.field.key,
                    r.value,
                    r.id.map_or("?".into(), |i| i.to_string())
                )
            })
            .collect()
    }

    fn remember(&mut self, did: &[Did], obs: &Obs) {
        for d in did {
            match d {
                Did::Dialer {
                    key,
                    after: Some(c),
                } => {
                    self.saved.insert(key.clone(), c.clone());
                    self.deleted.remove(key);
                    for call in c["callHistory"].as_array().into_iter().flatten() {
                        if let Some(n) = call["notes"].as_str() {
                            self.notes.insert(n.to_string());
                        }
                    }
                }
                Did::Dialer { key, after: None } => {
                    self.saved.remove(key);
                    self.deleted.insert(key.clone());
                }
                Did::Notion { page, properties } => {
                    for k in OWN {
                        if let Some(p) = properties.get(*k) {
                            self.own
                                .insert((page.clone(), k), norm(Norm::Text, &property_text(p)));
                        }
                    }
                }
                Did::Typed { page } => {
                    self.typed.insert(page.clone());
                }
                Did::KeptNotionAfterDelete { key } => {
                    self.deleted.remove(key);
                }
                Did::Trashed { page } => {
                    self.trashed_by_person.insert(page.clone());
                }
                Did::Restored { page } => {
                    self.trashed_by_person.remove(page);
                    self.restored_by_person.insert(page.clone());
                }
            }
        }
        for p in obs
            .pages
            .iter()
            .filter(|p| is_restored_copy(p, &self.restored_by_person, obs))
        {
            self.restored_copies.insert(p.id.clone());
        }
        for p in &obs.pages {
            if p.dialer_id.is_some() {
                self.linked.insert(p.id.clone());
            }
            if p.by_bot {
                self.bot_first_id.entry(p.id.clone()).or_insert(p.dialer_id);
            }
        }
        for (key, c) in &obs.contacts {
            if let Some(page) = Obs::mirror(c) {
                self.linked.insert(page.clone());
                self.pointers.entry(page).or_default().insert(key.clone());
            }
        }
    }

    fn duplicates(&self, obs: &Obs, v: &mut Vec<String>) {
        // Known limit (README): a copy the sync moved to the trash (a create
        // raced by a run that stalled past its lease) that a person restores
        // is a second page, reported by the sync for a person to merge.
        let mut live_ids: BTreeMap<u64, usize> = BTreeMap::new();
        for p in obs.pages.iter().filter(|p| !p.in_trash) {
            if let (Some(id), false) = (
                p.dialer_id,
                p.by_bot && self.restored_by_person.contains(&p.id),
            ) {
                *live_ids.entry(id).or_default() += 1;
            }
        }
        for (id, n) in live_ids
            .iter()
            .filter(|(_, n)| **n > 1 && !self.repeat_grace)
        {
            v.push(format!("duplicate: Dialer ID {id} is on {n} live pages"));
        }
        let mut per_page: BTreeMap<String, Vec<&String>> = BTreeMap::new();
        for (key, c) in &obs.contacts {
            if let Some(page) = Obs::mirror(c) {
                per_page.entry(page).or_default().push(key);
            }
        }
        for (page, keys) in per_page.iter().filter(|(_, k)| k.len() > 1) {
            v.push(format!(
                "duplicate: contacts {keys:?} all point at page {page}"
            ));
        }
        for (page, keys) in self.pointers.iter().filter(|(_, k)| k.len() > 1) {
            if self.typed.contains(page) {
                v.push(format!(
                    "duplicate: the page typed in Notion {page} was given contacts {keys:?}"
                ));
            }
        }
    }

    /// A page typed in Notion and a contact with no page yet that share a
    /// number (and nobody else has it) must be linked, never doubled.
    /// A contact or page a person changed while the run was going is left
    /// out: whether the run matched it depends on whether it read the record
    /// before or after the person's edit, and either is right.
    fn phone_fallback(&self, did: &[Did], obs: &Obs, v: &mut Vec<String>) {
        let prev = &self.prev;
        let touched = |key: &str| {
            did.iter().any(|d| match d {
                Did::Dialer { key: k, .. } | Did::KeptNotionAfterDelete { key: k } => k == key,
                Did::Notion { page, .. }
                | Did::Typed { page }
                | Did::Trashed { page }
                | Did::Restored { page } => page == key,
            })
        };
        let mut pages: BTreeMap<String, Vec<&PageObs>> = BTreeMap::new();
        for p in prev.pages.iter().filter(|p| {
            !p.in_trash
                && self.typed.contains(&p.id)
                && p.dialer_id.is_none()
                && !self.linked.contains(&p.id)
                && !prev
                    .contacts
                    .values()
                    .any(|c| Obs::mirror(c).as_deref() == Some(p.id.as_str()))
        }) {
            if let Some(phone) = p.values["phone"].clone() {
                pages.entry(phone).or_default().push(p);
            }
        }
        let mut contacts: BTreeMap<String, Vec<&String>> = BTreeMap::new();
        for (key, c) in &prev.contacts {
            let id: u64 = key.parse().unwrap_or(0);
            // (A page in the trash still belongs to its contact, and so does
            // the page the sync made for it, whose Dialer ID a person cleared.)
            let has_page = prev.pages.iter().any(|p| {
                p.dialer_id == Some(id) || self.bot_first_id.get(&p.id) == Some(&Some(id))
            });
            if Obs::mirror(c).is_none() && !has_page {
                if let Some(phone) = dialer_value(&FIELDS[1], c) {
                    contacts.entry(phone).or_default().push(key);
                }
            }
        }
        // Any other page without a Dialer ID and with that number makes it
        // ambiguous for the sync too (it cannot tell a typed page from one it
        // made whose Dialer ID a person cleared): no link is expected then.
        let mut without_id: BTreeMap<String, usize> = BTreeMap::new();
        for p in prev
            .pages
            .iter()
            .filter(|p| !p.in_trash && p.dialer_id.is_none())
        {
            if let Some(phone) = p.values["phone"].clone() {
                *without_id.entry(phone).or_default() += 1;
            }
        }
        for (phone, ps) in &pages {
            let Some(keys) = contacts.get(phone) else {
                continue;
            };
            if ps.len() != 1 || keys.len() != 1 || without_id.get(phone) != Some(&1) {
                continue;
            }
            let (typed, key) = (&ps[0].id, keys[0]);
            if touched(typed) || touched(key) {
                continue;
            }
            let id: u64 = key.parse().unwrap_or(0);
            let now_page = obs
                .contacts
                .get(key)
                .and_then(Obs::mirror)
                .or_else(|| obs.live_page_with_id(id).map(|p| p.id.clone()));
            if let Some(page) = now_page.filter(|p| p != typed) {
                v.push(format!(
                    "duplicate: contact {key} got page {page} though page {typed}, typed in Notion with the same phone, had no contact"
                ));
            }
            if let Some(other) = obs
                .page(typed)
                .and_then(|p| p.dialer_id)
                .filter(|d| *d != id && obs.contacts.contains_key(&d.to_string()))
            {
                v.push(format!(
                    "duplicate: page {typed} typed in Notion became contact {other} though contact {key} has the same phone and no page"
                ));
            }
        }
    }

    fn own_fields(&self, obs: &Obs, v: &mut Vec<String>) {
        for p in &obs.pages {
            for k in OWN {
                let expected = self.own.get(&(p.id.clone(), *k)).cloned().flatten();
                if p.own[k] != expected {
                    v.push(format!(
                        "Notion's own field {k} of page {} holds {:?}, but a person typed {expected:?}",
                        p.id, p.own[k]
                    ));
                }
            }
        }
    }

    fn saved_contacts(&self, obs: &Obs, v: &mut Vec<String>) {
        for (key, c) in &obs.contacts {
            if let Json::String(damage) = c {
                v.push(format!("contact {key} is no longer a contact: {damage}"));
            }
        }
        for (key, saved) in &self.saved {
            let Some(now) = obs.contacts.get(key) else {
                v.push(format!("contact {key} disappeared from the dialer"));
                continue;
            };
            if without_sync_keys(now) != without_sync_keys(saved) {
                v.push(format!(
                    "contact {key} was changed outside the fields the sync may write:\n      saved: {}\n      now:   {}",
                    without_sync_keys(saved),
                    without_sync_keys(now)
                ));
            }
        }
    }

    fn notes_at_most_once(&self, obs: &Obs, v: &mut Vec<String>) {
        // Pages in the trash are out of the CRM: a copy there (a page made
        // again in the instant a run died, see the README's limits) is not a
        // second note in it.
        // Nor is the copy a person restored from there (the same known
        // limit: the sync reports the Dialer ID on two pages, to merge by
        // hand): a page the sync made, restored by a person, whose Dialer
        // ID another live page holds.
        let live = |p: &&PageObs| !p.in_trash;
        let restored_copy = |p: &&PageObs| {
            self.restored_copies.contains(&p.id)
                || is_restored_copy(p, &self.restored_by_person, obs)
        };
        let bodies: String = obs
            .pages
            .iter()
            .filter(live)
            .filter(|p| !restored_copy(p))
            .map(|p| p.body.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        for note in &self.notes {
            let n = bodies.matches(note.as_str()).count();
            if n > 1 {
                v.push(format!("call note {note:?} is in Notion {n} times"));
            }
        }
    }

    /// Values a side held before this step (or a person wrote during it)
    /// that are gone now though no person replaced them: the sync did.
    fn replaced(&self, did: &[Did], obs: &Obs, v: &mut Vec<String>) -> Vec<Replaced> {
        let mut out = Vec::new();
        // The dialer: the last object each contact held.
        let mut held: BTreeMap<String, Option<Json>> = self
            .prev
            .contacts
            .iter()
            .map(|(k, c)| (k.clone(), Some(c.clone())))
            .collect();
        for d in did {
            if let Did::Dialer { key, after } = d {
                held.insert(key.clone(), after.clone());
            }
        }
        for (key, before) in &held {
            let Some(before) = before else { continue };
            let Some(now) = obs.contacts.get(key) else {
                if !self.deleted.contains(key) {
                    v.push(format!("contact {key} disappeared from the dialer"));
                }
                continue;
            };
            for field in FIELDS {
                if let Some(old) = dialer_value(field, before) {
                    if dialer_value(field, now).as_deref() != Some(old.as_str()) {
                        out.push(Replaced {
                            id: key.parse().ok(),
                            field,
                            value: old,
                            side: "the dialer",
                        });
                    }
                }
            }
        }
        // Notion: the last value of each property.
        let mut held: BTreeMap<String, BTreeMap<&'static str, V>> = self
            .prev
            .pages
            .iter()
            .map(|p| (p.id.clone(), p.values.clone()))
            .collect();
        for d in did {
            if let Did::Notion { page, properties } = d {
                let values = held.entry(page.clone()).or_default();
                for field in FIELDS {
                    if let Some(p) = properties.get(field.property) {
                        values.insert(field.key, norm(field.norm, &property_text(p)));
                    }
                }
            }
        }
        for (page, values) in &held {
            let Some(now) = obs.page(page) else { continue };
            let id = now
                .dialer_id
                .or_else(|| self.prev.page(page).and_then(|p| p.dialer_id));
            for field in FIELDS {
                if let Some(Some(old)) = values.get(field.key) {
                    if now.values[field.key].as_deref() != Some(old.as_str()) {
                        out.push(Replaced {
                            id,
                            field,
                            value: old.clone(),
                            side: "Notion",
                        });
                    }
                }
            }
        }
        out
    }

    /// After the faults stopped, conflicts were answered and clean runs
    /// went through: both sides agree, every note is in Notion once, every
    /// typed page has its contact, every deleted contact's page is archived.
    pub fn converged(&self, obs: &Obs, open_conflicts: usize) -> Vec<String> {
        let mut v = Vec::new();
        if open_conflicts > 0 {
            v.push(format!(
                "{open_conflicts} conflict(s) still open after every one was answered"
            ));
        }
        for (key, c) in &obs.contacts {
            let id: u64 = key.parse().unwrap_or(0);
            let Some(page_id) = Obs::mirror(c) else {
                v.push(format!("contact {key} has no page"));
                continue;
            };
            let Some(page) = obs.page(&page_id) else {
                v.push(format!(
                    "contact {key} points at page {page_id}, which does not exist"
                ));
                continue;
            };
            // (A page in the trash cannot be written: its Dialer ID is put
            // back when it is restored.)
            if page.dialer_id != Some(id) && !page.in_trash {
                v.push(format!(
                    "contact {key}'s page {page_id} has Dialer ID {:?}",
                    page.dialer_id
                ));
            }
            if page.in_trash {
                if c["notion"]["archived"] != Json::Bool(true) {
                    v.push(format!(
                        "contact {key}'s page is in the trash but it is not marked archived"
                    ));
                }
                continue;
            }
            for field in FIELDS {
                let (d, n) = (dialer_value(field, c), page.values[field.key].clone());
                if d != n {
                    v.push(format!(
                        "contact {key}: {} differs: dialer {d:?}, Notion {n:?}",
                        field.key
                    ));
                }
            }
            for call in c["callHistory"].as_array().into_iter().flatten() {
                if let Some(note) = call["notes"].as_str() {
                    let n = page.body.matches(note).count();
                    if n != 1 {
                        v.push(format!(
                            "contact {key}: call note {note:?} is in its page {n} times"
                        ));
                    }
                }
            }
        }
        for p in obs.pages.iter().filter(|p| !p.in_trash) {
            match p.dialer_id {
                None if self.typed.contains(&p.id) => {
                    v.push(format!("page {} typed in Notion never got a contact", p.id))
                }
                Some(id) if !obs.contacts.contains_key(&id.to_string()) => {
                    if self.deleted.contains(&id.to_string()) {
                        v.push(format!(
                            "contact {id} was deleted in the dialer but its page is live"
                        ));
                    } else {
                        v.push(format!("page {} (Dialer ID {id}) has no contact", p.id));
                    }
                }
                _ => {}
            }
        }
        v
    }
}

/// A page the sync made, restored from the trash by a person, whose Dialer
/// ID another live page holds: the README's known limit (reported by the
/// sync, merged by hand).
fn is_restored_copy(p: &PageObs, restored_by_person: &BTreeSet<String>, obs: &Obs) -> bool {
    p.by_bot
        && restored_by_person.contains(&p.id)
        && p.dialer_id.is_some_and(|id| {
            obs.pages
                .iter()
                .any(|o| o.id != p.id && !o.in_trash && o.dialer_id == Some(id))
        })
}
