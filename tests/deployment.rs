//! What Netlify needs to deploy and schedule the functions, checked from
//! the repo: netlify.toml's build flag, schedule, rewrite and published
//! folder (the sync console), the function crates' layout (package name ==
//! directory name, src/main.rs, a workspace member), and that Netlify's own
//! TOML parser reads them.

use std::path::{Path, PathBuf};

use test_harness::node::run_script;
use test_harness::site::{function_names, functions_dir};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
}

fn netlify_toml() -> toml::Value {
    let text = std::fs::read_to_string(root().join("netlify.toml")).expect("netlify.toml");
    text.parse().expect("netlify.toml is valid TOML")
}

#[test]
fn rust_source_builds_are_on_and_point_at_the_functions() {
    let t = netlify_toml();
    assert_eq!(t["build"]["functions"].as_str(), Some("netlify/functions"));
    assert_eq!(
        t["build"]["environment"]["NETLIFY_EXPERIMENTAL_BUILD_RUST_SOURCE"].as_str(),
        Some("true")
    );
}

#[test]
fn scheduled_sync_runs_every_five_minutes() {
    let t = netlify_toml();
    assert_eq!(
        t["functions"]["scheduled-sync"]["schedule"].as_str(),
        Some("*/5 * * * *")
    );
}

#[test]
fn the_dialer_reaches_functions_under_api() {
    let t = netlify_toml();
    let redirects = t["redirects"].as_array().expect("[[redirects]]");
    assert!(redirects
        .iter()
        .any(|r| r["from"].as_str() == Some("/api/*")
            && r["to"].as_str() == Some("/.netlify/functions/:splat")
            && r["status"].as_integer() == Some(200)));
}

#[test]
fn the_sync_console_is_published_at_sync() {
    let t = netlify_toml();
    let publish = t["build"]["publish"].as_str().expect("[build] publish");
    assert_eq!(root().join(publish), test_harness::site::publish_dir());
    for file in ["index.html", "syncClient.js"] {
        let path = root().join(publish).join("sync").join(file);
        assert!(path.is_file(), "{} is not published", path.display());
    }
}

#[test]
fn every_function_is_a_workspace_crate_named_after_its_directory() {
    let names = function_names();
    assert!(!names.is_empty(), "no functions under netlify/functions");
    let workspace: toml::Value = std::fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let members: Vec<&str> = workspace["workspace"]["members"]
        .as_array()
        .expect("[workspace] members")
        .iter()
        .filter_map(toml::Value::as_str)
        .collect();
    for name in &names {
        let path = functions_dir().join(name);
        let manifest: toml::Value = std::fs::read_to_string(path.join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("netlify/functions/{name} is no crate (Cargo.toml: {e})"))
            .parse()
            .expect("TOML");
        assert_eq!(
            manifest["package"]["name"].as_str(),
            Some(name.as_str()),
            "package name == directory name: Netlify names the binary after the package"
        );
        assert!(path.join("src/main.rs").is_file(), "{name} has src/main.rs");
        let member = format!("netlify/functions/{name}");
        assert!(
            members.contains(&member.as_str()),
            "{member} is a workspace member (add it to [workspace] members in Cargo.toml)"
        );
    }
    // Netlify recognises a prebuilt Rust binary only with its symbols.
    assert_ne!(
        workspace["profile"]["release"]["strip"].as_str(),
        Some("symbols")
    );
    assert_ne!(
        workspace["profile"]["release"]["strip"].as_bool(),
        Some(true)
    );
}

/// Netlify's packager and CLI read each function's Cargo.toml with the npm
/// `toml` 3.0.0 parser (TOML 0.4): a dotted key such as
/// `version.workspace = true` makes the CLI report "Failed to load
/// function". Runs that very parser, as each tool resolves it.
#[test]
fn every_function_manifest_parses_with_the_toml_parser_netlify_uses() {
    let manifests: Vec<PathBuf> = function_names()
        .iter()
        .map(|name| functions_dir().join(name).join("Cargo.toml"))
        .collect();
    let output = run_script("scripts/netlify/parse-manifests.mjs", &manifests)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        output.lines.len(),
        2 * manifests.len(),
        "one result per manifest for the packager and the CLI; stderr: {}",
        output.stderr
    );
    for result in &output.lines {
        assert_eq!(result["version"], "3.0.0", "{result}");
        assert!(
            result["ok"] == true,
            "{} does not parse with the toml {} that {} uses: {} (line {}, column {}); \
             write `key = {{ workspace = true }}` instead of dotted keys",
            result["file"],
            result["version"],
            result["parser"],
            result["error"],
            result["line"],
            result["column"]
        );
    }
    assert!(output.success, "{}", output.stderr);
}
