//! A capable woman's consent: who may see her profile. She chooses it, changes it or withdraws
//! it at any time; every change is kept (the history is the store's; the rules are here).

use crate::{Principal, Role, Scope};

/// How far her profile may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consent {
    /// Only the office of her province (its provincial officer and its county experts).
    Office,
    /// Every women and family affairs office (every province and the national office).
    AllOffices,
    /// Every office, and a public card (name, field, skills, province; never her contact) in
    /// the public directory.
    Public,
    /// Withdrawn: nobody sees the profile; it is kept only with its history.
    Withdrawn,
}

impl Consent {
    pub const ALL: [Consent; 4] = [
        Consent::Office,
        Consent::AllOffices,
        Consent::Public,
        Consent::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Consent::Office => "office",
            Consent::AllOffices => "all_offices",
            Consent::Public => "public",
            Consent::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Consent> {
        Consent::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether her profile is on the public directory.
    pub fn public_card(self) -> bool {
        self == Consent::Public
    }

    /// Whether this principal may read the profile of a woman of `province` with this consent.
    /// Partners, donors, producers and volunteers never read profiles (the public card is for
    /// everyone).
    pub fn visible_to(self, principal: &Principal, province: &str) -> bool {
        let office = matches!(
            principal.role,
            Role::NationalAdmin | Role::ProvincialOfficer | Role::CountyExpert
        );
        if !office {
            return false;
        }
        match self {
            Consent::Withdrawn => false,
            Consent::AllOffices | Consent::Public => true,
            Consent::Office => match &principal.scope {
                Scope::Province { province: p } | Scope::County { province: p, .. } => {
                    p == province
                }
                _ => false,
            },
        }
    }
}

/// Why a consent change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentError {
    /// The same level as now: nothing to record.
    Unchanged,
}

/// Checks a change from `from` to `to`; every accepted change is written to the history.
pub fn change(from: Consent, to: Consent) -> Result<Consent, ConsentError> {
    if from == to {
        Err(ConsentError::Unchanged)
    } else {
        Ok(to)
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
    fn office_consent_stays_in_her_province() {
        let tehran_officer = p(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "23".into(),
            },
        );
        let tehran_expert = p(
            Role::CountyExpert,
            Scope::County {
                province: "23".into(),
                county: "2301".into(),
            },
        );
        let isfahan_officer = p(
            Role::ProvincialOfficer,
            Scope::Province {
                province: "10".into(),
            },
        );
        let admin = p(Role::NationalAdmin, Scope::Country);
        assert!(Consent::Office.visible_to(&tehran_officer, "23"));
        assert!(Consent::Office.visible_to(&tehran_expert, "23"));
        assert!(!Consent::Office.visible_to(&isfahan_officer, "23"));
        assert!(!Consent::Office.visible_to(&admin, "23"));
        assert!(Consent::AllOffices.visible_to(&isfahan_officer, "23"));
        assert!(Consent::AllOffices.visible_to(&admin, "23"));
        assert!(Consent::Public.visible_to(&admin, "23"));
        assert!(!Consent::Withdrawn.visible_to(&tehran_officer, "23"));
    }

    #[test]
    fn nobody_but_offices_reads_profiles_and_withdrawn_is_hidden_from_all() {
        let partner = p(Role::PartnerOrg, Scope::Organisation { organisation: 1 });
        let volunteer = p(Role::Volunteer, Scope::Own);
        let admin = p(Role::NationalAdmin, Scope::Country);
        for c in Consent::ALL {
            assert!(!c.visible_to(&partner, "23"));
            assert!(!c.visible_to(&volunteer, "23"));
        }
        assert!(!Consent::Withdrawn.visible_to(&admin, "23"));
        assert!(Consent::Public.public_card());
        assert!(!Consent::AllOffices.public_card());
    }

    #[test]
    fn changes_must_change_and_names_round_trip() {
        assert_eq!(
            change(Consent::Public, Consent::Withdrawn),
            Ok(Consent::Withdrawn)
        );
        assert_eq!(
            change(Consent::Office, Consent::Office),
            Err(ConsentError::Unchanged)
        );
        for c in Consent::ALL {
            assert_eq!(Consent::parse(c.as_str()), Some(c));
        }
        assert_eq!(Consent::parse("everyone"), None);
    }
}
