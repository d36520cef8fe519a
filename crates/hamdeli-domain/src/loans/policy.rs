//! Who may do what in capability loans: the policy behind [`crate::Action::Loan`].

use crate::Principal;

/// The use cases of capability loans that need a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoanAction<'a> {
    /// Placeholder until the capability's use cases land (the lifetime is for places and owners).
    Reserved(std::marker::PhantomData<&'a ()>),
}

/// Whether `principal` may do `action`.
pub fn allows(principal: &Principal, action: &LoanAction<'_>) -> bool {
    match action {
        LoanAction::Reserved(_) => principal.role.is_staff(),
    }
}
