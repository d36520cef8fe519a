//! Registry services (capability A) over the ingest and storage crates: what the CLI and the
//! web pages both call.

pub mod import;
pub mod linkage;
pub mod search;
