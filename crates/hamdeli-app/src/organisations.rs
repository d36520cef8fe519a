//! Organisations and their support programmes: create, edit, deactivate (and reactivate). The
//! national admin manages every organisation; a provincial officer the charities and NGOs of its
//! own province (see the policy). A deactivated organisation keeps its records but imports
//! nothing more and is given no new users or API keys (the database refuses those too).
//! Every change is audited in its transaction.

use hamdeli_domain::{Action, Principal, Role};
use hamdeli_store::organisations::{
    self, NewOrganisation, Organisation, OrganisationFields, Programme, ProgrammeFields,
};
use hamdeli_store::{Store, geo, needs};

use crate::{Caller, Error, Result, audit_write};

/// The longest name accepted (characters).
pub const NAME_MAX: usize = 200;

/// What a form or the command line gives for an organisation.
#[derive(Debug, Clone, Default)]
pub struct OrganisationInput {
    pub name_fa: String,
    pub name_en: String,
    pub kind: String,
    /// A province code; empty or `None`: national.
    pub province: Option<String>,
}

/// What a form gives for a programme: its names and its one kind of support, a need type code.
#[derive(Debug, Clone, Default)]
pub struct ProgrammeInput {
    pub name_fa: String,
    pub name_en: String,
    pub kind: String,
}

/// True when the principal may create some organisation at all (the national admin, a
/// provincial officer).
pub fn may_create(p: &Principal) -> bool {
    matches!(p.role, Role::NationalAdmin | Role::ProvincialOfficer)
}

/// True when the principal may edit, deactivate and run the programmes of this organisation.
pub fn may_manage(p: &Principal, org: &Organisation) -> bool {
    p.allows(&manage_action(&org.kind, org.province_code.as_deref()))
}

fn manage_action<'a>(kind: &'a str, province: Option<&'a str>) -> Action<'a> {
    Action::ManageOrganisation { kind, province }
}

/// A province code typed in Persian or Arabic-Indic digits, in ASCII digits.
fn ascii_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            c => c,
        })
        .collect()
}

/// Trims the input and checks it against the vocabulary and reference data; the error is a
/// catalog message id shown on the form.
async fn checked(store: &Store, input: OrganisationInput) -> Result<OrganisationFields> {
    let name_fa = input.name_fa.trim().to_owned();
    let name_en = input.name_en.trim().to_owned();
    if name_fa.is_empty() {
        return Err(Error::Invalid("organisation-name-required"));
    }
    if name_fa.chars().count() > NAME_MAX || name_en.chars().count() > NAME_MAX {
        return Err(Error::Invalid("organisation-name-too-long"));
    }
    if name_fa.chars().any(char::is_control) || name_en.chars().any(char::is_control) {
        return Err(Error::Invalid("organisation-name-invalid"));
    }
    let kind = input.kind.trim().to_owned();
    if !organisations::KINDS.contains(&kind.as_str()) {
        return Err(Error::Invalid("organisation-kind-invalid"));
    }
    let province = match input.province.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(code) => {
            let code = ascii_digits(code);
            if geo::province(store, &code).await?.is_none() {
                return Err(Error::Invalid("organisation-province-unknown"));
            }
            Some(code)
        }
    };
    Ok(OrganisationFields {
        name_fa,
        name_en,
        kind,
        province_code: province,
    })
}

/// Registers an organisation; returns its id.
pub async fn create(store: &Store, caller: &Caller<'_>, input: OrganisationInput) -> Result<i64> {
    let p = caller.principal;
    if !may_create(p) {
        return Err(Error::Denied);
    }
    let f = checked(store, input).await?;
    p.authorize(manage_action(&f.kind, f.province_code.as_deref()))?;
    // In the demo's own database (marked when the demo seeds it) every organisation is the demo's,
    // so that a second demo run still recognises the database as its own.
    let is_demo = hamdeli_store::settings::is_demo(store).await?;
    let mut tx = store.begin().await?;
    let detail = serde_json::json!({
        "name_fa": f.name_fa,
        "name_en": f.name_en,
        "kind": f.kind,
        "province": f.province_code,
    });
    let id = organisations::create(
        &mut tx,
        NewOrganisation {
            name_fa: f.name_fa,
            name_en: f.name_en,
            kind: f.kind,
            province_code: f.province_code,
            is_demo,
        },
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "organisation.create",
        "organisation",
        id.to_string(),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The organisations in the principal's place scope (all of them for the national scope), for
/// the names and choices of a page the principal is already allowed.
pub async fn in_scope(store: &Store, caller: &Caller<'_>) -> Result<Vec<Organisation>> {
    Ok(organisations::list(store, &caller.principal.place_filter()).await?)
}

/// The organisations page (office staff): those in the principal's scope.
pub async fn list(store: &Store, caller: &Caller<'_>) -> Result<Vec<Organisation>> {
    caller.principal.authorize(Action::ViewDashboard)?;
    in_scope(store, caller).await
}

/// The organisations the principal may see: all for office staff, its own for a partner.
pub async fn visible(store: &Store, caller: &Caller<'_>) -> Result<Vec<Organisation>> {
    let p = caller.principal;
    Ok(in_scope(store, caller)
        .await?
        .into_iter()
        .filter(|o| p.allows(&Action::ViewOrganisation(o.id)))
        .collect())
}

/// One organisation, for whoever may see it.
pub async fn read(store: &Store, caller: &Caller<'_>, id: i64) -> Result<Organisation> {
    caller.principal.authorize(Action::ViewOrganisation(id))?;
    organisations::by_id(store, id)
        .await?
        .ok_or(Error::NotFound)
}

/// An organisation by id, only to show its name where the caller was already allowed what names
/// it (a user's scope, an import batch); no principal: an organisation's name is not personal.
pub async fn named(store: &Store, id: i64) -> Result<Option<Organisation>> {
    Ok(organisations::by_id(store, id).await?)
}

/// The organisation if the principal may manage it. A principal who may see it but not manage
/// it is refused; an id that does not exist is not found.
pub async fn managed(store: &Store, caller: &Caller<'_>, id: i64) -> Result<Organisation> {
    let p = caller.principal;
    if !may_create(p) {
        return Err(Error::Denied);
    }
    let org = organisations::by_id(store, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !may_manage(p, &org) {
        return Err(Error::Denied);
    }
    Ok(org)
}

/// Changes an organisation's names, kind and province (the principal must be allowed both the
/// organisation as it is and as it becomes).
pub async fn edit(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    input: OrganisationInput,
) -> Result<()> {
    let before = managed(store, caller, id).await?;
    let f = checked(store, input).await?;
    caller
        .principal
        .authorize(manage_action(&f.kind, f.province_code.as_deref()))?;
    let detail = serde_json::json!({
        "from": {
            "name_fa": before.name_fa,
            "name_en": before.name_en,
            "kind": before.kind,
            "province": before.province_code,
        },
        "to": {
            "name_fa": f.name_fa,
            "name_en": f.name_en,
            "kind": f.kind,
            "province": f.province_code,
        },
    });
    let mut tx = store.begin().await?;
    organisations::update(&mut tx, id, f).await?;
    audit_write(
        &mut tx,
        caller,
        "organisation.update",
        "organisation",
        id.to_string(),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deactivates (`active = false`) or reactivates an organisation. Its records, lists, users and
/// programmes stay as they are.
pub async fn set_active(store: &Store, caller: &Caller<'_>, id: i64, active: bool) -> Result<()> {
    let org = managed(store, caller, id).await?;
    if org.active == active {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    organisations::set_active(&mut tx, id, active).await?;
    audit_write(
        &mut tx,
        caller,
        if active {
            "organisation.activate"
        } else {
            "organisation.deactivate"
        },
        "organisation",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Refused with `organisation-inactive` when the organisation is deactivated (for importing a
/// list or giving it a user or an API key); not found when it does not exist.
pub async fn require_active(store: &Store, id: i64) -> Result<()> {
    match organisations::by_id(store, id).await? {
        None => Err(Error::NotFound),
        Some(o) if !o.active => Err(Error::Conflict("organisation-inactive")),
        Some(_) => Ok(()),
    }
}

/// An organisation's programmes, for whoever may see the organisation.
pub async fn programmes(store: &Store, caller: &Caller<'_>, org: i64) -> Result<Vec<Programme>> {
    caller.principal.authorize(Action::ViewOrganisation(org))?;
    Ok(organisations::programmes_of(store, org).await?)
}

async fn checked_programme(store: &Store, input: ProgrammeInput) -> Result<ProgrammeFields> {
    let name_fa = input.name_fa.trim().to_owned();
    let name_en = input.name_en.trim().to_owned();
    if name_fa.is_empty() {
        return Err(Error::Invalid("programme-name-required"));
    }
    if name_fa.chars().count() > NAME_MAX || name_en.chars().count() > NAME_MAX {
        return Err(Error::Invalid("organisation-name-too-long"));
    }
    if name_fa.chars().any(char::is_control) || name_en.chars().any(char::is_control) {
        return Err(Error::Invalid("organisation-name-invalid"));
    }
    let kind = input.kind.trim().to_owned();
    let types = needs::need_types(store).await?;
    if !types.iter().any(|t| t.active && t.code == kind) {
        return Err(Error::Invalid("programme-kind-invalid"));
    }
    Ok(ProgrammeFields {
        name_fa,
        name_en,
        support_kind: kind,
    })
}

/// Adds a support programme to an active organisation; returns its id.
pub async fn create_programme(
    store: &Store,
    caller: &Caller<'_>,
    org: i64,
    input: ProgrammeInput,
) -> Result<i64> {
    let organisation = managed(store, caller, org).await?;
    if !organisation.active {
        return Err(Error::Conflict("organisation-inactive"));
    }
    let f = checked_programme(store, input).await?;
    let detail = serde_json::json!({
        "organisation": org,
        "name_fa": f.name_fa,
        "name_en": f.name_en,
        "kind": f.support_kind,
    });
    let mut tx = store.begin().await?;
    let id = organisations::create_programme(&mut tx, org, f).await?;
    audit_write(
        &mut tx,
        caller,
        "programme.create",
        "programme",
        id.to_string(),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The programme of this organisation if the principal may manage the organisation.
pub async fn managed_programme(
    store: &Store,
    caller: &Caller<'_>,
    org: i64,
    programme: i64,
) -> Result<(Organisation, Programme)> {
    let organisation = managed(store, caller, org).await?;
    match organisations::programme_by_id(store, programme).await? {
        Some(g) if g.organisation_id == org => Ok((organisation, g)),
        _ => Err(Error::NotFound),
    }
}

pub async fn edit_programme(
    store: &Store,
    caller: &Caller<'_>,
    org: i64,
    programme: i64,
    input: ProgrammeInput,
) -> Result<()> {
    let (_, before) = managed_programme(store, caller, org, programme).await?;
    let f = checked_programme(store, input).await?;
    let detail = serde_json::json!({
        "organisation": org,
        "from": { "name_fa": before.name_fa, "name_en": before.name_en, "kind": before.support_kind },
        "to": { "name_fa": f.name_fa, "name_en": f.name_en, "kind": f.support_kind },
    });
    let mut tx = store.begin().await?;
    organisations::update_programme(&mut tx, programme, f).await?;
    audit_write(
        &mut tx,
        caller,
        "programme.update",
        "programme",
        programme.to_string(),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deactivates or reactivates a programme (its lists stay filed under it).
pub async fn set_programme_active(
    store: &Store,
    caller: &Caller<'_>,
    org: i64,
    programme: i64,
    active: bool,
) -> Result<()> {
    let (organisation, g) = managed_programme(store, caller, org, programme).await?;
    if g.active == active {
        return Ok(());
    }
    if active && !organisation.active {
        return Err(Error::Conflict("organisation-inactive"));
    }
    let mut tx = store.begin().await?;
    organisations::set_programme_active(&mut tx, programme, active).await?;
    audit_write(
        &mut tx,
        caller,
        if active {
            "programme.activate"
        } else {
            "programme.deactivate"
        },
        "programme",
        programme.to_string(),
        serde_json::json!({ "organisation": org }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
