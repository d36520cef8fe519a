//! `docs/access.md`, generated from the policy itself: for every role, what each use case
//! allows inside the role's scope and outside it. A test keeps the file equal to this output
//! (`HAMDELI_WRITE_DOCS=1 cargo test -p hamdeli-app` rewrites it).

use hamdeli_domain::{Action, CampaignOwner, Place, Principal, Role, Scope};

fn principal(role: Role) -> Principal {
    let scope = match role {
        Role::NationalAdmin => Scope::Country,
        Role::ProvincialOfficer => Scope::Province {
            province: "23".into(),
        },
        Role::CountyExpert => Scope::County {
            province: "23".into(),
            county: "2301".into(),
        },
        Role::PartnerOrg => Scope::Organisation { organisation: 1 },
        Role::Donor | Role::Producer | Role::Volunteer => Scope::Own,
    };
    Principal {
        user_id: Some(1),
        api_key_id: None,
        name: "doc".into(),
        role,
        scope,
    }
}

/// A use case and the two actions that stand for it inside and outside the principal's scope.
pub(crate) struct UseCase {
    pub(crate) name: &'static str,
    pub(crate) inside: fn(&Principal) -> bool,
    pub(crate) outside: fn(&Principal) -> bool,
}

pub(crate) fn own_place(p: &Principal) -> Place {
    match &p.scope {
        Scope::County { province, county } => Place::county(province, county),
        Scope::Province { province } => Place::county(province, format!("{province}01")),
        _ => Place::county("23", "2301"),
    }
}

pub(crate) fn own_org(p: &Principal) -> i64 {
    p.scope.organisation().unwrap_or(1)
}

pub(crate) fn own_campaign(p: &Principal) -> CampaignOwner {
    match p.role {
        Role::PartnerOrg => CampaignOwner {
            province: None,
            organisation: Some(own_org(p)),
        },
        _ => CampaignOwner {
            province: Some(p.scope.province().unwrap_or("23").to_owned()),
            organisation: None,
        },
    }
}

pub(crate) fn other_campaign(p: &Principal) -> CampaignOwner {
    match p.role {
        Role::PartnerOrg => CampaignOwner {
            province: None,
            organisation: Some(own_org(p) + 1),
        },
        _ => CampaignOwner {
            province: Some("07".into()),
            organisation: None,
        },
    }
}

pub(crate) fn expert_home(p: &Principal) -> Scope {
    Scope::County {
        province: p.scope.province().unwrap_or("23").to_owned(),
        county: format!("{}01", p.scope.province().unwrap_or("23")),
    }
}

pub(crate) fn expert_away() -> Scope {
    Scope::County {
        province: "07".into(),
        county: "0701".into(),
    }
}

const USE_CASES: &[UseCase] = &[
    UseCase {
        name: "search the registry, read a person (persons in scope; a partner: persons it holds a record of)",
        inside: |p| p.allows(&Action::SearchRegistry),
        outside: |_| false,
    },
    UseCase {
        name: "review queue: read, merge, separate, split (both persons in scope)",
        inside: |p| p.allows(&Action::ReviewLinks),
        outside: |_| false,
    },
    UseCase {
        name: "coverage report and outreach lists",
        inside: |p| p.allows(&Action::ViewCoverage),
        outside: |_| false,
    },
    UseCase {
        name: "a place's page",
        inside: |p| p.allows(&Action::ViewPlace(&own_place(p))),
        outside: |p| p.allows(&Action::ViewPlace(&Place::county("07", "0701"))),
    },
    UseCase {
        name: "needs: record, verify, close, needs identity card, deliveries",
        inside: |p| p.allows(&Action::ManageNeeds),
        outside: |_| false,
    },
    UseCase {
        name: "need types and priority weights",
        inside: |p| p.allows(&Action::ConfigureNeeds),
        outside: |_| false,
    },
    UseCase {
        name: "import a list for an organisation",
        inside: |p| p.allows(&Action::ImportList(own_org(p))),
        outside: |p| p.allows(&Action::ImportList(own_org(p) + 1)),
    },
    UseCase {
        name: "register a person or household by hand, edit it (the office's manual-entry list of a county)",
        inside: |p| p.allows(&Action::EnterPerson(&own_place(p))),
        outside: |p| p.allows(&Action::EnterPerson(&Place::county("07", "0701"))),
    },
    UseCase {
        name: "import a survey list of the office into a county",
        inside: |p| p.allows(&Action::ImportSurvey(&own_place(p))),
        outside: |p| p.allows(&Action::ImportSurvey(&Place::county("07", "0701"))),
    },
    UseCase {
        name: "API keys of an organisation",
        inside: |p| p.allows(&Action::ManageApiKeys(own_org(p))),
        outside: |p| p.allows(&Action::ManageApiKeys(own_org(p) + 1)),
    },
    UseCase {
        name: "start a campaign",
        inside: |p| p.allows(&Action::CreateCampaign),
        outside: |_| false,
    },
    UseCase {
        name: "run a campaign: receipts, allocation dry run and commit",
        inside: |p| p.allows(&Action::ManageCampaign(&own_campaign(p))),
        outside: |p| p.allows(&Action::ManageCampaign(&other_campaign(p))),
    },
    UseCase {
        name: "pledge to a campaign",
        inside: |p| p.allows(&Action::Pledge),
        outside: |_| false,
    },
    UseCase {
        name: "manage a county expert (open, role, password, deactivate)",
        inside: |p| p.allows(&Action::ManageUser(Role::CountyExpert, &expert_home(p))),
        outside: |p| p.allows(&Action::ManageUser(Role::CountyExpert, &expert_away())),
    },
    UseCase {
        name: "manage a provincial officer",
        inside: |p| {
            p.allows(&Action::ManageUser(
                Role::ProvincialOfficer,
                &Scope::Province {
                    province: p.scope.province().unwrap_or("23").to_owned(),
                },
            ))
        },
        outside: |p| {
            p.allows(&Action::ManageUser(
                Role::ProvincialOfficer,
                &Scope::Province {
                    province: "07".into(),
                },
            ))
        },
    },
    UseCase {
        name: "organisations: create, edit, deactivate a charity or NGO and its support programmes",
        inside: |p| {
            p.allows(&Action::ManageOrganisation {
                kind: "charity",
                province: Some(p.scope.province().unwrap_or("23")),
            })
        },
        outside: |p| {
            p.allows(&Action::ManageOrganisation {
                kind: "charity",
                province: Some("07"),
            })
        },
    },
    UseCase {
        name: "organisations: create, edit, deactivate a relief committee, welfare organisation or office (or a national one)",
        inside: |p| {
            p.allows(&Action::ManageOrganisation {
                kind: "relief_committee",
                province: Some(p.scope.province().unwrap_or("23")),
            })
        },
        outside: |p| {
            p.allows(&Action::ManageOrganisation {
                kind: "ngo",
                province: None,
            })
        },
    },
    UseCase {
        name: "read the audit log",
        inside: |p| p.allows(&Action::ReadAudit),
        outside: |_| false,
    },
];

fn mark(inside: bool, outside: bool) -> &'static str {
    match (inside, outside) {
        (true, true) => "yes",
        (true, false) => "in scope",
        (false, _) => "—",
    }
}

/// The whole of `docs/access.md`.
pub fn access_markdown() -> String {
    let mut out = String::from(
        "# Who may do what\n\n\
         Generated from the policy (`hamdeli-domain::policy`, used by every use case of `hamdeli-app`) by\n\
         `HAMDELI_WRITE_DOCS=1 cargo test -p hamdeli-app`; a test fails when this file and the policy differ.\n\n\
         \"in scope\": only inside the role's scope (its province, its county, its organisation); \"yes\":\n\
         outside it too; \"—\": never. Scopes: the national admin the country; a provincial officer one\n\
         province and its counties; a county expert one county; a partner organisation the records it\n\
         originated; donors, producers and volunteers their own things.\n\n",
    );
    out.push_str("| use case |");
    for role in Role::ALL {
        out.push_str(&format!(" {} |", role.as_str()));
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    let capabilities = [
        crate::market::DOC_USE_CASES,
        crate::loans::DOC_USE_CASES,
        crate::network::DOC_USE_CASES,
        crate::reports::DOC_USE_CASES,
    ];
    for uc in USE_CASES.iter().chain(capabilities.into_iter().flatten()) {
        out.push_str(&format!("| {} |", uc.name));
        for role in Role::ALL {
            let p = principal(role);
            out.push_str(&format!(" {} |", mark((uc.inside)(&p), (uc.outside)(&p))));
        }
        out.push('\n');
    }
    out.push_str(
        "\n## What a partner organisation reads of a person\n\n\
         A partner finds only persons it holds a record of (it originated a record that was linked to\n\
         the person). Of such a person it reads its own records in full; of another organisation's\n\
         records only that a match exists and with which organisation, unless that organisation's\n\
         data-sharing rule towards it is \"full\" (a setting per pair of organisations, set by the\n\
         national admin; the default is \"match only\"). Its view of the person (name, birth date,\n\
         phone …) is built from the records it may read; the household is not shown to it. Importing\n\
         a list with someone's national code gives it a record of its own, never the others' data.\n\n\
         A partner's campaign allocates only to persons the partner holds a record of.\n\n\
         ## Who acts\n\n\
         Signed-in users, API keys (a partner organisation's, on `/api/` routes only) and the command\n\
         line, which acts as the system principal `cli:<os user>` with the national scope and is\n\
         audited like everyone else.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_access_md_is_generated_from_the_policy() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/access.md");
        let want = access_markdown();
        if std::env::var_os("HAMDELI_WRITE_DOCS").is_some() {
            std::fs::write(path, &want).expect("write docs/access.md");
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            have, want,
            "docs/access.md is stale: run HAMDELI_WRITE_DOCS=1 cargo test -p hamdeli-app"
        );
    }

    #[test]
    fn a_provincial_officer_manages_no_officer() {
        let p = principal(Role::ProvincialOfficer);
        let row = USE_CASES
            .iter()
            .find(|u| u.name == "manage a provincial officer")
            .expect("row");
        assert!(!(row.inside)(&p));
        assert!(!(row.outside)(&p));
    }
}
