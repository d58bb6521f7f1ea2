//! What people do: a salesperson in the dialer (contacts as JSON blobs,
//! saved whole, as the dialer's front end saves them) and a teammate in
//! Notion. Everything they do is logged, so the oracle can tell their
//! changes from the sync's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{Duration, SecondsFormat};
use netlify_blobs::{SetOptions, Store};
use notion_emulator::EmulatorControl;
use serde_json::{json, Map, Value as Json};
use sync_engine::clock::Clock;

use super::steps::{CallShape, InfoField, OwnField, Phone};

/// One thing a person did, as the oracle needs to know it.
#[derive(Clone, Debug)]
pub enum Did {
    /// A contact saved (`Some`, the whole object) or deleted (`None`).
    Dialer {
        key: String,
        after: Option<Json>,
    },
    /// Properties of a page set by hand (write shape).
    Notion {
        page: String,
        properties: Json,
    },
    /// A page typed into Notion.
    Typed {
        page: String,
    },
    Trashed {
        page: String,
    },
    Restored {
        page: String,
    },
    /// A deletion conflict resolved by keeping Notion: the contact may come back.
    KeptNotionAfterDelete {
        key: String,
    },
}

#[derive(Clone)]
pub struct Person {
    pub contacts: Store,
    pub notion: EmulatorControl,
    pub clock: Clock,
    pub log: Arc<Mutex<Vec<Did>>>,
    /// The page a person changed last in Notion: what a webhook names.
    pub last_page: Arc<Mutex<Option<String>>>,
    tokens: Arc<AtomicU64>,
    next_id: Arc<AtomicU64>,
}

fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn rich(text: &str) -> Json {
    json!([{"type": "text", "text": {"content": text}}])
}

impl Person {
    pub fn new(contacts: Store, notion: EmulatorControl, clock: Clock) -> Person {
        Person {
            contacts,
            notion,
            clock,
            log: Arc::default(),
            last_page: Arc::default(),
            tokens: Arc::new(AtomicU64::new(1)),
            next_id: Arc::new(AtomicU64::new(1001)),
        }
    }

    fn token(&self) -> u64 {
        self.tokens.fetch_add(1, Ordering::SeqCst)
    }

    fn did(&self, did: Did) {
        if let Did::Notion { page, .. }
        | Did::Typed { page }
        | Did::Trashed { page }
        | Did::Restored { page } = &did
        {
            *self.last_page.lock().unwrap() = Some(page.clone());
        }
        self.log.lock().unwrap().push(did);
    }

    pub fn take_log(&self) -> Vec<Did> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    // ----- the dialer -----

    /// Keys of the dialer's contacts, in id order.
    pub async fn contact_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .contacts
            .list(None)
            .await
            .expect("list contacts")
            .into_iter()
            .map(|b| b.key)
            .collect();
        keys.sort_by_key(|k| k.parse::<u64>().unwrap_or(u64::MAX));
        keys
    }

    pub async fn pick_contact(&self, who: u8) -> Option<String> {
        let keys = self.contact_keys().await;
        (!keys.is_empty()).then(|| keys[who as usize % keys.len()].clone())
    }

    async fn read(&self, key: &str) -> Option<Map<String, Json>> {
        match self
            .contacts
            .get_json::<Json>(key)
            .await
            .expect("read contact")
        {
            Some(Json::Object(o)) => Some(o),
            _ => None,
        }
    }

    async fn save(&self, key: &str, mut contact: Map<String, Json>, stamp: bool) {
        if stamp && contact.contains_key("updatedAt") {
            contact.insert("updatedAt".into(), json!(iso(self.clock.now())));
        }
        let value = Json::Object(contact);
        self.contacts
            .set_json(key, &value, SetOptions::default())
            .await
            .expect("save contact");
        self.did(Did::Dialer {
            key: key.to_string(),
            after: Some(value),
        });
    }

    /// A new contact, with an id the dialer hands out (never one in use).
    pub async fn create_contact(&self, phone: Phone, updated_at: bool) -> String {
        let taken = self
            .contact_keys()
            .await
            .iter()
            .filter_map(|k| k.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        let id = self
            .next_id
            .fetch_max(taken + 1, Ordering::SeqCst)
            .max(taken + 1);
        self.next_id.store(id + 1, Ordering::SeqCst);
        let t = self.token();
        let mut c = json!({
            "id": id.to_string(),
            "companyName": format!("Co{t}"),
            "phone": phone.text(),
            "address": format!("{t} Main St"),
            "totalDials": 0,
            "callHistory": [],
            "createdAt": iso(self.clock.now()),
            "dialerOnly": format!("kept-{t}"),
        });
        if updated_at {
            c["updatedAt"] = json!(iso(self.clock.now()));
        }
        let key = id.to_string();
        let Json::Object(map) = c else { unreachable!() };
        // The dialer never overwrites a contact it does not know about.
        let written = self
            .contacts
            .set_json(&key, &Json::Object(map.clone()), SetOptions::if_new())
            .await
            .expect("create contact");
        if written.is_written() {
            self.did(Did::Dialer {
                key: key.clone(),
                after: Some(Json::Object(map)),
            });
        }
        key
    }

    fn info_value(&self, field: InfoField) -> (&'static str, Json) {
        let t = self.token();
        match field {
            InfoField::Company => ("companyName", json!(format!("Co{t}"))),
            InfoField::Phone(p) => ("phone", json!(p.text())),
            InfoField::Website => ("website", json!(format!("https://w{t}.test"))),
            InfoField::Address => ("address", json!(format!("{t} Elm Rd"))),
            InfoField::LinkedIn => (
                "linkedin",
                json!(format!("https://linkedin.com/company/c{t}")),
            ),
            InfoField::Industry => ("industry", json!(format!("Ind{t}"))),
            InfoField::FollowUp => {
                let at = chrono::DateTime::parse_from_rfc3339("2027-01-04T15:00:00Z")
                    .unwrap()
                    .to_utc()
                    + Duration::hours(t as i64);
                ("nextFollowUp", json!(iso(at)))
            }
        }
    }

    /// A person saves one contact-info field of contact `key`.
    pub async fn edit_contact(&self, key: &str, field: InfoField) {
        let Some(mut c) = self.read(key).await else {
            return;
        };
        let (k, v) = self.info_value(field);
        c.insert(k.into(), v);
        self.save(key, c, true).await;
    }

    /// "Save & Next" after a call: the call appended, the counters moved.
    pub async fn log_call(&self, key: &str, shape: CallShape, notes: bool) {
        let Some(mut c) = self.read(key).await else {
            return;
        };
        let t = self.token();
        let now = iso(self.clock.now());
        let outcome = ["DM", "GK", "NA"][t as usize % 3];
        let mut call = json!({
            "outcome": outcome,
            "duration": 30 + (t % 300),
            "hadConversation": t % 2 == 0,
            "hadTriage": t % 3 == 0,
            "objection": if t % 4 == 0 { Json::Null } else { json!(format!("obj{t}")) },
            "notes": if notes { json!(format!("note{t};")) } else { Json::Null },
        });
        match shape {
            CallShape::Timed => call["timestamp"] = json!(now),
            CallShape::WithId => {
                call["timestamp"] = json!(now);
                call["id"] = json!(format!("call-{t}"));
            }
            CallShape::Untimed => {}
        }
        let calls = c
            .entry("callHistory")
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .map(|a| {
                a.push(call);
                a.len()
            })
            .unwrap_or(0);
        c.insert("totalDials".into(), json!(calls));
        if shape != CallShape::Untimed {
            c.insert("lastCall".into(), json!(now));
        }
        c.insert("currentOkCode".into(), json!(format!("OK{}", t % 5)));
        self.save(key, c, true).await;
    }

    /// Notes typed (or retyped) on a call already in the history.
    pub async fn edit_call_notes(&self, key: &str, which: u8) {
        let Some(mut c) = self.read(key).await else {
            return;
        };
        let t = self.token();
        let Some(calls) = c.get_mut("callHistory").and_then(Json::as_array_mut) else {
            return;
        };
        if calls.is_empty() {
            return;
        }
        let n = calls.len();
        calls[which as usize % n]["notes"] = json!(format!("note{t};"));
        self.save(key, c, true).await;
    }

    pub async fn delete_contact(&self, key: &str) {
        self.contacts.delete(key).await.expect("delete contact");
        self.did(Did::Dialer {
            key: key.to_string(),
            after: None,
        });
    }

    // ----- Notion -----

    /// Live (or trashed) pages, in creation order.
    pub fn pages(&self, trashed: bool) -> Vec<String> {
        self.notion
            .pages()
            .into_iter()
            .filter(|p| p["in_trash"].as_bool().unwrap_or(false) == trashed)
            .filter_map(|p| p["id"].as_str().map(str::to_string))
            .collect()
    }

    pub fn pick_page(&self, who: u8, trashed: bool) -> Option<String> {
        let pages = self.pages(trashed);
        (!pages.is_empty()).then(|| pages[who as usize % pages.len()].clone())
    }

    fn set(&self, page: &str, properties: Json) {
        if self
            .notion
            .person_update_page(page, properties.clone())
            .is_ok()
        {
            self.did(Did::Notion {
                page: page.to_string(),
                properties,
            });
        }
    }

    /// A page typed into Notion by a teammate (no Dialer ID).
    pub fn type_page(&self, phone: Option<Phone>) {
        let t = self.token();
        let mut props = json!({
            "Name": {"title": rich(&format!("Typed{t}"))},
            "Address": {"rich_text": rich(&format!("{t} Oak Ave"))},
        });
        if let Some(p) = phone {
            props["Phone"] = json!({"phone_number": p.text()});
        }
        // Some teammates type the last call's outcome too.
        if t % 2 == 0 {
            let outcome = ["DM", "GK", "NA"][t as usize % 3];
            props["Outcome"] = json!({"select": {"name": outcome}});
            props["Objection"] = json!({"rich_text": rich(&format!("typed{t}"))});
        }
        let page = self
            .notion
            .person_create_page(props.clone())
            .expect("a person creates a page");
        self.did(Did::Typed { page: page.clone() });
        self.did(Did::Notion {
            page,
            properties: props,
        });
    }

    pub fn edit_page(&self, page: &str, field: InfoField) {
        let (key, value) = self.info_value(field);
        let text = value.as_str().unwrap_or_default().to_string();
        let props = match key {
            "companyName" => json!({"Name": {"title": rich(&text)}}),
            "phone" => json!({"Phone": {"phone_number": text}}),
            "website" => json!({"Website": {"url": text}}),
            "address" => json!({"Address": {"rich_text": rich(&text)}}),
            "linkedin" => json!({"LinkedIn": {"url": text}}),
            "industry" => json!({"Industry": {"select": {"name": text}}}),
            _ => json!({"Next Follow Up Date": {"date": {"start": text}}}),
        };
        self.set(page, props);
    }

    pub fn edit_own(&self, page: &str, field: OwnField) {
        let t = self.token();
        let props = match field {
            OwnField::Notes => {
                json!({"Notes": {"rich_text": rich(&format!("Met at the fair {t}"))}})
            }
            OwnField::Tags => json!({"Tags": {"multi_select": [{"name": format!("tag{t}")}]}}),
            OwnField::Priority => {
                let name = ["High", "Medium", "Low"][t as usize % 3];
                json!({"Priority": {"select": {"name": name}}})
            }
        };
        self.set(page, props);
    }

    /// A teammate overwrites call data by hand (the dialer's value wins).
    pub fn edit_call_data(&self, page: &str) {
        let t = self.token();
        let outcome = ["DM", "GK", "NA"][t as usize % 3];
        self.set(
            page,
            json!({
                "Outcome": {"select": {"name": outcome}},
                "Objection": {"rich_text": rich(&format!("hand{t}"))},
            }),
        );
    }

    pub fn clear_dialer_id(&self, page: &str) {
        self.set(page, json!({"Dialer ID": {"number": null}}));
    }

    pub fn trash(&self, page: &str) {
        if self.notion.person_trash_page(page).is_ok() {
            self.did(Did::Trashed {
                page: page.to_string(),
            });
        }
    }

    pub fn restore(&self, page: &str) {
        if self.notion.person_restore_page(page).is_ok() {
            self.did(Did::Restored {
                page: page.to_string(),
            });
        }
    }

    /// A typed value for a manual merge, in the field's shape.
    pub fn typed_value(&self, field: &str) -> Json {
        let t = self.token();
        match field {
            "phone" => json!(format!("212-555-{:04}", t % 10_000)),
            "website" => json!(format!("https://m{t}.test")),
            "linkedin" => json!(format!("https://linkedin.com/company/m{t}")),
            "nextFollowUp" => json!("2027-03-01T16:00:00.000Z"),
            _ => json!(format!("Merged{t}")),
        }
    }

    pub fn note_kept_notion(&self, key: &str) {
        self.did(Did::KeptNotionAfterDelete {
            key: key.to_string(),
        });
    }
}
