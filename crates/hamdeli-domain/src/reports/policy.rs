//! Who may do what in capability reports: the policy behind [`crate::Action::Report`].
//!
//! Reports are the offices' business: the national office defines data sets, accepts, returns
//! and reopens reports, reminds late reporters and sets the need index; a provincial office
//! fills its province's reports, approves (or returns) its counties' and its own; a county
//! office fills its county's. Partners, donors, producers and volunteers have no part in them
//! (the need index's ranking is public).

use crate::{Place, Principal, Role, Scope};

/// The use cases of capability reports that need a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportAction<'a> {
    /// The reports dashboard, completeness and the reports of the principal's places.
    View,
    /// Define a data set or a new version of one.
    DefineDataSets,
    /// Fill, save and submit the report of this place (a province, or a county of it).
    Enter(&'a Place),
    /// Approve a submitted report of this place, or return it before approval.
    Approve(&'a Place),
    /// Accept an approved report, return it after approval, reopen an accepted one.
    Accept,
    /// Send in-app reminders to late reporters.
    Remind,
    /// The need index's indicators and weights, imported indicator values, refreshed figures.
    ConfigureIndex,
}

fn office(p: &Principal) -> bool {
    matches!(
        p.role,
        Role::NationalAdmin | Role::ProvincialOfficer | Role::CountyExpert
    )
}

/// Whether `principal` may do `action`.
pub fn allows(principal: &Principal, action: &ReportAction<'_>) -> bool {
    let national = principal.role == Role::NationalAdmin;
    match action {
        ReportAction::View => office(principal),
        ReportAction::DefineDataSets
        | ReportAction::Accept
        | ReportAction::Remind
        | ReportAction::ConfigureIndex => national,
        ReportAction::Enter(place) => match (&principal.role, &principal.scope) {
            (Role::NationalAdmin, _) => true,
            (Role::ProvincialOfficer, Scope::Province { province }) => *province == place.province,
            (Role::CountyExpert, Scope::County { province, county }) => {
                *province == place.province && place.county.as_deref() == Some(county.as_str())
            }
            _ => false,
        },
        ReportAction::Approve(place) => match (&principal.role, &principal.scope) {
            (Role::NationalAdmin, _) => true,
            (Role::ProvincialOfficer, Scope::Province { province }) => *province == place.province,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: Role, scope: Scope) -> Principal {
        Principal {
            user_id: Some(1),
            api_key_id: None,
            name: "t".into(),
            role,
            scope,
        }
    }

    #[test]
    fn offices_enter_their_own_places_and_the_province_approves() {
        let officer = p(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "23".into(),
            },
        );
        let expert = p(
            Role::CountyExpert,
            Scope::County {
                province: "23".into(),
                county: "2301".into(),
            },
        );
        let home_county = Place::county("23", "2301");
        let province = Place::province("23");
        let away = Place::province("07");
        assert!(allows(&officer, &ReportAction::Enter(&province)));
        assert!(allows(&officer, &ReportAction::Enter(&home_county)));
        assert!(allows(&officer, &ReportAction::Approve(&home_county)));
        assert!(!allows(&officer, &ReportAction::Enter(&away)));
        assert!(!allows(&officer, &ReportAction::Accept));
        assert!(allows(&expert, &ReportAction::Enter(&home_county)));
        assert!(!allows(&expert, &ReportAction::Enter(&province)));
        assert!(!allows(
            &expert,
            &ReportAction::Enter(&Place::county("23", "2302"))
        ));
        assert!(!allows(&expert, &ReportAction::Approve(&home_county)));
        let admin = p(Role::NationalAdmin, Scope::Country);
        for a in [
            ReportAction::Accept,
            ReportAction::DefineDataSets,
            ReportAction::Remind,
            ReportAction::ConfigureIndex,
            ReportAction::Enter(&away),
        ] {
            assert!(allows(&admin, &a));
            assert!(!allows(&officer, &a) || matches!(a, ReportAction::Enter(_)));
        }
        let partner = p(Role::PartnerOrg, Scope::Organisation { organisation: 1 });
        assert!(!allows(&partner, &ReportAction::View));
        assert!(!allows(&p(Role::Donor, Scope::Own), &ReportAction::View));
    }
}
