//! Starts the real parts a test needs: the Notion emulator, the official
//! Netlify Blobs server, and function binaries behind a Lambda Runtime API,
//! each on a free port, each stopped when its handle is dropped.
pub mod app;
pub mod blobs_server;
pub mod event;
pub mod fault_proxy;
pub mod lambda;
