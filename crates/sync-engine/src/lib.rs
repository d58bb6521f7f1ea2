//! sync-engine
