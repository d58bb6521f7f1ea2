//! Shared helpers for the end-to-end tests. The tests start everything they
//! need through `test_harness::app::TestApp`: the Notion emulator, the
//! official Blobs server, and the function binaries behind a Lambda Runtime
//! API.

use serde_json::{json, Value};
pub use test_harness::app::{AppOptions, TestApp};

/// A dialer contact as the dialer stores it.
pub fn contact(id: u64, name: &str, phone: &str) -> Value {
    json!({
        "id": id.to_string(),
        "companyName": name,
        "phone": phone,
        "website": format!("https://{}.test", name.to_lowercase().replace(' ', "-")),
        "totalDials": 0,
        "callHistory": [],
        "createdAt": "2026-09-01T09:00:00.000Z"
    })
}

/// `contact` with one more call logged, as the dialer's "Save & Next" does.
pub fn with_call(mut contact: Value, at: &str, outcome: &str, duration: u64, notes: &str) -> Value {
    let calls = contact["callHistory"].as_array_mut().expect("callHistory");
    calls.push(json!({
        "timestamp": at, "outcome": outcome, "duration": duration,
        "hadConversation": outcome == "DM", "hadTriage": false, "objection": null, "notes": notes
    }));
    let n = calls.len();
    contact["totalDials"] = json!(n);
    contact["lastCall"] = json!(at);
    contact
}

/// A property value as the emulator stores it, by name.
pub fn prop<'a>(page: &'a Value, name: &str) -> &'a Value {
    &page["properties"][name]
}

pub fn text(page: &Value, name: &str) -> String {
    let p = prop(page, name);
    let items = p
        .get("title")
        .or_else(|| p.get("rich_text"))
        .and_then(Value::as_array);
    items
        .map(|a| {
            a.iter()
                .filter_map(|t| t["plain_text"].as_str().or(t["text"]["content"].as_str()))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts a function answered 2xx and returns its JSON body.
pub fn ok_json(inv: &test_harness::lambda::Invocation) -> Value {
    assert!(
        (200..300).contains(&inv.status),
        "status {}: {}",
        inv.status,
        inv.body
    );
    inv.json.clone().expect("a JSON body")
}

/// Saves `contact` in the dialer and pushes it alone, as the dialer does
/// right after a call; panics unless the push succeeded.
pub async fn push_contact(app: &TestApp, contact: Value) -> Value {
    let id = contact["id"].as_str().expect("a contact id").to_string();
    app.put_contact(contact).await;
    ok_json(&app.post("sync-to-notion", json!({ "contactId": id })).await)
}

/// Every page not in Notion's trash.
pub fn live_pages(app: &TestApp) -> Vec<Value> {
    app.control()
        .pages()
        .into_iter()
        .filter(|p| p["in_trash"] != true)
        .collect()
}
