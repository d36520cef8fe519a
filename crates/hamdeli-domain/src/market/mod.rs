//! Capability market: its rules (pure: no web, no database).
