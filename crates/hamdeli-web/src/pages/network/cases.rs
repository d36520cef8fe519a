//! Social emergency centres and their cases: the centres of a place, a centre's cases and the
//! form that opens one, a case with its proposals (ranked volunteers and their reasons), the
//! assignment, her answer, sessions and the close.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::network::cases::{self as app, CaseInput, CaseView, Proposed};
use hamdeli_domain::network::vocab;
use hamdeli_store::network::cases::{Case, Centre};

use super::{Choice, Places, county_choices, done, error_message, vocab_choices};
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ErrorQuery {
    error: Option<String>,
}

pub struct CentreRow {
    pub c: Centre,
    pub place: String,
}

#[derive(Template)]
#[template(path = "network/centres.html")]
struct CentresPage {
    shell: Shell,
    l: Loc,
    rows: Vec<CentreRow>,
    may_create: bool,
    counties: Vec<Choice>,
    error: Option<String>,
}

/// Handles the GET /network/centres route.
pub async fn centres(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ErrorQuery>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let list = app::centres(&state.store, &c).await?;
    let places = Places::load(&state).await?;
    let p = c.principal;
    let may_create = matches!(
        p.role,
        hamdeli_domain::Role::NationalAdmin | hamdeli_domain::Role::ProvincialOfficer
    );
    html(CentresPage {
        shell: Shell::new(&ctx, l.t("network-centres-title")),
        l,
        rows: list
            .into_iter()
            .map(|c| CentreRow {
                place: format!(
                    "{} — {}",
                    places.county(l, &c.county_code),
                    places.province(l, &c.province_code)
                ),
                c,
            })
            .collect(),
        may_create,
        counties: county_choices(l, &places, Some(p)),
        error: error_message(l, q.error.as_deref()),
    })
}

#[derive(Deserialize)]
pub struct CentreForm {
    name: String,
    county: String,
}

/// Handles the POST /network/centres route: an office registers a centre.
pub async fn create_centre(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<CentreForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    match app::create_centre(&state.store, &c, &form.name, &form.county).await {
        Ok(id) => Ok(see_other(&format!("/network/centres/{id}"))),
        Err(e) => done(Err(e), "/network/centres"),
    }
}

#[derive(Template)]
#[template(path = "network/centre.html")]
struct CentrePage {
    shell: Shell,
    l: Loc,
    c: Centre,
    place: String,
    cases: Vec<Case>,
    staff: bool,
    specialties: Vec<Choice>,
    languages: Vec<Choice>,
    urgencies: Vec<Choice>,
    error: Option<String>,
}

/// Handles the GET /network/centres/{id} route: its cases (no personal details here).
pub async fn centre(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ErrorQuery>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let (centre, cases) = app::centre(&state.store, &c, id).await?;
    let l = Loc(ctx.locale);
    let places = Places::load(&state).await?;
    html(CentrePage {
        shell: Shell::new(&ctx, centre.name.clone()),
        l,
        place: format!(
            "{} — {}",
            places.county(l, &centre.county_code),
            places.province(l, &centre.province_code)
        ),
        staff: app::is_staff(c.principal, &centre),
        c: centre,
        cases,
        specialties: vocab_choices(l, "network-specialty", &vocab::SPECIALTIES),
        languages: vocab_choices(l, "network-language", &vocab::LANGUAGES),
        urgencies: vocab_choices(l, "network-urgency", &vocab::URGENCIES),
        error: error_message(l, q.error.as_deref()),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CaseForm {
    specialty: String,
    language: String,
    gender_preference: String,
    urgency: String,
    client_name: String,
    client_phone: String,
    details: String,
}

/// Handles the POST /network/centres/{id}/cases route: the centre opens a case.
pub async fn open_case(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<CaseForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let input = CaseInput {
        specialty: f.specialty,
        language: f.language,
        gender_preference: f.gender_preference,
        urgency: f.urgency,
        client_name: f.client_name,
        client_phone: f.client_phone,
        details: f.details,
    };
    match app::open_case(&state.store, &c, id, &input).await {
        Ok(case) => Ok(see_other(&format!("/network/cases/{case}"))),
        Err(e) => done(Err(e), &format!("/network/centres/{id}")),
    }
}

#[derive(Template)]
#[template(path = "network/case.html")]
struct CasePage {
    shell: Shell,
    l: Loc,
    v: CaseView,
    place: String,
    proposals: Vec<Proposed>,
    outcomes: Vec<Choice>,
    today: String,
    error: Option<String>,
}

/// Handles the GET /network/cases/{id} route: the case; its personal details only for its
/// centre and its volunteer (every read audited); proposals for the centre while it is open.
pub async fn case(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ErrorQuery>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let v = app::view(&state.store, &c, id).await?;
    let proposals = if v.staff && v.case.state == "open" {
        app::proposals(&state.store, &c, id).await?
    } else {
        vec![]
    };
    let l = Loc(ctx.locale);
    let places = Places::load(&state).await?;
    html(CasePage {
        shell: Shell::new(&ctx, l.t1("network-case-title", "id", &l.num(&id))),
        l,
        place: format!(
            "{} — {}",
            places.county(l, &v.case.county_code),
            places.province(l, &v.case.province_code)
        ),
        v,
        proposals,
        outcomes: vocab_choices(l, "network-outcome", &vocab::OUTCOMES),
        today: l.date(&hamdeli_app::network::today()),
        error: error_message(l, q.error.as_deref()),
    })
}

#[derive(Deserialize)]
pub struct AssignForm {
    volunteer: i64,
}

/// Handles the POST /network/cases/{id}/assign route.
pub async fn assign(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<AssignForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    done(
        app::assign(&state.store, &c, id, f.volunteer).await,
        &format!("/network/cases/{id}"),
    )
}

#[derive(Deserialize)]
pub struct RespondForm {
    answer: String,
}

/// Handles the POST /network/cases/{id}/respond route: she accepts or declines.
pub async fn respond(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<RespondForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let accept = match f.answer.as_str() {
        "accept" => true,
        "decline" => false,
        _ => return Err(AppError::BadRequest("form-invalid")),
    };
    let r = app::respond(&state.store, &c, id, accept).await;
    let to = if accept || r.is_err() {
        format!("/network/cases/{id}")
    } else {
        "/network/volunteer".to_owned()
    };
    done(r, &to)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SessionForm {
    held_on: String,
    minutes: String,
    note: String,
}

/// Handles the POST /network/cases/{id}/sessions route: she logs a session.
pub async fn log_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<SessionForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let r = app::log_session(&state.store, &c, id, &f.held_on, &f.minutes, &f.note)
        .await
        .map(|_| ());
    done(r, &format!("/network/cases/{id}"))
}

#[derive(Deserialize)]
pub struct CloseForm {
    outcome: String,
}

/// Handles the POST /network/cases/{id}/close route: the centre closes it with an outcome.
pub async fn close(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<CloseForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    done(
        app::close(&state.store, &c, id, &f.outcome).await,
        &format!("/network/cases/{id}"),
    )
}
