//! Starts the real parts a test needs: the Notion emulator, the official
//! Netlify Blobs server, and function binaries behind a Lambda Runtime API,
//! each on a free port, each stopped when its handle is dropped; and runs
//! Netlify's own tools (packager, CLI) over the repo.
pub mod app;
pub mod blobs_server;
pub mod elf;
pub mod event;
pub mod fault_proxy;
pub mod guide;
pub mod lambda;
pub mod local_site;
pub mod logged_child;
pub mod markdown;
pub mod messages;
pub mod netlify_cli;
pub mod node;
pub mod package;
pub mod site;
