//! Provinces and counties, each page behind the policy's `ViewPlace`.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use hamdeli_domain::{Action, Place};
use hamdeli_store::geo::{self, County, Province};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::html;
use crate::view::{Loc, Shell};

pub struct ProvinceRow {
    pub province: Province,
    pub counties: Vec<County>,
    /// The principal may open the province page itself (not just some of its counties).
    pub open: bool,
}

#[derive(Template)]
#[template(path = "places.html")]
struct ProvincesPage {
    shell: Shell,
    l: Loc,
    rows: Vec<ProvinceRow>,
}

pub async fn provinces(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::ViewDashboard)?;
    let filter = p.place_filter();
    let mut rows = vec![];
    for province in geo::provinces(&state.store, &filter).await? {
        let counties = geo::counties_of(&state.store, &province.code, &filter).await?;
        let open = p.allows(&Action::ViewPlace(&Place::province(province.code.clone())));
        rows.push(ProvinceRow {
            province,
            counties,
            open,
        });
    }
    let l = Loc(ctx.locale);
    html(ProvincesPage {
        shell: Shell::new(&ctx, l.t("places-title")),
        l,
        rows,
    })
}

#[derive(Template)]
#[template(path = "province.html")]
struct ProvincePage {
    shell: Shell,
    l: Loc,
    province: Province,
    counties: Vec<County>,
}

pub async fn province(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::ViewPlace(&Place::province(code.clone())))?;
    let province = geo::province(&state.store, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let counties = geo::counties_of(&state.store, &code, &p.place_filter()).await?;
    let l = Loc(ctx.locale);
    let title = l.name(&province.name_fa, &province.name_en).to_owned();
    html(ProvincePage {
        shell: Shell::new(&ctx, title),
        l,
        province,
        counties,
    })
}

#[derive(Template)]
#[template(path = "county.html")]
struct CountyPage {
    shell: Shell,
    l: Loc,
    province: Province,
    county: County,
    figures: Option<crate::pages::reports::CountyFigures>,
}

pub async fn county(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((province_code, county_code)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::ViewPlace(&Place::county(
        province_code.clone(),
        county_code.clone(),
    )))?;
    let county = geo::county(&state.store, &county_code)
        .await?
        .filter(|c| c.province_code == province_code)
        .ok_or(AppError::NotFound)?;
    let province = geo::province(&state.store, &province_code)
        .await?
        .ok_or(AppError::NotFound)?;
    let l = Loc(ctx.locale);
    let title = l.name(&county.name_fa, &county.name_en).to_owned();
    let figures =
        crate::pages::reports::county_figures(&state, &ctx, &province.code, &county.code).await?;
    html(CountyPage {
        shell: Shell::new(&ctx, title),
        l,
        province,
        county,
        figures,
    })
}
