//! Capability reports: its rules (pure: no web, no database).

pub mod policy;
