//! Capability loans: its rules (pure: no web, no database).

pub mod policy;
pub mod schedule;
