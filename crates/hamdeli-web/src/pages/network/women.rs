//! The databank of capable women: the offices' search, entry, profile and consent, the export;
//! the public directory; her self-service by mobile and a one-time code.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::network::women::{self as app, PublicCard, Search, WomanInput};
use hamdeli_domain::Action;
use hamdeli_domain::network::consent::Consent;
use hamdeli_domain::network::policy::NetworkAction;
use hamdeli_domain::network::vocab;
use hamdeli_store::network::women::{ConsentChange, Woman};

use super::{
    Choice, Fields, Places, county_choices, done, error_message, province_choices, vocab_choices,
};
use crate::AppState;
use crate::context::Ctx;
use crate::cookies;
use crate::error::AppError;
use crate::export::{self, Cell};
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

/// The self-service cookie (a short session of a proven mobile; HttpOnly).
const SELF_COOKIE: &str = "hamdeli_network_self";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    field: String,
    skill: String,
    province: String,
    page: i64,
    format: Option<String>,
    error: Option<String>,
}

pub struct WomanRow {
    pub w: Woman,
    pub province: String,
    pub county: String,
}

#[derive(Template)]
#[template(path = "network/women.html")]
struct SearchPage {
    shell: Shell,
    l: Loc,
    rows: Vec<WomanRow>,
    total: i64,
    q: SearchQuery,
    fields: Vec<Choice>,
    provinces: Vec<Choice>,
    may_export: bool,
    may_enter: bool,
    export_query: String,
    next_page: Option<i64>,
    prev_page: Option<i64>,
}

fn encode(s: &str) -> String {
    crate::error::urlencode(s)
}

/// Handles the GET /network/women route (and `?format=xlsx`, the office export).
pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let s = Search {
        field: q.field.clone(),
        skill: q.skill.clone(),
        province: q.province.clone(),
        page: q.page,
    };
    let places = Places::load(&state).await?;
    if let Some(fmt) = export::requested(q.format.as_deref()) {
        let rows = app::export(&state.store, &c, &s).await?;
        let headers: Vec<String> = [
            "network-name",
            "network-mobile",
            "network-field",
            "network-education",
            "network-skills",
            "network-achievements",
            "network-languages",
            "field-province",
            "network-county",
            "network-contact",
            "network-consent",
        ]
        .iter()
        .map(|id| l.t(id))
        .collect();
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|w| {
                vec![
                    w.name.clone().into(),
                    w.mobile.clone().into(),
                    l.tv("network-field", &w.field).into(),
                    w.education.clone().into(),
                    w.skills.clone().into(),
                    w.achievements.clone().into(),
                    w.languages
                        .iter()
                        .map(|x| l.tv("network-language", x))
                        .collect::<Vec<_>>()
                        .join("، ")
                        .into(),
                    places.province(l, &w.province_code).into(),
                    places.county(l, &w.county_code).into(),
                    w.contact.clone().into(),
                    l.tv("network-consent", &w.consent).into(),
                ]
            })
            .collect();
        return export::table(
            fmt,
            "capable-women",
            &l.t("network-women-title"),
            &headers,
            &cells,
            ctx.locale.dir() == "rtl",
        );
    }
    let (list, total) = app::search(&state.store, &c, &s).await?;
    let rows = list
        .into_iter()
        .map(|w| WomanRow {
            province: places.province(l, &w.province_code),
            county: places.county(l, &w.county_code),
            w,
        })
        .collect();
    let p = ctx.require()?;
    let page = q.page.max(0);
    let export_query = format!(
        "field={}&skill={}&province={}&format=xlsx",
        encode(&q.field),
        encode(&q.skill),
        encode(&q.province)
    );
    html(SearchPage {
        shell: Shell::new(&ctx, l.t("network-women-title")),
        l,
        rows,
        total,
        fields: vocab_choices(l, "network-field", &vocab::FIELDS),
        provinces: province_choices(l, &places),
        may_export: p.allows(&Action::Network(NetworkAction::ExportWomen)),
        may_enter: matches!(
            p.role,
            hamdeli_domain::Role::NationalAdmin
                | hamdeli_domain::Role::ProvincialOfficer
                | hamdeli_domain::Role::CountyExpert
        ),
        export_query,
        next_page: ((page + 1) * app::PAGE < total).then_some(page + 1),
        prev_page: (page > 0).then(|| page - 1),
        q,
    })
}

/// What a profile form shows (as typed, kept when refused).
#[derive(Default, Clone)]
pub struct WomanForm {
    pub name: String,
    pub mobile: String,
    pub field: String,
    pub education: String,
    pub achievements: String,
    pub skills: String,
    pub languages: Vec<String>,
    pub county: String,
    pub contact: String,
    pub consent: String,
}

impl WomanForm {
    fn of(f: &Fields) -> WomanForm {
        WomanForm {
            name: f.get("name"),
            mobile: f.get("mobile"),
            field: f.get("field"),
            education: f.get("education"),
            achievements: f.get("achievements"),
            skills: f.get("skills"),
            languages: f.all("languages"),
            county: f.get("county"),
            contact: f.get("contact"),
            consent: f.get("consent"),
        }
    }
    fn of_woman(w: &Woman) -> WomanForm {
        WomanForm {
            name: w.name.clone(),
            mobile: w.mobile.clone().unwrap_or_default(),
            field: w.field.clone(),
            education: w.education.clone(),
            achievements: w.achievements.clone(),
            skills: w.skills.clone(),
            languages: w.languages.clone(),
            county: w.county_code.clone(),
            contact: w.contact.clone(),
            consent: w.consent.clone(),
        }
    }
    fn input(&self) -> WomanInput {
        WomanInput {
            name: self.name.clone(),
            mobile: self.mobile.clone(),
            field: self.field.clone(),
            education: self.education.clone(),
            achievements: self.achievements.clone(),
            skills: self.skills.clone(),
            languages: self.languages.clone(),
            county: self.county.clone(),
            contact: self.contact.clone(),
        }
    }
    pub fn speaks(&self, code: &str) -> bool {
        self.languages.iter().any(|x| x == code)
    }
}

/// The choices a profile form offers.
pub struct FormChoices {
    pub fields: Vec<Choice>,
    pub languages: Vec<Choice>,
    pub counties: Vec<Choice>,
    pub consents: Vec<Choice>,
}

fn form_choices(l: Loc, places: &Places, p: Option<&hamdeli_domain::Principal>) -> FormChoices {
    FormChoices {
        fields: vocab_choices(l, "network-field", &vocab::FIELDS),
        languages: vocab_choices(l, "network-language", &vocab::LANGUAGES),
        counties: county_choices(l, places, p),
        consents: Consent::ALL
            .iter()
            .filter(|c| **c != Consent::Withdrawn)
            .map(|c| (c.as_str().to_owned(), l.tv("network-consent", c.as_str())))
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "network/woman_form.html")]
struct FormPage {
    shell: Shell,
    l: Loc,
    form: WomanForm,
    c: FormChoices,
    error: Option<String>,
    action: String,
    /// Her own form (self-service): the mobile is the proven one.
    own: bool,
    /// An office's edit: the consent is recorded on the profile page, not here.
    edit: bool,
}

/// Handles the GET /network/women/new route.
pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::Network(NetworkAction::SearchWomen))?;
    let l = Loc(ctx.locale);
    let places = Places::load(&state).await?;
    html(FormPage {
        shell: Shell::new(&ctx, l.t("network-woman-new")),
        l,
        form: WomanForm {
            consent: "office".into(),
            ..Default::default()
        },
        c: form_choices(l, &places, Some(p)),
        error: None,
        action: "/network/women/new".into(),
        own: false,
        edit: false,
    })
}

/// Handles the POST /network/women/new route: an office enters a profile.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(pairs): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let form = WomanForm::of(&Fields(pairs));
    match app::enter(&state.store, &c, &form.input(), &form.consent).await {
        Ok(id) => Ok(see_other(&format!("/network/women/{id}"))),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            let l = Loc(ctx.locale);
            let places = Places::load(&state).await?;
            let mut r = html(FormPage {
                shell: Shell::new(&ctx, l.t("network-woman-new")),
                l,
                c: form_choices(l, &places, ctx.principal.as_ref()),
                form,
                error: Some(l.t(id)),
                action: "/network/women/new".into(),
                own: false,
                edit: false,
            })?;
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// Handles the GET /network/women/{id}/edit route: an office edits a profile it manages.
pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let (w, _) = app::read(&state.store, &c, id).await?;
    if !app::may_manage(c.principal, &w) {
        return Err(AppError::Forbidden);
    }
    let l = Loc(ctx.locale);
    let places = Places::load(&state).await?;
    html(FormPage {
        shell: Shell::new(&ctx, w.name.clone()),
        l,
        form: WomanForm::of_woman(&w),
        c: form_choices(l, &places, Some(c.principal)),
        error: None,
        action: format!("/network/women/{id}/edit"),
        own: false,
        edit: true,
    })
}

/// Handles the POST /network/women/{id}/edit route.
pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(pairs): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let form = WomanForm::of(&Fields(pairs));
    match app::edit(&state.store, &c, id, &form.input()).await {
        Ok(()) => Ok(see_other(&format!("/network/women/{id}"))),
        Err(hamdeli_app::Error::Invalid(e) | hamdeli_app::Error::Conflict(e)) => {
            let l = Loc(ctx.locale);
            let places = Places::load(&state).await?;
            let mut r = html(FormPage {
                shell: Shell::new(&ctx, form.name.clone()),
                l,
                c: form_choices(l, &places, ctx.principal.as_ref()),
                form,
                error: Some(l.t(e)),
                action: format!("/network/women/{id}/edit"),
                own: false,
                edit: true,
            })?;
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "network/woman.html")]
struct ShowPage {
    shell: Shell,
    l: Loc,
    w: Woman,
    province: String,
    county: String,
    history: Vec<ConsentChange>,
    may_manage: bool,
    consents: Vec<Choice>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ErrorQuery {
    error: Option<String>,
}

/// Handles the GET /network/women/{id} route (an audited read).
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ErrorQuery>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let (w, history) = app::read(&state.store, &c, id).await?;
    let l = Loc(ctx.locale);
    let places = Places::load(&state).await?;
    html(ShowPage {
        shell: Shell::new(&ctx, w.name.clone()),
        l,
        province: places.province(l, &w.province_code),
        county: places.county(l, &w.county_code),
        may_manage: app::may_manage(c.principal, &w),
        consents: Consent::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), l.tv("network-consent", c.as_str())))
            .collect(),
        history,
        w,
        error: error_message(l, q.error.as_deref()),
    })
}

#[derive(Deserialize)]
pub struct ConsentForm {
    consent: String,
}

/// Handles the POST /network/women/{id}/consent route: a consent she gave the office.
pub async fn set_consent(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<ConsentForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let r = app::set_consent(&state.store, &c, id, &form.consent).await;
    // A withdrawn profile is no longer readable: back to the search.
    let to = if form.consent == "withdrawn" && r.is_ok() {
        "/network/women".to_owned()
    } else {
        format!("/network/women/{id}")
    };
    done(r, &to)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DirectoryQuery {
    field: String,
    province: String,
    page: i64,
}

pub struct CardView {
    pub card: PublicCard,
    pub province: String,
}

#[derive(Template)]
#[template(path = "network/directory.html")]
struct DirectoryPage {
    shell: Shell,
    l: Loc,
    cards: Vec<CardView>,
    q: DirectoryQuery,
    fields: Vec<Choice>,
    provinces: Vec<Choice>,
    next_page: Option<i64>,
    prev_page: Option<i64>,
}

/// Handles the GET /network/directory route: the public cards of those who chose one.
pub async fn directory(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DirectoryQuery>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let (cards, total) = app::directory(&state.store, &q.field, &q.province, q.page).await?;
    let places = Places::load(&state).await?;
    let page = q.page.max(0);
    html(DirectoryPage {
        shell: Shell::new(&ctx, l.t("network-directory-title")),
        l,
        cards: cards
            .into_iter()
            .map(|card| CardView {
                province: places.province(l, &card.province_code),
                card,
            })
            .collect(),
        fields: vocab_choices(l, "network-field", &vocab::FIELDS),
        provinces: province_choices(l, &places),
        next_page: ((page + 1) * app::PAGE < total).then_some(page + 1),
        prev_page: (page > 0).then(|| page - 1),
        q,
    })
}

// ---------------------------------------------------------------------------------------------
// Self-service

#[derive(Template)]
#[template(path = "network/me_start.html")]
struct StartPage {
    shell: Shell,
    l: Loc,
    error: Option<String>,
    mobile: String,
}

#[derive(Template)]
#[template(path = "network/me_verify.html")]
pub(crate) struct VerifyPage {
    shell: Shell,
    l: Loc,
    error: Option<String>,
    mobile: String,
    action: &'static str,
    /// The volunteer's sign-up asks for a password too.
    password: bool,
}

#[derive(Template)]
#[template(path = "network/me.html")]
struct MePage {
    shell: Shell,
    l: Loc,
    mobile: String,
    profile: Option<Woman>,
    history: Vec<ConsentChange>,
    form: WomanForm,
    c: FormChoices,
    own: bool,
    edit: bool,
    consents: Vec<Choice>,
    error: Option<String>,
}

fn token_of(headers: &HeaderMap) -> Option<String> {
    cookies::get(headers, SELF_COOKIE)
}

/// Handles the GET /network/me route: her own profile once her mobile is proven, else the
/// form that sends her a code.
pub async fn me(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<ErrorQuery>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let error = error_message(l, q.error.as_deref());
    let Some(token) = token_of(&headers) else {
        return html(StartPage {
            shell: Shell::new(&ctx, l.t("network-me-title")),
            l,
            error,
            mobile: String::new(),
        });
    };
    let (mobile, profile) = match app::self_profile(&state.store, &token).await {
        Ok(x) => x,
        Err(hamdeli_app::Error::Denied) => {
            return html(StartPage {
                shell: Shell::new(&ctx, l.t("network-me-title")),
                l,
                error: Some(l.t("network-me-expired")),
                mobile: String::new(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    me_page(&state, &ctx, &token, mobile, profile, None, error).await
}

async fn me_page(
    state: &AppState,
    ctx: &Ctx,
    token: &str,
    mobile: String,
    profile: Option<Woman>,
    typed: Option<WomanForm>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let places = Places::load(state).await?;
    let history = app::self_history(&state.store, token).await?;
    let mut form = typed.unwrap_or_else(|| match &profile {
        Some(w) => WomanForm::of_woman(w),
        None => WomanForm {
            consent: "office".into(),
            ..Default::default()
        },
    });
    form.mobile = mobile.clone();
    html(MePage {
        shell: Shell::new(ctx, l.t("network-me-title")),
        l,
        mobile,
        history,
        form,
        c: form_choices(l, &places, None),
        own: true,
        edit: false,
        consents: Consent::ALL
            .iter()
            .map(|c| (c.as_str().to_owned(), l.tv("network-consent", c.as_str())))
            .collect(),
        profile,
        error,
    })
}

#[derive(Deserialize)]
pub struct MobileForm {
    mobile: String,
}

/// Handles the POST /network/me/code route: a one-time code to her mobile.
pub async fn me_code(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<MobileForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let again = |status: axum::http::StatusCode, message: String| -> Result<Response, AppError> {
        let mut r = html(StartPage {
            shell: Shell::new(&ctx, l.t("network-me-title")),
            l,
            error: Some(message),
            mobile: form.mobile.clone(),
        })?;
        *r.status_mut() = status;
        Ok(r)
    };
    let now = hamdeli_store::now_millis();
    if !crate::ratelimit::admit_signup(&state.store, &ctx.client_addr, now).await? {
        return again(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            l.t("signup-too-many"),
        );
    }
    let message = |code: &str| {
        l.t1("network-code-sms", "code", "@CODE@")
            .replace("@CODE@", code)
    };
    match app::start_self(
        &state.store,
        state.sms.as_ref(),
        &state.config.secret_key,
        &form.mobile,
        &message,
    )
    .await
    {
        // The code's page at once: her mobile stays in the form, never in an address (history,
        // logs of proxies, Referer).
        Ok(mobile) => html(CodePage::new(
            &ctx,
            None,
            mobile,
            "/network/me/verify",
            false,
        )),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            again(axum::http::StatusCode::BAD_REQUEST, l.t(id))
        }
        Err(e) => Err(e.into()),
    }
}

/// Handles the GET /network/me/verify route: the code's page comes only as the answer to
/// POST /network/me/code (her mobile never rides in an address), so a visit here starts again;
/// a `?mobile=` is not read.
pub async fn me_verify_form() -> Response {
    see_other("/network/me")
}

#[derive(Deserialize)]
pub struct CodeForm {
    mobile: String,
    code: String,
}

/// Handles the POST /network/me/verify route: the right code opens her self-service (a
/// thirty-minute cookie).
pub async fn me_verify(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<CodeForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let mobile =
        vocab::mobile(&form.mobile).ok_or(AppError::BadRequest("network-mobile-invalid"))?;
    match app::finish_self(
        &state.store,
        &ctx.client_addr,
        &state.config.secret_key,
        &mobile,
        &form.code,
    )
    .await
    {
        Ok(token) => {
            let mut r = see_other("/network/me");
            let cookie = cookies::set(
                SELF_COOKIE,
                &token,
                Some(hamdeli_store::network::codes::SESSION_TTL_MILLIS / 1000),
                state.config.secure_cookies,
            );
            if let Ok(v) = cookie.parse() {
                r.headers_mut().append(SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            let mut r = html(VerifyPage {
                shell: Shell::new(&ctx, l.t("signup-code-title")),
                l,
                error: Some(l.t(id)),
                mobile,
                action: "/network/me/verify",
                password: false,
            })?;
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

/// Handles the POST /network/me route: she saves her own profile and consent.
pub async fn me_save(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    FormData(pairs): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let token = token_of(&headers).ok_or(AppError::Forbidden)?;
    let form = WomanForm::of(&Fields(pairs));
    match app::self_save(
        &state.store,
        &ctx.client_addr,
        &token,
        &form.input(),
        &form.consent,
    )
    .await
    {
        Ok(_) => Ok(see_other("/network/me")),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            let (mobile, profile) = app::self_profile(&state.store, &token).await?;
            let l = Loc(ctx.locale);
            let mut r = me_page(
                &state,
                &ctx,
                &token,
                mobile,
                profile,
                Some(form),
                Some(l.t(id)),
            )
            .await?;
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(hamdeli_app::Error::Denied) => Ok(see_other("/network/me")),
        Err(e) => Err(e.into()),
    }
}

/// Handles the POST /network/me/consent route: she changes or withdraws her consent.
pub async fn me_consent(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    FormData(form): FormData<ConsentForm>,
) -> Result<Response, AppError> {
    let token = token_of(&headers).ok_or(AppError::Forbidden)?;
    done(
        app::self_consent(&state.store, &ctx.client_addr, &token, &form.consent).await,
        "/network/me",
    )
}

/// Handles the POST /network/me/logout route: ends her self-service session.
pub async fn me_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(token) = token_of(&headers) {
        app::end_self(&state.store, &token).await?;
    }
    let mut r = see_other("/network/directory");
    if let Ok(v) = cookies::clear(SELF_COOKIE, state.config.secure_cookies).parse() {
        r.headers_mut().append(SET_COOKIE, v);
    }
    Ok(r)
}

pub(crate) type CodePage = VerifyPage;

impl VerifyPage {
    pub(crate) fn new(
        ctx: &Ctx,
        error: Option<String>,
        mobile: String,
        action: &'static str,
        password: bool,
    ) -> VerifyPage {
        let l = Loc(ctx.locale);
        VerifyPage {
            shell: Shell::new(ctx, l.t("signup-code-title")),
            l,
            error,
            mobile,
            action,
            password,
        }
    }
}
