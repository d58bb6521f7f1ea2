//! A tiny in-memory world for planning tests: dialer contacts as JSON,
//! Notion pages as field maps, bases, and an `apply` that does what the
//! engine does with a plan (without I/O), so tests can plan, apply and plan
//! again.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Map, Value as Json};
use sync_core::contact::write_fields;
use sync_core::*;

pub fn t(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 15, 14, 0, 0).unwrap() + Duration::minutes(minute)
}

pub fn mapping(config: &SyncConfig) -> Mapping {
    Mapping::resolve(&Schema::for_field_table(), config).0
}

#[derive(Clone, Debug)]
pub struct Page {
    pub id: String,
    pub dialer_id: Option<ContactId>,
    pub values: FieldMap,
    pub edited: DateTime<Utc>,
    pub created: DateTime<Utc>,
    pub in_trash: bool,
    pub body: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct World {
    pub config: SyncConfig,
    pub contacts: BTreeMap<ContactId, (Json, Option<DateTime<Utc>>)>,
    pub pages: Vec<Page>,
    pub bases: BTreeMap<ContactId, Base>,
    pub next_id: u64,
    pub now: DateTime<Utc>,
    pub page_counter: usize,
    /// Ids an unfinished run handed to typed pages (`PlanInput::handed_out`).
    pub handed_out: BTreeMap<String, ContactId>,
}

impl World {
    pub fn new(config: SyncConfig) -> World {
        World {
            config,
            contacts: BTreeMap::new(),
            pages: Vec::new(),
            bases: BTreeMap::new(),
            next_id: 1,
            now: t(0),
            page_counter: 0,
            handed_out: BTreeMap::new(),
        }
    }

    pub fn id(n: u64) -> ContactId {
        ContactId::new(n).unwrap()
    }

    pub fn add_contact(&mut self, contact: Json) -> ContactId {
        let parsed = DialerContact::parse(&contact, "k", self.config.time_zone).unwrap();
        self.next_id = self.next_id.max(parsed.id.get() + 1);
        self.contacts.insert(parsed.id, (contact, Some(self.now)));
        parsed.id
    }

    pub fn edit_contact(
        &mut self,
        id: ContactId,
        at: DateTime<Utc>,
        edit: impl FnOnce(&mut Map<String, Json>),
    ) {
        let entry = self.contacts.get_mut(&id).unwrap();
        edit(entry.0.as_object_mut().unwrap());
        entry.1 = Some(at);
    }

    pub fn add_page(
        &mut self,
        dialer_id: Option<u64>,
        values: FieldMap,
        at: DateTime<Utc>,
    ) -> String {
        self.page_counter += 1;
        let id = format!("page-{}", self.page_counter);
        let m = mapping(&self.config);
        let values = m
            .fields
            .iter()
            .filter(|f| f.spec.key != "id" && f.spec.key != "createdAt")
            .map(|f| {
                (
                    f.spec.key.to_string(),
                    values.get(f.spec.key).cloned().unwrap_or(Value::Empty),
                )
            })
            .map(|(k, v)| {
                let p = m.projection(&k, &v);
                (k, p)
            })
            .collect();
        self.pages.push(Page {
            id: id.clone(),
            dialer_id: dialer_id.map(World::id),
            values,
            edited: at,
            created: at,
            in_trash: false,
            body: Vec::new(),
        });
        id
    }

    pub fn page(&self, id: &str) -> &Page {
        self.pages.iter().find(|p| p.id == id).unwrap()
    }

    pub fn page_of(&self, contact: ContactId) -> Option<&Page> {
        self.pages.iter().find(|p| p.dialer_id == Some(contact))
    }

    pub fn edit_page(&mut self, id: &str, at: DateTime<Utc>, key: &str, value: Value) {
        let m = mapping(&self.config);
        let p = self.pages.iter_mut().find(|p| p.id == id).unwrap();
        p.values.insert(key.into(), m.projection(key, &value));
        p.edited = t_floor(at);
    }

    pub fn contact(&self, id: ContactId) -> DialerContact {
        DialerContact::parse(&self.contacts[&id].0, "k", self.config.time_zone).unwrap()
    }

    /// Everything, read in full (a full scan on both sides).
    pub fn plan(&self) -> Plan {
        self.plan_with(|c| c)
    }

    pub fn plan_with(
        &self,
        shuffle: impl Fn(Vec<ContactSnapshot>) -> Vec<ContactSnapshot>,
    ) -> Plan {
        let m = mapping(&self.config);
        let contacts = self
            .contacts
            .values()
            .map(|(json, at)| ContactSnapshot {
                contact: DialerContact::parse(json, "k", self.config.time_zone).unwrap(),
                edited_at: *at,
            })
            .collect();
        let pages = self
            .pages
            .iter()
            .map(|p| NotionRecord {
                page_id: p.id.clone(),
                url: None,
                dialer_id: p.dialer_id,
                bad_dialer_id: None,
                values: p.values.clone(),
                created_time: p.created,
                last_edited_time: p.edited,
                in_trash: p.in_trash,
            })
            .collect();
        plan(PlanInput {
            mapping: &m,
            config: &self.config,
            now: self.now,
            contacts: shuffle(contacts),
            all_contact_ids: self.contacts.keys().copied().collect(),
            pages,
            full_scan: true,
            bases: self.bases.clone(),
            next_id: self.next_id,
            initial: self.bases.is_empty(),
            link_by_phone: true,
            contacts_from_typed_pages: true,
            handed_out: self.handed_out.clone(),
        })
    }

    /// Does what the engine does with a plan.
    pub fn apply(&mut self, plan: &Plan) {
        assert!(plan.held.is_none(), "plan held: {:?}", plan.held);
        let m = mapping(&self.config);
        for r in &plan.records {
            let mut base = r.base.clone();
            let mut page_id = r.page_id.clone();
            match &r.notion {
                NotionWrite::Create { values, notes } => {
                    let mut values = values.clone();
                    if let Some(n) = notes {
                        values.insert("notes".into(), Value::text(n.clone()));
                    }
                    let id = self.add_page(Some(r.contact_id.get()), values, self.now);
                    base.page_id = Some(id.clone());
                    page_id = Some(id);
                }
                NotionWrite::Update {
                    values,
                    set_dialer_id,
                    notes,
                } => {
                    let pid = page_id.clone().unwrap();
                    for (k, v) in values {
                        self.edit_page(&pid, self.now, k, v.clone());
                    }
                    if let Some(n) = notes {
                        self.edit_page(&pid, self.now, "notes", Value::text(n.clone()));
                    }
                    let p = self.pages.iter_mut().find(|p| p.id == pid).unwrap();
                    if *set_dialer_id {
                        p.dialer_id = Some(r.contact_id);
                    }
                    p.edited = t_floor(self.now);
                }
                NotionWrite::Trash => {
                    let pid = page_id.clone().unwrap();
                    self.pages
                        .iter_mut()
                        .find(|p| p.id == pid)
                        .unwrap()
                        .in_trash = true;
                }
                NotionWrite::None => {}
            }
            for call in &r.calls_to_log {
                let pid = page_id.clone().unwrap();
                self.pages
                    .iter_mut()
                    .find(|p| p.id == pid)
                    .unwrap()
                    .body
                    .push(call.identity());
            }
            match &r.dialer {
                DialerWrite::Create { values } => {
                    let mut raw = Map::new();
                    raw.insert("id".into(), json!(r.contact_id.to_string()));
                    write_fields(&mut raw, values);
                    let page = page_id.as_deref().unwrap_or("");
                    contact::add_imported_call(&mut raw, values, &contact::imported_call_id(page));
                    contact::write_mirror_meta(&mut raw, page, None, false);
                    self.contacts
                        .insert(r.contact_id, (Json::Object(raw), None));
                    self.next_id = self.next_id.max(r.contact_id.get() + 1);
                }
                DialerWrite::Update { values, archived } => {
                    let entry = self.contacts.get_mut(&r.contact_id).unwrap();
                    let raw = entry.0.as_object_mut().unwrap();
                    write_fields(raw, values);
                    // As the engine: every dialer write refreshes the mirror.
                    let a = archived.unwrap_or(false);
                    contact::write_mirror_meta(raw, page_id.as_deref().unwrap_or(""), None, a);
                }
                DialerWrite::None if matches!(r.notion, NotionWrite::Create { .. }) => {
                    let entry = self.contacts.get_mut(&r.contact_id).unwrap();
                    let raw = entry.0.as_object_mut().unwrap();
                    contact::write_mirror_meta(raw, page_id.as_deref().unwrap_or(""), None, false);
                }
                DialerWrite::None => {}
            }
            let _ = &m;
            self.bases.insert(r.contact_id, base);
        }
        self.next_id = self.next_id.max(plan.next_id);
    }

    pub fn sync(&mut self) -> Plan {
        let p = self.plan();
        self.apply(&p);
        p
    }

    pub fn logged_calls(&self, page: &str) -> Vec<String> {
        self.page(page).body.clone()
    }
}

pub fn t_floor(at: DateTime<Utc>) -> DateTime<Utc> {
    sync_core::time::floor_to_minute(at)
}

pub fn values(pairs: &[(&str, Value)]) -> FieldMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub fn ids(plan: &Plan) -> BTreeSet<ContactId> {
    plan.records.iter().map(|r| r.contact_id).collect()
}
