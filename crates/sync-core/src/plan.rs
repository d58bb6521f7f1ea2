//! The plan: from everything a run has read, what to write where.
//!
//! Planning is pure: the engine reads the dialer's contacts, Notion's pages
//! and the bases, hands them over, and applies the plan it gets back. Records
//! a run did not read (unchanged since the last sync) are stood in for by
//! their base, so an incremental run and a full one plan the same writes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::backup::{replaced, Replaced};
use crate::calllog::{mark_imported, mark_logged, to_log, LogEntry};
use crate::config::{CallNotesTarget, SyncConfig};
use crate::contact::{dialer_projection, imported_call_id, ContactId, DialerContact};
use crate::fields::{DialerPath, Strategy};
use crate::merge::{merge_fields, Base, FieldConflict, LostValue, MergeInput, RecordStatus};
use crate::phone;
use crate::schema::{Mapping, NotionRecord};
use crate::value::{DateValue, FieldMap, Value};

/// A contact as read in this run.
#[derive(Clone, Debug)]
pub struct ContactSnapshot {
    pub contact: DialerContact,
    /// When the dialer last changed it: the contact's `updatedAt`, else the
    /// blob's last-modified time, else unknown (taken as "now").
    pub edited_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct PlanInput<'a> {
    pub mapping: &'a Mapping,
    pub config: &'a SyncConfig,
    pub now: DateTime<Utc>,
    /// Contacts read in this run: changed ones, or all of them.
    pub contacts: Vec<ContactSnapshot>,
    /// The id of every contact the dialer holds, read or not.
    pub all_contact_ids: BTreeSet<ContactId>,
    /// Pages read in this run (changed ones, or all), trashed ones included.
    pub pages: Vec<NotionRecord>,
    /// `pages` holds every live page: a linked page missing from it is gone.
    pub full_scan: bool,
    /// Bases of every record involved; a base whose contact is no longer in
    /// `all_contact_ids` means the contact was deleted in the dialer.
    pub bases: BTreeMap<ContactId, Base>,
    /// The first Dialer ID the sync may hand out.
    pub next_id: u64,
    /// No record has been synced yet: the brake does not apply.
    pub initial: bool,
    /// Link a contact new to the sync to a page typed in Notion by phone.
    /// A push cannot tell whether another contact already claims such a
    /// page, so it leaves that to a run that reads every contact.
    pub link_by_phone: bool,
    /// Make a contact of each page typed in Notion that no contact took.
    /// Only once every contact that could claim one has been offered it
    /// (the last stage of a run; never in a push).
    pub contacts_from_typed_pages: bool,
    /// Dialer IDs an unfinished run handed to pages typed in Notion (page id
    /// to id): such a page whose contact is missing gets that id again.
    pub handed_out: BTreeMap<String, ContactId>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NotionWrite {
    None,
    Create {
        values: FieldMap,
        /// The Notes property's first text, when call notes go there.
        notes: Option<String>,
    },
    Update {
        values: FieldMap,
        /// Write the Dialer ID (a page made in Notion, or one whose id a person cleared).
        set_dialer_id: bool,
        /// The whole new Notes text, when call notes go to the Notes property.
        notes: Option<String>,
    },
    Trash,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DialerWrite {
    None,
    Create {
        values: FieldMap,
    },
    Update {
        values: FieldMap,
        /// Set the mirror's archived flag: the page went to (or came back
        /// from) Notion's trash.
        archived: Option<bool>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// A contact new to Notion: its page is created.
    NewPage,
    /// A page new to the dialer: a contact is created with a fresh Dialer ID.
    NewContact,
    /// Matched for the first time by Dialer ID.
    ByDialerId,
    /// Matched for the first time by normalized phone (no Dialer ID on the page yet).
    ByPhone,
    /// Matched by the page the contact was made from (its `notion.pageId`):
    /// a contact created from a page whose Dialer ID could not be written.
    ByPageId,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordPlan {
    pub contact_id: ContactId,
    pub company_name: String,
    pub page_id: Option<String>,
    pub link: Option<Link>,
    pub notion: NotionWrite,
    pub dialer: DialerWrite,
    /// Call-log entries to append to the page body (oldest first).
    pub calls_to_log: Vec<LogEntry>,
    pub conflicts: Vec<FieldConflict>,
    pub lost: Vec<LostValue>,
    /// Every value the writes above replace, on either side, as the sides
    /// held them when read (the backup taken before the writes).
    pub replaced: Vec<Replaced>,
    /// The base to save once every write above has succeeded.
    #[serde(skip)]
    pub base: Base,
}

impl RecordPlan {
    pub fn marks_archived(&self) -> bool {
        matches!(
            self.dialer,
            DialerWrite::Update {
                archived: Some(true),
                ..
            }
        )
    }

    pub fn has_writes(&self) -> bool {
        self.notion != NotionWrite::None
            || self.dialer != DialerWrite::None
            || !self.calls_to_log.is_empty()
    }

    /// The base as if none of this plan's writes had been made (its page
    /// turned out to be in Notion's trash): each field a write would have
    /// changed is recorded as if both sides had last agreed on the value of
    /// the side it was to be written to, so the next run (once the page is
    /// back) sees the other side's value as a change again; its call-log
    /// entries are not logged.
    pub fn base_without_writes(&self, base: &Base, mapping: &Mapping) -> Base {
        let mut base = base.clone();
        for r in &self.replaced {
            let (to_notion, to_dialer) = match r.side {
                crate::merge::Side::Notion => (
                    r.before.clone(),
                    mapping.dialer_projection(&r.field, &r.before),
                ),
                crate::merge::Side::Dialer => {
                    (mapping.projection(&r.field, &r.before), r.before.clone())
                }
            };
            base.notion.insert(r.field.clone(), to_notion);
            base.dialer.insert(r.field.clone(), to_dialer);
        }
        crate::calllog::unmark_logged(&mut base.logged_calls, &self.calls_to_log);
        base
    }

    /// The base to save when Notion's writes went through but the dialer's
    /// did not (the contact changed since it was read): what Notion now
    /// holds and the calls now logged are kept, and every field the dialer
    /// was to take is recorded as if both sides had last agreed on the
    /// dialer's value as read, so the next run sees Notion's value as a
    /// change again and merges it with whatever the dialer holds by then.
    /// `dialer_read`: the contact's values as this run read them.
    /// `base`: the next base as the writes so far made it.
    pub fn base_without_dialer_write(
        &self,
        base: &Base,
        dialer_read: &FieldMap,
        mapping: &Mapping,
    ) -> Base {
        let mut base = base.clone();
        if let DialerWrite::Update { values, archived } = &self.dialer {
            for key in values.keys() {
                let d = dialer_read.get(key).cloned().unwrap_or(Value::Empty);
                base.notion.insert(key.clone(), mapping.projection(key, &d));
                base.dialer.insert(key.clone(), d);
            }
            match archived {
                Some(true) => base.status = RecordStatus::Active,
                Some(false) => base.status = RecordStatus::ArchivedInNotion,
                None => {}
            }
        }
        base
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Problem {
    pub contact_id: Option<ContactId>,
    pub page_id: Option<String>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// Records with something to do or to report, by Dialer ID.
    pub records: Vec<RecordPlan>,
    pub problems: Vec<Problem>,
    /// Set when the brake holds the plan: nothing may be applied.
    pub held: Option<String>,
    /// Records looked at that need nothing.
    pub unchanged: usize,
    /// The next free Dialer ID after this plan's new contacts.
    pub next_id: u64,
}

impl Plan {
    pub fn count(&self, pred: impl Fn(&RecordPlan) -> bool) -> usize {
        self.records.iter().filter(|r| pred(r)).count()
    }

    pub fn is_noop(&self) -> bool {
        self.records.iter().all(|r| !r.has_writes())
    }
}

/// Plans a sync run.
pub fn plan(input: PlanInput) -> Plan {
    Planner::new(&input).run()
}

/// The pages a run read, sorted out by [`Planner::sort_pages`].
struct Pages<'a> {
    live: Vec<&'a NotionRecord>,
    /// The page each record uses, by Dialer ID (or by its base's page).
    page_for: BTreeMap<ContactId, &'a NotionRecord>,
    /// Live pages no record claims: typed in Notion.
    unlinked: Vec<&'a NotionRecord>,
    trashed: BTreeMap<&'a str, &'a NotionRecord>,
}

struct Planner<'a> {
    input: &'a PlanInput<'a>,
    records: Vec<RecordPlan>,
    problems: Vec<Problem>,
    unchanged: usize,
    next_id: u64,
    taken_pages: BTreeSet<String>,
    taken_ids: BTreeSet<ContactId>,
}

impl<'a> Planner<'a> {
    fn new(input: &'a PlanInput<'a>) -> Self {
        Planner {
            input,
            records: Vec::new(),
            problems: Vec::new(),
            unchanged: 0,
            next_id: input.next_id.max(1),
            taken_pages: BTreeSet::new(),
            taken_ids: BTreeSet::new(),
        }
    }

    fn run(mut self) -> Plan {
        let pages = self.sort_pages();
        self.plan_contacts(&pages);
        self.plan_unread_contacts(&pages);
        self.plan_unseen_records(&pages);
        let held = self.brake();
        self.records.sort_by_key(|r| r.contact_id);
        Plan {
            records: self.records,
            problems: self.problems,
            held,
            unchanged: self.unchanged,
            next_id: self.next_id,
        }
    }

    /// The pages read, by what they belong to. Two live pages with one
    /// Dialer ID are reported, never merged silently: the one linked (else
    /// the first created) is used.
    fn sort_pages(&mut self) -> Pages<'a> {
        let input = self.input;
        let live: Vec<&NotionRecord> = input.pages.iter().filter(|p| !p.in_trash).collect();
        let page_of_base: BTreeMap<&str, ContactId> = input
            .bases
            .values()
            .filter_map(|b| b.page_id.as_deref().map(|p| (p, b.contact_id)))
            .collect();
        let mut by_id: BTreeMap<ContactId, Vec<&NotionRecord>> = BTreeMap::new();
        for p in &live {
            if let Some(bad) = &p.bad_dialer_id {
                self.problem(
                    None,
                    Some(&p.page_id),
                    format!("the page's Dialer ID is unusable ({bad}); fix or clear it in Notion"),
                );
                continue;
            }
            let id = p
                .dialer_id
                .or_else(|| page_of_base.get(p.page_id.as_str()).copied());
            if let Some(id) = id {
                by_id.entry(id).or_default().push(p);
            }
        }
        let mut page_for = BTreeMap::new();
        for (id, mut pages) in by_id {
            let linked = input.bases.get(&id).and_then(|b| b.page_id.clone());
            pages.sort_by_key(|p| {
                (
                    Some(&p.page_id) != linked.as_ref(),
                    p.created_time,
                    p.page_id.clone(),
                )
            });
            if pages.len() > 1 {
                let others: Vec<&str> = pages[1..].iter().map(|p| p.page_id.as_str()).collect();
                self.problem(
                    Some(id),
                    Some(&pages[0].page_id),
                    format!("Dialer ID {id} is on more than one page (also {}): the sync uses this one; merge or delete the others in Notion", others.join(", ")),
                );
                self.taken_pages
                    .extend(others.iter().map(|s| s.to_string()));
            }
            page_for.insert(id, pages[0]);
        }
        let unlinked = live
            .iter()
            .copied()
            .filter(|p| {
                p.bad_dialer_id.is_none()
                    && p.dialer_id.is_none()
                    && !page_of_base.contains_key(p.page_id.as_str())
            })
            .collect();
        let trashed = input
            .pages
            .iter()
            .filter(|p| p.in_trash)
            .map(|p| (p.page_id.as_str(), p))
            .collect();
        Pages {
            live,
            page_for,
            unlinked,
            trashed,
        }
    }

    /// The id an unfinished run handed to this typed page, while no contact
    /// and no record hold it: the contact it meant to make is made with it.
    /// (A contact that exists was offered the page it was made from first.)
    fn handed_out_id(&self, page: &NotionRecord) -> Option<ContactId> {
        let input = self.input;
        input.handed_out.get(&page.page_id).copied().filter(|id| {
            !input.all_contact_ids.contains(id)
                && !input.bases.contains_key(id)
                && !self.taken_ids.contains(id)
        })
    }

    /// 1. Every contact read in this run, with its page.
    fn plan_contacts(&mut self, pages: &Pages<'a>) {
        let input = self.input;
        let mut contacts: Vec<&ContactSnapshot> = input.contacts.iter().collect();
        contacts.sort_by_key(|c| c.contact.id);
        for snap in contacts {
            let id = snap.contact.id;
            if !self.taken_ids.insert(id) {
                self.problem(
                    Some(id),
                    None,
                    format!("two dialer contacts have the id {id}; only the first is synced"),
                );
                continue;
            }
            // A contact the dialer holds under the id of one it deleted (ids
            // reused, or the contact restored there) is synced afresh: the
            // deletion is undone by the dialer itself.
            let base = input
                .bases
                .get(&id)
                .filter(|b| !b.status.is_deleted_in_dialer());
            let (page, link) = match (pages.page_for.get(&id), base) {
                (Some(p), None) => (Some(*p), Some(Link::ByDialerId)),
                (Some(p), Some(_)) => (Some(*p), None),
                (None, None) => self.match_unlinked(&snap.contact, &pages.unlinked),
                (None, Some(_)) => (None, None),
            };
            if link == Some(Link::ByPhone) && !input.link_by_phone {
                self.problem(
                    Some(id),
                    page.map(|p| p.page_id.as_str()),
                    "a page typed in Notion has this contact's phone number: the next scheduled sync links them (or makes its page)".into(),
                );
                continue;
            }
            if let Some(p) = page {
                self.taken_pages.insert(p.page_id.clone());
            }
            self.plan_record(Some(snap), page, base, link, &pages.trashed);
        }
    }

    /// A contact new to the sync and a page typed in Notion: the page it was
    /// made from (its `notion.pageId`), else the one with its phone number.
    fn match_unlinked(
        &self,
        contact: &DialerContact,
        unlinked: &[&'a NotionRecord],
    ) -> (Option<&'a NotionRecord>, Option<Link>) {
        let by_page = contact.mirror_page_id().and_then(|id| {
            unlinked
                .iter()
                .copied()
                .find(|p| p.page_id == id && !self.taken_pages.contains(&p.page_id))
        });
        if by_page.is_some() {
            return (by_page, Some(Link::ByPageId));
        }
        let found = self.match_by_phone(contact, unlinked);
        (found, found.map(|_| Link::ByPhone))
    }

    /// 2. Pages whose contact was not read: unchanged in the dialer, new,
    /// or deleted there; and pages typed in Notion no contact took.
    fn plan_unread_contacts(&mut self, pages: &Pages<'a>) {
        let input = self.input;
        for (id, page) in &pages.page_for {
            if self.taken_ids.contains(id) || self.taken_pages.contains(&page.page_id) {
                continue;
            }
            self.taken_pages.insert(page.page_id.clone());
            self.taken_ids.insert(*id);
            let base = input.bases.get(id);
            let exists = input.all_contact_ids.contains(id);
            match base {
                // Its page, archived for the delete, was restored from Notion's
                // trash by a person: the delete waits for a choice again.
                Some(b) if !exists && b.status == RecordStatus::DeletedInDialer => {
                    self.plan_dialer_delete(b, Some(page))
                }
                Some(b) if b.status.is_deleted_in_dialer() => {
                    self.unchanged += 1;
                }
                Some(b) if !exists && b.status == RecordStatus::RestoreFromNotion => {
                    self.plan_new_contact(page, Some(*id))
                }
                Some(b) if !exists => self.plan_dialer_delete(b, Some(page)),
                Some(b) => self.plan_record(None, Some(page), Some(b), None, &pages.trashed),
                None if exists => self.problem(
                    Some(*id),
                    Some(&page.page_id),
                    format!("contact {id} exists in the dialer but was not read in this run; the next full sync links it"),
                ),
                None => self.plan_new_contact(page, Some(*id)),
            }
        }
        for page in &pages.unlinked {
            if self.taken_pages.contains(&page.page_id) || !input.contacts_from_typed_pages {
                continue;
            }
            self.taken_pages.insert(page.page_id.clone());
            self.plan_new_contact(page, self.handed_out_id(page));
        }
    }

    /// 3. Bases whose record was not seen on either side in this run.
    fn plan_unseen_records(&mut self, pages: &Pages<'a>) {
        let input = self.input;
        for (id, base) in &input.bases {
            if self.taken_ids.contains(id) {
                continue;
            }
            self.taken_ids.insert(*id);
            let exists = input.all_contact_ids.contains(id);
            let page_gone = base.page_id.as_deref().is_some_and(|p| {
                pages.trashed.contains_key(p)
                    || (input.full_scan && !pages.live.iter().any(|l| l.page_id == p))
            });
            match base.status {
                status if status.is_deleted_in_dialer() => self.unchanged += 1,
                // Waits for its page to be read (the restore run reads it at once).
                RecordStatus::RestoreFromNotion => self.unchanged += 1,
                _ if !exists => self.plan_dialer_delete(base, None),
                RecordStatus::Active if page_gone => self.plan_notion_trash(base),
                _ => self.unchanged += 1,
            }
        }
    }

    fn problem(&mut self, contact_id: Option<ContactId>, page_id: Option<&str>, message: String) {
        self.problems.push(Problem {
            contact_id,
            page_id: page_id.map(str::to_string),
            message,
        });
    }

    fn match_by_phone<'p>(
        &self,
        contact: &DialerContact,
        unlinked: &[&'p NotionRecord],
    ) -> Option<&'p NotionRecord> {
        let region = self.input.config.phone_region;
        let key = phone::match_key(contact.phone()?, region)?;
        let mut found = unlinked.iter().filter(|p| {
            !self.taken_pages.contains(&p.page_id)
                && p.values
                    .get("phone")
                    .and_then(Value::as_text)
                    .and_then(|s| phone::match_key(s, region))
                    .as_deref()
                    == Some(key.as_str())
        });
        let first = found.next()?;
        // Two pages with the same phone: ambiguous, so no match (a new page is safer than a wrong merge).
        if found.next().is_some() {
            return None;
        }
        Some(first)
    }

    /// A record seen on at least one side, with its base if it has one.
    fn plan_record(
        &mut self,
        snap: Option<&ContactSnapshot>,
        page: Option<&NotionRecord>,
        base: Option<&Base>,
        link: Option<Link>,
        trashed: &BTreeMap<&str, &NotionRecord>,
    ) {
        let Some(id) = snap.map(|s| s.contact.id).or(base.map(|b| b.contact_id)) else {
            return;
        };
        let page_id = page
            .map(|p| p.page_id.clone())
            .or_else(|| base.and_then(|b| b.page_id.clone()));
        let status = base.map(|b| b.status).unwrap_or_default();

        if status.is_deleted_in_dialer() {
            self.unchanged += 1;
            return;
        }
        // The page went to Notion's trash: keep the contact, mark it archived.
        if let Some(p) = page_id.as_deref().and_then(|p| trashed.get(p)) {
            match base {
                Some(b) if status == RecordStatus::Active => self.plan_notion_trash(b),
                Some(_) => self.unchanged += 1,
                None => self.problem(
                    Some(id),
                    Some(&p.page_id),
                    "the contact's page is in Notion's trash; restore it there to sync".into(),
                ),
            }
            return;
        }
        let Some(snap) = snap else {
            // Only the page changed; the dialer side is its base.
            let (Some(page), Some(base)) = (page, base) else {
                return;
            };
            let restored = status == RecordStatus::ArchivedInNotion;
            self.merge_record(
                id,
                None,
                &base.dialer.clone(),
                None,
                page,
                Some(base),
                link,
                restored,
            );
            return;
        };
        match (page, base) {
            (Some(page), _) => {
                let restored = status == RecordStatus::ArchivedInNotion;
                self.merge_record(
                    id,
                    Some(snap),
                    &snap.contact.values,
                    snap.edited_at,
                    page,
                    base,
                    link,
                    restored,
                )
            }
            (None, Some(base)) if base.page_id.is_some() => {
                if status == RecordStatus::ArchivedInNotion {
                    // The dialer saved the contact over the sync's mark (its
                    // own read, edit, save): it is marked again.
                    if snap.contact.is_archived_in_notion() {
                        self.unchanged += 1;
                    } else {
                        self.plan_notion_trash(base);
                    }
                    return;
                }
                // Notion unchanged since the last sync: its side is the base.
                let stand_in = NotionRecord {
                    page_id: base.page_id.clone().unwrap_or_default(),
                    url: None,
                    dialer_id: Some(id),
                    bad_dialer_id: None,
                    values: base.notion.clone(),
                    created_time: base.synced_at,
                    last_edited_time: DateTime::<Utc>::MIN_UTC,
                    in_trash: false,
                };
                self.merge_record(
                    id,
                    Some(snap),
                    &snap.contact.values,
                    snap.edited_at,
                    &stand_in,
                    Some(base),
                    None,
                    false,
                )
            }
            (None, _) => self.plan_new_page(snap),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn merge_record(
        &mut self,
        id: ContactId,
        snap: Option<&ContactSnapshot>,
        dialer: &FieldMap,
        dialer_edited_at: Option<DateTime<Utc>>,
        page: &NotionRecord,
        base: Option<&Base>,
        link: Option<Link>,
        restored: bool,
    ) {
        let input = self.input;
        // A page back from Notion's trash is merged afresh: its record's
        // conflicts were filed when it was parked, so a difference the base
        // hides (each side's own value kept while a conflict was open) is a
        // conflict again, or the policy's, never a silent divergence.
        let merge_base = if restored { None } else { base };
        let merged = merge_fields(
            &MergeInput {
                base: merge_base,
                dialer,
                dialer_edited_at,
                notion: &page.values,
                notion_edited_at: page.last_edited_time,
            },
            input.mapping,
            input.config.contact_policy,
        );
        let mut logged = base.map(|b| b.logged_calls.clone()).unwrap_or_default();
        let calls = snap
            .map(|s| to_log(&s.contact.calls, &logged))
            .unwrap_or_default();
        if let Some(s) = snap {
            mark_logged(&mut logged, &s.contact.calls);
        }
        // Fields the database cannot hold right now (a property missing or of
        // the wrong type) keep their last synced values in the base, so an edit
        // made meanwhile is still seen as an edit once the property is fixed.
        let keep = |old: Option<&FieldMap>, merged: &FieldMap| -> FieldMap {
            let mut next = old.cloned().unwrap_or_default();
            next.extend(merged.iter().map(|(k, v)| (k.clone(), v.clone())));
            next
        };
        let mut base_notion = keep(base.map(|b| &b.notion), &merged.base_notion);
        let mut base_dialer = keep(base.map(|b| &b.dialer), &merged.base_dialer);
        let mut to_dialer = merged.to_dialer.clone();
        let set_dialer_id = page.dialer_id != Some(id);
        let (calls_to_log, notes) =
            self.route_calls(calls, &mut base_notion, &mut base_dialer, &mut to_dialer);

        let notion = if merged.to_notion.is_empty() && !set_dialer_id && notes.is_none() {
            NotionWrite::None
        } else {
            NotionWrite::Update {
                values: merged.to_notion.clone(),
                set_dialer_id,
                notes,
            }
        };
        // The contact's `notion.pageId` is how the dialer finds its page (and
        // how a contact made from a page is linked again): kept right.
        let mirror_stale =
            snap.is_some_and(|s| s.contact.mirror_page_id() != Some(page.page_id.as_str()));
        let dialer_write = if to_dialer.is_empty() && !restored && !mirror_stale {
            DialerWrite::None
        } else {
            DialerWrite::Update {
                values: to_dialer,
                archived: restored.then_some(false),
            }
        };
        let mut record = RecordPlan {
            contact_id: id,
            company_name: dialer
                .get("companyName")
                .or(page.values.get("companyName"))
                .and_then(Value::as_text)
                .unwrap_or("")
                .to_string(),
            page_id: Some(page.page_id.clone()),
            link,
            notion,
            dialer: dialer_write,
            calls_to_log,
            conflicts: merged.conflicts,
            lost: merged.lost,
            replaced: Vec::new(),
            base: Base {
                contact_id: id,
                page_id: Some(page.page_id.clone()),
                dialer: base_dialer,
                notion: base_notion,
                logged_calls: logged,
                status: RecordStatus::Active,
                synced_at: input.now,
            },
        };
        record.replaced = replaced(&record, &page.values, dialer);
        self.push(record, base);
    }

    /// Call notes go to the page body (appended blocks) or to the end of the
    /// Notes property; either way nothing already there is replaced.
    fn route_calls(
        &self,
        calls: Vec<LogEntry>,
        base_notion: &mut FieldMap,
        base_dialer: &mut FieldMap,
        to_dialer: &mut FieldMap,
    ) -> (Vec<LogEntry>, Option<String>) {
        let has_notes = self.input.mapping.field("notes").is_some();
        if calls.is_empty()
            || self.input.config.call_notes == CallNotesTarget::PageBody
            || !has_notes
        {
            return (calls, None);
        }
        let existing = base_notion
            .get("notes")
            .and_then(Value::as_text)
            .unwrap_or("")
            .to_string();
        let text = crate::calllog::notes_text(&existing, &calls, self.input.mapping.zone);
        base_notion.insert("notes".into(), Value::text(text.clone()));
        base_dialer.insert("notes".into(), Value::text(text.clone()));
        to_dialer.insert("notes".into(), Value::text(text.clone()));
        (Vec::new(), Some(text))
    }

    /// Records with writes or something to report are kept; the rest counted.
    fn push(&mut self, record: RecordPlan, old_base: Option<&Base>) {
        let base_moved = old_base.is_none_or(|b| {
            b.dialer != record.base.dialer
                || b.notion != record.base.notion
                || b.page_id != record.base.page_id
                || b.status != record.base.status
        });
        if record.has_writes()
            || !record.conflicts.is_empty()
            || !record.lost.is_empty()
            || base_moved
        {
            self.records.push(record);
        } else {
            self.unchanged += 1;
        }
    }

    /// A contact Notion has never seen: create its page.
    fn plan_new_page(&mut self, snap: &ContactSnapshot) {
        let input = self.input;
        let c = &snap.contact;
        let mut values = FieldMap::new();
        let mut base_notion = FieldMap::new();
        for f in &input.mapping.fields {
            let v = c.values.get(f.spec.key).cloned().unwrap_or(Value::Empty);
            match f.spec.strategy {
                Strategy::DialerOwned | Strategy::ContactInfo => {
                    if !v.is_empty() {
                        values.insert(f.spec.key.into(), v.clone());
                    }
                    base_notion.insert(f.spec.key.into(), input.mapping.projection(f.spec.key, &v));
                }
                Strategy::NotionOwned => {
                    base_notion.insert(f.spec.key.into(), Value::Empty);
                }
                Strategy::Key | Strategy::CreatedTime => {}
            }
        }
        let mut base_dialer: FieldMap = input
            .mapping
            .fields
            .iter()
            .filter(|f| !matches!(f.spec.strategy, Strategy::Key | Strategy::CreatedTime))
            .map(|f| {
                (
                    f.spec.key.to_string(),
                    c.values.get(f.spec.key).cloned().unwrap_or(Value::Empty),
                )
            })
            .collect();
        let mut to_dialer = FieldMap::new();
        let (calls_to_log, notes) = self.route_calls(
            to_log(&c.calls, &BTreeSet::new()),
            &mut base_notion,
            &mut base_dialer,
            &mut to_dialer,
        );
        let notion = NotionWrite::Create { values, notes };
        let record = RecordPlan {
            contact_id: c.id,
            company_name: c.company_name().to_string(),
            page_id: None,
            link: Some(Link::NewPage),
            notion,
            dialer: if to_dialer.is_empty() {
                DialerWrite::None
            } else {
                DialerWrite::Update {
                    values: to_dialer,
                    archived: None,
                }
            },
            calls_to_log,
            conflicts: Vec::new(),
            lost: Vec::new(),
            replaced: Vec::new(),
            base: Base {
                contact_id: c.id,
                page_id: None,
                dialer: base_dialer,
                notion: base_notion,
                logged_calls: {
                    let mut logged = BTreeSet::new();
                    mark_logged(&mut logged, &c.calls);
                    logged
                },
                status: RecordStatus::Active,
                synced_at: input.now,
            },
        };
        self.records.push(record);
    }

    /// A page the dialer has never seen: create the contact.
    fn plan_new_contact(&mut self, page: &NotionRecord, id: Option<ContactId>) {
        let input = self.input;
        let id = match id {
            Some(id) => id,
            None => match self.allocate_id() {
                Some(id) => id,
                None => {
                    self.problem(
                        None,
                        Some(&page.page_id),
                        "no Dialer ID left to hand out".into(),
                    );
                    return;
                }
            },
        };
        self.taken_ids.insert(id);
        let mut values = FieldMap::new();
        let mut base_dialer = FieldMap::new();
        for f in &input.mapping.fields {
            let key = f.spec.key;
            let n = page.values.get(key).cloned().unwrap_or(Value::Empty);
            // Everything is copied, call data included: the page's latest-call
            // fields (Outcome, Duration, ...) become the contact's one call,
            // so a later edit in the dialer never empties them in Notion.
            let writes = matches!(
                f.spec.strategy,
                Strategy::ContactInfo | Strategy::NotionOwned | Strategy::DialerOwned
            );
            if matches!(f.spec.strategy, Strategy::Key | Strategy::CreatedTime) {
                continue;
            }
            if writes && !n.is_empty() {
                values.insert(key.into(), n.clone());
                base_dialer.insert(
                    key.into(),
                    dialer_projection(f.spec.kind, &n, input.mapping.zone),
                );
            } else {
                base_dialer.insert(key.into(), Value::Empty);
            }
        }
        values.insert(
            "createdAt".into(),
            Value::Date(DateValue::Instant(page.created_time)),
        );
        // The imported call is the dialer's now, and already in Notion.
        let mut logged_calls = BTreeSet::new();
        let imports_a_call = input.mapping.fields.iter().any(|f| {
            matches!(f.spec.dialer, DialerPath::LatestCall(_)) && values.contains_key(f.spec.key)
        });
        if imports_a_call {
            mark_imported(
                &mut logged_calls,
                &format!("id:{}", imported_call_id(&page.page_id)),
            );
        }
        let record = RecordPlan {
            contact_id: id,
            company_name: page
                .values
                .get("companyName")
                .and_then(Value::as_text)
                .unwrap_or("")
                .to_string(),
            page_id: Some(page.page_id.clone()),
            link: Some(Link::NewContact),
            notion: if page.dialer_id == Some(id) {
                NotionWrite::None
            } else {
                NotionWrite::Update {
                    values: FieldMap::new(),
                    set_dialer_id: true,
                    notes: None,
                }
            },
            dialer: DialerWrite::Create { values },
            calls_to_log: Vec::new(),
            conflicts: Vec::new(),
            lost: Vec::new(),
            replaced: Vec::new(),
            base: Base {
                contact_id: id,
                page_id: Some(page.page_id.clone()),
                dialer: base_dialer,
                notion: page.values.clone(),
                logged_calls,
                status: RecordStatus::Active,
                synced_at: input.now,
            },
        };
        self.records.push(record);
    }

    fn allocate_id(&mut self) -> Option<ContactId> {
        loop {
            let id = ContactId::new(self.next_id).ok()?;
            self.next_id += 1;
            if !self.input.all_contact_ids.contains(&id)
                && !self.input.bases.contains_key(&id)
                && !self.taken_ids.contains(&id)
                && !self.input.handed_out.values().any(|h| *h == id)
            {
                return Some(id);
            }
        }
    }

    /// The contact is gone from the dialer: archive its page. If a person
    /// edited the page since the last sync, archive nothing: the edits are
    /// offered as a conflict (keep the dialer's delete, or Notion's page).
    fn plan_dialer_delete(&mut self, base: &Base, page: Option<&NotionRecord>) {
        let edits: Vec<FieldConflict> = match page.filter(|p| !p.in_trash) {
            None => Vec::new(),
            Some(p) => base
                .notion
                .iter()
                .filter_map(|(k, before)| {
                    let now = p.values.get(k).unwrap_or(&Value::Empty);
                    (now != before).then(|| FieldConflict {
                        field: k.clone(),
                        base: base.dialer.get(k).cloned(),
                        dialer: base.dialer.get(k).cloned().unwrap_or(Value::Empty),
                        notion: now.clone(),
                        dialer_edited_at: None,
                        notion_edited_at: p.last_edited_time,
                        applied: None,
                        reason: "deleted in the dialer, edited in Notion since the last sync"
                            .into(),
                    })
                })
                .collect(),
        };
        let live = page.filter(|p| !p.in_trash);
        let mut edits = edits;
        if let (Some(p), true, true) = (
            live,
            edits.is_empty(),
            base.status == RecordStatus::DeletedInDialer,
        ) {
            let name = |side: &FieldMap| side.get("companyName").cloned().unwrap_or(Value::Empty);
            edits.push(FieldConflict {
                field: "companyName".into(),
                base: Some(name(&base.dialer)),
                dialer: name(&base.dialer),
                notion: p.values.get("companyName").cloned().unwrap_or(Value::Empty),
                dialer_edited_at: None,
                notion_edited_at: p.last_edited_time,
                applied: None,
                reason: "deleted in the dialer; its page was restored from Notion's trash since"
                    .into(),
            });
        }
        let edited = !edits.is_empty();
        let mut next = base.clone();
        next.status = if edited {
            RecordStatus::DeletedInDialerEditedInNotion
        } else {
            RecordStatus::DeletedInDialer
        };
        next.synced_at = self.input.now;
        if edited {
            self.problem(
                Some(base.contact_id),
                base.page_id.as_deref(),
                "deleted in the dialer but edited in Notion since the last sync: the page is kept until you choose in the conflict console (keep the dialer's delete to archive it, or keep Notion's to restore the contact)".into(),
            );
        }
        let archived_already =
            page.is_some_and(|p| p.in_trash) || base.status == RecordStatus::ArchivedInNotion;
        self.records.push(RecordPlan {
            contact_id: base.contact_id,
            company_name: base
                .dialer
                .get("companyName")
                .and_then(Value::as_text)
                .unwrap_or("")
                .to_string(),
            page_id: base.page_id.clone(),
            link: None,
            notion: if edited || archived_already || base.page_id.is_none() {
                NotionWrite::None
            } else {
                NotionWrite::Trash
            },
            dialer: DialerWrite::None,
            calls_to_log: Vec::new(),
            conflicts: edits,
            lost: Vec::new(),
            replaced: Vec::new(),
            base: next,
        });
    }

    /// The page is in Notion's trash: the contact is kept, marked archived.
    fn plan_notion_trash(&mut self, base: &Base) {
        let mut next = base.clone();
        next.status = RecordStatus::ArchivedInNotion;
        next.synced_at = self.input.now;
        self.records.push(RecordPlan {
            contact_id: base.contact_id,
            company_name: base
                .dialer
                .get("companyName")
                .and_then(Value::as_text)
                .unwrap_or("")
                .to_string(),
            page_id: base.page_id.clone(),
            link: None,
            notion: NotionWrite::None,
            dialer: DialerWrite::Update {
                values: FieldMap::new(),
                archived: Some(true),
            },
            calls_to_log: Vec::new(),
            conflicts: Vec::new(),
            lost: Vec::new(),
            replaced: Vec::new(),
            base: next,
        });
    }

    /// Holds the plan when it would create or archive too much at once.
    fn brake(&self) -> Option<String> {
        if self.input.initial {
            return None;
        }
        let known = self.input.all_contact_ids.len().max(self.input.bases.len());
        let creates = self
            .records
            .iter()
            .filter(|r| {
                matches!(r.notion, NotionWrite::Create { .. })
                    || matches!(r.dialer, DialerWrite::Create { .. })
            })
            .count();
        let archives = self
            .records
            .iter()
            .filter(|r| r.notion == NotionWrite::Trash || r.marks_archived())
            .count();
        brake_hold(&self.input.config.brake, creates, archives, known)
    }
}

/// The mass-change brake: why a run that would create or archive `creates`
/// or `archives` of `known` records is held for a person, if it is.
pub fn brake_hold(
    brake: &crate::config::Brake,
    creates: usize,
    archives: usize,
    known: usize,
) -> Option<String> {
    let known = known.max(1);
    let limit = brake.max_share * known as f64;
    for (count, what) in [(creates, "create"), (archives, "archive")] {
        if count >= brake.min_records && count as f64 > limit {
            return Some(format!(
                "held: this run would {what} {count} of {known} records (more than {:.0}%). Check both sides, then run again with force to apply",
                brake.max_share * 100.0
            ));
        }
    }
    None
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |p: &dyn Fn(&RecordPlan) -> bool| self.count(p);
        writeln!(
            f,
            "Plan: {} to create in Notion, {} to update in Notion, {} to create in the dialer, {} to update in the dialer, {} to archive in Notion, {} marked archived in the dialer, {} conflicts, {} unchanged.",
            count(&|r| matches!(r.notion, NotionWrite::Create { .. })),
            count(&|r| matches!(r.notion, NotionWrite::Update { .. })),
            count(&|r| matches!(r.dialer, DialerWrite::Create { .. })),
            count(&|r| matches!(r.dialer, DialerWrite::Update { .. })),
            count(&|r| r.notion == NotionWrite::Trash),
            count(&|r| r.marks_archived()),
            self.records.iter().map(|r| r.conflicts.len()).sum::<usize>(),
            self.unchanged,
        )?;
        if let Some(held) = &self.held {
            writeln!(f, "  !! {held}")?;
        }
        for r in &self.records {
            let name = if r.company_name.is_empty() {
                "(no name)"
            } else {
                &r.company_name
            };
            let head = format!("#{} {name}", r.contact_id);
            match &r.notion {
                NotionWrite::Create { values, .. } => {
                    writeln!(f, "  + Notion  {head}: new page ({} fields)", values.len())?
                }
                NotionWrite::Update {
                    values,
                    set_dialer_id,
                    notes,
                } => {
                    let mut parts: Vec<String> = values
                        .iter()
                        .map(|(k, v)| format!("{k} -> {}", v.display()))
                        .collect();
                    if *set_dialer_id {
                        parts.push(format!("Dialer ID -> {}", r.contact_id));
                    }
                    if notes.is_some() {
                        parts.push("call notes appended to Notes".into());
                    }
                    writeln!(f, "  ~ Notion  {head}: {}", parts.join("; "))?
                }
                NotionWrite::Trash => writeln!(
                    f,
                    "  x Notion  {head}: archive the page (deleted in the dialer)"
                )?,
                NotionWrite::None => {}
            }
            match &r.dialer {
                DialerWrite::Create { values } => writeln!(
                    f,
                    "  + Dialer  {head}: new contact from Notion ({} fields)",
                    values.len()
                )?,
                DialerWrite::Update { values, archived } => {
                    let mut parts: Vec<String> = values
                        .iter()
                        .map(|(k, v)| format!("{k} -> {}", v.display()))
                        .collect();
                    match archived {
                        Some(true) => {
                            parts.push("marked archived (the page is in Notion's trash)".into())
                        }
                        Some(false) => parts
                            .push("archived mark removed (the page was restored in Notion)".into()),
                        None => {}
                    }
                    writeln!(f, "  ~ Dialer  {head}: {}", parts.join("; "))?
                }
                DialerWrite::None => {}
            }
            if !r.calls_to_log.is_empty() {
                writeln!(
                    f,
                    "  + Log     {head}: {} call(s) appended to the page",
                    r.calls_to_log.len()
                )?;
            }
            if let Some(Link::ByPhone) = r.link {
                writeln!(f, "  = Link    {head}: matched by phone number")?;
            }
            for c in &r.conflicts {
                let outcome = match c.applied {
                    Some(crate::merge::Side::Dialer) => format!(
                        "keeping the dialer's ({}); Notion's value is kept in the conflict",
                        c.reason
                    ),
                    Some(crate::merge::Side::Notion) => format!(
                        "keeping Notion's ({}); the dialer's value is kept in the conflict",
                        c.reason
                    ),
                    None => "waiting for you to choose".into(),
                };
                writeln!(
                    f,
                    "  ! Conflict {head}: {}: Notion {} vs dialer {}: {outcome}",
                    c.field,
                    c.notion.display(),
                    c.dialer.display()
                )?;
            }
        }
        for p in &self.problems {
            let who = match (&p.contact_id, &p.page_id) {
                (Some(id), _) => format!("#{id}"),
                (None, Some(page)) => format!("page {page}"),
                (None, None) => String::new(),
            };
            writeln!(f, "  ? Problem {who}: {}", p.message)?;
        }
        Ok(())
    }
}
