//! Campaigns (پویش) and donors (capability C): public campaign pages with progress, the owner's
//! edit and close, donor sign-up with a mobile number confirmed by a one-time code, pledges and
//! their cancellation, the office's record of receipt (a donation with a receipt code), the
//! allocation dry run and commit under area quotas, the donor's page, the public receipt check
//! and the public statistics with small cells suppressed.
//!
//! Money is stored in rials and entered and shown in tomans (1 toman = 10 rials) on every
//! campaign page and form; goods are whole units.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_alloc::Policy;
use hamdeli_app::campaigns::AllocationPreview;
use hamdeli_domain::needs::{PublicCount, normalize_receipt_code, public_count};
use hamdeli_domain::{Action, Role};
use hamdeli_store::campaigns::{self, Campaign, CampaignPool, Destination, MONEY, Pledge};
use hamdeli_store::distribution::{self, AreaLevel, AreaQuotas, Plan, Window};
use hamdeli_store::{geo, organisations};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::needs::{TypeNames, parse_amount};
use crate::pages::registry::PlaceNames;
use crate::pages::{FormData, html, see_other};
use crate::view::{Loc, Shell};

/// A campaign's dates as the window of "already received" (Iran time, whole days).
fn window_of(c: &Campaign) -> Window {
    let from = hamdeli_locale::parse_form_date(&c.starts_on)
        .map(hamdeli_locale::clock::iran_midnight_millis)
        .unwrap_or(0);
    let to = hamdeli_locale::parse_form_date(&c.ends_on)
        .map(|d| {
            let next = hamdeli_locale::clock::civil_from_days(
                hamdeli_locale::clock::days_from_civil(d) + 1,
            );
            hamdeli_locale::clock::iran_midnight_millis(next) - 1
        })
        .unwrap_or(i64::MAX);
    Window { from, to }
}

/// Rials shown as tomans with the locale's digits and grouping (a tenth when rials are not a
/// whole number of tomans) and the unit: `۱٬۲۵۰ تومان`.
pub(crate) fn tomans(l: Loc, rials: i64) -> String {
    let whole = hamdeli_locale::format_tomans(l.0, rials);
    let tenth = (rials % 10).abs();
    let n = if tenth == 0 {
        whole
    } else {
        let sep = match l.0 {
            hamdeli_locale::Locale::Fa => "٫",
            hamdeli_locale::Locale::En => ".",
        };
        format!("{whole}{sep}{}", l.digits(&tenth.to_string()))
    };
    format!("{n} {}", l.t("unit-toman"))
}

/// An amount of a resource or need type as shown: money in tomans, goods in units.
pub(crate) fn show_amount(l: Loc, types: &TypeNames, code: &str, n: i64) -> String {
    if types.is_money(code) {
        tomans(l, n)
    } else {
        types.amount(code, &n)
    }
}

/// An amount typed in a form, in tomans for money (stored ×10 as rials, checked) and in units
/// for goods; more digits than any allowed amount has is "too large", not "not a number".
fn typed_amount(types: &TypeNames, code: &str, typed: &str) -> Result<i64, AppError> {
    let n = pledge_amount(typed)?;
    if types.is_money(code) {
        n.checked_mul(10)
            .ok_or(AppError::BadRequest("pledge-too-large"))
    } else {
        Ok(n)
    }
}

/// A money field of a form in tomans as rials (empty: 0).
fn form_tomans(typed: &str, invalid: &'static str) -> Result<i64, AppError> {
    if typed.trim().is_empty() {
        return Ok(0);
    }
    let tomans = parse_amount(typed).ok_or(AppError::BadRequest(invalid))?;
    Ok(hamdeli_app::campaigns::tomans_to_rials(tomans)?)
}

/// An ISO date as a form shows it: Jalali `۱۴۰۵/۰۱/۰۱` in Persian, ISO in English (the form
/// reads either).
fn form_date_value(l: Loc, iso: &str) -> String {
    match (l.0, hamdeli_locale::parse_form_date(iso)) {
        (hamdeli_locale::Locale::Fa, Some(d)) => match hamdeli_locale::jalali(d) {
            Some((y, m, day)) => l.digits(&format!("{y}/{m:02}/{day:02}")),
            None => iso.to_owned(),
        },
        _ => iso.to_owned(),
    }
}

/// Today in Iran as an ISO date.
fn today_iso() -> String {
    hamdeli_locale::clock::iran_today(hamdeli_store::now_millis()).iso()
}

/// A campaign takes pledges: active and its last day not over.
fn takes_pledges(c: &Campaign) -> bool {
    c.status == "active" && c.ends_on >= today_iso()
}

async fn campaign(state: &AppState, id: i64) -> Result<Campaign, AppError> {
    campaigns::get(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub struct PoolView {
    pub pool: CampaignPool,
    pub name: String,
    pub goal: String,
    pub pledged: String,
    pub received: String,
    pub allocated: String,
    pub percent: i64,
}

fn pool_views(l: Loc, types: &TypeNames, c: &Campaign, pools: Vec<CampaignPool>) -> Vec<PoolView> {
    pools
        .into_iter()
        .map(|p| {
            let goal = if p.resource == MONEY {
                c.goal_rials
            } else {
                p.goal
            };
            // In i128: a pool's figures may be as large as an i64 holds.
            let percent = if goal > 0 {
                (i128::from(p.received) * 100 / i128::from(goal)).clamp(0, 100) as i64
            } else {
                0
            };
            PoolView {
                name: types.resource(&p.resource),
                goal: show_amount(l, types, &p.resource, goal),
                pledged: show_amount(l, types, &p.resource, p.pledged),
                received: show_amount(l, types, &p.resource, p.received),
                allocated: show_amount(l, types, &p.resource, p.allocated),
                percent,
                pool: p,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// List, create

#[derive(Template)]
#[template(path = "campaigns.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    campaigns: Vec<(Campaign, Vec<PoolView>)>,
    places: PlaceNames,
    may_create: bool,
    /// Today in Iran (ISO): an active campaign past its last day is shown as ended.
    today: String,
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let mut out = vec![];
    for c in campaigns::list(&state.store).await? {
        let pools = campaigns::pools(&state.store, c.id).await?;
        let views = pool_views(l, &types, &c, pools);
        out.push((c, views));
    }
    html(ListPage {
        shell: Shell::new(&ctx, l.t("campaigns-title")),
        l,
        campaigns: out,
        places: PlaceNames::load(&state, l).await?,
        may_create: ctx
            .principal
            .as_ref()
            .is_some_and(|p| p.allows(&Action::CreateCampaign)),
        today: today_iso(),
    })
}

#[derive(Template)]
#[template(path = "campaign_new.html")]
struct NewPage {
    shell: Shell,
    l: Loc,
    types: TypeNames,
    provinces: Vec<(String, String)>,
    fixed_province: Option<String>,
    /// The counties to choose from, by province: (province name, [(code, name)]).
    counties: Vec<(String, Vec<(String, String)>)>,
    today: String,
}

/// The counties a campaign's area may be narrowed to: the province's, or every province's.
async fn county_choices(
    state: &AppState,
    l: Loc,
    province: Option<&str>,
) -> Result<Vec<(String, Vec<(String, String)>)>, AppError> {
    let provinces = geo::all_provinces(&state.store).await?;
    let counties = geo::all_counties(&state.store).await?;
    Ok(provinces
        .iter()
        .filter(|pr| province.is_none_or(|p| p == pr.code))
        .map(|pr| {
            (
                l.name(&pr.name_fa, &pr.name_en).to_owned(),
                counties
                    .iter()
                    .filter(|c| c.province_code == pr.code)
                    .map(|c| (c.code.clone(), l.name(&c.name_fa, &c.name_en).to_owned()))
                    .collect(),
            )
        })
        .collect())
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::CreateCampaign)?;
    let l = Loc(ctx.locale);
    let provinces = geo::all_provinces(&state.store)
        .await?
        .into_iter()
        .map(|pr| (pr.code.clone(), l.name(&pr.name_fa, &pr.name_en).to_owned()))
        .collect();
    let fixed_province = match p.role {
        Role::ProvincialOfficer => p.scope.province().map(str::to_owned),
        _ => None,
    };
    html(NewPage {
        shell: Shell::new(&ctx, l.t("campaign-new")),
        l,
        types: TypeNames::load(&state, l).await?,
        provinces,
        counties: county_choices(&state, l, fixed_province.as_deref()).await?,
        fixed_province,
        today: form_date_value(l, &today_iso()),
    })
}

/// A date typed as Jalali (any digits, `/` or `-`) or ISO, as an ISO date.
fn form_date(s: &str) -> Option<String> {
    hamdeli_locale::parse_form_date(s.trim()).map(|d| d.iso())
}

/// A campaign's form as typed (new and edit): the cash goal in tomans, goods goals in units.
struct CampaignFields {
    title: String,
    description: String,
    province: Option<String>,
    county: Option<String>,
    goal_rials: i64,
    starts_on: String,
    ends_on: String,
    need_types: Vec<(String, i64)>,
}

impl CampaignFields {
    /// `served`: the need types the campaign serves already (an edit keeps one that was
    /// retired since); a new campaign takes active types only.
    async fn parse(
        state: &AppState,
        form: &[(String, String)],
        served: &[String],
    ) -> Result<Self, AppError> {
        let get = |k: &str| {
            form.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let types = hamdeli_store::needs::need_types(&state.store).await?;
        let mut need_types = vec![];
        for t in types
            .iter()
            .filter(|t| t.active || served.contains(&t.code))
        {
            if form.iter().any(|(k, v)| k == "type" && *v == t.code) {
                let goal = get(&format!("goal_{}", t.code));
                let goal = if goal.is_empty() {
                    0
                } else {
                    parse_amount(&goal).ok_or(AppError::BadRequest("campaign-goal-negative"))?
                };
                need_types.push((t.code.clone(), goal));
            }
        }
        Ok(CampaignFields {
            title: get("title"),
            description: get("description"),
            province: Some(get("province")).filter(|s| !s.is_empty()),
            county: Some(get("county")).filter(|s| !s.is_empty()),
            goal_rials: form_tomans(&get("goal_tomans"), "campaign-goal-negative")?,
            starts_on: form_date(&get("starts_on")).ok_or(AppError::BadRequest("date-invalid"))?,
            ends_on: form_date(&get("ends_on")).ok_or(AppError::BadRequest("date-invalid"))?,
            need_types,
        })
    }
}

#[derive(Template)]
#[template(path = "campaign_edit.html")]
struct EditPage {
    shell: Shell,
    l: Loc,
    c: Campaign,
    types: TypeNames,
    /// (need type, chosen, goal in units as typed).
    chosen: Vec<(String, bool, String)>,
    counties: Vec<(String, Vec<(String, String)>)>,
    goal_tomans: String,
    starts_on: String,
    ends_on: String,
}

/// Handles GET /campaigns/{id}/edit: the owner's form, filled in.
pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let c = hamdeli_app::distribution::managed_campaign(&state.store, &caller, id).await?;
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let served = campaigns::need_types_of(&state.store, id).await?;
    let pools = campaigns::pools(&state.store, id).await?;
    let goal_of = |t: &str| {
        pools
            .iter()
            .find(|p| p.resource == t)
            .map(|p| p.goal)
            .filter(|g| *g > 0)
            .map(|g| g.to_string())
            .unwrap_or_default()
    };
    let chosen = types
        .all()
        .iter()
        .filter(|t| t.active || served.contains(&t.code))
        .map(|t| (t.code.clone(), served.contains(&t.code), goal_of(&t.code)))
        .collect();
    let counties = match &c.province_code {
        Some(p) => county_choices(&state, l, Some(p)).await?,
        None => vec![],
    };
    html(EditPage {
        shell: Shell::new(&ctx, format!("{} — {}", l.t("campaign-edit"), c.title)),
        goal_tomans: if c.goal_rials > 0 {
            (c.goal_rials / 10).to_string()
        } else {
            String::new()
        },
        starts_on: form_date_value(l, &c.starts_on),
        ends_on: form_date_value(l, &c.ends_on),
        l,
        types,
        chosen,
        counties,
        c,
    })
}

/// Handles POST /campaigns/{id}/edit.
pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    hamdeli_app::distribution::managed_campaign(&state.store, &caller, id).await?;
    let served = campaigns::need_types_of(&state.store, id).await?;
    let f = CampaignFields::parse(&state, &form, &served).await?;
    hamdeli_app::campaigns::edit(
        &state.store,
        &caller,
        id,
        hamdeli_app::campaigns::CampaignEditInput {
            title: f.title,
            description: f.description,
            county: f.county,
            goal_rials: f.goal_rials,
            starts_on: f.starts_on,
            ends_on: f.ends_on,
            need_types: f.need_types,
        },
    )
    .await?;
    Ok(see_other(&format!("/campaigns/{id}")))
}

/// Handles POST /campaigns/{id}/close.
pub async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    hamdeli_app::campaigns::close(&state.store, &caller, id).await?;
    Ok(see_other(&format!("/campaigns/{id}")))
}

/// Handles the POST /campaigns route.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    caller.principal.authorize(Action::CreateCampaign)?;
    let f = CampaignFields::parse(&state, &form, &[]).await?;
    let input = hamdeli_app::campaigns::CampaignInput {
        title: f.title,
        description: f.description,
        province: f.province,
        county: f.county,
        goal_rials: f.goal_rials,
        starts_on: f.starts_on,
        ends_on: f.ends_on,
        need_types: f.need_types,
    };
    let id = hamdeli_app::campaigns::create(&state.store, &caller, input).await?;
    Ok(see_other(&format!("/campaigns/{id}")))
}

// ---------------------------------------------------------------------------------------------
// The campaign page

pub struct DestinationView {
    pub province: String,
    pub zone: String,
    pub need_type: String,
    pub allocations: PublicCount,
    pub units: String,
    pub delivered: PublicCount,
}

fn destination_views(
    l: Loc,
    types: &TypeNames,
    places: &PlaceNames,
    rows: Vec<Destination>,
) -> Vec<DestinationView> {
    rows.into_iter()
        .map(|d| DestinationView {
            province: places.of(&d.province_code),
            zone: l.opt_tv("zone", &d.zone),
            need_type: types.of(&d.need_type),
            allocations: public_count(d.allocations),
            units: show_amount(l, types, &d.need_type, d.units),
            delivered: public_count(d.delivered),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "campaign.html")]
struct CampaignPage {
    shell: Shell,
    l: Loc,
    c: Campaign,
    pools: Vec<PoolView>,
    destinations: Vec<DestinationView>,
    places: PlaceNames,
    type_names: Vec<String>,
    /// The donor may pledge (signed in as a donor).
    may_pledge: bool,
    /// Anonymous visitors are invited to sign up.
    anonymous: bool,
    may_manage: bool,
    /// Active, and its last day is over: shown as ended, takes no pledges.
    ended: bool,
    /// The campaign's pledges for its office, with their amounts shown.
    pledges: Vec<PledgeView>,
}

/// A pledge with its amount as shown (tomans or units) and, for a pledged one, the amount the
/// office's receipt form starts from (tomans or units, as typed).
pub struct PledgeView {
    pub p: Pledge,
    pub resource: String,
    pub amount: String,
    pub typed_amount: String,
    pub is_money: bool,
}

fn pledge_views(l: Loc, types: &TypeNames, pledges: Vec<Pledge>) -> Vec<PledgeView> {
    pledges
        .into_iter()
        .map(|p| {
            let is_money = types.is_money(&p.resource);
            PledgeView {
                resource: types.resource(&p.resource),
                amount: show_amount(l, types, &p.resource, p.amount),
                typed_amount: if is_money {
                    (p.amount / 10).to_string()
                } else {
                    p.amount.to_string()
                },
                is_money,
                p,
            }
        })
        .collect()
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = campaign(&state, id).await?;
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let pools = campaigns::pools(&state.store, id).await?;
    let may_manage = ctx
        .principal
        .as_ref()
        .is_some_and(|p| p.allows(&Action::ManageCampaign(&c.owner())));
    let pledges = if may_manage {
        pledge_views(
            l,
            &types,
            campaigns::pledges_of_campaign(&state.store, id).await?,
        )
    } else {
        vec![]
    };
    let destinations = destination_views(
        l,
        &types,
        &places,
        campaigns::destinations(&state.store, id, None).await?,
    );
    let type_names = campaigns::need_types_of(&state.store, id)
        .await?
        .iter()
        .map(|t| types.of(t))
        .collect();
    html(CampaignPage {
        shell: Shell::new(&ctx, c.title.clone()),
        l,
        pools: pool_views(l, &types, &c, pools),
        destinations,
        places,
        type_names,
        may_pledge: ctx
            .principal
            .as_ref()
            .is_some_and(|p| p.allows(&Action::Pledge))
            && takes_pledges(&c),
        anonymous: ctx.principal.is_none(),
        may_manage,
        ended: c.status == "active" && !takes_pledges(&c),
        pledges,
        c,
    })
}

#[derive(Deserialize)]
pub struct PledgeForm {
    resource: String,
    amount: String,
}

/// Handles the POST /campaigns/{id}/pledges route.
pub async fn pledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<PledgeForm>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    caller.principal.authorize(Action::Pledge)?;
    let types = TypeNames::load(&state, Loc(ctx.locale)).await?;
    // Money in tomans, stored as rials.
    let amount = typed_amount(&types, &form.resource, &form.amount)?;
    // The store's refusals (over the caps, a closed campaign) are form errors in the user's
    // language (400 with the catalog message), never a 500.
    hamdeli_app::campaigns::pledge(&state.store, &caller, id, &form.resource, amount).await?;
    Ok(see_other("/donor"))
}

/// A pledge's amount as typed: a whole number in any digit script; more digits than any
/// allowed pledge has is "too large", not "not a number".
fn pledge_amount(typed: &str) -> Result<i64, AppError> {
    if let Some(n) = parse_amount(typed) {
        return Ok(n);
    }
    let digits = typed
        .chars()
        .filter(|c| hamdeli_text::digits::fold_digit(*c).is_ascii_digit())
        .count();
    Err(AppError::BadRequest(if digits > 15 {
        "pledge-too-large"
    } else {
        "pledge-amount-positive"
    }))
}

#[derive(Deserialize)]
pub struct ReceiveForm {
    amount: String,
    reference: String,
}

/// Handles the POST /campaigns/{id}/pledges/{pledge}/receive route.
pub async fn receive(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, pledge_id)): Path<(i64, i64)>,
    FormData(form): FormData<ReceiveForm>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    hamdeli_app::distribution::managed_campaign(&state.store, &caller, id).await?;
    let pledge = campaigns::pledge_by_id(&state.store, pledge_id)
        .await?
        .filter(|pl| pl.campaign_id == id)
        .ok_or(AppError::NotFound)?;
    let types = TypeNames::load(&state, Loc(ctx.locale)).await?;
    // Money received in tomans, stored as rials.
    let amount = typed_amount(&types, &pledge.resource, &form.amount)?;
    hamdeli_app::campaigns::receive(
        &state.store,
        &caller,
        id,
        pledge_id,
        amount,
        &form.reference,
    )
    .await?;
    Ok(see_other(&format!("/campaigns/{id}#pledges")))
}

/// Handles POST /campaigns/{id}/pledges/{pledge}/cancel: a donor her own pledge (back to her
/// page), the campaign's office any unreceived one (back to the campaign's pledges).
pub async fn cancel_pledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, pledge_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    hamdeli_app::campaigns::cancel_pledge(&state.store, &caller, id, pledge_id).await?;
    Ok(if caller.principal.allows(&Action::Pledge) {
        see_other("/donor")
    } else {
        see_other(&format!("/campaigns/{id}#pledges"))
    })
}

// ---------------------------------------------------------------------------------------------
// Allocation: dry run and commit

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AllocateQuery {
    resource: Option<String>,
    policy: Option<String>,
    all: Option<String>,
    /// A large allocation's candidates page by key: the page starts after this need id.
    after: Option<i64>,
}

impl AllocateQuery {
    fn of(pairs: &[(String, String)]) -> AllocateQuery {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        AllocateQuery {
            resource: get("resource"),
            policy: get("policy"),
            all: get("all"),
            after: get("after").and_then(|v| v.parse().ok()),
        }
    }
}

/// The area quotas of an allocation form: `quota_level` (`province` or `county`) and a field
/// `q_CODE` per area — tomans for money (stored ×10 as rials, checked), units for goods; an
/// empty field is no quota. Also the same quotas as typed, to carry them to the next form.
fn quotas_of(
    pairs: &[(String, String)],
    money: bool,
) -> Result<(AreaQuotas, Vec<(String, String)>), AppError> {
    let level = match pairs
        .iter()
        .find(|(k, _)| k == "quota_level")
        .map(|(_, v)| v.as_str())
    {
        Some("county") => AreaLevel::County,
        _ => AreaLevel::Province,
    };
    let mut quotas = AreaQuotas {
        level,
        max_units: Default::default(),
    };
    let mut typed = vec![];
    for (k, v) in pairs {
        let Some(code) = k.strip_prefix("q_") else {
            continue;
        };
        if v.trim().is_empty()
            || code.is_empty()
            || !code.chars().all(|c| c.is_ascii_alphanumeric())
        {
            continue;
        }
        let n = parse_amount(v).ok_or(AppError::BadRequest("allocation-quota-invalid"))?;
        let units = if money {
            n.checked_mul(10)
                .ok_or(AppError::BadRequest("allocation-quota-invalid"))?
        } else {
            n
        };
        quotas.max_units.insert(code.to_owned(), units);
        typed.push((format!("q_{code}"), n.to_string()));
    }
    typed.push((
        "quota_level".to_owned(),
        match level {
            AreaLevel::Province => "province",
            AreaLevel::County => "county",
        }
        .to_owned(),
    ));
    Ok((quotas, typed))
}

/// One area of the quota form: its quota as typed and what the plan gives it.
pub struct QuotaRow {
    pub code: String,
    pub name: String,
    pub typed: String,
    pub requests: i64,
    pub given: String,
    pub held: bool,
}

pub struct Breakdown {
    pub label: String,
    pub requests: i64,
    pub units: String,
}

pub struct LineView {
    pub need_id: i64,
    pub person_id: i64,
    pub name: String,
    pub county: String,
    pub need_type: String,
    pub remaining: String,
    pub score: i64,
    pub weight: String,
    pub units: String,
    pub why: String,
    pub warn: bool,
    pub given: bool,
}

#[derive(Template)]
#[template(path = "allocate.html")]
struct AllocatePage {
    shell: Shell,
    l: Loc,
    c: Campaign,
    resources: Vec<(String, String)>,
    resource: String,
    policy: &'static str,
    plan: Plan,
    pool: String,
    total: String,
    level: String,
    tables: Vec<(String, Vec<Breakdown>)>,
    lines: Vec<LineView>,
    hidden: usize,
    /// `province` or `county`.
    quota_level: &'static str,
    quota_rows: Vec<QuotaRow>,
    /// The quotas as typed, for the commit form's hidden fields and the "show all" link.
    quota_fields: Vec<(String, String)>,
    quota_query: String,
    /// The unit quotas are typed in: tomans or units.
    quota_unit: String,
    /// The quota form shows what the plan gives each area (`_allocate_form.html`).
    quota_given: bool,
    /// The plan gives something: the commit form (`_allocate_commit.html`).
    may_commit: bool,
    /// The breakdown tables' units column (`_allocate_tables.html`).
    tables_units: &'static str,
}

fn breakdown(
    l: Loc,
    plan: &Plan,
    types: &TypeNames,
    key: impl Fn(&distribution::PlanLine) -> String,
) -> Vec<Breakdown> {
    let mut m: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for line in plan.lines.iter().filter(|l| l.ineligible.is_none()) {
        let e = m.entry(key(line)).or_default();
        e.0 += 1;
        e.1 += line.units;
    }
    m.into_iter()
        .map(|(label, (requests, units))| Breakdown {
            label,
            requests,
            units: show_amount(l, types, &plan.resource, units),
        })
        .collect()
}

fn policy_of(s: Option<&str>) -> Policy {
    s.and_then(Policy::parse).unwrap_or_default()
}

/// Handles the GET /campaigns/{id}/allocate route: the dry run of a resource's pool under a
/// policy and area quotas, or above [`distribution::FULL_DRY_RUN_MAX`] candidate needs the
/// overview (counted set-based, candidates a page at a time).
pub async fn allocate_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let q = AllocateQuery::of(&pairs);
    let caller = crate::use_case::caller(&ctx)?;
    let c = hamdeli_app::distribution::managed_campaign(&state.store, &caller, id).await?;
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let resources: Vec<(String, String)> = campaigns::pools(&state.store, id)
        .await?
        .into_iter()
        .filter(|pool| pool.resource == MONEY || !types.is_money(&pool.resource))
        .map(|pool| (pool.resource.clone(), types.resource(&pool.resource)))
        .collect();
    let resource = q
        .resource
        .clone()
        .filter(|r| resources.iter().any(|(k, _)| k == r))
        .or_else(|| {
            resources
                .iter()
                .find(|(k, _)| k != MONEY)
                .or(resources.first())
                .map(|(k, _)| k.clone())
        })
        .ok_or(AppError::NotFound)?;
    let policy = policy_of(q.policy.as_deref());
    let money = types.is_money(&resource);
    let (quotas, quota_fields) = quotas_of(&pairs, money)?;
    let preview = hamdeli_app::campaigns::allocation_preview(
        &state.store,
        &caller,
        &c,
        &hamdeli_app::campaigns::AllocationRequest {
            resource: resource.clone(),
            policy,
            window: window_of(&c),
            quotas: quotas.clone(),
        },
        q.after,
    )
    .await?;
    let plan = match preview {
        AllocationPreview::Plan(plan) => plan,
        AllocationPreview::Overview { counts, page, next } => {
            return overview_page(
                &ctx,
                l,
                c,
                Overview {
                    types: &types,
                    places: &places,
                    resources,
                    resource,
                    policy,
                    quotas: &quotas,
                    quota_fields,
                    counts,
                    page,
                    next,
                },
            );
        }
    };
    // The areas of the eligible needs at the quotas' level, with any quota already typed.
    let mut areas: std::collections::BTreeMap<String, i64> = Default::default();
    for line in plan.lines.iter().filter(|x| x.ineligible.is_none()) {
        let code = match quotas.level {
            AreaLevel::Province => &line.candidate.province_code,
            AreaLevel::County => &line.candidate.county_code,
        };
        if let Some(code) = code {
            *areas.entry(code.clone()).or_default() += 1;
        }
    }
    for code in quotas.max_units.keys() {
        areas.entry(code.clone()).or_default();
    }
    let quota_rows = areas
        .into_iter()
        .map(|(code, requests)| {
            let used = plan.quotas.iter().find(|u| u.area == code);
            let given: i64 = plan
                .lines
                .iter()
                .filter(|x| {
                    let area = match quotas.level {
                        AreaLevel::Province => &x.candidate.province_code,
                        AreaLevel::County => &x.candidate.county_code,
                    };
                    area.as_deref() == Some(code.as_str())
                })
                .map(|x| x.units)
                .sum();
            QuotaRow {
                name: places.of(&Some(code.clone())),
                typed: quota_fields
                    .iter()
                    .find(|(k, _)| *k == format!("q_{code}"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                requests,
                given: show_amount(l, &types, &resource, given),
                held: used.is_some_and(|u| u.held),
                code,
            }
        })
        .collect();
    let quota_query: String = quota_fields
        .iter()
        .map(|(k, v)| format!("&{k}={v}"))
        .collect();
    let by_province = breakdown(l, &plan, &types, |line| {
        places.of(&line.candidate.province_code)
    });
    let by_zone = breakdown(l, &plan, &types, |line| {
        l.opt_tv("zone", &line.candidate.zone)
    });
    let by_type = breakdown(l, &plan, &types, |line| types.of(&line.candidate.need_type));
    let by_decile = breakdown(l, &plan, &types, |line| {
        match line.candidate.facts.income_decile {
            Some(d) => l.t1("decile-n", "n", &l.num(&d)),
            None => l.t("decile-unknown"),
        }
    });
    let shown_all = q.all.is_some();
    // Who gets something first (most first), then the eligible who get nothing, then the rest.
    let mut order: Vec<&distribution::PlanLine> = plan.lines.iter().collect();
    order.sort_by(|a, b| {
        (a.ineligible.is_some(), std::cmp::Reverse(a.units))
            .cmp(&(b.ineligible.is_some(), std::cmp::Reverse(b.units)))
            .then(b.weight.total_cmp(&a.weight))
    });
    let mut lines: Vec<LineView> = order
        .into_iter()
        .map(|line| {
            let cand = &line.candidate;
            let why = match line.ineligible {
                Some(reason) => l.tv("ineligible", reason.code()),
                None => l.tv("alloc-reason", line.reason.unwrap_or("level")),
            };
            LineView {
                need_id: cand.need_id,
                person_id: cand.person_id,
                name: format!(
                    "{} {}",
                    cand.first_name.as_deref().unwrap_or(""),
                    cand.last_name.as_deref().unwrap_or("")
                ),
                county: places.of(&cand.county_code),
                need_type: types.of(&cand.need_type),
                remaining: show_amount(l, &types, &cand.need_type, line.remaining),
                score: line.score,
                weight: l.digits(&format!("{:.2}", line.weight)),
                units: show_amount(l, &types, &cand.need_type, line.units),
                why,
                warn: cand.other_providers > 0,
                given: line.units > 0,
            }
        })
        .collect();
    let hidden = if shown_all || lines.len() <= 300 {
        0
    } else {
        lines.len() - 300
    };
    lines.truncate(lines.len() - hidden);
    html(AllocatePage {
        shell: Shell::new(&ctx, format!("{} — {}", l.t("allocate-title"), c.title)),
        pool: show_amount(l, &types, &resource, plan.pool),
        total: show_amount(l, &types, &resource, plan.total),
        quota_level: match quotas.level {
            AreaLevel::Province => "province",
            AreaLevel::County => "county",
        },
        quota_rows,
        quota_fields,
        quota_query,
        quota_unit: if money {
            l.t("unit-toman")
        } else {
            l.t("unit-unit")
        },
        quota_given: true,
        may_commit: plan.total > 0,
        tables_units: "allocate-total",
        level: plan
            .level
            .map(|v| l.digits(&format!("{v:.4}")))
            .unwrap_or_else(|| l.t("level-all-met")),
        l,
        c,
        resources,
        resource,
        policy: plan.policy,
        tables: vec![
            (l.t("field-province"), by_province),
            (l.t("field-zone"), by_zone),
            (l.t("field-need-type"), by_type),
            (l.t("field-income-decile"), by_decile),
        ],
        lines,
        hidden,
        plan,
    })
}

#[derive(Template)]
#[template(path = "allocate_overview.html")]
struct OverviewPage {
    shell: Shell,
    l: Loc,
    c: Campaign,
    resources: Vec<(String, String)>,
    resource: String,
    policy: &'static str,
    pool: String,
    open: String,
    candidates: i64,
    eligible: i64,
    /// The share of what the eligible needs lack that the pool meets, in whole percent.
    covers: i64,
    may_commit: bool,
    tables: Vec<(String, Vec<Breakdown>)>,
    lines: Vec<LineView>,
    next: Option<i64>,
    quota_level: &'static str,
    quota_rows: Vec<QuotaRow>,
    quota_fields: Vec<(String, String)>,
    quota_query: String,
    quota_unit: String,
    quota_given: bool,
    tables_units: &'static str,
}

/// What the overview of a large allocation is made of.
struct Overview<'a> {
    types: &'a TypeNames,
    places: &'a PlaceNames,
    resources: Vec<(String, String)>,
    resource: String,
    policy: Policy,
    quotas: &'a AreaQuotas,
    quota_fields: Vec<(String, String)>,
    counts: distribution::CandidateCounts,
    page: Vec<distribution::PlanLine>,
    next: Option<i64>,
}

/// The allocation page of a campaign with more candidate needs than a dry run shows in full:
/// the candidates counted set-based (by province, urgency and need type), what the pool meets
/// of what they lack, the policy, and the candidates one page at a time by key. The commit
/// computes each need's exact share.
fn overview_page(ctx: &Ctx, l: Loc, c: Campaign, o: Overview<'_>) -> Result<Response, AppError> {
    let Overview {
        types,
        places,
        resources,
        resource,
        policy,
        quotas,
        quota_fields,
        counts,
        page,
        next,
    } = o;
    let eligible = counts.groups.iter().filter(|g| g.eligible);
    let table = |key: &dyn Fn(&distribution::CandidateGroup) -> String| -> Vec<Breakdown> {
        let mut m: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        for g in eligible.clone() {
            let e = m.entry(key(g)).or_default();
            e.0 += g.needs;
            e.1 = e.1.saturating_add(g.open);
        }
        m.into_iter()
            .map(|(label, (requests, open))| Breakdown {
                label,
                requests,
                units: show_amount(l, types, &resource, open),
            })
            .collect()
    };
    let tables = vec![
        (
            l.t("field-province"),
            table(&|g: &distribution::CandidateGroup| places.of(&g.province_code)),
        ),
        (
            l.t("field-urgency"),
            table(&|g: &distribution::CandidateGroup| l.tv("urgency", &g.urgency)),
        ),
        (
            l.t("field-need-type"),
            table(&|g: &distribution::CandidateGroup| types.of(&g.need_type)),
        ),
    ];
    let mut areas: std::collections::BTreeMap<String, i64> = Default::default();
    for g in eligible.clone() {
        let code = match quotas.level {
            AreaLevel::Province => &g.province_code,
            AreaLevel::County => &g.county_code,
        };
        if let Some(code) = code {
            *areas.entry(code.clone()).or_default() += g.needs;
        }
    }
    for code in quotas.max_units.keys() {
        areas.entry(code.clone()).or_default();
    }
    let quota_rows = areas
        .into_iter()
        .map(|(code, requests)| QuotaRow {
            name: places.of(&Some(code.clone())),
            typed: quota_fields
                .iter()
                .find(|(k, _)| *k == format!("q_{code}"))
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            requests,
            given: "—".into(),
            held: false,
            code,
        })
        .collect();
    let quota_query: String = quota_fields
        .iter()
        .map(|(k, v)| format!("&{k}={v}"))
        .collect();
    let lines = page
        .iter()
        .map(|line| {
            let cand = &line.candidate;
            LineView {
                need_id: cand.need_id,
                person_id: cand.person_id,
                name: format!(
                    "{} {}",
                    cand.first_name.as_deref().unwrap_or(""),
                    cand.last_name.as_deref().unwrap_or("")
                ),
                county: places.of(&cand.county_code),
                need_type: types.of(&cand.need_type),
                remaining: show_amount(l, types, &cand.need_type, line.remaining),
                score: line.score,
                weight: l.digits(&format!("{:.2}", line.weight)),
                units: l.tv("urgency", &cand.urgency),
                why: match line.ineligible {
                    Some(reason) => l.tv("ineligible", reason.code()),
                    None => l.t("allocate-overview-eligible"),
                },
                warn: cand.other_providers > 0,
                given: false,
            }
        })
        .collect();
    // The share of the open need the pool meets (whole percent, at most 100).
    let covers = if counts.open <= 0 {
        100
    } else {
        (i128::from(counts.pool.max(0)) * 100 / i128::from(counts.open)).min(100) as i64
    };
    let money = types.is_money(&resource);
    html(OverviewPage {
        shell: Shell::new(ctx, format!("{} — {}", l.t("allocate-title"), c.title)),
        pool: show_amount(l, types, &resource, counts.pool),
        open: show_amount(l, types, &resource, counts.open),
        candidates: counts.candidates,
        eligible: counts.eligible,
        covers,
        may_commit: counts.pool > 0 && counts.eligible > 0,
        tables,
        lines,
        next,
        quota_level: match quotas.level {
            AreaLevel::Province => "province",
            AreaLevel::County => "county",
        },
        quota_rows,
        quota_fields,
        quota_query,
        quota_unit: if money {
            l.t("unit-toman")
        } else {
            l.t("unit-unit")
        },
        quota_given: false,
        tables_units: "allocate-overview-open",
        l,
        c,
        resources,
        resource,
        policy: match policy {
            Policy::WaterFill => "water-fill",
            Policy::Priority => "priority",
        },
    })
}

/// Handles POST /campaigns/{id}/allocate: the commit of the plan under the quotas of the dry
/// run it was shown with (resource, policy, `quota_level`, `q_CODE`).
pub async fn allocate_commit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let c = hamdeli_app::distribution::managed_campaign(&state.store, &caller, id).await?;
    let q = AllocateQuery::of(&form);
    let resource = q.resource.ok_or(AppError::BadRequest("form-invalid"))?;
    let types = TypeNames::load(&state, Loc(ctx.locale)).await?;
    let (quotas, _) = quotas_of(&form, types.is_money(&resource))?;
    hamdeli_app::campaigns::allocation_commit(
        &state.store,
        &caller,
        &c,
        &hamdeli_app::campaigns::AllocationRequest {
            resource,
            policy: policy_of(q.policy.as_deref()),
            window: window_of(&c),
            quotas,
        },
    )
    .await?;
    Ok(see_other(&format!("/campaigns/{id}")))
}

// ---------------------------------------------------------------------------------------------
// Donors

#[derive(Template)]
#[template(path = "donor_signup.html")]
struct SignupPage {
    shell: Shell,
    l: Loc,
    error: Option<String>,
    mobile: String,
    name: String,
}

pub async fn signup_form(ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    html(SignupPage {
        shell: Shell::new(&ctx, l.t("donor-signup-title")),
        l,
        error: None,
        mobile: String::new(),
        name: String::new(),
    })
}

#[derive(Deserialize)]
pub struct SignupForm {
    mobile: String,
    name: String,
}

/// Handles POST /donors/signup, the first step: the number and the name. A code goes to the
/// number by text message and the visitor is sent to the page that asks for it; the password is
/// chosen there, once the number is proven.
pub async fn signup(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<SignupForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let answer = |status: axum::http::StatusCode, message: String| -> Result<Response, AppError> {
        let mut r = html(SignupPage {
            shell: Shell::new(&ctx, l.t("donor-signup-title")),
            l,
            error: Some(message),
            mobile: form.mobile.clone(),
            name: form.name.clone(),
        })?;
        *r.status_mut() = status;
        Ok(r)
    };
    let again = |message: String| answer(axum::http::StatusCode::BAD_REQUEST, message);
    let mobile = match hamdeli_text::phone::parse_mobile(&form.mobile) {
        Ok(m) => m.as_str().to_owned(),
        Err(_) => return again(l.t("donor-mobile-invalid")),
    };
    if form.name.trim().is_empty() {
        return again(l.t("donor-name-required"));
    }
    if campaigns::mobile_registered(&state.store, &mobile).await? {
        return again(l.t("donor-mobile-taken"));
    }
    // A form that would send a code (and so create an account) counts against the address:
    // a few sign-ups an hour per address. The number has its own limit in the use case.
    let now = hamdeli_store::now_millis();
    if !crate::ratelimit::admit_signup(&state.store, &ctx.client_addr, now).await? {
        tracing::warn!(client = %ctx.client_addr, "refused a donor sign-up over the address limit");
        return answer(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            l.t("signup-too-many"),
        );
    }
    // The code in ASCII digits whatever the language: phones offer to fill it in from those.
    let message = |code: &str| {
        l.t1("signup-code-sms", "code", "@CODE@")
            .replace("@CODE@", code)
    };
    match hamdeli_app::campaigns::start_signup(
        &state.store,
        state.sms.as_ref(),
        &state.config.secret_key,
        &mobile,
        &form.name,
        &message,
    )
    .await
    {
        Ok(()) => {}
        Err(hamdeli_app::Error::Conflict("signup-code-too-many")) => {
            return answer(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                l.t("signup-code-too-many"),
            );
        }
        Err(hamdeli_app::Error::Conflict("signup-code-not-sent")) => {
            return answer(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                l.t("signup-code-not-sent"),
            );
        }
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            return again(l.t(id));
        }
        Err(e) => return Err(e.into()),
    }
    // The code's page at once: the number stays in the form, never in an address (history,
    // access logs, Referer).
    html(VerifyPage {
        shell: Shell::new(&ctx, l.t("signup-code-title")),
        l,
        error: None,
        mobile,
    })
}

#[derive(Template)]
#[template(path = "donor_verify.html")]
struct VerifyPage {
    shell: Shell,
    l: Loc,
    error: Option<String>,
    mobile: String,
}

/// Handles GET /donors/signup/verify: the code's page comes only as the answer to the sign-up
/// form (the number never rides in an address), so a visit here starts the sign-up again; a
/// `?mobile=` is not read.
pub async fn verify_form() -> Response {
    see_other("/donors/signup")
}

#[derive(Deserialize)]
pub struct VerifyForm {
    mobile: String,
    code: String,
    password: String,
}

/// Handles POST /donors/signup/verify: the right code within ten minutes and five tries creates
/// the donor's account.
pub async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<VerifyForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let mobile = hamdeli_text::phone::parse_mobile(&form.mobile)
        .map(|m| m.as_str().to_owned())
        .map_err(|_| AppError::BadRequest("donor-mobile-invalid"))?;
    let done = hamdeli_app::campaigns::finish_signup(
        &state.store,
        &ctx.client_addr,
        &state.config.secret_key,
        &mobile,
        &form.code,
        &form.password,
        ctx.locale.tag(),
    )
    .await;
    match done {
        Ok(_) => Ok(see_other("/login?next=/donor&signed_up=1")),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            let mut r = html(VerifyPage {
                shell: Shell::new(&ctx, l.t("signup-code-title")),
                l,
                error: Some(l.t(id)),
                mobile,
            })?;
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "donor.html")]
struct DonorPage {
    shell: Shell,
    l: Loc,
    pledges: Vec<PledgeView>,
    /// Per received pledge's campaign: where its allocations went.
    destinations: Vec<(i64, String, Vec<DestinationView>)>,
    mobile: String,
}

pub async fn donor_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::Pledge)?;
    let l = Loc(ctx.locale);
    let user = p.user_id.ok_or(AppError::Forbidden)?;
    let donor = campaigns::donor_of_user(&state.store, user).await?;
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let (pledges, mobile) = match &donor {
        Some(d) => (
            campaigns::pledges_of_donor(&state.store, d.id).await?,
            d.mobile.clone(),
        ),
        None => (vec![], String::new()),
    };
    let mut destinations = vec![];
    let mut seen = vec![];
    for pl in pledges.iter().filter(|pl| pl.status == "received") {
        if seen.contains(&pl.campaign_id) {
            continue;
        }
        seen.push(pl.campaign_id);
        let rows = campaigns::destinations(&state.store, pl.campaign_id, None).await?;
        destinations.push((
            pl.campaign_id,
            pl.campaign_title.clone(),
            destination_views(l, &types, &places, rows),
        ));
    }
    html(DonorPage {
        shell: Shell::new(&ctx, l.t("donor-title")),
        l,
        pledges: pledge_views(l, &types, pledges),
        destinations,
        mobile,
    })
}

// ---------------------------------------------------------------------------------------------
// Public receipt check

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReceiptQuery {
    code: Option<String>,
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    shell: Shell,
    l: Loc,
    code: String,
    searched: bool,
    pledge: Option<Pledge>,
    amount: String,
    resource: String,
    entry_hash: Option<String>,
    destinations: Vec<DestinationView>,
}

pub async fn receipt(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReceiptQuery>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let code = q
        .code
        .as_deref()
        .map(normalize_receipt_code)
        .unwrap_or_default();
    let pledge = if code.is_empty() {
        None
    } else {
        campaigns::by_receipt(&state.store, &code).await?
    };
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let mut entry_hash = None;
    let mut destinations = vec![];
    let (mut amount, mut resource) = (String::new(), String::new());
    if let Some(pl) = &pledge {
        amount = show_amount(l, &types, &pl.resource, pl.received_amount.unwrap_or(0));
        resource = types.resource(&pl.resource);
        if let Some(seq) = pl.ledger_seq {
            entry_hash = hamdeli_store::ledger::recent(&state.store, Some(seq + 1), 1)
                .await?
                .into_iter()
                .find(|e| e.seq == seq)
                .map(|e| e.hash);
        }
        destinations = destination_views(
            l,
            &types,
            &places,
            campaigns::destinations(&state.store, pl.campaign_id, Some(&pl.resource)).await?,
        );
    }
    html(ReceiptPage {
        shell: Shell::new(&ctx, l.t("receipt-title")),
        l,
        searched: !code.is_empty(),
        code,
        pledge,
        amount,
        resource,
        entry_hash,
        destinations,
    })
}

// ---------------------------------------------------------------------------------------------
// Public statistics

pub struct StatRow {
    pub province: String,
    pub need_type: String,
    pub in_need: PublicCount,
    pub served: PublicCount,
    pub delivered: String,
}

#[derive(Template)]
#[template(path = "stats.html")]
struct StatsPage {
    shell: Shell,
    l: Loc,
    rows: Vec<StatRow>,
    campaigns: i64,
    donations: PublicCount,
    organisations: i64,
}

pub async fn stats(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let cells = distribution::public_cells(&state.store).await?;
    let rows = cells
        .into_iter()
        .map(|c| StatRow {
            province: places.of_str(&c.province_code),
            need_type: types.of(&c.need_type),
            in_need: public_count(c.persons_in_need),
            served: public_count(c.persons_served),
            delivered: show_amount(l, &types, &c.need_type, c.units_delivered),
        })
        .collect();
    let all = campaigns::list(&state.store).await?;
    let mut donations = 0;
    for c in &all {
        donations += campaigns::pledges_of_campaign(&state.store, c.id)
            .await?
            .iter()
            .filter(|p| p.status == "received")
            .count() as i64;
    }
    html(StatsPage {
        shell: Shell::new(&ctx, l.t("stats-title")),
        l,
        rows,
        campaigns: all.len() as i64,
        donations: public_count(donations),
        organisations: organisations::list(&state.store, &hamdeli_domain::PlaceFilter::All)
            .await?
            .len() as i64,
    })
}
