//! The repo as Netlify sees it: the functions directory (netlify.toml's
//! `[build] functions`) and the functions in it, discovered, never listed
//! by hand, so a function added later is checked like the others.

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
