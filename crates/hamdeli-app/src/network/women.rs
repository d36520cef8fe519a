//! The databank of capable women: profiles entered by an office or by the woman herself (her
//! mobile proven by a one-time code), her consent (this office only, all offices, a public
//! card, withdrawn) with every change kept, the offices' search and export, the public
//! directory.

use hamdeli_domain::network::consent::{self, Consent};
use hamdeli_domain::network::policy::NetworkAction;
use hamdeli_domain::network::vocab;
use hamdeli_domain::{Place, Role};
use hamdeli_store::network::codes::{self, Tried};
use hamdeli_store::network::women::{self, ConsentChange, Query, Woman, WomanFields};
use hamdeli_store::{Store, audit, geo};

use crate::sms::SmsSender;
use crate::{Caller, Error, Result, audit_read, audit_write};

use super::{allow, scope_province, text};

/// Longest name, and longest free text of a profile.
pub const NAME_MAX: usize = 200;
pub const TEXT_MAX: usize = 2000;
/// Most skills on a profile.
pub const SKILLS_MAX: usize = 30;
/// A page of search results.
pub const PAGE: i64 = 50;
/// Most rows of an export.
pub const EXPORT_MAX: i64 = 10_000;

/// A profile as a form gives it.
#[derive(Debug, Clone, Default)]
pub struct WomanInput {
    pub name: String,
    pub mobile: String,
    pub field: String,
    pub education: String,
    pub achievements: String,
    pub skills: String,
    pub languages: Vec<String>,
    pub county: String,
    pub contact: String,
}

async fn checked(store: &Store, input: &WomanInput) -> Result<WomanFields> {
    let name = text(&input.name, NAME_MAX, true, false, "network-name-invalid")?;
    let mobile = match input.mobile.trim() {
        "" => None,
        m => Some(vocab::mobile(m).ok_or(Error::Invalid("network-mobile-invalid"))?),
    };
    let field = input.field.trim().to_owned();
    if !vocab::is_field(&field) {
        return Err(Error::Invalid("network-field-invalid"));
    }
    let education = text(
        &input.education,
        NAME_MAX,
        false,
        false,
        "network-text-invalid",
    )?;
    let achievements = text(
        &input.achievements,
        TEXT_MAX,
        false,
        true,
        "network-text-invalid",
    )?;
    let skills_text = text(&input.skills, TEXT_MAX, false, true, "network-text-invalid")?;
    let skills = vocab::split_skills(&skills_text, SKILLS_MAX);
    let languages = vocab::code_list(&input.languages, &vocab::LANGUAGES)
        .ok_or(Error::Invalid("network-language-invalid"))?;
    let county = geo::county(store, input.county.trim())
        .await?
        .ok_or(Error::Invalid("network-county-invalid"))?;
    let contact = text(
        &input.contact,
        NAME_MAX,
        false,
        false,
        "network-text-invalid",
    )?;
    Ok(WomanFields {
        name_key: vocab::text_key(&name),
        name,
        mobile,
        field,
        education,
        achievements,
        skills_key: vocab::skills_key(&skills),
        skills: skills.join("، "),
        languages: vocab::stored_list(&languages),
        province_code: county.province_code,
        county_code: county.code,
        contact,
    })
}

fn place_of(w: &Woman) -> Place {
    Place::county(&w.province_code, &w.county_code)
}

fn parse_consent(s: &str) -> Result<Consent> {
    Consent::parse(s.trim()).ok_or(Error::Invalid("network-consent-invalid"))
}

/// An office enters a profile with the consent she gave; returns its id.
pub async fn enter(
    store: &Store,
    caller: &Caller<'_>,
    input: &WomanInput,
    consent: &str,
) -> Result<i64> {
    let consent = parse_consent(consent)?;
    let f = checked(store, input).await?;
    allow(
        caller.principal,
        NetworkAction::ManageWoman(&Place::county(&f.province_code, &f.county_code)),
    )?;
    enter_checked(store, caller, &f, consent, false).await
}

pub(crate) async fn enter_checked(
    store: &Store,
    caller: &Caller<'_>,
    f: &WomanFields,
    consent: Consent,
    is_demo: bool,
) -> Result<i64> {
    let mut tx = store.begin().await?;
    let id = women::insert(
        &mut tx,
        f,
        consent.as_str(),
        "office",
        &caller.principal.name,
        false,
        caller.principal.user_id,
        is_demo,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "network.woman.create",
        "network_woman",
        id.to_string(),
        serde_json::json!({ "field": f.field, "county": f.county_code, "consent": consent.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The demo's entry (the same use case, demo-flagged): skipped when she is there already.
pub async fn enter_demo(
    store: &Store,
    caller: &Caller<'_>,
    input: &WomanInput,
    consent: Consent,
) -> Result<Option<i64>> {
    let f = checked(store, input).await?;
    allow(
        caller.principal,
        NetworkAction::ManageWoman(&Place::county(&f.province_code, &f.county_code)),
    )?;
    if women::exists_named(store, &f.name, &f.county_code).await? {
        return Ok(None);
    }
    enter_checked(store, caller, &f, consent, true)
        .await
        .map(Some)
}

/// A profile with its consent history, for an office her consent lets read it (audited).
pub async fn read(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
) -> Result<(Woman, Vec<ConsentChange>)> {
    let p = caller.principal;
    allow(p, NetworkAction::SearchWomen)?;
    let w = women::by_id(store, id).await?.ok_or(Error::NotFound)?;
    let consent = parse_consent(&w.consent)?;
    if !consent.visible_to(p, &w.province_code) {
        return Err(Error::NotFound);
    }
    audit_read(
        store,
        caller,
        "network.woman.read",
        "network_woman",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    let history = women::history(store, id).await?;
    Ok((w, history))
}

/// Whether the principal may edit this profile and record her consent.
pub fn may_manage(p: &hamdeli_domain::Principal, w: &Woman) -> bool {
    super::allows(p, NetworkAction::ManageWoman(&place_of(w)))
}

/// An office edits a profile it may read and manage.
pub async fn edit(store: &Store, caller: &Caller<'_>, id: i64, input: &WomanInput) -> Result<()> {
    let (before, _) = read(store, caller, id).await?;
    allow(
        caller.principal,
        NetworkAction::ManageWoman(&place_of(&before)),
    )?;
    let f = checked(store, input).await?;
    allow(
        caller.principal,
        NetworkAction::ManageWoman(&Place::county(&f.province_code, &f.county_code)),
    )?;
    let mut tx = store.begin().await?;
    women::update(&mut tx, id, &f).await?;
    audit_write(
        &mut tx,
        caller,
        "network.woman.update",
        "network_woman",
        id.to_string(),
        serde_json::json!({ "field": f.field, "county": f.county_code }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// An office records a consent she gave it (by form or in person). A withdrawn profile is
/// hidden from search, but her office may still record a new consent she gives.
pub async fn set_consent(store: &Store, caller: &Caller<'_>, id: i64, to: &str) -> Result<()> {
    let to = parse_consent(to)?;
    let w = women::by_id(store, id).await?.ok_or(Error::NotFound)?;
    allow(caller.principal, NetworkAction::ManageWoman(&place_of(&w)))?;
    let from = parse_consent(&w.consent)?;
    consent::change(from, to).map_err(|_| Error::Conflict("network-consent-unchanged"))?;
    let mut tx = store.begin().await?;
    women::set_consent(
        &mut tx,
        id,
        from.as_str(),
        to.as_str(),
        "office",
        &caller.principal.name,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "network.woman.consent",
        "network_woman",
        id.to_string(),
        serde_json::json!({ "from": from.as_str(), "to": to.as_str(), "source": "office" }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What an office searches by.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub field: String,
    pub skill: String,
    pub province: String,
    pub page: i64,
}

fn query_of(p: &hamdeli_domain::Principal, s: &Search, limit: i64) -> Result<Query> {
    let field = match s.field.trim() {
        "" => None,
        f if vocab::is_field(f) => Some(f.to_owned()),
        _ => return Err(Error::Invalid("network-field-invalid")),
    };
    let skill = text(&s.skill, NAME_MAX, false, false, "network-text-invalid")?;
    let skill = (!skill.is_empty()).then(|| vocab::text_key(&skill));
    let province = match s.province.trim() {
        "" => None,
        pr if pr.len() <= 4 && pr.chars().all(|c| c.is_ascii_digit()) => Some(pr.to_owned()),
        _ => return Err(Error::Invalid("network-province-invalid")),
    };
    Ok(Query {
        field,
        skill,
        province,
        office_province: match p.role {
            Role::ProvincialOfficer | Role::CountyExpert => scope_province(p),
            _ => None,
        },
        public_only: false,
        limit,
        offset: s.page.clamp(0, 10_000) * limit,
    })
}

/// The offices' search: profiles whose consent lets the searcher read them (audited, without
/// what was searched for beyond field and province).
pub async fn search(store: &Store, caller: &Caller<'_>, s: &Search) -> Result<(Vec<Woman>, i64)> {
    allow(caller.principal, NetworkAction::SearchWomen)?;
    let q = query_of(caller.principal, s, PAGE)?;
    audit_read(
        store,
        caller,
        "network.women.search",
        "network_women",
        String::new(),
        serde_json::json!({ "field": q.field, "province": q.province, "skill": q.skill.is_some() }),
    )
    .await?;
    Ok(women::search(store, &q).await?)
}

/// The office export: every profile of the search the exporter may read (at most
/// [`EXPORT_MAX`]), audited.
pub async fn export(store: &Store, caller: &Caller<'_>, s: &Search) -> Result<Vec<Woman>> {
    allow(caller.principal, NetworkAction::ExportWomen)?;
    let mut q = query_of(caller.principal, s, EXPORT_MAX)?;
    q.offset = 0;
    let (rows, total) = women::search(store, &q).await?;
    audit_read(
        store,
        caller,
        "network.women.export",
        "network_women",
        String::new(),
        serde_json::json!({ "field": q.field, "province": q.province, "rows": rows.len(), "total": total }),
    )
    .await?;
    Ok(rows)
}

/// A public card: what she chose to show to everyone (never her mobile, contact or county).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PublicCard {
    pub name: String,
    pub field: String,
    pub skills: String,
    pub achievements: String,
    pub province_code: String,
}

/// The public directory: the cards of those who chose one, by field and province. No sign-in.
pub async fn directory(
    store: &Store,
    field: &str,
    province: &str,
    page: i64,
) -> Result<(Vec<PublicCard>, i64)> {
    let field = match field.trim() {
        "" => None,
        f if vocab::is_field(f) => Some(f.to_owned()),
        _ => return Err(Error::Invalid("network-field-invalid")),
    };
    let province = match province.trim() {
        "" => None,
        pr if pr.len() <= 4 && pr.chars().all(|c| c.is_ascii_digit()) => Some(pr.to_owned()),
        _ => return Err(Error::Invalid("network-province-invalid")),
    };
    let q = Query {
        field,
        skill: None,
        province,
        office_province: None,
        public_only: true,
        limit: PAGE,
        offset: page.clamp(0, 10_000) * PAGE,
    };
    let (rows, total) = women::search(store, &q).await?;
    Ok((
        rows.into_iter()
            .map(|w| PublicCard {
                name: w.name,
                field: w.field,
                skills: w.skills,
                achievements: w.achievements,
                province_code: w.province_code,
            })
            .collect(),
        total,
    ))
}

// ---------------------------------------------------------------------------------------------
// Self-service: her mobile proven by a one-time code opens a short session (no password).

/// How many codes one mobile may be sent per hour.
pub const CODES_PER_MOBILE: i64 = 3;
const CODE_WINDOW_MILLIS: i64 = 60 * 60 * 1000;
const PURPOSE: &str = "woman";

fn code_hash(key: &[u8], purpose: &str, mobile: &str, code: &str) -> String {
    hamdeli_store::campaigns::signup_code_hash(key, &format!("{purpose}:{mobile}"), code)
}

/// Sends a one-time code to a mobile (at most [`CODES_PER_MOBILE`] an hour). The caller counts
/// the attempt against its address first. `message` makes the text from the code.
pub async fn start_self(
    store: &Store,
    sms: &dyn SmsSender,
    key: &[u8],
    mobile: &str,
    message: &(dyn Fn(&str) -> String + Sync),
) -> Result<String> {
    send_code(store, sms, key, PURPOSE, mobile, "", message).await
}

pub(crate) async fn send_code(
    store: &Store,
    sms: &dyn SmsSender,
    key: &[u8],
    purpose: &str,
    mobile: &str,
    display_name: &str,
    message: &(dyn Fn(&str) -> String + Sync),
) -> Result<String> {
    let mobile = vocab::mobile(mobile).ok_or(Error::Invalid("network-mobile-invalid"))?;
    let now = hamdeli_store::now_millis();
    if hamdeli_store::sessions::reserve_window(
        store,
        &format!("network-code:{purpose}:{mobile}"),
        CODES_PER_MOBILE,
        CODE_WINDOW_MILLIS,
        now,
    )
    .await?
    .is_none()
    {
        return Err(Error::Conflict("signup-code-too-many"));
    }
    let code = hamdeli_store::campaigns::new_signup_code();
    codes::put(
        store,
        purpose,
        &mobile,
        display_name,
        &code_hash(key, purpose, &mobile, &code),
    )
    .await?;
    if let Err(e) = sms.send(&mobile, &message(&code)).await {
        tracing::warn!(error = %e, "a one-time code could not be sent");
        return Err(Error::Conflict("signup-code-not-sent"));
    }
    Ok(mobile)
}

/// Checks a typed code; the right one returns the name given with it (the code is used up).
pub(crate) async fn check_code(
    tx: &mut hamdeli_store::Tx,
    key: &[u8],
    purpose: &str,
    mobile: &str,
    code: &str,
) -> Result<String> {
    let code: String = code
        .chars()
        .filter_map(|c| match c {
            '\u{06F0}'..='\u{06F9}' => char::from_u32(c as u32 - 0x06F0 + 0x30),
            '\u{0660}'..='\u{0669}' => char::from_u32(c as u32 - 0x0660 + 0x30),
            c if c.is_whitespace() => None,
            c => Some(c),
        })
        .collect();
    match codes::try_code(tx, purpose, mobile, &code_hash(key, purpose, mobile, &code)).await? {
        Tried::Right { display_name } => Ok(display_name),
        Tried::Wrong => Err(Error::Invalid("signup-code-wrong")),
        Tried::Expired => Err(Error::Invalid("signup-code-expired")),
        Tried::TooManyTries => Err(Error::Invalid("signup-code-too-many-tries")),
        Tried::Missing => Err(Error::Invalid("signup-code-missing")),
    }
}

fn self_actor(client_addr: &str) -> audit::Actor<'_> {
    audit::Actor {
        principal: None,
        client_addr,
    }
}

/// The right code opens a self-service session: returns its token (for a cookie).
pub async fn finish_self(
    store: &Store,
    client_addr: &str,
    key: &[u8],
    mobile: &str,
    code: &str,
) -> Result<String> {
    let mobile = vocab::mobile(mobile).ok_or(Error::Invalid("network-mobile-invalid"))?;
    let mut tx = store.begin().await?;
    let checked = check_code(&mut tx, key, PURPOSE, &mobile, code).await;
    if let Err(e) = checked {
        // The counted try stays counted.
        tx.commit().await?;
        return Err(e);
    }
    let token = hamdeli_store::tokens::random_token();
    codes::open_session(&mut tx, &hamdeli_store::tokens::sha256_hex(&token), &mobile).await?;
    audit::record(
        &mut tx,
        &self_actor(client_addr),
        audit::Event {
            action: "network.self.verify",
            target_kind: "network_self",
            target_id: String::new(),
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The proven mobile of a self-service token, and her profile if she has one.
pub async fn self_profile(store: &Store, token: &str) -> Result<(String, Option<Woman>)> {
    let mobile = codes::session_mobile(store, &hamdeli_store::tokens::sha256_hex(token))
        .await?
        .ok_or(Error::Denied)?;
    let w = women::by_mobile(store, &mobile).await?;
    Ok((mobile, w))
}

/// Ends a self-service session.
pub async fn end_self(store: &Store, token: &str) -> Result<()> {
    codes::close_session(store, &hamdeli_store::tokens::sha256_hex(token)).await?;
    Ok(())
}

/// She writes her own profile (creating it the first time) with the consent she chooses;
/// her mobile is the proven one, whatever the form says. A changed consent is kept in the
/// history as hers.
pub async fn self_save(
    store: &Store,
    client_addr: &str,
    token: &str,
    input: &WomanInput,
    consent: &str,
) -> Result<i64> {
    let (mobile, existing) = self_profile(store, token).await?;
    let to = parse_consent(consent)?;
    let mut input = input.clone();
    input.mobile = mobile.clone();
    let f = checked(store, &input).await?;
    let actor = self_actor(client_addr);
    let mut tx = store.begin().await?;
    let (id, action) = match &existing {
        None => (
            women::insert(&mut tx, &f, to.as_str(), "self", "self", true, None, false).await?,
            "network.woman.self_create",
        ),
        Some(w) => {
            women::update(&mut tx, w.id, &f).await?;
            if w.consent != to.as_str() {
                women::set_consent(&mut tx, w.id, &w.consent, to.as_str(), "self", "self").await?;
            }
            (w.id, "network.woman.self_update")
        }
    };
    audit::record(
        &mut tx,
        &actor,
        audit::Event {
            action,
            target_kind: "network_woman",
            target_id: id.to_string(),
            detail: serde_json::json!({ "field": f.field, "county": f.county_code, "consent": to.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// She changes or withdraws her consent.
pub async fn self_consent(
    store: &Store,
    client_addr: &str,
    token: &str,
    consent: &str,
) -> Result<()> {
    let (_, existing) = self_profile(store, token).await?;
    let w = existing.ok_or(Error::NotFound)?;
    let to = parse_consent(consent)?;
    let from = parse_consent(&w.consent)?;
    consent::change(from, to).map_err(|_| Error::Conflict("network-consent-unchanged"))?;
    let mut tx = store.begin().await?;
    women::set_consent(&mut tx, w.id, from.as_str(), to.as_str(), "self", "self").await?;
    audit::record(
        &mut tx,
        &self_actor(client_addr),
        audit::Event {
            action: "network.woman.consent",
            target_kind: "network_woman",
            target_id: w.id.to_string(),
            detail: serde_json::json!({ "from": from.as_str(), "to": to.as_str(), "source": "self" }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Her own consent history (self-service).
pub async fn self_history(store: &Store, token: &str) -> Result<Vec<ConsentChange>> {
    let (_, existing) = self_profile(store, token).await?;
    match existing {
        Some(w) => Ok(women::history(store, w.id).await?),
        None => Ok(vec![]),
    }
}
