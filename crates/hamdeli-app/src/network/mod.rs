//! Capability network: its use cases (authorise, transaction, store, audit, commit).
