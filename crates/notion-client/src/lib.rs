//! notion-client
