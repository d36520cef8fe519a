//! Capability loans: its use cases (authorise, transaction, store, audit, commit).

/// The rows of `docs/access.md` for capability loans.
pub(crate) const DOC_USE_CASES: &[crate::policy_doc::UseCase] = &[];
