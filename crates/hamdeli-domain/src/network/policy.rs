//! Who may do what in capability network: the policy behind [`crate::Action::Network`].
//!
//! Offices (the national admin, a provincial officer, a county expert) work with the places
//! they see. A social emergency centre's staff are the county experts of the centre's county:
//! they open its cases, assign them and read their personal details. A volunteer sees her own
//! profile and the cases assigned to her (the use cases check the assignment). NGOs' licences
//! and lifecycle are the national admin's and the provincial officer's of the NGO's province.

use crate::{Place, Principal, Role, Scope};

/// The use cases of capability network that need a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkAction<'a> {
    /// The capability's home, counts and notices of an office.
    ViewHome,
    /// Search capable women's profiles (rows limited by consent and place in the store).
    SearchWomen,
    /// Enter or edit a capable woman's profile filed in this county, and record a consent she
    /// gave at the office.
    ManageWoman(&'a Place),
    /// Download the databank as XLSX (the national admin, a provincial officer).
    ExportWomen,
    /// List volunteers and read their profiles (offices; rows limited by place).
    ViewVolunteers,
    /// Check a volunteer of this province: verify, reject or suspend her (the provincial office).
    CheckVolunteer(&'a Place),
    /// A volunteer's own profile, her assigned cases, accepting, declining, logging sessions.
    VolunteerSelf,
    /// Register a social emergency centre in this county (the national admin, a provincial
    /// officer of the province).
    ManageCentre(&'a Place),
    /// See the centres and cases of this place without personal details (offices).
    ViewCases(&'a Place),
    /// Work as the staff of the centre in this county: open cases, ask for proposals, assign,
    /// close, read personal details (the county experts of the county).
    CentreStaff(&'a Place),
    /// Read the NGOs' licences, lifecycle and training (offices).
    ViewNgos,
    /// Change an NGO's licence, lifecycle step or training filed under this province (`None`:
    /// a national NGO, the national admin's alone).
    ManageNgo(Option<&'a str>),
    /// The capability's reports (rows of the principal's place).
    ViewReports,
}

fn office(p: &Principal) -> bool {
    matches!(
        p.role,
        Role::NationalAdmin | Role::ProvincialOfficer | Role::CountyExpert
    )
}

fn sees(p: &Principal, place: &Place) -> bool {
    match &p.scope {
        Scope::Country => true,
        Scope::Province { province } => *province == place.province,
        Scope::County { province, county } => {
            *province == place.province && place.county.as_deref() == Some(county.as_str())
        }
        Scope::Organisation { .. } | Scope::Own => false,
    }
}

/// Whether `principal` may do `action`.
pub fn allows(principal: &Principal, action: &NetworkAction<'_>) -> bool {
    let p = principal;
    match action {
        NetworkAction::ViewHome
        | NetworkAction::SearchWomen
        | NetworkAction::ViewVolunteers
        | NetworkAction::ViewNgos
        | NetworkAction::ViewReports => office(p),
        NetworkAction::ManageWoman(place) => office(p) && place.county.is_some() && sees(p, place),
        NetworkAction::ExportWomen => {
            matches!(p.role, Role::NationalAdmin | Role::ProvincialOfficer)
        }
        NetworkAction::CheckVolunteer(place) | NetworkAction::ManageCentre(place) => {
            matches!(p.role, Role::NationalAdmin | Role::ProvincialOfficer) && sees(p, place)
        }
        NetworkAction::VolunteerSelf => p.role == Role::Volunteer,
        NetworkAction::ViewCases(place) => office(p) && sees(p, place),
        NetworkAction::CentreStaff(place) => {
            p.role == Role::CountyExpert && place.county.is_some() && sees(p, place)
        }
        NetworkAction::ManageNgo(province) => match p.role {
            Role::NationalAdmin => true,
            Role::ProvincialOfficer => province.is_some() && *province == p.scope.province(),
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

    fn expert() -> Principal {
        p(
            Role::CountyExpert,
            Scope::County {
                province: "23".into(),
                county: "2301".into(),
            },
        )
    }

    #[test]
    fn only_the_county_experts_of_its_county_are_a_centres_staff() {
        let here = Place::county("23", "2301");
        let there = Place::county("23", "2302");
        assert!(allows(&expert(), &NetworkAction::CentreStaff(&here)));
        assert!(!allows(&expert(), &NetworkAction::CentreStaff(&there)));
        let officer = p(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "23".into(),
            },
        );
        let admin = p(Role::NationalAdmin, Scope::Country);
        for who in [&officer, &admin] {
            assert!(!allows(who, &NetworkAction::CentreStaff(&here)));
            assert!(allows(who, &NetworkAction::ViewCases(&here)));
            assert!(allows(who, &NetworkAction::ManageCentre(&here)));
        }
        assert!(!allows(&expert(), &NetworkAction::ManageCentre(&here)));
        assert!(allows(&expert(), &NetworkAction::ViewCases(&here)));
        assert!(!allows(&expert(), &NetworkAction::ViewCases(&there)));
    }

    #[test]
    fn volunteers_partners_and_the_public_stay_out_of_the_offices_work() {
        let volunteer = p(Role::Volunteer, Scope::Own);
        let partner = p(Role::PartnerOrg, Scope::Organisation { organisation: 3 });
        let place = Place::county("23", "2301");
        for who in [&volunteer, &partner] {
            for a in [
                NetworkAction::ViewHome,
                NetworkAction::SearchWomen,
                NetworkAction::ExportWomen,
                NetworkAction::ViewVolunteers,
                NetworkAction::ManageWoman(&place),
                NetworkAction::ViewCases(&place),
                NetworkAction::CentreStaff(&place),
                NetworkAction::ManageNgo(Some("23")),
                NetworkAction::ViewReports,
            ] {
                assert!(!allows(who, &a), "{a:?}");
            }
        }
        assert!(allows(&volunteer, &NetworkAction::VolunteerSelf));
        assert!(!allows(&partner, &NetworkAction::VolunteerSelf));
    }

    #[test]
    fn the_provincial_office_checks_its_volunteers_and_ngos() {
        let officer = p(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "23".into(),
            },
        );
        assert!(allows(
            &officer,
            &NetworkAction::CheckVolunteer(&Place::province("23"))
        ));
        assert!(!allows(
            &officer,
            &NetworkAction::CheckVolunteer(&Place::province("10"))
        ));
        assert!(!allows(
            &expert(),
            &NetworkAction::CheckVolunteer(&Place::province("23"))
        ));
        assert!(allows(&officer, &NetworkAction::ManageNgo(Some("23"))));
        assert!(!allows(&officer, &NetworkAction::ManageNgo(Some("10"))));
        assert!(!allows(&officer, &NetworkAction::ManageNgo(None)));
        assert!(allows(
            &p(Role::NationalAdmin, Scope::Country),
            &NetworkAction::ManageNgo(None)
        ));
        assert!(!allows(&expert(), &NetworkAction::ExportWomen));
        assert!(allows(
            &expert(),
            &NetworkAction::ManageWoman(&Place::county("23", "2301"))
        ));
        assert!(!allows(
            &expert(),
            &NetworkAction::ManageWoman(&Place::province("23"))
        ));
    }
}
