//! Who may do what in capability network: the policy behind [`crate::Action::Network`].

use crate::Principal;

/// The use cases of capability network that need a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkAction<'a> {
    /// Placeholder until the capability's use cases land (the lifetime is for places and owners).
    Reserved(std::marker::PhantomData<&'a ()>),
}

/// Whether `principal` may do `action`.
pub fn allows(principal: &Principal, action: &NetworkAction<'_>) -> bool {
    match action {
        NetworkAction::Reserved(_) => principal.role.is_staff(),
    }
}
