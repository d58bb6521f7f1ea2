//! sync-core
