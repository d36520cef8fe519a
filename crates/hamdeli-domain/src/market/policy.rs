//! Who may do what in capability market: the policy behind [`crate::Action::Market`].
//!
//! Buyers are anonymous guests: browsing, ordering and following an order (with its code and
//! the buyer's mobile) need no principal and are not in this policy.

use crate::{Principal, Role, Scope};

/// The use cases of capability market that need a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketAction<'a> {
    /// Open her own shop (a producer signed in without one).
    OpenShop,
    /// Edit her shop, list products, take and ship orders, read her balance: the shop's owner
    /// (its user id), or the national admin.
    ManageShop { owner_user: i64 },
    /// Check a producer's certificate, link her to her registry person: the provincial officer
    /// of the shop's province, or the national admin.
    CheckProducer { province: &'a str },
    /// Sales statistics by province, category and month (a provincial officer: her province's
    /// rows; the national admin: all).
    ViewSales,
    /// Mark producers' payouts paid with a bank reference, set the commission, issue feed keys.
    ManagePayments,
    /// Post a bulk production order (masks and gowns) and accept delivered pieces: the offices
    /// and partner organisations.
    PostBulkOrder,
    /// Take part of a bulk production order: a producer.
    TakeBulkOrder,
}

/// Whether `principal` may do `action`.
pub fn allows(principal: &Principal, action: &MarketAction<'_>) -> bool {
    match action {
        MarketAction::OpenShop | MarketAction::TakeBulkOrder => principal.role == Role::Producer,
        MarketAction::ManageShop { owner_user } => match principal.role {
            Role::Producer => principal.user_id == Some(*owner_user),
            Role::NationalAdmin => true,
            _ => false,
        },
        MarketAction::CheckProducer { province } => match (&principal.role, &principal.scope) {
            (Role::NationalAdmin, _) => true,
            (Role::ProvincialOfficer, Scope::Province { province: own }) => own == province,
            _ => false,
        },
        MarketAction::ViewSales => matches!(
            principal.role,
            Role::NationalAdmin | Role::ProvincialOfficer
        ),
        MarketAction::ManagePayments => principal.role == Role::NationalAdmin,
        MarketAction::PostBulkOrder => matches!(
            principal.role,
            Role::NationalAdmin | Role::ProvincialOfficer | Role::PartnerOrg
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: Role, scope: Scope, user: i64) -> Principal {
        Principal {
            user_id: Some(user),
            api_key_id: None,
            name: "t".into(),
            role,
            scope,
        }
    }

    #[test]
    fn a_producer_manages_only_her_own_shop() {
        let her = p(Role::Producer, Scope::Own, 7);
        assert!(allows(&her, &MarketAction::ManageShop { owner_user: 7 }));
        assert!(!allows(&her, &MarketAction::ManageShop { owner_user: 8 }));
        assert!(allows(&her, &MarketAction::OpenShop));
        assert!(!allows(&her, &MarketAction::ViewSales));
        assert!(!allows(
            &her,
            &MarketAction::CheckProducer { province: "23" }
        ));
        let donor = p(Role::Donor, Scope::Own, 7);
        assert!(!allows(&donor, &MarketAction::ManageShop { owner_user: 7 }));
        assert!(!allows(&donor, &MarketAction::OpenShop));
    }

    #[test]
    fn an_officer_checks_her_own_province_only() {
        let officer = p(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "23".into(),
            },
            1,
        );
        assert!(allows(
            &officer,
            &MarketAction::CheckProducer { province: "23" }
        ));
        assert!(!allows(
            &officer,
            &MarketAction::CheckProducer { province: "07" }
        ));
        assert!(!allows(
            &officer,
            &MarketAction::ManageShop { owner_user: 1 }
        ));
        assert!(!allows(&officer, &MarketAction::ManagePayments));
        let expert = p(
            Role::CountyExpert,
            Scope::County {
                province: "23".into(),
                county: "2301".into(),
            },
            2,
        );
        assert!(!allows(
            &expert,
            &MarketAction::CheckProducer { province: "23" }
        ));
        let admin = p(Role::NationalAdmin, Scope::Country, 3);
        assert!(allows(
            &admin,
            &MarketAction::CheckProducer { province: "07" }
        ));
        assert!(allows(&admin, &MarketAction::ManagePayments));
    }
}
