//! Capability reports, end to end.
