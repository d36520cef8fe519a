//! Who may do what in capability market: the policy behind [`crate::Action::Market`].

use crate::Principal;

/// The use cases of capability market that need a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketAction<'a> {
    /// Placeholder until the capability's use cases land (the lifetime is for places and owners).
    Reserved(std::marker::PhantomData<&'a ()>),
}

/// Whether `principal` may do `action`.
pub fn allows(principal: &Principal, action: &MarketAction<'_>) -> bool {
    match action {
        MarketAction::Reserved(_) => principal.role.is_staff(),
    }
}
