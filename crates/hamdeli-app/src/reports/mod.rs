//! Capability reports: its use cases (authorise, transaction, store, audit, commit).
