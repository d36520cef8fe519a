//! Capability market, end to end.
