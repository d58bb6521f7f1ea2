//! The deploy package, proven with Netlify's own packager: `scripts/package`
//! builds release binaries for Netlify's runtime (static: no dependency on
//! the runtime's glibc) and runs `@netlify/zip-it-and-ship-it` 14.7.1 over
//! them with netlify.toml's settings. Every function under
//! netlify/functions (discovered) must come out as a Rust function with
//! exactly `bootstrap` and `netlify-toolchain`, and each packaged
//! `bootstrap` must itself answer through the Lambda Runtime API.

use std::collections::BTreeSet;
use std::path::Path;

use e2e::*;
use serde_json::{json, Value};
use test_harness::event::ApiEvent;
use test_harness::node::run_script;
use test_harness::package::{read_zip, Package};
use test_harness::site::function_names;

fn netlify_toml() -> toml::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../netlify.toml");
    std::fs::read_to_string(path)
        .expect("netlify.toml")
        .parse()
        .expect("netlify.toml is TOML")
}

#[test]
fn every_function_is_packaged_as_a_rust_function_with_its_netlify_toml_settings() {
    let package = Package::build();
    let names = function_names();
    let packaged: Vec<&str> = package
        .manifest
        .functions
        .iter()
        .map(|f| f.name.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        packaged, names,
        "one packaged function per directory under netlify/functions, no more"
    );
    assert_eq!(
        package.manifest.functions.len(),
        names.len(),
        "no function twice"
    );
    let settings = netlify_toml();
    for function in &package.manifest.functions {
        assert_eq!(
            function.runtime, "rs",
            "{} is packaged as a Rust function",
            function.name
        );
        let schedule = settings["functions"]
            .get(&function.name)
            .and_then(|f| f.get("schedule"))
            .and_then(toml::Value::as_str);
        assert_eq!(
            function.schedule.as_deref(),
            schedule,
            "{}'s schedule as netlify.toml says",
            function.name
        );
    }
    assert_eq!(
        package
            .function("scheduled-sync")
            .and_then(|f| f.schedule.as_deref()),
        Some("*/5 * * * *")
    );
}

#[test]
fn each_zip_holds_a_static_linux_rust_bootstrap_and_the_toolchain_file_only() {
    let package = Package::build();
    let mut files: Vec<String> = std::fs::read_dir(package.functions_dir())
        .expect("dist/functions")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = function_names()
        .iter()
        .map(|n| format!("{n}.zip"))
        .collect();
    expected.push("manifest.json".into());
    expected.sort();
    assert_eq!(
        files, expected,
        "dist/functions holds the zips and the manifest, nothing else"
    );

    let unpacked = tempfile::tempdir().expect("temp dir");
    let mut bootstraps = Vec::new();
    for name in function_names() {
        let entries = read_zip(&package.functions_dir().join(format!("{name}.zip")))
            .unwrap_or_else(|e| panic!("{e}"));
        let listed: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            listed.iter().copied().collect::<BTreeSet<_>>(),
            BTreeSet::from(["bootstrap", "netlify-toolchain"]),
            "{name}.zip holds {listed:?}"
        );
        let toolchain = entries
            .iter()
            .find(|e| e.name == "netlify-toolchain")
            .unwrap();
        let toolchain: Value =
            serde_json::from_slice(&toolchain.bytes).expect("netlify-toolchain is JSON");
        assert_eq!(toolchain, json!({"runtime": "rs"}), "{name}");
        let bootstrap = entries.iter().find(|e| e.name == "bootstrap").unwrap();
        assert!(
            bootstrap.is_executable(),
            "{name}'s bootstrap is executable (mode {:?})",
            bootstrap.mode
        );
        let elf = test_harness::elf::parse(&bootstrap.bytes)
            .unwrap_or_else(|e| panic!("{name}'s bootstrap: {e}"));
        assert!(
            elf.is_linux_x86_64_executable(),
            "{name}'s bootstrap: {elf:?}"
        );
        assert!(
            elf.is_static(),
            "{name}'s bootstrap needs the loader {:?} (a glibc the runtime may not have); build {}",
            elf.interpreter,
            package.build_info.linkage
        );
        bootstraps.push(
            package
                .extract_bootstrap(&name, unpacked.path())
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }

    // What Netlify's packager itself decides from the bytes.
    let verdicts = run_script("scripts/netlify/binary-info.mjs", &bootstraps)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        verdicts.lines.len(),
        bootstraps.len(),
        "{}",
        verdicts.stderr
    );
    for verdict in &verdicts.lines {
        assert_eq!(
            (&verdict["runtime"], &verdict["arch"], &verdict["platform"]),
            (&json!("Rust"), &json!("Amd64"), &json!("Linux")),
            "@netlify/binary-info on {verdict}: a Rust binary without rust_eh_personality is silently not deployed"
        );
    }
}

#[tokio::test]
async fn each_packaged_bootstrap_answers_through_the_lambda_runtime_api() {
    let package = Package::build();
    let unpacked = tempfile::tempdir().expect("temp dir");
    let app = TestApp::spawn().await;
    for name in function_names() {
        let bootstrap = package
            .extract_bootstrap(&name, unpacked.path())
            .unwrap_or_else(|e| panic!("{e}"));
        // notion-test reaches "Notion" by name, so the static binary's own
        // name lookup (glibc's built-in files/dns, no NSS module) is used.
        let by_name = app.notion.base_url().replace("127.0.0.1", "localhost");
        let overrides: &[(&str, &str)] = if name == "notion-test" {
            &[("NOTION_API_URL", &by_name)]
        } else {
            &[]
        };
        app.run_function_from(&name, &bootstrap, overrides).await;
        // Every endpoint is guarded: a request without the key is refused,
        // by the packaged binary itself.
        let refused = app
            .invoke_as_is(&name, ApiEvent::get(&format!("/.netlify/functions/{name}")))
            .await;
        assert_eq!(refused.status, 401, "{name}: {}", refused.body);
        assert!(
            refused.json.is_some(),
            "{name} answers JSON: {}",
            refused.body
        );
    }

    let check = ok_json(&app.get("notion-test").await);
    assert_eq!(check["ok"], true, "{check:#}");

    let pushed = push_contact(&app, contact(1001, "Acme Corp", "555-0100")).await;
    assert_eq!(pushed["summary"]["created_in_notion"], 1, "{pushed:#}");
    assert!(app.page_by_dialer_id(1001).is_some());

    let run = ok_json(&app.post("scheduled-sync", json!({})).await);
    assert_eq!(run["summary"]["failed"], 0, "{run:#}");

    let status = ok_json(&app.get("sync-status").await);
    assert_eq!(status["health"], "ok", "{status:#}");
    assert_eq!(status["last_run"]["run_id"], run["run_id"], "{status:#}");
}
