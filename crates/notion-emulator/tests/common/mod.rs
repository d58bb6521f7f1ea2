//! Shared helpers: start an emulator, call it like a Notion client would.
#![allow(dead_code)]

use notion_emulator::{
    Emulator, EmulatorConfig, RunningEmulator, DEFAULT_DATA_SOURCE_ID, DEFAULT_TOKEN,
};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};

pub struct Api {
    pub emu: RunningEmulator,
    pub client: reqwest::Client,
    pub token: String,
    pub version: &'static str,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

pub async fn start() -> Api {
    start_with(EmulatorConfig::default()).await
}

pub async fn start_with(config: EmulatorConfig) -> Api {
    let emu = Emulator::start(config).await.expect("emulator starts");
    Api {
        emu,
        client: reqwest::Client::new(),
        token: DEFAULT_TOKEN.into(),
        version: "2025-09-03",
    }
}

impl Api {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(&self.token, method, path, body).await
    }

    /// A request of another connection (integration) of the workspace.
    pub async fn call_as(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.emu.base_url()))
            .bearer_auth(token)
            .header("Notion-Version", self.version);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn create(&self, properties: Value) -> Reply {
        self.post(
            "/v1/pages",
            json!({"parent": {"type": "data_source_id", "data_source_id": DEFAULT_DATA_SOURCE_ID}, "properties": properties}),
        )
        .await
    }

    pub async fn query(&self, body: Value) -> Reply {
        self.post(
            &format!("/v1/data_sources/{DEFAULT_DATA_SOURCE_ID}/query"),
            body,
        )
        .await
    }
}

pub fn title(text: &str) -> Value {
    json!({"title": [{"type": "text", "text": {"content": text}}]})
}

pub fn contact(name: &str, dialer_id: i64) -> Value {
    json!({"Name": title(name), "Dialer ID": {"number": dialer_id}})
}

/// Asserts a Notion error body and returns its message.
pub fn assert_error(reply: &Reply, status: u16, code: &str) -> String {
    assert_eq!(reply.status, status, "body: {}", reply.body);
    assert_eq!(reply.body["object"], "error");
    assert_eq!(reply.body["status"], status);
    assert_eq!(reply.body["code"], code, "body: {}", reply.body);
    let rid = reply.body["request_id"].as_str().expect("request_id");
    assert!(uuid_like(rid), "request_id {rid}");
    reply.body["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}
