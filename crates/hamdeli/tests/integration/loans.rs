//! Capability loans, end to end.
