//! Social emergency centres and their cases. The centre (the county experts of its county)
//! opens a case, asks for proposals (volunteers ranked with reasons), assigns one; she accepts
//! or declines, logs sessions; the centre closes the case with an outcome. A case's personal
//! details are read only by its centre and its volunteer, and every read is audited.

use hamdeli_domain::network::matching::{CaseNeed, Proposal, propose};
use hamdeli_domain::network::policy::NetworkAction;
use hamdeli_domain::network::vocab;
use hamdeli_domain::{Place, Principal, Role};
use hamdeli_store::network::cases::{self, Case, Centre, NewCase, Personal, Session};
use hamdeli_store::network::volunteers;
use hamdeli_store::{Store, geo};

use crate::{Caller, Error, Result, audit_read, audit_write};

use super::{allow, allows, iso_date, text, today};

/// How many volunteers a proposal lists.
pub const PROPOSALS: usize = 10;

fn place(c: &Centre) -> Place {
    Place::county(&c.province_code, &c.county_code)
}

fn case_place(c: &Case) -> Place {
    Place::county(&c.province_code, &c.county_code)
}

/// An office registers a centre in a county; returns its id.
pub async fn create_centre(
    store: &Store,
    caller: &Caller<'_>,
    name: &str,
    county: &str,
) -> Result<i64> {
    create_centre_flagged(store, caller, name, county, false).await
}

pub async fn create_centre_flagged(
    store: &Store,
    caller: &Caller<'_>,
    name: &str,
    county: &str,
    is_demo: bool,
) -> Result<i64> {
    let name = text(name, 200, true, false, "network-name-invalid")?;
    let county = geo::county(store, county.trim())
        .await?
        .ok_or(Error::Invalid("network-county-invalid"))?;
    allow(
        caller.principal,
        NetworkAction::ManageCentre(&Place::county(&county.province_code, &county.code)),
    )?;
    let mut tx = store.begin().await?;
    let id =
        cases::insert_centre(&mut tx, &name, &county.province_code, &county.code, is_demo).await?;
    audit_write(
        &mut tx,
        caller,
        "network.centre.create",
        "network_centre",
        id.to_string(),
        serde_json::json!({ "name": name, "county": county.code }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The centres of the principal's place.
pub async fn centres(store: &Store, caller: &Caller<'_>) -> Result<Vec<Centre>> {
    allow(caller.principal, NetworkAction::ViewHome)?;
    let p = caller.principal;
    Ok(cases::centres(store, p.scope.province(), p.scope.county()).await?)
}

/// A centre and its cases (without personal details), for an office of its place.
pub async fn centre(store: &Store, caller: &Caller<'_>, id: i64) -> Result<(Centre, Vec<Case>)> {
    let c = cases::centre(store, id).await?.ok_or(Error::NotFound)?;
    if !allows(caller.principal, NetworkAction::ViewCases(&place(&c))) {
        return Err(Error::NotFound);
    }
    let list = cases::of_centre(store, id).await?;
    Ok((c, list))
}

/// Whether the principal works as this centre's staff.
pub fn is_staff(p: &Principal, c: &Centre) -> bool {
    allows(p, NetworkAction::CentreStaff(&place(c)))
}

/// A case as a form gives it.
#[derive(Debug, Clone, Default)]
pub struct CaseInput {
    pub specialty: String,
    pub language: String,
    /// `f`, `m` or empty.
    pub gender_preference: String,
    pub urgency: String,
    pub client_name: String,
    pub client_phone: String,
    pub details: String,
}

/// The centre's staff open a case; returns its id.
pub async fn open_case(
    store: &Store,
    caller: &Caller<'_>,
    centre: i64,
    input: &CaseInput,
) -> Result<i64> {
    open_case_flagged(store, caller, centre, input, false).await
}

pub async fn open_case_flagged(
    store: &Store,
    caller: &Caller<'_>,
    centre: i64,
    input: &CaseInput,
    is_demo: bool,
) -> Result<i64> {
    let c = cases::centre(store, centre).await?.ok_or(Error::NotFound)?;
    allow(caller.principal, NetworkAction::CentreStaff(&place(&c)))?;
    let specialty = input.specialty.trim().to_owned();
    if !vocab::is_specialty(&specialty) {
        return Err(Error::Invalid("network-specialty-invalid"));
    }
    let language = input.language.trim().to_owned();
    if !vocab::is_language(&language) {
        return Err(Error::Invalid("network-language-invalid"));
    }
    let gender_preference = match input.gender_preference.trim() {
        "" => None,
        g if vocab::is_gender(g) => Some(g.to_owned()),
        _ => return Err(Error::Invalid("network-gender-invalid")),
    };
    let urgency = input.urgency.trim().to_owned();
    if !vocab::is_urgency(&urgency) {
        return Err(Error::Invalid("network-urgency-invalid"));
    }
    let client_name = text(&input.client_name, 200, true, false, "network-name-invalid")?;
    let client_phone = match input.client_phone.trim() {
        "" => String::new(),
        m => vocab::mobile(m).ok_or(Error::Invalid("network-mobile-invalid"))?,
    };
    let details = text(&input.details, 4000, false, true, "network-text-invalid")?;
    let mut tx = store.begin().await?;
    let id = cases::insert_case(
        &mut tx,
        &NewCase {
            centre_id: centre,
            specialty: specialty.clone(),
            language,
            gender_preference,
            urgency: urgency.clone(),
            client_name,
            client_phone,
            details,
            created_by: caller.principal.user_id,
            is_demo,
        },
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "network.case.open",
        "network_case",
        id.to_string(),
        serde_json::json!({ "centre": centre, "specialty": specialty, "urgency": urgency }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// A case as the principal may see it.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: Case,
    pub centre: Centre,
    /// Only for the centre's staff and the assigned volunteer.
    pub personal: Option<Personal>,
    pub sessions: Vec<Session>,
    /// The principal is the centre's staff.
    pub staff: bool,
    /// The principal is the volunteer assigned to it.
    pub volunteer: bool,
}

async fn my_volunteer_id(store: &Store, p: &Principal) -> Result<Option<i64>> {
    if p.role != Role::Volunteer {
        return Ok(None);
    }
    let Some(user) = p.user_id else {
        return Ok(None);
    };
    Ok(volunteers::by_user(store, user).await?.map(|v| v.id))
}

/// Opens a case: the centre's staff and the volunteer assigned to it read its personal details
/// (audited); other offices of its place see it without them (audited too); anyone else: not
/// found.
pub async fn view(store: &Store, caller: &Caller<'_>, id: i64) -> Result<CaseView> {
    let p = caller.principal;
    let case = cases::case(store, id).await?.ok_or(Error::NotFound)?;
    let centre = cases::centre(store, case.centre_id)
        .await?
        .ok_or(Error::NotFound)?;
    let staff = allows(p, NetworkAction::CentreStaff(&case_place(&case)));
    let mine = my_volunteer_id(store, p).await?;
    let volunteer = mine.is_some() && case.volunteer_id == mine;
    let office = allows(p, NetworkAction::ViewCases(&case_place(&case)));
    if !(staff || volunteer || office) {
        return Err(Error::NotFound);
    }
    let personal_allowed = staff || volunteer;
    audit_read(
        store,
        caller,
        "network.case.read",
        "network_case",
        id.to_string(),
        serde_json::json!({ "personal": personal_allowed }),
    )
    .await?;
    let personal = if personal_allowed {
        cases::personal(store, id).await?
    } else {
        None
    };
    Ok(CaseView {
        sessions: cases::sessions(store, id).await?,
        case,
        centre,
        personal,
        staff,
        volunteer,
    })
}

/// A proposal with the volunteer's name.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Proposed {
    pub volunteer_id: i64,
    pub name: String,
    pub score: i64,
    pub reasons: Vec<(String, i64)>,
}

/// Ranked proposals for an open case (the scoring is the domain's; no authorisation: the
/// benchmark and the use case below call it).
pub async fn proposals_for(store: &Store, case: &Case, limit: usize) -> Result<Vec<Proposal>> {
    ranked(store, case, limit, true).await
}

/// The proposals; `narrow`: the remote volunteers ranked in SQL down to `limit` (exact, see
/// `CandidateQuery::remote_limit`), else every candidate scored here.
pub async fn ranked(
    store: &Store,
    case: &Case,
    limit: usize,
    narrow: bool,
) -> Result<Vec<Proposal>> {
    let today = today();
    let candidates = volunteers::candidates(
        store,
        &volunteers::CandidateQuery {
            case_id: case.id,
            specialty: &case.specialty,
            county: &case.county_code,
            language: &case.language,
            gender_preference: case.gender_preference.as_deref(),
            today: &today,
            remote_limit: (narrow && limit < 10_000).then_some(limit as i64),
        },
    )
    .await?;
    let need = CaseNeed {
        specialty: case.specialty.clone(),
        county: case.county_code.clone(),
        language: case.language.clone(),
        gender_preference: case.gender_preference.clone(),
    };
    Ok(propose(&need, &candidates, &today, limit))
}

/// The centre's staff ask who could take an open case.
pub async fn proposals(store: &Store, caller: &Caller<'_>, id: i64) -> Result<Vec<Proposed>> {
    let case = cases::case(store, id).await?.ok_or(Error::NotFound)?;
    allow(
        caller.principal,
        NetworkAction::CentreStaff(&case_place(&case)),
    )?;
    if case.state != "open" {
        return Ok(vec![]);
    }
    let ranked = proposals_for(store, &case, PROPOSALS).await?;
    let ids: Vec<i64> = ranked.iter().map(|p| p.volunteer_id).collect();
    let names = volunteers::names(store, &ids).await?;
    Ok(ranked
        .into_iter()
        .map(|p| Proposed {
            name: names
                .iter()
                .find(|(i, _)| *i == p.volunteer_id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            volunteer_id: p.volunteer_id,
            score: p.score,
            reasons: p
                .reasons
                .iter()
                .map(|r| (r.code.to_owned(), r.points))
                .collect(),
        })
        .collect())
}

/// The centre assigns an open case to a volunteer matching would propose.
pub async fn assign(store: &Store, caller: &Caller<'_>, id: i64, volunteer: i64) -> Result<()> {
    let case = cases::case(store, id).await?.ok_or(Error::NotFound)?;
    allow(
        caller.principal,
        NetworkAction::CentreStaff(&case_place(&case)),
    )?;
    if case.state != "open" {
        return Err(Error::Conflict("network-case-not-open"));
    }
    let eligible = proposals_for(store, &case, usize::MAX)
        .await?
        .iter()
        .any(|p| p.volunteer_id == volunteer);
    if !eligible {
        return Err(Error::Conflict("network-volunteer-unavailable"));
    }
    let mut tx = store.begin().await?;
    cases::assign(&mut tx, id, volunteer).await?;
    audit_write(
        &mut tx,
        caller,
        "network.case.assign",
        "network_case",
        id.to_string(),
        serde_json::json!({ "volunteer": volunteer }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn my_id(store: &Store, caller: &Caller<'_>) -> Result<i64> {
    allow(caller.principal, NetworkAction::VolunteerSelf)?;
    my_volunteer_id(store, caller.principal)
        .await?
        .ok_or(Error::Conflict("network-volunteer-profile-missing"))
}

/// The volunteer's cases (without their personal details; she opens one to read them).
pub async fn my_cases(store: &Store, caller: &Caller<'_>) -> Result<Vec<Case>> {
    let me = my_id(store, caller).await?;
    Ok(cases::of_volunteer(store, me).await?)
}

/// The volunteer accepts or declines a case assigned to her.
pub async fn respond(store: &Store, caller: &Caller<'_>, id: i64, accept: bool) -> Result<()> {
    let me = my_id(store, caller).await?;
    let mut tx = store.begin().await?;
    cases::respond(&mut tx, id, me, accept).await?;
    audit_write(
        &mut tx,
        caller,
        if accept {
            "network.case.accept"
        } else {
            "network.case.decline"
        },
        "network_case",
        id.to_string(),
        serde_json::json!({ "volunteer": me }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The volunteer logs a session she held (1–600 minutes, not in the future).
pub async fn log_session(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    held_on: &str,
    minutes: &str,
    note: &str,
) -> Result<i64> {
    let me = my_id(store, caller).await?;
    let held_on = iso_date(held_on, "network-date-invalid")?;
    if held_on > today() {
        return Err(Error::Invalid("network-date-future"));
    }
    let minutes: i64 = hamdeli_text::fold_digits(minutes.trim())
        .parse()
        .ok()
        .filter(|m| (1..=600).contains(m))
        .ok_or(Error::Invalid("network-minutes-invalid"))?;
    let note = text(note, 1000, false, true, "network-text-invalid")?;
    let mut tx = store.begin().await?;
    let sid = cases::log_session(&mut tx, id, me, &held_on, minutes, &note).await?;
    audit_write(
        &mut tx,
        caller,
        "network.case.session",
        "network_case",
        id.to_string(),
        serde_json::json!({ "minutes": minutes, "held_on": held_on }),
    )
    .await?;
    tx.commit().await?;
    Ok(sid)
}

/// The centre closes a case with its outcome.
pub async fn close(store: &Store, caller: &Caller<'_>, id: i64, outcome: &str) -> Result<()> {
    let case = cases::case(store, id).await?.ok_or(Error::NotFound)?;
    allow(
        caller.principal,
        NetworkAction::CentreStaff(&case_place(&case)),
    )?;
    let outcome = outcome.trim();
    if !vocab::is_outcome(outcome) {
        return Err(Error::Invalid("network-outcome-invalid"));
    }
    let mut tx = store.begin().await?;
    cases::close(&mut tx, id, outcome).await?;
    audit_write(
        &mut tx,
        caller,
        "network.case.close",
        "network_case",
        id.to_string(),
        serde_json::json!({ "outcome": outcome }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
