//! Who may do what in capability loans: the policy behind [`crate::Action::Loan`].
//!
//! Offices work inside their place (the national admin everywhere, a provincial officer in its
//! province, a county expert in its county); deciding (approval, contract, disbursement,
//! deferrals, bulk deferrals) is the national admin's and the provincial officer's. A partner
//! organisation enters applications and reads only the loans it originated. A producer applies
//! for herself and reads her own loans and schedules.

use crate::{Place, Principal, Role, Scope};

/// The use cases of capability loans that need a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoanAction<'a> {
    /// List and open loans, cooperatives and schedules (rows limited by [`loan_scope`]).
    View,
    /// Register a cooperative filed under this place, edit it and its members, import a list.
    ManageCooperative(&'a Place),
    /// Define and change loan products (the national office).
    ManageProducts,
    /// Apply for a loan for oneself (a producer with a home business).
    ApplyOwn,
    /// Enter an application for an applicant of this place (an office of the place, or a
    /// partner organisation, which then originated it).
    EnterApplication(&'a Place),
    /// Comment on an application or loan of this place (reviewers).
    Comment(&'a Place),
    /// Approve or reject an application, sign its contract, disburse it, decide a deferral.
    Decide(&'a Place),
    /// Record a repayment of a loan of this place.
    RecordRepayment(&'a Place),
    /// Upload a bank statement (matched only against the loans the principal reads).
    ImportStatement,
    /// Ask for a deferral of a loan (the borrower herself, or an office for her).
    RequestDeferral,
    /// Preview and commit a deferral of every matching loan of an area.
    BulkDeferral(&'a Place),
    /// The portfolio and the delinquency call lists.
    ViewPortfolio,
}

/// The loans a principal reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoanScope {
    All,
    Province(String),
    County(String),
    /// Loans this partner organisation originated.
    Organisation(i64),
    /// Loans this user applied for herself.
    Applicant(i64),
    Nothing,
}

/// The rows of loans (and cooperatives) the principal reads.
pub fn loan_scope(p: &Principal) -> LoanScope {
    match (&p.scope, p.role) {
        (Scope::Country, _) => LoanScope::All,
        (Scope::Province { province }, _) => LoanScope::Province(province.clone()),
        (Scope::County { county, .. }, _) => LoanScope::County(county.clone()),
        (Scope::Organisation { organisation }, _) => LoanScope::Organisation(*organisation),
        (Scope::Own, Role::Producer) => match p.user_id {
            Some(u) => LoanScope::Applicant(u),
            None => LoanScope::Nothing,
        },
        (Scope::Own, _) => LoanScope::Nothing,
    }
}

fn is_office(p: &Principal) -> bool {
    matches!(
        p.role,
        Role::NationalAdmin | Role::ProvincialOfficer | Role::CountyExpert
    )
}

/// The place is inside the principal's office scope.
fn office_sees(p: &Principal, place: &Place) -> bool {
    match &p.scope {
        Scope::Country => p.role == Role::NationalAdmin,
        Scope::Province { province } => {
            p.role == Role::ProvincialOfficer && *province == place.province
        }
        Scope::County { province, county } => {
            p.role == Role::CountyExpert
                && *province == place.province
                && place.county.as_deref() == Some(county.as_str())
        }
        _ => false,
    }
}

fn decides(p: &Principal, place: &Place) -> bool {
    matches!(p.role, Role::NationalAdmin | Role::ProvincialOfficer) && office_sees(p, place)
}

/// Whether `principal` may do `action`.
pub fn allows(principal: &Principal, action: &LoanAction<'_>) -> bool {
    let p = principal;
    match action {
        LoanAction::View => !matches!(loan_scope(p), LoanScope::Nothing),
        LoanAction::ManageCooperative(place) => office_sees(p, place) || p.role == Role::PartnerOrg,
        LoanAction::ManageProducts => p.role == Role::NationalAdmin,
        LoanAction::ApplyOwn => p.role == Role::Producer && p.user_id.is_some(),
        LoanAction::EnterApplication(place) => office_sees(p, place) || p.role == Role::PartnerOrg,
        LoanAction::Comment(place) | LoanAction::RecordRepayment(place) => office_sees(p, place),
        LoanAction::Decide(place) | LoanAction::BulkDeferral(place) => decides(p, place),
        LoanAction::ImportStatement => {
            matches!(p.role, Role::NationalAdmin | Role::ProvincialOfficer)
        }
        LoanAction::RequestDeferral => is_office(p) || p.role == Role::Producer,
        LoanAction::ViewPortfolio => is_office(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr(role: Role, scope: Scope) -> Principal {
        Principal {
            user_id: Some(7),
            api_key_id: None,
            name: "t".into(),
            role,
            scope,
        }
    }

    #[test]
    fn offices_decide_in_their_place_only() {
        let tehran = Place {
            province: "23".into(),
            county: Some("2301".into()),
        };
        let other = Place {
            province: "07".into(),
            county: Some("0701".into()),
        };
        let officer = pr(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "23".into(),
            },
        );
        let expert = pr(
            Role::CountyExpert,
            Scope::County {
                province: "23".into(),
                county: "2301".into(),
            },
        );
        let admin = pr(Role::NationalAdmin, Scope::Country);
        let partner = pr(Role::PartnerOrg, Scope::Organisation { organisation: 3 });
        let producer = pr(Role::Producer, Scope::Own);
        assert!(allows(&officer, &LoanAction::Decide(&tehran)));
        assert!(!allows(&officer, &LoanAction::Decide(&other)));
        assert!(!allows(&expert, &LoanAction::Decide(&tehran)));
        assert!(allows(&expert, &LoanAction::RecordRepayment(&tehran)));
        assert!(!allows(&expert, &LoanAction::RecordRepayment(&other)));
        assert!(allows(&admin, &LoanAction::BulkDeferral(&other)));
        assert!(!allows(&partner, &LoanAction::Decide(&tehran)));
        assert!(allows(&partner, &LoanAction::EnterApplication(&tehran)));
        assert!(allows(&producer, &LoanAction::ApplyOwn));
        assert!(!allows(&producer, &LoanAction::ViewPortfolio));
        assert_eq!(loan_scope(&partner), LoanScope::Organisation(3));
        assert_eq!(loan_scope(&producer), LoanScope::Applicant(7));
        assert_eq!(loan_scope(&pr(Role::Donor, Scope::Own)), LoanScope::Nothing);
        assert!(!allows(&pr(Role::Donor, Scope::Own), &LoanAction::View));
    }
}
