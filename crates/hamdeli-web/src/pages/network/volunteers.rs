//! Volunteer specialists: the office's list and check, her own home (profile and cases), and
//! the sign-up of her account by a one-time code.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::network::volunteers::{self as app, VolunteerInput};
use hamdeli_domain::network::ngo::{EXPIRING_SOON_DAYS, licence_days_left};
use hamdeli_domain::network::vocab;
use hamdeli_store::network::cases::Case;
use hamdeli_store::network::volunteers::Volunteer;

use super::women::CodePage;
use super::{Choice, Fields, Places, done, error_message, province_choices, vocab_choices};
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    error: Option<String>,
}

pub struct VolunteerRow {
    pub v: Volunteer,
    pub province: String,
    /// Days left on her licence (negative: expired).
    pub days_left: i64,
}

impl VolunteerRow {
    pub fn expiring(&self) -> bool {
        self.days_left <= EXPIRING_SOON_DAYS
    }
}

fn row(l: Loc, places: &Places, v: Volunteer) -> VolunteerRow {
    VolunteerRow {
        province: places.province(l, &v.province_code),
        days_left: licence_days_left(&v.licence_expires_on, &hamdeli_app::network::today())
            .unwrap_or(-1),
        v,
    }
}

#[derive(Template)]
#[template(path = "network/volunteers.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    rows: Vec<VolunteerRow>,
    status: String,
    statuses: Vec<Choice>,
    /// The caller enters volunteers (an office that checks them).
    may_enter: bool,
}

/// Handles the GET /network/volunteers route: the office's volunteers, by status.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let list = app::list(&state.store, &c, &q.status).await?;
    let places = Places::load(&state).await?;
    html(ListPage {
        shell: Shell::new(&ctx, l.t("network-volunteers-title")),
        l,
        rows: list.into_iter().map(|v| row(l, &places, v)).collect(),
        status: q.status,
        statuses: vocab_choices(l, "network-volunteer-status", &vocab::VOLUNTEER_STATES),
        may_enter: places
            .provinces
            .iter()
            .any(|p| app::may_enter(c.principal, &p.code)),
    })
}

#[derive(Template)]
#[template(path = "network/volunteer.html")]
struct ShowPage {
    shell: Shell,
    l: Loc,
    r: VolunteerRow,
    counties: Vec<String>,
    may_check: bool,
    minutes: i64,
    error: Option<String>,
}

/// Handles the GET /network/volunteers/{id} route (an audited read).
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let (v, minutes) = app::profile(&state.store, &c, id).await?;
    let l = Loc(ctx.locale);
    let places = Places::load(&state).await?;
    html(ShowPage {
        shell: Shell::new(&ctx, v.name.clone()),
        l,
        counties: v.counties.iter().map(|c| places.county(l, c)).collect(),
        may_check: app::may_check(c.principal, &v),
        r: row(l, &places, v),
        minutes,
        error: error_message(l, q.error.as_deref()),
    })
}

#[derive(Deserialize)]
pub struct CheckForm {
    decision: String,
    #[serde(default)]
    note: String,
}

/// Handles the POST /network/volunteers/{id}/check route: the provincial office verifies,
/// rejects, suspends or reinstates her.
pub async fn check(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<CheckForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    done(
        app::check(&state.store, &c, id, &form.decision, &form.note).await,
        &format!("/network/volunteers/{id}"),
    )
}

/// Her profile form as typed or stored.
#[derive(Default, Clone)]
pub struct VolunteerForm {
    pub name: String,
    pub mobile: String,
    pub gender: String,
    pub specialty: String,
    pub licence_number: String,
    pub licence_issuer: String,
    pub licence_expires_on: String,
    pub languages: Vec<String>,
    pub remote: bool,
    pub province: String,
    pub counties: Vec<String>,
    pub weekly_hours: String,
    pub days: Vec<u8>,
}

impl VolunteerForm {
    fn of(f: &Fields) -> VolunteerForm {
        VolunteerForm {
            name: f.get("name"),
            mobile: f.get("mobile"),
            gender: f.get("gender"),
            specialty: f.get("specialty"),
            licence_number: f.get("licence_number"),
            licence_issuer: f.get("licence_issuer"),
            licence_expires_on: f.get("licence_expires_on"),
            languages: f.all("languages"),
            remote: f.has("remote"),
            province: f.get("province"),
            counties: f.all("counties"),
            weekly_hours: f.get("weekly_hours"),
            days: f
                .all("days")
                .iter()
                .filter_map(|d| d.parse().ok())
                .collect(),
        }
    }
    fn of_volunteer(l: Loc, v: &Volunteer) -> VolunteerForm {
        VolunteerForm {
            name: v.name.clone(),
            mobile: v.mobile.clone(),
            gender: v.gender.clone(),
            specialty: v.specialty.clone(),
            licence_number: v.licence_number.clone(),
            licence_issuer: v.licence_issuer.clone(),
            licence_expires_on: l.date(&v.licence_expires_on),
            languages: v.languages.clone(),
            remote: v.remote,
            province: v.province_code.clone(),
            counties: v.counties.clone(),
            weekly_hours: v.weekly_hours.to_string(),
            days: (0..7).filter(|d| v.days & (1 << d) != 0).collect(),
        }
    }
    fn input(&self) -> VolunteerInput {
        VolunteerInput {
            name: self.name.clone(),
            mobile: self.mobile.clone(),
            gender: self.gender.clone(),
            specialty: self.specialty.clone(),
            licence_number: self.licence_number.clone(),
            licence_issuer: self.licence_issuer.clone(),
            licence_expires_on: self.licence_expires_on.clone(),
            languages: self.languages.clone(),
            remote: self.remote,
            province: self.province.clone(),
            counties: self.counties.clone(),
            weekly_hours: self.weekly_hours.clone(),
            days: self.days.clone(),
        }
    }
    pub fn speaks(&self, code: &str) -> bool {
        self.languages.iter().any(|x| x == code)
    }
    pub fn serves(&self, code: &str) -> bool {
        self.counties.iter().any(|x| x == code)
    }
    pub fn on_day(&self, d: &u8) -> bool {
        self.days.contains(d)
    }
}

#[derive(Template)]
#[template(path = "network/volunteer_home.html")]
struct HomePage {
    shell: Shell,
    l: Loc,
    profile: Option<VolunteerRow>,
    form: VolunteerForm,
    cases: Vec<Case>,
    minutes: i64,
    specialties: Vec<Choice>,
    languages: Vec<Choice>,
    provinces: Vec<Choice>,
    counties: Vec<(String, String, String)>,
    days: Vec<(u8, String)>,
    error: Option<String>,
}

async fn home_page(
    state: &AppState,
    ctx: &Ctx,
    typed: Option<VolunteerForm>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let c = caller(ctx)?;
    let l = Loc(ctx.locale);
    let (mine, minutes) = match app::my_profile(&state.store, &c).await? {
        Some((v, minutes)) => (Some(v), minutes),
        None => (None, 0),
    };
    let cases = match &mine {
        Some(_) => hamdeli_app::network::cases::my_cases(&state.store, &c).await?,
        None => vec![],
    };
    let places = Places::load(state).await?;
    let form = typed.unwrap_or_else(|| match &mine {
        Some(v) => VolunteerForm::of_volunteer(l, v),
        None => VolunteerForm {
            name: ctx
                .user
                .as_ref()
                .map(|u| u.display_name.clone())
                .unwrap_or_default(),
            mobile: ctx
                .user
                .as_ref()
                .and_then(|u| vocab::mobile(&u.username))
                .unwrap_or_default(),
            ..Default::default()
        },
    });
    html(HomePage {
        shell: Shell::new(ctx, l.t("network-volunteer-home")),
        l,
        profile: mine.map(|v| row(l, &places, v)),
        cases,
        minutes,
        specialties: vocab_choices(l, "network-specialty", &vocab::SPECIALTIES),
        languages: vocab_choices(l, "network-language", &vocab::LANGUAGES),
        provinces: province_choices(l, &places),
        counties: places
            .counties
            .iter()
            .map(|c| {
                (
                    c.code.clone(),
                    l.name(&c.name_fa, &c.name_en).to_owned(),
                    c.province_code.clone(),
                )
            })
            .filter(|(code, _, province)| *province == form.province || form.serves(code))
            .collect(),
        days: (0..7u8)
            .map(|d| (d, l.t(&format!("network-day-{d}"))))
            .collect(),
        form,
        error,
    })
}

/// Handles the GET /network/volunteer route: the volunteer's home (her profile, licence,
/// cases and hours).
pub async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    home_page(&state, &ctx, None, error_message(l, q.error.as_deref())).await
}

/// Handles the POST /network/volunteer route: she signs up or changes her profile.
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(pairs): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let f = Fields(pairs);
    let form = VolunteerForm::of(&f);
    // Choosing the province first shows its counties (no script): the form comes back.
    if f.has("choose_province") {
        return home_page(&state, &ctx, Some(form), None).await;
    }
    match app::save_mine(&state.store, &c, &form.input()).await {
        Ok(_) => Ok(see_other("/network/volunteer")),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            let l = Loc(ctx.locale);
            let mut r = home_page(&state, &ctx, Some(form), Some(l.t(id))).await?;
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "network/volunteer_signup.html")]
struct SignupPage {
    shell: Shell,
    l: Loc,
    error: Option<String>,
    mobile: String,
    name: String,
}

/// Handles the GET /network/volunteers/signup route.
pub async fn signup_form(ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    html(SignupPage {
        shell: Shell::new(&ctx, l.t("network-volunteer-signup")),
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

/// Handles the POST /network/volunteers/signup route: a code to her mobile.
pub async fn signup(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<SignupForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let again = |status: axum::http::StatusCode, message: String| -> Result<Response, AppError> {
        let mut r = html(SignupPage {
            shell: Shell::new(&ctx, l.t("network-volunteer-signup")),
            l,
            error: Some(message),
            mobile: form.mobile.clone(),
            name: form.name.clone(),
        })?;
        *r.status_mut() = status;
        Ok(r)
    };
    if !crate::ratelimit::admit_signup(&state.store, &ctx.client_addr, hamdeli_store::now_millis())
        .await?
    {
        return again(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            l.t("signup-too-many"),
        );
    }
    let message = |code: &str| {
        l.t1("network-code-sms", "code", "@CODE@")
            .replace("@CODE@", code)
    };
    match app::start_signup(
        &state.store,
        state.sms.as_ref(),
        &state.config.secret_key,
        &form.mobile,
        &form.name,
        &message,
    )
    .await
    {
        // The code's page at once: her mobile stays in the form, never in an address.
        Ok(mobile) => html(CodePage::new(
            &ctx,
            None,
            mobile,
            "/network/volunteers/signup/verify",
            true,
        )),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            again(axum::http::StatusCode::BAD_REQUEST, l.t(id))
        }
        Err(e) => Err(e.into()),
    }
}

/// Handles the GET /network/volunteers/signup/verify route: the code's page comes only as the
/// answer to the sign-up form (her mobile never rides in an address), so a visit here starts
/// again; a `?mobile=` is not read.
pub async fn verify_form() -> Response {
    see_other("/network/volunteers/signup")
}

#[derive(Deserialize)]
pub struct VerifyForm {
    mobile: String,
    code: String,
    password: String,
}

/// Handles the POST /network/volunteers/signup/verify route: the right code creates her
/// volunteer account; she signs in and fills her profile.
pub async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<VerifyForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let mobile =
        vocab::mobile(&form.mobile).ok_or(AppError::BadRequest("network-mobile-invalid"))?;
    match app::finish_signup(
        &state.store,
        &ctx.client_addr,
        &state.config.secret_key,
        &mobile,
        &form.code,
        &form.password,
        ctx.locale.tag(),
    )
    .await
    {
        Ok(_) => Ok(see_other("/login?next=/network/volunteer&signed_up=1")),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            let mut r = html(CodePage::new(
                &ctx,
                Some(l.t(id)),
                mobile,
                "/network/volunteers/signup/verify",
                true,
            ))?;
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "network/volunteer_new.html")]
struct NewPage {
    shell: Shell,
    l: Loc,
    form: VolunteerForm,
    specialties: Vec<Choice>,
    languages: Vec<Choice>,
    provinces: Vec<Choice>,
    counties: Vec<(String, String, String)>,
    days: Vec<(u8, String)>,
    error: Option<String>,
}

async fn new_page(
    state: &AppState,
    ctx: &Ctx,
    form: VolunteerForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let c = caller(ctx)?;
    let l = Loc(ctx.locale);
    let places = Places::load(state).await?;
    // The provinces whose volunteers the caller checks; none: no form.
    let provinces: Vec<Choice> = province_choices(l, &places)
        .into_iter()
        .filter(|(code, _)| app::may_enter(c.principal, code))
        .collect();
    if provinces.is_empty() {
        return Err(AppError::Forbidden);
    }
    html(NewPage {
        shell: Shell::new(ctx, l.t("network-volunteer-enter")),
        l,
        specialties: vocab_choices(l, "network-specialty", &vocab::SPECIALTIES),
        languages: vocab_choices(l, "network-language", &vocab::LANGUAGES),
        provinces,
        counties: places
            .counties
            .iter()
            .map(|c| {
                (
                    c.code.clone(),
                    l.name(&c.name_fa, &c.name_en).to_owned(),
                    c.province_code.clone(),
                )
            })
            .filter(|(code, _, province)| *province == form.province || form.serves(code))
            .collect(),
        days: (0..7u8)
            .map(|d| (d, l.t(&format!("network-day-{d}"))))
            .collect(),
        form,
        error,
    })
}

/// Handles the GET /network/volunteers/new route: the office's form to enter a volunteer.
pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let form = VolunteerForm {
        province: c.principal.scope.province().unwrap_or("").to_owned(),
        ..Default::default()
    };
    new_page(&state, &ctx, form, None).await
}

/// Handles the POST /network/volunteers/new route: the office enters a volunteer (waiting for
/// its check).
pub async fn enter(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(pairs): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let f = Fields(pairs);
    let form = VolunteerForm::of(&f);
    if f.has("choose_province") {
        return new_page(&state, &ctx, form, None).await;
    }
    match app::enter(&state.store, &c, &form.input()).await {
        Ok(id) => Ok(see_other(&format!("/network/volunteers/{id}"))),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            let l = Loc(ctx.locale);
            let mut r = new_page(&state, &ctx, form, Some(l.t(id))).await?;
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}
