//! A campaign's creation, edit and closing by its office: the new and edit forms (area,
//! dates, cash goal in tomans, goods goals in units) and their POSTs.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use hamdeli_domain::{Action, Role};
use hamdeli_store::campaigns::Campaign;
use hamdeli_store::geo;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::needs::{TypeNames, parse_amount};
use crate::pages::{FormData, html, see_other};
use crate::view::{Loc, Shell};

use super::{form_date_value, form_tomans, today_iso};

#[derive(Template)]
#[template(path = "campaigns/campaign_new.html")]
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

/// Handles GET /campaigns/new: the form of a new campaign (a provincial officer's in her
/// province).
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
#[template(path = "campaigns/campaign_edit.html")]
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
    let form = hamdeli_app::campaigns::for_edit(&state.store, &caller, id).await?;
    let (c, served, pools) = (form.campaign, form.need_types, form.pools);
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
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
    let served = hamdeli_app::campaigns::for_edit(&state.store, &caller, id)
        .await?
        .need_types;
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
