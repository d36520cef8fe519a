use serde::{Deserialize, Serialize};

/// The roles of DESIGN.md §2 that sign in. Buyers and the public use public pages only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    NationalAdmin,
    ProvincialOfficer,
    CountyExpert,
    PartnerOrg,
    Donor,
    Producer,
    Volunteer,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::NationalAdmin,
        Role::ProvincialOfficer,
        Role::CountyExpert,
        Role::PartnerOrg,
        Role::Donor,
        Role::Producer,
        Role::Volunteer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::NationalAdmin => "national_admin",
            Role::ProvincialOfficer => "provincial_officer",
            Role::CountyExpert => "county_expert",
            Role::PartnerOrg => "partner_org",
            Role::Donor => "donor",
            Role::Producer => "producer",
            Role::Volunteer => "volunteer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The kind of scope a user of this role must be given.
    pub fn scope_kind(self) -> ScopeKind {
        match self {
            Role::NationalAdmin => ScopeKind::Country,
            Role::ProvincialOfficer => ScopeKind::Province,
            Role::CountyExpert => ScopeKind::County,
            Role::PartnerOrg => ScopeKind::Organisation,
            Role::Donor | Role::Producer | Role::Volunteer => ScopeKind::Own,
        }
    }

    /// Staff roles work with the registry; the others see only their own things.
    pub fn is_staff(self) -> bool {
        matches!(
            self,
            Role::NationalAdmin | Role::ProvincialOfficer | Role::CountyExpert | Role::PartnerOrg
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Country,
    Province,
    County,
    Organisation,
    Own,
}

/// What part of the data a user (or API key) may see.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    Country,
    Province { province: String },
    County { province: String, county: String },
    Organisation { organisation: i64 },
    Own,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("scope.province_required")]
    ProvinceRequired,
    #[error("scope.county_required")]
    CountyRequired,
    #[error("scope.organisation_required")]
    OrganisationRequired,
}

impl ScopeError {
    /// Message id in the Fluent catalogs.
    pub fn code(&self) -> &'static str {
        match self {
            ScopeError::ProvinceRequired => "scope-province-required",
            ScopeError::CountyRequired => "scope-county-required",
            ScopeError::OrganisationRequired => "scope-organisation-required",
        }
    }
}

impl Scope {
    /// Builds the scope a role needs from the optional pieces a form or a row gives,
    /// ignoring the pieces the role does not use.
    pub fn for_role(
        role: Role,
        province: Option<&str>,
        county: Option<&str>,
        organisation: Option<i64>,
    ) -> Result<Scope, ScopeError> {
        let nonempty =
            |s: Option<&str>| s.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        match role.scope_kind() {
            ScopeKind::Country => Ok(Scope::Country),
            ScopeKind::Own => Ok(Scope::Own),
            ScopeKind::Province => Ok(Scope::Province {
                province: nonempty(province).ok_or(ScopeError::ProvinceRequired)?,
            }),
            // The county is what a form asks for; its province usually follows from it.
            ScopeKind::County => {
                let county = nonempty(county).ok_or(ScopeError::CountyRequired)?;
                let province = nonempty(province).ok_or(ScopeError::ProvinceRequired)?;
                Ok(Scope::County { province, county })
            }
            ScopeKind::Organisation => Ok(Scope::Organisation {
                organisation: organisation.ok_or(ScopeError::OrganisationRequired)?,
            }),
        }
    }

    pub fn province(&self) -> Option<&str> {
        match self {
            Scope::Province { province } | Scope::County { province, .. } => Some(province),
            _ => None,
        }
    }

    pub fn county(&self) -> Option<&str> {
        match self {
            Scope::County { county, .. } => Some(county),
            _ => None,
        }
    }

    pub fn organisation(&self) -> Option<i64> {
        match self {
            Scope::Organisation { organisation } => Some(*organisation),
            _ => None,
        }
    }

    /// A short machine-readable label, as written in the audit log.
    pub fn label(&self) -> String {
        match self {
            Scope::Country => "country".into(),
            Scope::Province { province } => format!("province:{province}"),
            Scope::County { county, .. } => format!("county:{county}"),
            Scope::Organisation { organisation } => format!("org:{organisation}"),
            Scope::Own => "own".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn scope_for_role_requires_the_pieces_the_role_needs() {
        assert_eq!(
            Scope::for_role(Role::CountyExpert, Some("23"), None, None),
            Err(ScopeError::CountyRequired)
        );
        assert_eq!(
            Scope::for_role(Role::CountyExpert, None, None, None),
            Err(ScopeError::CountyRequired)
        );
        assert_eq!(
            Scope::for_role(Role::ProvincialOfficer, Some("  "), None, None),
            Err(ScopeError::ProvinceRequired)
        );
        assert_eq!(
            Scope::for_role(Role::NationalAdmin, Some("23"), Some("2301"), Some(4)),
            Ok(Scope::Country)
        );
        assert_eq!(
            Scope::for_role(Role::PartnerOrg, None, None, Some(4)),
            Ok(Scope::Organisation { organisation: 4 })
        );
    }
}
