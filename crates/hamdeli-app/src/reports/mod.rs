//! Capability reports: its use cases (authorise, transaction, store, audit, commit).

/// The rows of `docs/access.md` for capability reports.
pub(crate) const DOC_USE_CASES: &[crate::policy_doc::UseCase] = &[];
