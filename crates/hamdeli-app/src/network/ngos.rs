//! NGOs' licences, lifecycle and training courses (in the capability's own tables, keyed by the
//! organisation), and the one rule the rest of the app asks: an NGO without an active licence
//! receives no campaign funds and no partner access.

use hamdeli_domain::network::ngo::{self, NgoState};
use hamdeli_domain::network::policy::NetworkAction;
use hamdeli_store::network::ngos::{self, Event, LicenceFields, Ngo, Training};
use hamdeli_store::{Store, geo};

use crate::{Caller, Error, Result, audit_write};

use super::{allow, allows, iso_date, scope_province, text, today};

/// The NGOs an office may see (its province's; all for the national admin).
pub async fn list(store: &Store, caller: &Caller<'_>) -> Result<Vec<Ngo>> {
    allow(caller.principal, NetworkAction::ViewNgos)?;
    Ok(ngos::list(store, scope_province(caller.principal).as_deref()).await?)
}

/// The province an NGO is filed under: its licence's, else its organisation's.
fn province_of(n: &Ngo) -> Option<String> {
    n.licence
        .as_ref()
        .and_then(|l| l.province_code.clone())
        .or_else(|| n.organisation_province.clone())
}

/// One NGO with its lifecycle events and training courses.
pub async fn get(
    store: &Store,
    caller: &Caller<'_>,
    org: i64,
) -> Result<(Ngo, Vec<Event>, Vec<Training>)> {
    allow(caller.principal, NetworkAction::ViewNgos)?;
    let n = ngos::get(store, org).await?.ok_or(Error::NotFound)?;
    if let Some(p) = scope_province(caller.principal)
        && province_of(&n).as_deref() != Some(p.as_str())
    {
        return Err(Error::NotFound);
    }
    Ok((
        n,
        ngos::events(store, org).await?,
        ngos::trainings(store, org).await?,
    ))
}

/// Whether the principal may change this NGO's licence, lifecycle and training.
pub fn may_manage(p: &hamdeli_domain::Principal, n: &Ngo) -> bool {
    let province = province_of(n);
    allows(p, NetworkAction::ManageNgo(province.as_deref()))
}

async fn managed(store: &Store, caller: &Caller<'_>, org: i64) -> Result<Ngo> {
    let n = ngos::get(store, org).await?.ok_or(Error::NotFound)?;
    let province = province_of(&n);
    allow(
        caller.principal,
        NetworkAction::ManageNgo(province.as_deref()),
    )?;
    Ok(n)
}

/// A licence as a form gives it.
#[derive(Debug, Clone, Default)]
pub struct LicenceInput {
    pub licence_issuer: String,
    pub licence_number: String,
    pub licence_expires_on: String,
    pub fields: String,
    pub county: String,
    pub board: String,
    pub capacity: String,
}

/// Registers or changes an NGO's licence (a first licence starts the lifecycle at `applied`).
pub async fn put_licence(
    store: &Store,
    caller: &Caller<'_>,
    org: i64,
    input: &LicenceInput,
) -> Result<()> {
    let n = managed(store, caller, org).await?;
    let licence_issuer = text(
        &input.licence_issuer,
        200,
        true,
        false,
        "network-licence-invalid",
    )?;
    let licence_number = text(
        &input.licence_number,
        60,
        true,
        false,
        "network-licence-invalid",
    )?;
    let licence_expires_on = iso_date(&input.licence_expires_on, "network-date-invalid")?;
    let fields = text(&input.fields, 500, false, false, "network-text-invalid")?;
    let board = text(&input.board, 2000, false, true, "network-text-invalid")?;
    let capacity: i64 = match hamdeli_text::fold_digits(input.capacity.trim()).as_str() {
        "" => 0,
        c => c
            .parse()
            .ok()
            .filter(|c| (0..=10_000_000).contains(c))
            .ok_or(Error::Invalid("network-capacity-invalid"))?,
    };
    let (province_code, county_code) = match input.county.trim() {
        "" => (n.organisation_province.clone(), None),
        c => {
            let county = geo::county(store, c)
                .await?
                .ok_or(Error::Invalid("network-county-invalid"))?;
            (Some(county.province_code), Some(county.code))
        }
    };
    // Moving it to another province needs the right there too.
    allow(
        caller.principal,
        NetworkAction::ManageNgo(province_code.as_deref()),
    )?;
    let mut tx = store.begin().await?;
    let created = ngos::put_licence(
        &mut tx,
        org,
        &LicenceFields {
            licence_issuer,
            licence_number: licence_number.clone(),
            licence_expires_on: licence_expires_on.clone(),
            fields,
            province_code,
            county_code,
            board,
            capacity,
        },
        &caller.principal.name,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        if created {
            "network.ngo.apply"
        } else {
            "network.ngo.licence"
        },
        "organisation",
        org.to_string(),
        serde_json::json!({ "licence_number": licence_number, "expires_on": licence_expires_on }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An office's lifecycle step (verify, activate, suspend, reactivate).
pub async fn step(
    store: &Store,
    caller: &Caller<'_>,
    org: i64,
    to: &str,
    note: &str,
) -> Result<()> {
    let n = managed(store, caller, org).await?;
    let l = n
        .licence
        .as_ref()
        .ok_or(Error::Conflict("network-ngo-no-licence"))?;
    let from = NgoState::parse(&l.state).ok_or(Error::Conflict("network-ngo-step-not-allowed"))?;
    let to = NgoState::parse(to.trim()).ok_or(Error::Invalid("network-ngo-step-not-allowed"))?;
    let note = text(note, 500, false, false, "network-text-invalid")?;
    let valid = ngo::licence_valid(&l.licence_expires_on, &today());
    ngo::step(from, to, valid).map_err(|e| Error::Conflict(e.code()))?;
    let mut tx = store.begin().await?;
    ngos::set_state(
        &mut tx,
        org,
        from.as_str(),
        to.as_str(),
        &caller.principal.name,
        &note,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "network.ngo.step",
        "organisation",
        org.to_string(),
        serde_json::json!({ "from": from.as_str(), "to": to.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A training course the NGO attended.
#[derive(Debug, Clone, Default)]
pub struct TrainingInput {
    pub title: String,
    pub held_on: String,
    pub hours: String,
    pub certificate: String,
}

pub async fn add_training(
    store: &Store,
    caller: &Caller<'_>,
    org: i64,
    input: &TrainingInput,
) -> Result<i64> {
    managed(store, caller, org).await?;
    let title = text(&input.title, 200, true, false, "network-name-invalid")?;
    let held_on = iso_date(&input.held_on, "network-date-invalid")?;
    if held_on > today() {
        return Err(Error::Invalid("network-date-future"));
    }
    let hours: i64 = hamdeli_text::fold_digits(input.hours.trim())
        .parse()
        .ok()
        .filter(|h| (1..=1000).contains(h))
        .ok_or(Error::Invalid("network-hours-invalid"))?;
    let certificate = text(
        &input.certificate,
        100,
        false,
        false,
        "network-text-invalid",
    )?;
    let mut tx = store.begin().await?;
    let id = ngos::add_training(&mut tx, org, &title, &held_on, hours, &certificate).await?;
    audit_write(
        &mut tx,
        caller,
        "network.ngo.training",
        "organisation",
        org.to_string(),
        serde_json::json!({ "training": id, "hours": hours }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Refused with `network-ngo-unlicensed` when the organisation is an NGO without an active,
/// unexpired licence (campaign funds and partner access need one); other organisations pass.
pub async fn require_good_standing(store: &Store, org: i64) -> Result<()> {
    if partner_access_allowed(store, org).await? {
        Ok(())
    } else {
        Err(Error::Conflict("network-ngo-unlicensed"))
    }
}

/// True unless the organisation is an NGO without an active, unexpired licence.
pub async fn partner_access_allowed(store: &Store, org: i64) -> Result<bool> {
    let mut conn = store.pool().acquire().await?;
    Ok(match ngos::standing(&mut conn, org).await? {
        Some((kind, standing)) if kind == "ngo" => match standing {
            Some((state, expires)) => NgoState::parse(&state)
                .is_some_and(|s| ngo::in_good_standing(s, &expires, &today())),
            None => false,
        },
        _ => true,
    })
}
