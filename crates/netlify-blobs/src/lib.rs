//! netlify-blobs
