//! Volunteer specialists: sign-up (her own profile as a volunteer user, or an account made by
//! a one-time code), the provincial office's check, and the daily licence sweep that suspends
//! expired licences and tells the office.

use hamdeli_domain::network::ngo::{NgoState, licence_valid, sweep as ngo_sweep};
use hamdeli_domain::network::policy::NetworkAction;
use hamdeli_domain::network::vocab;
use hamdeli_domain::{Place, Role, Scope};
use hamdeli_store::network::{
    ngos,
    volunteers::{self, Notice, Volunteer, VolunteerFields},
};
use hamdeli_store::{Store, audit, geo, users};

use crate::sms::SmsSender;
use crate::{Caller, Error, Result, audit_read, audit_write};

use super::{allow, iso_date, scope_province, text, today};

/// Most counties a volunteer serves, most hours a week.
pub const COUNTIES_MAX: usize = 40;
pub const HOURS_MAX: i64 = 80;

/// A volunteer profile as a form gives it.
#[derive(Debug, Clone, Default)]
pub struct VolunteerInput {
    pub name: String,
    pub mobile: String,
    pub gender: String,
    pub specialty: String,
    pub licence_number: String,
    pub licence_issuer: String,
    pub licence_expires_on: String,
    pub languages: Vec<String>,
    pub remote: bool,
    pub province: String,
    pub counties: Vec<String>,
    pub weekly_hours: String,
    /// Days she is available, 0 = Saturday … 6 = Friday.
    pub days: Vec<u8>,
}

async fn checked(store: &Store, input: &VolunteerInput) -> Result<VolunteerFields> {
    let name = text(&input.name, 200, true, false, "network-name-invalid")?;
    let mobile = vocab::mobile(&input.mobile).ok_or(Error::Invalid("network-mobile-invalid"))?;
    let gender = input.gender.trim().to_owned();
    if !vocab::is_gender(&gender) {
        return Err(Error::Invalid("network-gender-invalid"));
    }
    let specialty = input.specialty.trim().to_owned();
    if !vocab::is_specialty(&specialty) {
        return Err(Error::Invalid("network-specialty-invalid"));
    }
    let licence_number = text(
        &input.licence_number,
        60,
        true,
        false,
        "network-licence-invalid",
    )?;
    let licence_issuer = text(
        &input.licence_issuer,
        200,
        true,
        false,
        "network-licence-invalid",
    )?;
    let licence_expires_on = iso_date(&input.licence_expires_on, "network-date-invalid")?;
    let languages = vocab::code_list(&input.languages, &vocab::LANGUAGES)
        .ok_or(Error::Invalid("network-language-invalid"))?;
    if languages.is_empty() {
        return Err(Error::Invalid("network-language-invalid"));
    }
    let province = geo::province(store, input.province.trim())
        .await?
        .ok_or(Error::Invalid("network-province-invalid"))?;
    let mut counties: Vec<String> = Vec::new();
    for c in &input.counties {
        let c = c.trim();
        if c.is_empty() || counties.iter().any(|x| x == c) {
            continue;
        }
        let county = geo::county(store, c)
            .await?
            .ok_or(Error::Invalid("network-county-invalid"))?;
        counties.push(county.code);
    }
    if counties.len() > COUNTIES_MAX {
        return Err(Error::Invalid("network-county-invalid"));
    }
    if counties.is_empty() && !input.remote {
        return Err(Error::Invalid("network-counties-or-remote"));
    }
    let hours = hamdeli_text::fold_digits(input.weekly_hours.trim());
    let weekly_hours: i64 = hours
        .parse()
        .ok()
        .filter(|h| (1..=HOURS_MAX).contains(h))
        .ok_or(Error::Invalid("network-hours-invalid"))?;
    let mut days = 0i64;
    for d in &input.days {
        if *d > 6 {
            return Err(Error::Invalid("network-days-invalid"));
        }
        days |= 1 << d;
    }
    Ok(VolunteerFields {
        name,
        mobile,
        gender,
        specialty,
        licence_number,
        licence_issuer,
        licence_expires_on,
        languages: vocab::stored_list(&languages),
        remote: input.remote,
        province_code: province.code,
        counties,
        weekly_hours,
        days,
    })
}

/// The volunteer's own profile (none before she signs up).
pub async fn mine(store: &Store, caller: &Caller<'_>) -> Result<Option<Volunteer>> {
    allow(caller.principal, NetworkAction::VolunteerSelf)?;
    let user = caller.principal.user_id.ok_or(Error::Denied)?;
    Ok(volunteers::by_user(store, user).await?)
}

/// A volunteer signs up (or changes her profile). A new licence sends her back to the
/// provincial office's check.
pub async fn save_mine(store: &Store, caller: &Caller<'_>, input: &VolunteerInput) -> Result<i64> {
    allow(caller.principal, NetworkAction::VolunteerSelf)?;
    save_for_user(store, caller, input, false).await
}

pub async fn save_for_user(
    store: &Store,
    caller: &Caller<'_>,
    input: &VolunteerInput,
    is_demo: bool,
) -> Result<i64> {
    let user = caller.principal.user_id.ok_or(Error::Denied)?;
    let f = checked(store, input).await?;
    let existing = volunteers::by_user(store, user).await?;
    let mut tx = store.begin().await?;
    let (id, action) = match &existing {
        None => (
            volunteers::insert(&mut tx, &f, Some(user), "pending", is_demo).await?,
            "network.volunteer.signup",
        ),
        Some(v) => {
            let recheck = v.licence_number != f.licence_number
                || v.licence_issuer != f.licence_issuer
                || v.licence_expires_on != f.licence_expires_on
                || v.specialty != f.specialty;
            volunteers::update(&mut tx, v.id, &f, recheck).await?;
            (v.id, "network.volunteer.update")
        }
    };
    audit_write(
        &mut tx,
        caller,
        action,
        "network_volunteer",
        id.to_string(),
        serde_json::json!({ "specialty": f.specialty, "province": f.province_code }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Volunteers an office may list: its province's (all for the national admin), of a status.
pub async fn list(store: &Store, caller: &Caller<'_>, status: &str) -> Result<Vec<Volunteer>> {
    allow(caller.principal, NetworkAction::ViewVolunteers)?;
    let status = match status.trim() {
        "" => None,
        s if vocab::VOLUNTEER_STATES.contains(&s) => Some(s),
        _ => return Err(Error::Invalid("network-status-invalid")),
    };
    let province = scope_province(caller.principal);
    Ok(volunteers::list(store, province.as_deref(), status, 1000).await?)
}

/// One volunteer's profile for an office of her province (audited).
pub async fn get(store: &Store, caller: &Caller<'_>, id: i64) -> Result<Volunteer> {
    allow(caller.principal, NetworkAction::ViewVolunteers)?;
    let v = volunteers::by_id(store, id).await?.ok_or(Error::NotFound)?;
    if let Some(p) = scope_province(caller.principal)
        && p != v.province_code
    {
        return Err(Error::NotFound);
    }
    audit_read(
        store,
        caller,
        "network.volunteer.read",
        "network_volunteer",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    Ok(v)
}

/// One volunteer's profile for an office of her province (audited, as [`get`]) with the
/// minutes she logged on cases.
pub async fn profile(store: &Store, caller: &Caller<'_>, id: i64) -> Result<(Volunteer, i64)> {
    let v = get(store, caller, id).await?;
    let minutes = volunteers::minutes_logged(store, v.id).await?;
    Ok((v, minutes))
}

/// The volunteer's own profile (none before she signs up) with the minutes she logged.
pub async fn my_profile(store: &Store, caller: &Caller<'_>) -> Result<Option<(Volunteer, i64)>> {
    match mine(store, caller).await? {
        Some(v) => {
            let minutes = volunteers::minutes_logged(store, v.id).await?;
            Ok(Some((v, minutes)))
        }
        None => Ok(None),
    }
}

/// Whether the principal may check this volunteer.
pub fn may_check(p: &hamdeli_domain::Principal, v: &Volunteer) -> bool {
    super::allows(
        p,
        NetworkAction::CheckVolunteer(&Place::province(&v.province_code)),
    )
}

/// The provincial office's check: `verify` (her licence must be valid today), `reject`,
/// `suspend`, or `reinstate` a suspended one (valid licence again).
pub async fn check(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    decision: &str,
    note: &str,
) -> Result<()> {
    let v = volunteers::by_id(store, id).await?.ok_or(Error::NotFound)?;
    allow(
        caller.principal,
        NetworkAction::CheckVolunteer(&Place::province(&v.province_code)),
    )?;
    let note = text(note, 500, false, false, "network-text-invalid")?;
    let (from, to): (&[&str], &str) = match decision {
        "verify" => (&["pending"], "verified"),
        "reject" => (&["pending"], "rejected"),
        "suspend" => (&["verified"], "suspended"),
        "reinstate" => (&["suspended", "rejected"], "verified"),
        _ => return Err(Error::Invalid("network-decision-invalid")),
    };
    if !from.contains(&v.status.as_str()) {
        return Err(Error::Conflict("network-volunteer-status-changed"));
    }
    if to == "verified" && !licence_valid(&v.licence_expires_on, &today()) {
        return Err(Error::Conflict("network-licence-expired"));
    }
    let mut tx = store.begin().await?;
    volunteers::set_status(&mut tx, id, &v.status, to, &note, caller.principal.user_id).await?;
    audit_write(
        &mut tx,
        caller,
        "network.volunteer.check",
        "network_volunteer",
        id.to_string(),
        serde_json::json!({ "from": v.status, "to": to }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The office's notices (its province's; every one for the national admin).
pub async fn notices(store: &Store, caller: &Caller<'_>) -> Result<Vec<Notice>> {
    allow(caller.principal, NetworkAction::ViewHome)?;
    Ok(volunteers::notices(store, scope_province(caller.principal).as_deref(), 50).await?)
}

/// An office marks one of its notices read (its province's; any for the national admin).
pub async fn mark_notice_read(store: &Store, caller: &Caller<'_>, id: i64) -> Result<()> {
    allow(caller.principal, NetworkAction::ViewHome)?;
    let province = scope_province(caller.principal);
    let mut tx = store.begin().await?;
    if !volunteers::mark_notice_read(&mut tx, id, province.as_deref()).await? {
        return Err(Error::NotFound);
    }
    audit_write(
        &mut tx,
        caller,
        "network.notice.read",
        "network_notice",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the principal may enter volunteers of this province (the office that checks them).
pub fn may_enter(p: &hamdeli_domain::Principal, province: &str) -> bool {
    super::allows(p, NetworkAction::CheckVolunteer(&Place::province(province)))
}

/// An office enters a volunteer from her papers (no account yet): her profile waits for the
/// office's check like a sign-up's; when she later makes her account by a one-time code to the
/// same mobile, the account gets this profile.
pub async fn enter(store: &Store, caller: &Caller<'_>, input: &VolunteerInput) -> Result<i64> {
    let f = checked(store, input).await?;
    allow(
        caller.principal,
        NetworkAction::CheckVolunteer(&Place::province(&f.province_code)),
    )?;
    if volunteers::mobile_taken(store, &f.mobile).await? {
        return Err(Error::Conflict("network-volunteer-mobile-taken"));
    }
    let mut tx = store.begin().await?;
    let id = volunteers::insert(&mut tx, &f, None, "pending", false).await?;
    audit_write(
        &mut tx,
        caller,
        "network.volunteer.enter",
        "network_volunteer",
        id.to_string(),
        serde_json::json!({ "specialty": f.specialty, "province": f.province_code }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    pub volunteers_suspended: usize,
    pub ngos_expired: usize,
}

/// The daily licence sweep (the system acts, audited as `system:licence-sweep`): verified
/// volunteers whose licence expired before `today` are suspended and their provincial office
/// gets a notice; active NGOs whose licence expired become `expired` (a notice too).
pub async fn sweep(store: &Store, today: &str) -> Result<SweepReport> {
    let principal = hamdeli_domain::Principal {
        user_id: None,
        api_key_id: None,
        name: "system:licence-sweep".into(),
        role: Role::NationalAdmin,
        scope: Scope::Country,
    };
    let actor = audit::Actor {
        principal: Some(&principal),
        client_addr: "system",
    };
    let mut report = SweepReport::default();
    for (id, name, province) in volunteers::expired(store, today).await? {
        let mut tx = store.begin().await?;
        match volunteers::set_status(
            &mut tx,
            id,
            "verified",
            "suspended",
            "licence-expired",
            None,
        )
        .await
        {
            Ok(()) => {}
            // Changed meanwhile: the next sweep looks again.
            Err(hamdeli_store::StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
        volunteers::notify(
            &mut tx,
            &province,
            "licence_expired",
            "volunteer",
            id,
            &name,
        )
        .await?;
        audit::record(
            &mut tx,
            &actor,
            audit::Event {
                action: "network.volunteer.suspend",
                target_kind: "network_volunteer",
                target_id: id.to_string(),
                detail: serde_json::json!({ "reason": "licence-expired", "today": today }),
            },
        )
        .await?;
        tx.commit().await?;
        report.volunteers_suspended += 1;
    }
    for org in ngos::expired_active(store, today).await? {
        let Some(ngo) = ngos::get(store, org).await? else {
            continue;
        };
        let Some(l) = &ngo.licence else { continue };
        let Some(state) = NgoState::parse(&l.state) else {
            continue;
        };
        let Some(to) = ngo_sweep(state, &l.licence_expires_on, today) else {
            continue;
        };
        let mut tx = store.begin().await?;
        match ngos::set_state(
            &mut tx,
            org,
            state.as_str(),
            to.as_str(),
            &principal.name,
            "licence-expired",
        )
        .await
        {
            Ok(()) => {}
            Err(hamdeli_store::StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
        if let Some(province) = l
            .province_code
            .clone()
            .or(ngo.organisation_province.clone())
        {
            volunteers::notify(
                &mut tx,
                &province,
                "licence_expired",
                "ngo",
                org,
                &ngo.name_fa,
            )
            .await?;
        }
        audit::record(
            &mut tx,
            &actor,
            audit::Event {
                action: "network.ngo.expire",
                target_kind: "organisation",
                target_id: org.to_string(),
                detail: serde_json::json!({ "today": today }),
            },
        )
        .await?;
        tx.commit().await?;
        report.ngos_expired += 1;
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// A volunteer's account, made by a one-time code to her mobile (then she fills her profile).

const PURPOSE: &str = "volunteer";

/// First step: a code to the mobile, which must not be an account yet.
pub async fn start_signup(
    store: &Store,
    sms: &dyn SmsSender,
    key: &[u8],
    mobile: &str,
    name: &str,
    message: &(dyn Fn(&str) -> String + Sync),
) -> Result<String> {
    let name = text(name, 200, true, false, "network-name-invalid")?;
    let m = vocab::mobile(mobile).ok_or(Error::Invalid("network-mobile-invalid"))?;
    if users::id_by_username(store, &m).await?.is_some() {
        return Err(Error::Conflict("network-mobile-taken"));
    }
    super::women::send_code(store, sms, key, PURPOSE, &m, &name, message).await
}

/// Second step: the right code creates her volunteer account with the password chosen now.
pub async fn finish_signup(
    store: &Store,
    client_addr: &str,
    key: &[u8],
    mobile: &str,
    code: &str,
    password: &str,
    locale: &str,
) -> Result<i64> {
    hamdeli_store::passwords::check_strength(password).map_err(Error::Invalid)?;
    let mobile = vocab::mobile(mobile).ok_or(Error::Invalid("network-mobile-invalid"))?;
    let mut tx = store.begin().await?;
    let name = match super::women::check_code(&mut tx, key, PURPOSE, &mobile, code).await {
        Ok(n) => n,
        Err(e) => {
            tx.commit().await?;
            return Err(e);
        }
    };
    let user = users::create(
        &mut tx,
        users::NewUser {
            username: mobile.clone(),
            display_name: name,
            password: password.to_owned(),
            role: Role::Volunteer,
            scope: Scope::Own,
            locale: locale.to_owned(),
            is_demo: false,
        },
    )
    .await;
    let user = match user {
        Ok(id) => id,
        Err(hamdeli_store::StoreError::Conflict(_)) => {
            return Err(Error::Conflict("network-mobile-taken"));
        }
        Err(e) if e.is_unique_violation() => return Err(Error::Conflict("network-mobile-taken")),
        Err(e) => return Err(e.into()),
    };
    // A profile an office entered for her mobile becomes hers.
    let claimed = volunteers::claim_by_mobile(&mut tx, &mobile, user).await?;
    audit::record(
        &mut tx,
        &audit::Actor {
            principal: None,
            client_addr,
        },
        audit::Event {
            action: "network.volunteer.account",
            target_kind: "user",
            target_id: user.to_string(),
            detail: serde_json::json!({ "profile": claimed }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// The daily licence sweep as a background task of `serve`: once at start, then every six
/// hours (the sweep is idempotent; a day's expiries are caught within hours of midnight).
pub async fn sweep_daily(store: Store) {
    loop {
        match sweep(&store, &today()).await {
            Ok(r) if r.volunteers_suspended + r.ngos_expired > 0 => {
                tracing::info!(
                    volunteers = r.volunteers_suspended,
                    ngos = r.ngos_expired,
                    "licence sweep: expired licences suspended"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the licence sweep failed"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(6 * 3600)).await;
    }
}
