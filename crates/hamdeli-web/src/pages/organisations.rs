//! Organisations: staff see all of them; a partner only its own.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use hamdeli_domain::Action;
use hamdeli_store::organisations::{self, Organisation};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::html;
use crate::view::{Loc, Shell};

#[derive(Template)]
#[template(path = "organisations.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    organisations: Vec<Organisation>,
}

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
}

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
    html(ShowPage {
        shell: Shell::new(&ctx, title),
        l,
        organisation,
        province_name,
    })
}
