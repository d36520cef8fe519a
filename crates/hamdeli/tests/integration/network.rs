//! Capability network, end to end.
