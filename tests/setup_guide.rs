//! The setup guide (docs/setup.md) stays true: it is linked from the README,
//! lays out every mapped property, explains every setting, quotes every
//! message the connection test can give, and a newcomer who runs its
//! commands as written against the emulator (as if it were Notion) gets a
//! passing connection test and a first sync.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sync_core::fields::FIELDS;
use test_harness::guide::{run_block, BlockRun, GuideServer, SERVER, TAG};
use test_harness::markdown::{code_blocks, CodeBlock};
use test_harness::messages::{message_templates, missing_fragments};

/// Where the connection test (`notion-test`) gets every text it can show:
/// its steps and fixes, the schema report, Notion's errors, the settings'
/// errors, and the error answers of the function and of sync-http.
const MESSAGE_SOURCES: &[&str] = &[
    "crates/sync-engine/src/check.rs",
    "crates/sync-core/src/schema.rs",
    "netlify/functions/notion-test/src/main.rs",
    "crates/sync-http/src/lib.rs",
    "crates/sync-http/src/access.rs",
    "crates/sync-http/src/webhook.rs",
    "netlify/functions/notion-webhook/src/main.rs",
    "crates/netlify-function/src/error.rs",
    "crates/netlify-function/src/blobs.rs",
    "crates/notion-client/src/error.rs",
    "crates/notion-client/src/config.rs",
    "crates/notion-client/src/database_ref.rs",
    "crates/sync-engine/src/config.rs",
    "crates/sync-engine/src/error.rs",
    "crates/sync-core/src/config.rs",
    "crates/sync-core/src/phone.rs",
    "crates/alerts/src/lib.rs",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn guide() -> String {
    read("docs/setup.md")
}

#[test]
fn the_readme_links_the_guide() {
    assert!(
        read("README.md").contains("](docs/setup.md)"),
        "README.md links docs/setup.md"
    );
}

#[test]
fn every_message_the_connection_test_can_give_is_in_the_guide() {
    let guide = guide();
    let mut missing = Vec::new();
    let mut checked = 0;
    for source in MESSAGE_SOURCES {
        for template in message_templates(&read(source)) {
            checked += 1;
            for fragment in missing_fragments(&template, &guide) {
                missing.push(format!("{source}: {template:?}\n    lacks {fragment:?}"));
            }
        }
    }
    assert!(
        checked > 50,
        "found only {checked} messages: are the sources still there?"
    );
    assert!(
        missing.is_empty(),
        "docs/setup.md, section 8, does not quote these messages (write each with what to do):\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_guide_lays_out_every_mapped_property() {
    let guide = guide();
    for field in FIELDS {
        let row = guide
            .lines()
            .find(|line| line.starts_with(&format!("| {} |", field.property)))
            .unwrap_or_else(|| {
                panic!(
                    "docs/setup.md step 1 has no row for the property {:?}",
                    field.property
                )
            });
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (kind, needed) = (cells[2], cells[3]);
        assert_eq!(
            kind,
            field.accepts[0].ui_name(),
            "the type of {:?}: {row}",
            field.property
        );
        assert_eq!(
            needed,
            if field.required {
                "required"
            } else {
                "optional"
            },
            "{row}"
        );
    }
}

#[test]
fn every_setting_in_the_readme_is_explained_in_the_guide() {
    let guide = guide();
    let readme = read("README.md");
    let settings: Vec<&str> = readme
        .lines()
        .filter(|line| line.starts_with("| `"))
        .flat_map(|line| {
            line.split('|')
                .nth(1)
                .unwrap_or("")
                .split('`')
                .skip(1)
                .step_by(2)
        })
        .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    assert!(
        settings.len() > 20,
        "the README's settings table: {settings:?}"
    );
    for name in settings {
        assert!(
            guide.contains(&format!("`{name}`")),
            "docs/setup.md step 5 explains `{name}`"
        );
    }
}

fn json_of(run: &BlockRun) -> Value {
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "the block at line {} printed no JSON ({e}):\n{}\n{}",
            run.line, run.stdout, run.stderr
        )
    })
}

fn named<'a>(blocks: &'a [CodeBlock], name: &str) -> &'a CodeBlock {
    blocks
        .iter()
        .find(|b| b.tag_value(TAG) == Some(name))
        .unwrap_or_else(|| panic!("docs/setup.md has no ```sh {TAG}:{name} block"))
}

#[tokio::test]
async fn a_newcomer_follows_the_guide_to_a_passing_connection_test_and_a_first_sync() {
    let blocks: Vec<CodeBlock> = code_blocks(&guide())
        .into_iter()
        .filter(|b| b.tag_value(TAG).is_some())
        .collect();
    let server = GuideServer::start(named(&blocks, SERVER))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut runs = Vec::new();
    for block in blocks.iter().filter(|b| b.tag_value(TAG) != Some(SERVER)) {
        let run = run_block(block, &server.export_line)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            run.success,
            "the block at line {} failed:\n{}\n{}",
            run.line, run.stdout, run.stderr
        );
        runs.push((block.tag_value(TAG).unwrap_or_default().to_owned(), run));
    }
    let output = |name: &str| {
        let block = named(&blocks, name);
        let (_, run) = runs
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("the block at line {} did not run", block.line));
        json_of(run)
    };

    let check = output("connection-test");
    assert_eq!(check["ok"], true, "{check:#}");
    let first = output("first-sync");
    assert_eq!(
        first["summary"]["created_in_notion"], 2,
        "the two sample contacts: {first:#}"
    );
    assert_eq!(
        first["summary"]["created_in_dialer"], 1,
        "the page typed in Notion: {first:#}"
    );
    assert_eq!(first["summary"]["failed"], 0, "{first:#}");
    let status = output("status");
    assert_eq!(status["health"], "ok", "{status:#}");
    let webhook = output("webhook-status");
    assert_eq!(webhook["verified"], false, "{webhook:#}");
    assert!(webhook["verificationToken"].is_null(), "{webhook:#}");
}
