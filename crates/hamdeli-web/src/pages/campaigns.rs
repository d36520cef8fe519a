//! Campaigns (پویش) and donors (capability C): public campaign pages with progress, donor sign-up
//! with a mobile number, pledges, the office's record of receipt (a donation with a receipt
//! code), the allocation dry run and commit, the donor's page, the public receipt check and the
//! public statistics with small cells suppressed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_alloc::Policy;
use hamdeli_domain::needs::{PublicCount, normalize_receipt_code, public_count};
use hamdeli_domain::{Action, Role, Scope};
use hamdeli_store::campaigns::{self, Campaign, CampaignPool, Destination, MONEY, Pledge};
use hamdeli_store::distribution::{self, Plan, Window};
use hamdeli_store::{audit, geo, organisations, users};

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

fn pool_views(types: &TypeNames, c: &Campaign, pools: Vec<CampaignPool>) -> Vec<PoolView> {
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
                goal: types.amount(&p.resource, &goal),
                pledged: types.amount(&p.resource, &p.pledged),
                received: types.amount(&p.resource, &p.received),
                allocated: types.amount(&p.resource, &p.allocated),
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
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let mut out = vec![];
    for c in campaigns::list(&state.store).await? {
        let pools = campaigns::pools(&state.store, c.id).await?;
        let views = pool_views(&types, &c, pools);
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
    today: String,
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
    html(NewPage {
        shell: Shell::new(&ctx, l.t("campaign-new")),
        l,
        types: TypeNames::load(&state, l).await?,
        provinces,
        fixed_province: match p.role {
            Role::ProvincialOfficer => p.scope.province().map(str::to_owned),
            _ => None,
        },
        today: hamdeli_locale::clock::iran_today(hamdeli_store::now_millis()).iso(),
    })
}

/// A date typed as Jalali (any digits, `/` or `-`) or ISO, as an ISO date.
fn form_date(s: &str) -> Option<String> {
    hamdeli_locale::parse_form_date(s.trim()).map(|d| d.iso())
}

/// Handles the POST /campaigns route.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    caller.principal.authorize(Action::CreateCampaign)?;
    let get = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let types = hamdeli_store::needs::need_types(&state.store).await?;
    let mut need_types = vec![];
    for t in types.iter().filter(|t| t.active) {
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
    let goal_rials = match get("goal_rials") {
        g if g.is_empty() => 0,
        g => parse_amount(&g).ok_or(AppError::BadRequest("campaign-goal-negative"))?,
    };
    let starts_on = form_date(&get("starts_on")).ok_or(AppError::BadRequest("date-invalid"))?;
    let ends_on = form_date(&get("ends_on")).ok_or(AppError::BadRequest("date-invalid"))?;
    let input = hamdeli_app::campaigns::CampaignInput {
        title: get("title"),
        description: get("description"),
        province: Some(get("province")).filter(|s| !s.is_empty()),
        goal_rials,
        starts_on,
        ends_on,
        need_types,
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
            units: types.amount(&d.need_type, &d.units),
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
    pledges: Vec<Pledge>,
    types: TypeNames,
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
        campaigns::pledges_of_campaign(&state.store, id).await?
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
        pools: pool_views(&types, &c, pools),
        destinations,
        places,
        type_names,
        may_pledge: ctx
            .principal
            .as_ref()
            .is_some_and(|p| p.allows(&Action::Pledge))
            && c.status == "active",
        anonymous: ctx.principal.is_none(),
        may_manage,
        pledges,
        types,
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
    let amount = pledge_amount(&form.amount)?;
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
    let amount =
        parse_amount(&form.amount).ok_or(AppError::BadRequest("pledge-amount-positive"))?;
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

// ---------------------------------------------------------------------------------------------
// Allocation: dry run and commit

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AllocateQuery {
    resource: Option<String>,
    policy: Option<String>,
    all: Option<String>,
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
}

fn breakdown(
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
            units: types.amount(&plan.resource, &units),
        })
        .collect()
}

fn policy_of(s: Option<&str>) -> Policy {
    s.and_then(Policy::parse).unwrap_or_default()
}

pub async fn allocate_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<AllocateQuery>,
) -> Result<Response, AppError> {
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
    let plan = hamdeli_app::distribution::dry_run(
        &state.store,
        &caller,
        &c,
        &resource,
        policy,
        window_of(&c),
    )
    .await?;
    let by_province = breakdown(&plan, &types, |line| {
        places.of(&line.candidate.province_code)
    });
    let by_zone = breakdown(&plan, &types, |line| l.opt_tv("zone", &line.candidate.zone));
    let by_type = breakdown(&plan, &types, |line| types.of(&line.candidate.need_type));
    let by_decile = breakdown(&plan, &types, |line| {
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
                remaining: types.amount(&cand.need_type, &line.remaining),
                score: line.score,
                weight: l.digits(&format!("{:.2}", line.weight)),
                units: types.amount(&cand.need_type, &line.units),
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
        pool: types.amount(&resource, &plan.pool),
        total: types.amount(&resource, &plan.total),
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

#[derive(Deserialize)]
pub struct CommitForm {
    resource: String,
    #[serde(default)]
    policy: String,
}

pub async fn allocate_commit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<CommitForm>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let c = hamdeli_app::distribution::managed_campaign(&state.store, &caller, id).await?;
    let policy = policy_of(Some(&form.policy));
    hamdeli_app::distribution::commit(
        &state.store,
        &caller,
        &c,
        &form.resource,
        policy,
        window_of(&c),
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
    password: String,
}

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
    if let Err(id) = hamdeli_store::passwords::check_strength(&form.password) {
        return again(l.t(id));
    }
    // A form that would create an account (or find its number taken) counts against the
    // address, before the password is hashed: a few sign-ups an hour per address.
    let now = hamdeli_store::now_millis();
    if !crate::ratelimit::admit_signup(&state.store, &ctx.client_addr, now).await? {
        tracing::warn!(client = %ctx.client_addr, "refused a donor sign-up over the address limit");
        return answer(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            l.t("signup-too-many"),
        );
    }
    let mut tx = state.store.begin().await?;
    let user = users::create(
        &mut tx,
        users::NewUser {
            username: mobile.clone(),
            display_name: form.name.trim().to_owned(),
            password: form.password.clone(),
            role: Role::Donor,
            scope: Scope::Own,
            locale: ctx.locale.tag().to_owned(),
            is_demo: false,
        },
    )
    .await;
    let user = match user {
        Ok(id) => id,
        Err(hamdeli_store::StoreError::Conflict(_)) => return again(l.t("donor-mobile-taken")),
        Err(hamdeli_store::StoreError::Invalid(id)) => return again(l.t(id)),
        Err(e) if e.is_unique_violation() => return again(l.t("donor-mobile-taken")),
        Err(e) => return Err(e.into()),
    };
    match campaigns::register_donor(&mut tx, user, &mobile).await {
        Ok(_) => {}
        Err(hamdeli_store::StoreError::Conflict(id)) => return again(l.t(id)),
        Err(e) => return Err(e.into()),
    }
    audit::record(
        &mut tx,
        &ctx.audit_actor(),
        audit::Event {
            action: "donor.signup",
            target_kind: "user",
            target_id: user.to_string(),
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(see_other("/login?next=/donor&signed_up=1"))
}

#[derive(Template)]
#[template(path = "donor.html")]
struct DonorPage {
    shell: Shell,
    l: Loc,
    pledges: Vec<Pledge>,
    /// Per received pledge's campaign: where its allocations went.
    destinations: Vec<(i64, String, Vec<DestinationView>)>,
    types: TypeNames,
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
        pledges,
        destinations,
        types,
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
        amount = types.amount(&pl.resource, &pl.received_amount.unwrap_or(0));
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
            delivered: types.amount(&c.need_type, &c.units_delivered),
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
