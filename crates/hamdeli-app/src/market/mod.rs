//! Capability market: its use cases (authorise, transaction, store, audit, commit).
