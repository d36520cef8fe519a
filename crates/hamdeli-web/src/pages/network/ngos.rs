//! NGOs: their licences, lifecycle (applied → verified → active → suspended or expired) and
//! training courses, on the capability's own pages beside the organisation's page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::network::ngos::{self as app, LicenceInput, TrainingInput};
use hamdeli_domain::network::ngo::NgoState;
use hamdeli_store::network::ngos::{Event, Ngo, Training};

use super::{Choice, Places, county_choices, done, error_message};
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ErrorQuery {
    error: Option<String>,
}

pub struct NgoRow {
    pub n: Ngo,
    pub province: String,
    pub state: String,
}

fn state_of(n: &Ngo) -> String {
    n.licence
        .as_ref()
        .map(|l| l.state.clone())
        .unwrap_or_else(|| "none".into())
}

#[derive(Template)]
#[template(path = "network/ngos.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    rows: Vec<NgoRow>,
}

/// Handles the GET /network/ngos route.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let list = app::list(&state.store, &c).await?;
    let places = Places::load(&state).await?;
    html(ListPage {
        shell: Shell::new(&ctx, l.t("network-ngos-title")),
        l,
        rows: list
            .into_iter()
            .map(|n| NgoRow {
                province: n
                    .licence
                    .as_ref()
                    .and_then(|x| x.province_code.clone())
                    .or(n.organisation_province.clone())
                    .map(|p| places.province(l, &p))
                    .unwrap_or_else(|| l.t("scope-country")),
                state: state_of(&n),
                n,
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "network/ngo.html")]
struct ShowPage {
    shell: Shell,
    l: Loc,
    r: NgoRow,
    county: String,
    events: Vec<Event>,
    trainings: Vec<Training>,
    may_manage: bool,
    steps: Vec<Choice>,
    counties: Vec<Choice>,
    expires_value: String,
    error: Option<String>,
}

/// Handles the GET /network/ngos/{id} route (the organisation's id).
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ErrorQuery>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let (n, events, trainings) = app::get(&state.store, &c, id).await?;
    let l = Loc(ctx.locale);
    let places = Places::load(&state).await?;
    let steps = n
        .licence
        .as_ref()
        .and_then(|x| NgoState::parse(&x.state))
        .map(|s| {
            s.next_by_office()
                .iter()
                .map(|t| (t.as_str().to_owned(), l.tv("network-ngo-to", t.as_str())))
                .collect()
        })
        .unwrap_or_default();
    let county = n
        .licence
        .as_ref()
        .and_then(|x| x.county_code.clone())
        .map(|c| places.county(l, &c))
        .unwrap_or_else(|| "—".into());
    let expires_value = n
        .licence
        .as_ref()
        .map(|x| l.date(&x.licence_expires_on))
        .unwrap_or_default();
    html(ShowPage {
        shell: Shell::new(&ctx, l.name(&n.name_fa, &n.name_en).to_owned()),
        l,
        may_manage: app::may_manage(c.principal, &n),
        counties: county_choices(l, &places, Some(c.principal)),
        r: NgoRow {
            province: n
                .licence
                .as_ref()
                .and_then(|x| x.province_code.clone())
                .or(n.organisation_province.clone())
                .map(|p| places.province(l, &p))
                .unwrap_or_else(|| l.t("scope-country")),
            state: state_of(&n),
            n,
        },
        county,
        events,
        trainings,
        steps,
        expires_value,
        error: error_message(l, q.error.as_deref()),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LicenceForm {
    licence_issuer: String,
    licence_number: String,
    licence_expires_on: String,
    fields: String,
    county: String,
    board: String,
    capacity: String,
}

/// Handles the POST /network/ngos/{id}/licence route.
pub async fn put_licence(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<LicenceForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let input = LicenceInput {
        licence_issuer: f.licence_issuer,
        licence_number: f.licence_number,
        licence_expires_on: f.licence_expires_on,
        fields: f.fields,
        county: f.county,
        board: f.board,
        capacity: f.capacity,
    };
    done(
        app::put_licence(&state.store, &c, id, &input).await,
        &format!("/network/ngos/{id}"),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepForm {
    to: String,
    note: String,
}

/// Handles the POST /network/ngos/{id}/step route: a lifecycle step.
pub async fn step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<StepForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    done(
        app::step(&state.store, &c, id, &f.to, &f.note).await,
        &format!("/network/ngos/{id}"),
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TrainingForm {
    title: String,
    held_on: String,
    hours: String,
    certificate: String,
}

/// Handles the POST /network/ngos/{id}/trainings route: a course it attended.
pub async fn add_training(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<TrainingForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let input = TrainingInput {
        title: f.title,
        held_on: f.held_on,
        hours: f.hours,
        certificate: f.certificate,
    };
    done(
        app::add_training(&state.store, &c, id, &input)
            .await
            .map(|_| ()),
        &format!("/network/ngos/{id}"),
    )
}
