//! What Notion refuses before it touches any data: the shape of a request
//! body per endpoint and version, filters, colors and links. Each rule cites
//! its source in tests/js/fixtures/README.md, and has a fidelity test in
//! tests/js/.

pub(crate) mod body;
pub(crate) mod colors;
pub(crate) mod conditions;
pub(crate) mod filter;
pub(crate) mod links;
