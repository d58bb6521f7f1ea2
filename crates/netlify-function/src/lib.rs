//! netlify-function
