//! Organisations: staff see all of them; a partner only its own.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_domain::Action;
use hamdeli_store::organisations::{self, Organisation};
use hamdeli_store::sharing::Level;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Template)]
#[template(path = "organisations.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    organisations: Vec<Organisation>,
}

/// Handles the GET /organisations route.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::ViewDashboard)?;
    let organisations = organisations::list(&state.store, &p.place_filter()).await?;
    let l = Loc(ctx.locale);
    html(ListPage {
        shell: Shell::new(&ctx, l.t("organisations-title")),
        l,
        organisations,
    })
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct ShowPage {
    shell: Shell,
    l: Loc,
    organisation: Organisation,
    province_name: Option<String>,
    /// Sharing rules this organisation gives or receives, as (from, to, level) names.
    sharing: Vec<SharingLine>,
    /// The national admin sets rules: the other organisations to choose from.
    may_share: bool,
    others: Vec<Organisation>,
}

pub struct SharingLine {
    pub from: String,
    pub to: String,
    pub level: &'static str,
}

/// Handles the GET /organisations/{id} route.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::ViewOrganisation(id))?;
    let organisation = organisations::by_id(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let l = Loc(ctx.locale);
    let province_name = match &organisation.province_code {
        Some(code) => hamdeli_store::geo::province(&state.store, code)
            .await?
            .map(|p| l.name(&p.name_fa, &p.name_en).to_owned()),
        None => None,
    };
    let title = l
        .name(&organisation.name_fa, &organisation.name_en)
        .to_owned();
    let may_share = p.role == hamdeli_domain::Role::NationalAdmin;
    let all = organisations::list(&state.store, &p.place_filter()).await?;
    let name_of = |id: i64| {
        all.iter()
            .find(|o| o.id == id)
            .map(|o| l.name(&o.name_fa, &o.name_en).to_owned())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let sharing = match hamdeli_app::sharing::rules_of(&state.store, &caller(&ctx)?, id).await {
        Ok(rules) => rules
            .into_iter()
            .map(|r| SharingLine {
                from: name_of(r.from_organisation_id),
                to: name_of(r.to_organisation_id),
                level: match r.level {
                    Level::Full => "sharing-level-full",
                    Level::Match => "sharing-level-match",
                },
            })
            .collect(),
        Err(hamdeli_app::Error::Denied) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let others = if may_share {
        all.iter().filter(|o| o.id != id).cloned().collect()
    } else {
        Vec::new()
    };
    html(ShowPage {
        shell: Shell::new(&ctx, title),
        l,
        organisation,
        province_name,
        sharing,
        may_share,
        others,
    })
}

#[derive(Deserialize)]
pub struct SharingForm {
    to: i64,
    level: String,
}

/// Handles the POST /organisations/{id}/sharing route: what this organisation shares with
/// another (the national admin).
pub async fn set_sharing(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<SharingForm>,
) -> Result<Response, AppError> {
    let level = Level::parse(&form.level).ok_or(AppError::BadRequest("form-invalid"))?;
    hamdeli_app::sharing::set_rule(&state.store, &caller(&ctx)?, id, form.to, level).await?;
    Ok(see_other(&format!("/organisations/{id}")))
}
