//! What Netlify needs to deploy and schedule the functions, checked from
//! the repo: netlify.toml's build flag, schedule and rewrite, and the
//! function crates' layout (package name == directory name, src/main.rs).

use std::path::Path;

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
fn every_function_is_a_crate_named_after_its_directory() {
    let dir = root().join("netlify/functions");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("netlify/functions") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let manifest: toml::Value = std::fs::read_to_string(path.join("Cargo.toml"))
            .expect("Cargo.toml")
            .parse()
            .expect("TOML");
        assert_eq!(
            manifest["package"]["name"].as_str(),
            Some(name.as_str()),
            "package name == directory name"
        );
        assert!(path.join("src/main.rs").is_file(), "{name} has src/main.rs");
        names.push(name);
    }
    names.sort();
    assert_eq!(
        names,
        [
            "notion-test",
            "scheduled-sync",
            "sync-backups",
            "sync-conflicts",
            "sync-from-notion",
            "sync-history",
            "sync-status",
            "sync-to-notion"
        ]
    );
    // Netlify recognises a prebuilt Rust binary only with its symbols.
    let workspace: toml::Value = std::fs::read_to_string(root().join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(
        workspace["profile"]["release"]["strip"].as_str(),
        Some("symbols")
    );
    assert_ne!(
        workspace["profile"]["release"]["strip"].as_bool(),
        Some(true)
    );
}
