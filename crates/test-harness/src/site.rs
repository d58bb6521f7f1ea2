//! The repo as Netlify sees it: the functions directory (netlify.toml's
//! `[build] functions`) and the functions in it, discovered, never listed
//! by hand, so a function added later is checked like the others; and the
//! published files (`[build] publish`).

use std::path::PathBuf;

use crate::lambda::workspace_root;

/// `<repo>/netlify/functions`.
pub fn functions_dir() -> PathBuf {
    workspace_root().join("netlify").join("functions")
}

/// Every entry of the functions directory by name, sorted: each is meant
/// to be a Rust function crate named after its directory.
pub fn function_names() -> Vec<String> {
    let dir = functions_dir();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .map(|entry| {
            let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
            entry.file_name().to_string_lossy().into_owned()
        })
        .collect();
    names.sort();
    names
}

/// `<repo>/<publish>`: the folder netlify.toml's `[build] publish` names,
/// the static files the site serves (the sync console under `sync/`).
pub fn publish_dir() -> PathBuf {
    let root = workspace_root();
    let path = root.join("netlify.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let config: toml::Value = text
        .parse()
        .unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", path.display()));
    let publish = config["build"]
        .get("publish")
        .and_then(toml::Value::as_str)
        .unwrap_or_else(|| panic!("{} sets no [build] publish folder", path.display()));
    root.join(publish)
}
