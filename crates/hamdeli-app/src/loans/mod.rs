//! Capability loans: its use cases (authorise, transaction, store, audit, commit).
