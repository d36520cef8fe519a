//! Who may do what in capability reports: the policy behind [`crate::Action::Report`].

use crate::Principal;

/// The use cases of capability reports that need a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportAction<'a> {
    /// Placeholder until the capability's use cases land (the lifetime is for places and owners).
    Reserved(std::marker::PhantomData<&'a ()>),
}

/// Whether `principal` may do `action`.
pub fn allows(principal: &Principal, action: &ReportAction<'_>) -> bool {
    match action {
        ReportAction::Reserved(_) => principal.role.is_staff(),
    }
}
