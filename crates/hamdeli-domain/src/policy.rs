//! The one access policy. Pages and API handlers ask [`Principal::authorize`] before they act,
//! and queries over scoped data take their WHERE clause from [`Principal::place_filter`], so a
//! county expert never sees another county's records, a provincial officer another province's,
//! a partner organisation another organisation's.

use crate::{Place, Role, Scope};

/// Who is acting: a signed-in user or a partner's API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Option<i64>,
    pub api_key_id: Option<i64>,
    pub name: String,
    pub role: Role,
    pub scope: Scope,
}

/// What the principal wants to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    /// The staff dashboard with counts inside the principal's scope.
    ViewDashboard,
    /// A province's or a county's page and the records filed under it.
    ViewPlace(&'a Place),
    /// An organisation's page (its uploaded lists and aid come with the registry).
    ViewOrganisation(i64),
    /// List users and open the admin pages.
    ManageUsers,
    /// Open, change, reset or deactivate an existing user who has this role and scope.
    ManageUser(Role, &'a Scope),
    /// Create or change a user with this role and scope.
    AssignRole(Role, &'a Scope),
    /// Read the audit log.
    ReadAudit,
    /// Issue or revoke API keys for an organisation.
    ManageApiKeys(i64),
    /// Import a list on behalf of an organisation, and read its import reports.
    ImportList(i64),
    /// Search the registry and open person pages (rows limited by `place_filter`).
    SearchRegistry,
    /// Decide linkage reviews: merge, separate, split a person.
    ReviewLinks,
    /// The coverage report and outreach lists of the principal's places.
    ViewCoverage,
    /// Record, verify and close needs, read need tables and needs identity cards, record
    /// deliveries (rows limited by `place_filter`).
    ManageNeeds,
    /// Edit the need types and the priority weights (the national office).
    ConfigureNeeds,
    /// Start a campaign (an office or a partner organisation).
    CreateCampaign,
    /// Record receipts of a campaign's pledges and allocate what it received.
    ManageCampaign(&'a CampaignOwner),
    /// Pledge to a campaign (a donor).
    Pledge,
    /// Create, edit, deactivate an organisation of this kind filed under this province (`None`:
    /// national), and its support programmes: the national admin any; a provincial officer the
    /// charities and NGOs of its own province.
    ManageOrganisation {
        kind: &'a str,
        province: Option<&'a str>,
    },
    /// Register a person or a household by hand into this county (the office's own "manual
    /// entry" list), and edit what was entered: the offices of the place (the national admin,
    /// the provincial officer of its province, the county expert of the county).
    EnterPerson(&'a Place),
    /// Import a `survey` list of the office into this county: the offices of the place, as
    /// [`Action::EnterPerson`] (a county expert imports its own surveys, never another
    /// organisation's list).
    ImportSurvey(&'a Place),
    /// The market (capability D): `crate::market::policy`.
    Market(crate::market::policy::MarketAction<'a>),
    /// Cooperatives and loans (capability E): `crate::loans::policy`.
    Loan(crate::loans::policy::LoanAction<'a>),
    /// Capable women, volunteers, centres and NGOs (capability F): `crate::network::policy`.
    Network(crate::network::policy::NetworkAction<'a>),
    /// Provincial reports, the dashboard and the need index (capability G): `crate::reports::policy`.
    Report(crate::reports::policy::ReportAction<'a>),
}

/// The kinds of organisation a provincial officer registers in its province.
pub const PROVINCIAL_ORGANISATION_KINDS: [&str; 2] = ["charity", "ngo"];

/// Who runs a campaign: the office of a province (or the national office when `None`), or a
/// partner organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignOwner {
    pub province: Option<String>,
    pub organisation: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("access denied")]
pub struct Denied;

/// The rows of scoped tables a principal may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceFilter {
    All,
    Province(String),
    County(String),
    Organisation(i64),
    Nothing,
}

impl Principal {
    pub fn authorize(&self, action: Action<'_>) -> Result<(), Denied> {
        if self.allows(&action) {
            Ok(())
        } else {
            Err(Denied)
        }
    }

    pub fn allows(&self, action: &Action<'_>) -> bool {
        match action {
            Action::Market(a) => crate::market::policy::allows(self, a),
            Action::Loan(a) => crate::loans::policy::allows(self, a),
            Action::Network(a) => crate::network::policy::allows(self, a),
            Action::Report(a) => crate::reports::policy::allows(self, a),
            Action::ViewDashboard => self.role.is_staff(),
            Action::ViewPlace(place) => self.sees_place(place),
            // Office staff of any place work with every organisation; a partner with its own.
            Action::ViewOrganisation(org) => match &self.scope {
                Scope::Country | Scope::Province { .. } | Scope::County { .. } => true,
                Scope::Organisation { organisation } => organisation == org,
                Scope::Own => false,
            },
            Action::ManageUsers => {
                matches!(self.role, Role::NationalAdmin | Role::ProvincialOfficer)
            }
            // A provincial officer manages the county experts of the province, never another
            // officer (of the same province or not) nor anyone above.
            Action::ManageUser(role, scope) => match self.role {
                Role::NationalAdmin => true,
                Role::ProvincialOfficer => {
                    *role == Role::CountyExpert
                        && scope.province().is_some()
                        && scope.province() == self.scope.province()
                }
                _ => false,
            },
            Action::AssignRole(role, scope) => self.may_assign(*role, scope),
            Action::ReadAudit => self.role == Role::NationalAdmin,
            Action::SearchRegistry => self.role.is_staff(),
            Action::ReviewLinks | Action::ViewCoverage => matches!(
                self.role,
                Role::NationalAdmin | Role::ProvincialOfficer | Role::CountyExpert
            ),
            Action::ManageNeeds => matches!(
                self.role,
                Role::NationalAdmin | Role::ProvincialOfficer | Role::CountyExpert
            ),
            Action::ConfigureNeeds => self.role == Role::NationalAdmin,
            Action::CreateCampaign => matches!(
                self.role,
                Role::NationalAdmin | Role::ProvincialOfficer | Role::PartnerOrg
            ),
            Action::ManageCampaign(owner) => match self.role {
                Role::NationalAdmin => true,
                Role::ProvincialOfficer => {
                    owner.organisation.is_none()
                        && owner.province.is_some()
                        && owner.province.as_deref() == self.scope.province()
                }
                Role::PartnerOrg => {
                    owner.organisation.is_some() && owner.organisation == self.scope.organisation()
                }
                _ => false,
            },
            Action::Pledge => self.role == Role::Donor,
            Action::ManageOrganisation { kind, province } => match self.role {
                Role::NationalAdmin => true,
                Role::ProvincialOfficer => {
                    PROVINCIAL_ORGANISATION_KINDS.contains(kind)
                        && province.is_some()
                        && *province == self.scope.province()
                }
                _ => false,
            },
            Action::EnterPerson(place) | Action::ImportSurvey(place) => {
                matches!(
                    self.role,
                    Role::NationalAdmin | Role::ProvincialOfficer | Role::CountyExpert
                ) && place.county.is_some()
                    && self.sees_place(place)
            }
            Action::ImportList(org) | Action::ManageApiKeys(org) => match self.role {
                Role::NationalAdmin => true,
                Role::PartnerOrg => self.scope.organisation() == Some(*org),
                _ => false,
            },
        }
    }

    fn sees_place(&self, place: &Place) -> bool {
        match &self.scope {
            Scope::Country => true,
            Scope::Province { province } => *province == place.province,
            Scope::County { province, county } => {
                *province == place.province && place.county.as_deref() == Some(county.as_str())
            }
            Scope::Organisation { .. } | Scope::Own => false,
        }
    }

    /// National admins assign anything; a provincial officer may only create county experts
    /// inside the own province.
    fn may_assign(&self, role: Role, scope: &Scope) -> bool {
        match self.role {
            Role::NationalAdmin => true,
            Role::ProvincialOfficer => {
                role == Role::CountyExpert && scope.province() == self.scope.province()
            }
            _ => false,
        }
    }

    pub fn place_filter(&self) -> PlaceFilter {
        match &self.scope {
            Scope::Country => PlaceFilter::All,
            Scope::Province { province } => PlaceFilter::Province(province.clone()),
            Scope::County { county, .. } => PlaceFilter::County(county.clone()),
            Scope::Organisation { organisation } => PlaceFilter::Organisation(*organisation),
            Scope::Own => PlaceFilter::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, scope: Scope) -> Principal {
        Principal {
            user_id: Some(1),
            api_key_id: None,
            name: "t".into(),
            role,
            scope,
        }
    }

    fn county_expert() -> Principal {
        principal(
            Role::CountyExpert,
            Scope::County {
                province: "23".into(),
                county: "2301".into(),
            },
        )
    }

    #[test]
    fn county_expert_sees_only_own_county() {
        let p = county_expert();
        assert!(p.allows(&Action::ViewPlace(&Place::county("23", "2301"))));
        assert!(!p.allows(&Action::ViewPlace(&Place::county("23", "2302"))));
        assert!(!p.allows(&Action::ViewPlace(&Place::province("23"))));
        assert!(!p.allows(&Action::ViewPlace(&Place::county("07", "2301"))));
        assert_eq!(p.place_filter(), PlaceFilter::County("2301".into()));
    }

    #[test]
    fn offices_review_links_and_partners_only_search_their_own() {
        let partner = principal(Role::PartnerOrg, Scope::Organisation { organisation: 4 });
        assert!(partner.allows(&Action::SearchRegistry));
        assert!(!partner.allows(&Action::ReviewLinks));
        assert!(!partner.allows(&Action::ViewCoverage));
        assert_eq!(partner.place_filter(), PlaceFilter::Organisation(4));
        assert!(county_expert().allows(&Action::ReviewLinks));
        let donor = principal(Role::Donor, Scope::Own);
        assert!(!donor.allows(&Action::SearchRegistry));
        assert_eq!(donor.place_filter(), PlaceFilter::Nothing);
    }

    #[test]
    fn provincial_officer_sees_the_province_and_its_counties() {
        let p = principal(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "23".into(),
            },
        );
        assert!(p.allows(&Action::ViewPlace(&Place::province("23"))));
        assert!(p.allows(&Action::ViewPlace(&Place::county("23", "2302"))));
        assert!(!p.allows(&Action::ViewPlace(&Place::province("07"))));
        assert!(!p.allows(&Action::ReadAudit));
    }

    #[test]
    fn provincial_officer_assigns_only_county_experts_at_home() {
        let p = principal(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "23".into(),
            },
        );
        let home = Scope::County {
            province: "23".into(),
            county: "2301".into(),
        };
        let away = Scope::County {
            province: "07".into(),
            county: "0701".into(),
        };
        assert!(p.allows(&Action::AssignRole(Role::CountyExpert, &home)));
        assert!(!p.allows(&Action::AssignRole(Role::CountyExpert, &away)));
        assert!(!p.allows(&Action::AssignRole(Role::NationalAdmin, &Scope::Country)));
        assert!(p.allows(&Action::ManageUser(Role::CountyExpert, &home)));
        assert!(!p.allows(&Action::ManageUser(Role::CountyExpert, &away)));
        assert!(!p.allows(&Action::ManageUser(Role::NationalAdmin, &Scope::Country)));
        let fellow_officer = Scope::Province {
            province: "23".into(),
        };
        assert!(!p.allows(&Action::ManageUser(
            Role::ProvincialOfficer,
            &fellow_officer
        )));
    }

    #[test]
    fn partner_sees_only_its_organisation() {
        let p = principal(Role::PartnerOrg, Scope::Organisation { organisation: 3 });
        assert!(p.allows(&Action::ViewOrganisation(3)));
        assert!(!p.allows(&Action::ViewOrganisation(4)));
        assert!(!p.allows(&Action::ViewPlace(&Place::province("23"))));
        assert!(p.allows(&Action::ManageApiKeys(3)));
        assert!(p.allows(&Action::ImportList(3)));
        assert!(!p.allows(&Action::ImportList(4)));
        assert!(!p.allows(&Action::ManageApiKeys(4)));
        assert_eq!(p.place_filter(), PlaceFilter::Organisation(3));
    }

    #[test]
    fn donors_see_no_staff_pages() {
        let p = principal(Role::Donor, Scope::Own);
        assert!(!p.allows(&Action::ViewDashboard));
        assert!(!p.allows(&Action::ManageUsers));
        assert_eq!(p.place_filter(), PlaceFilter::Nothing);
    }

    #[test]
    fn organisations_are_managed_by_the_admin_and_by_officers_for_local_charities_and_ngos() {
        let manage = |kind, province| Action::ManageOrganisation { kind, province };
        let admin = principal(Role::NationalAdmin, Scope::Country);
        assert!(admin.allows(&manage("relief_committee", None)));
        assert!(admin.allows(&manage("charity", Some("07"))));
        let officer = principal(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "23".into(),
            },
        );
        assert!(officer.allows(&manage("charity", Some("23"))));
        assert!(officer.allows(&manage("ngo", Some("23"))));
        assert!(!officer.allows(&manage("charity", Some("07"))));
        assert!(!officer.allows(&manage("charity", None)));
        assert!(!officer.allows(&manage("relief_committee", Some("23"))));
        assert!(!officer.allows(&manage("welfare", Some("23"))));
        assert!(!officer.allows(&manage("office", Some("23"))));
        let partner = principal(Role::PartnerOrg, Scope::Organisation { organisation: 3 });
        assert!(!partner.allows(&manage("charity", None)));
        assert!(!partner.allows(&manage("ngo", Some("23"))));
        assert!(!county_expert().allows(&manage("charity", Some("23"))));
        assert!(!principal(Role::Donor, Scope::Own).allows(&manage("charity", Some("23"))));
    }

    #[test]
    fn offices_enter_persons_and_import_surveys_in_their_own_counties_only() {
        let home = Place::county("23", "2301");
        let other_county = Place::county("23", "2302");
        let other_province = Place::county("07", "0701");
        let expert = county_expert();
        for action in [Action::EnterPerson(&home), Action::ImportSurvey(&home)] {
            assert!(expert.allows(&action));
        }
        for place in [&other_county, &other_province] {
            assert!(!expert.allows(&Action::EnterPerson(place)));
            assert!(!expert.allows(&Action::ImportSurvey(place)));
        }
        // A place without a county is no county to enter into.
        assert!(!expert.allows(&Action::EnterPerson(&Place::province("23"))));
        // A county expert imports no organisation's list (only its surveys, above).
        assert!(!expert.allows(&Action::ImportList(1)));
        let officer = principal(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "23".into(),
            },
        );
        assert!(officer.allows(&Action::EnterPerson(&other_county)));
        assert!(officer.allows(&Action::ImportSurvey(&other_county)));
        assert!(!officer.allows(&Action::EnterPerson(&other_province)));
        let admin = principal(Role::NationalAdmin, Scope::Country);
        assert!(admin.allows(&Action::EnterPerson(&other_province)));
        let partner = principal(Role::PartnerOrg, Scope::Organisation { organisation: 3 });
        assert!(!partner.allows(&Action::EnterPerson(&home)));
        assert!(!partner.allows(&Action::ImportSurvey(&home)));
        for role in [Role::Donor, Role::Producer, Role::Volunteer] {
            assert!(!principal(role, Scope::Own).allows(&Action::EnterPerson(&home)));
        }
    }

    #[test]
    fn national_admin_sees_everything() {
        let p = principal(Role::NationalAdmin, Scope::Country);
        assert!(p.allows(&Action::ViewPlace(&Place::county("01", "0101"))));
        assert!(p.allows(&Action::ReadAudit));
        assert!(p.allows(&Action::ViewOrganisation(9)));
        assert_eq!(p.place_filter(), PlaceFilter::All);
    }
}
