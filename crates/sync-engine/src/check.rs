//! `notion-test`: is the token good, is the database shared, does its schema
//! fit the mapping, and what do the first contacts look like through it.
//! Every failing step carries the fix in the words of Notion's UI.

use notion_client::{NotionError, Query};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use sync_core::contact::write_mirror_meta;
use sync_core::SchemaReport;

use crate::run::Engine;

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub ok: bool,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ConnectionCheck {
    pub ok: bool,
    pub steps: Vec<Step>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaReport>,
    /// The first pages, as the dialer would store them.
    pub sample: Vec<Json>,
}

fn fix_for(e: &NotionError) -> Option<String> {
    match e {
        NotionError::Unauthorized => Some("Copy the Internal Integration Secret from notion.so/my-integrations and set it as NOTION_API_TOKEN in Netlify (Site configuration > Environment variables), then redeploy.".into()),
        NotionError::DatabaseNotShared { .. } | NotionError::NotFound { .. } => Some("Open the database in Notion, click ... (top right) > Connections > add your integration (e.g. \"R7 Dialer Sync\"), and check NOTION_DATABASE_ID is the id from the database's URL.".into()),
        NotionError::Forbidden { .. } => Some("Give the integration read, update and insert content capabilities in notion.so/my-integrations.".into()),
        _ => None,
    }
}

impl Engine {
    pub async fn check(&self, sample_size: usize) -> ConnectionCheck {
        let mut out = ConnectionCheck {
            ok: false,
            steps: Vec::new(),
            database: None,
            schema: None,
            sample: Vec::new(),
        };
        match self.notion.me().await {
            Ok(user) => out.steps.push(Step {
                name: "token",
                ok: true,
                message: format!(
                    "The token works (integration \"{}\").",
                    user.name.as_deref().unwrap_or("unnamed")
                ),
                fix: None,
            }),
            Err(e) => {
                out.steps.push(Step {
                    name: "token",
                    ok: false,
                    message: e.to_string(),
                    fix: fix_for(&e),
                });
                return out;
            }
        }
        let db = match self
            .notion
            .retrieve_database(self.notion.database().as_str())
            .await
        {
            Ok(db) => db,
            Err(e) => {
                out.steps.push(Step {
                    name: "database",
                    ok: false,
                    message: e.to_string(),
                    fix: fix_for(&e),
                });
                return out;
            }
        };
        out.steps.push(Step {
            name: "database",
            ok: true,
            message: format!(
                "The database \"{}\" is shared with the integration.",
                db.title
            ),
            fix: None,
        });
        out.database = Some(
            serde_json::json!({"id": db.id, "title": db.title, "data_sources": db.data_sources.iter().map(|d| &d.id).collect::<Vec<_>>()}),
        );
        let (data_source_id, mapping, report) = match self
            .schema(db.data_sources.first().map(|d| d.id.as_str()))
            .await
        {
            Ok(x) => x,
            Err(e) => {
                out.steps.push(Step {
                    name: "schema",
                    ok: false,
                    message: e.to_string(),
                    fix: None,
                });
                return out;
            }
        };
        let problems: Vec<String> = report.problems().filter_map(|i| i.fix.clone()).collect();
        out.steps.push(Step {
            name: "schema",
            ok: report.ready,
            message: report.summary.clone(),
            fix: (!problems.is_empty()).then(|| problems.join("\n")),
        });
        out.schema = Some(report.clone());
        if !report.ready {
            return out;
        }
        let query = Query {
            page_size: Some(sample_size.clamp(1, 100) as u32),
            ..Query::default()
        };
        match self.notion.query_page(&data_source_id, &query, None).await {
            Ok(batch) => {
                for page in batch.results.into_iter().take(sample_size) {
                    let record = mapping.read_page(&crate::run::snapshot(page));
                    let mut raw = Map::new();
                    raw.insert(
                        "id".into(),
                        record
                            .dialer_id
                            .map(|i| Json::String(i.to_string()))
                            .unwrap_or(Json::Null),
                    );
                    sync_core::contact::write_fields(&mut raw, &record.values);
                    write_mirror_meta(
                        &mut raw,
                        &record.page_id,
                        record.url.as_deref(),
                        record.in_trash,
                    );
                    out.sample.push(Json::Object(raw));
                }
                out.steps.push(Step {
                    name: "read",
                    ok: true,
                    message: format!("Read {} contact(s) from Notion.", out.sample.len()),
                    fix: None,
                });
                out.ok = true;
            }
            Err(e) => out.steps.push(Step {
                name: "read",
                ok: false,
                message: e.to_string(),
                fix: fix_for(&e),
            }),
        }
        out
    }
}
