//! Organisations: staff see all of them; a partner only its own. The national admin creates,
//! edits and deactivates any organisation and its support programmes, a provincial officer the
//! charities and NGOs of its province (`hamdeli_app::organisations`).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::organisations::{self as org_app, OrganisationInput, ProgrammeInput};
use hamdeli_domain::{Principal, Role};
use hamdeli_store::geo::{self, Province};
use hamdeli_store::needs::{self, NeedType};
use hamdeli_store::organisations::{self, Organisation, Programme};
use hamdeli_store::sharing::Level;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::account::bad;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Template)]
#[template(path = "organisations.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    organisations: Vec<Organisation>,
    /// The principal may register organisations (a "new" link).
    may_create: bool,
}

/// Handles the GET /organisations route.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    let organisations = org_app::list(&state.store, &caller(&ctx)?).await?;
    let l = Loc(ctx.locale);
    html(ListPage {
        shell: Shell::new(&ctx, l.t("organisations-title")),
        l,
        organisations,
        may_create: org_app::may_create(p),
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
    /// The principal may edit and deactivate it and run its programmes.
    may_manage: bool,
    programmes: Vec<ProgrammeRow>,
    /// The need types a new programme chooses its kind from.
    need_types: Vec<NeedType>,
    programme_form: ProgrammeForm,
    programme_error: Option<String>,
}

pub struct ProgrammeRow {
    pub programme: Programme,
    /// The kind in words (the need type's name; an old code shows itself).
    pub kind: String,
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
    show_page(&state, &ctx, id, ProgrammeForm::default(), None).await
}

/// The organisation's page, with the programme form as given and its error, if any.
async fn show_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    programme_form: ProgrammeForm,
    programme_error: Option<&'static str>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    let organisation = org_app::read(&state.store, &caller(ctx)?, id).await?;
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
    let all = org_app::in_scope(&state.store, &caller(ctx)?).await?;
    let name_of = |id: i64| {
        all.iter()
            .find(|o| o.id == id)
            .map(|o| l.name(&o.name_fa, &o.name_en).to_owned())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let sharing = match hamdeli_app::sharing::rules_of(&state.store, &caller(ctx)?, id).await {
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
    let types = needs::need_types(&state.store).await?;
    let programmes = org_app::programmes(&state.store, &caller(ctx)?, id)
        .await?
        .into_iter()
        .map(|programme| ProgrammeRow {
            kind: kind_name(l, &types, &programme.support_kind),
            programme,
        })
        .collect();
    let may_manage = org_app::may_manage(p, &organisation);
    html(ShowPage {
        shell: Shell::new(ctx, title),
        l,
        organisation,
        province_name,
        sharing,
        may_share,
        others,
        may_manage,
        programmes,
        need_types: types.into_iter().filter(|t| t.active).collect(),
        programme_form,
        programme_error: programme_error.map(|id| l.t(id)),
    })
}

/// A programme's kind in words: its need type's name, or the code itself.
fn kind_name(l: Loc, types: &[NeedType], code: &str) -> String {
    types
        .iter()
        .find(|t| t.code == code)
        .map(|t| l.name(&t.name_fa, &t.name_en).to_owned())
        .unwrap_or_else(|| code.to_owned())
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

/// The organisation form as typed (kept when it is refused).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct OrganisationForm {
    name_fa: String,
    name_en: String,
    kind: String,
    province: String,
}

impl OrganisationForm {
    fn of(o: &Organisation) -> OrganisationForm {
        OrganisationForm {
            name_fa: o.name_fa.clone(),
            name_en: o.name_en.clone(),
            kind: o.kind.clone(),
            province: o.province_code.clone().unwrap_or_default(),
        }
    }

    fn input(&self) -> OrganisationInput {
        OrganisationInput {
            name_fa: self.name_fa.clone(),
            name_en: self.name_en.clone(),
            kind: self.kind.clone(),
            province: Some(self.province.clone()),
        }
    }
}

#[derive(Template)]
#[template(path = "organisation_form.html")]
struct FormPage {
    shell: Shell,
    l: Loc,
    /// `None` for a new organisation.
    organisation: Option<Organisation>,
    form: OrganisationForm,
    kinds: Vec<&'static str>,
    provinces: Vec<Province>,
    /// A national organisation may be chosen (the national admin).
    national: bool,
    error: Option<String>,
}

/// The kinds and provinces the principal may choose.
async fn form_choices(
    state: &AppState,
    p: &Principal,
) -> Result<(Vec<&'static str>, Vec<Province>, bool), AppError> {
    let kinds: Vec<&'static str> = match p.role {
        Role::NationalAdmin => organisations::KINDS.to_vec(),
        _ => hamdeli_domain::policy::PROVINCIAL_ORGANISATION_KINDS.to_vec(),
    };
    let provinces = geo::provinces(&state.store, &p.place_filter()).await?;
    Ok((kinds, provinces, p.role == Role::NationalAdmin))
}

async fn form_page(
    state: &AppState,
    ctx: &Ctx,
    organisation: Option<Organisation>,
    form: OrganisationForm,
    error: Option<&'static str>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    let l = Loc(ctx.locale);
    let (kinds, provinces, national) = form_choices(state, p).await?;
    let title = match &organisation {
        Some(o) => l.t1(
            "organisation-edit-title",
            "name",
            l.name(&o.name_fa, &o.name_en),
        ),
        None => l.t("organisation-new-title"),
    };
    let page = html(FormPage {
        shell: Shell::new(ctx, title),
        l,
        organisation,
        form,
        kinds,
        provinces,
        national,
        error: error.map(|id| l.t(id)),
    });
    if error.is_some() { bad(page) } else { page }
}

/// Handles the GET /organisations/new route: the form of a new organisation.
pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    if !org_app::may_create(p) {
        return Err(AppError::Forbidden);
    }
    let form = OrganisationForm {
        kind: "charity".into(),
        province: p.scope.province().unwrap_or_default().to_owned(),
        ..Default::default()
    };
    form_page(&state, &ctx, None, form, None).await
}

/// Handles the POST /organisations/new route: registers the organisation.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<OrganisationForm>,
) -> Result<Response, AppError> {
    match org_app::create(&state.store, &caller(&ctx)?, form.input()).await {
        Ok(id) => Ok(see_other(&format!("/organisations/{id}"))),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            form_page(&state, &ctx, None, form, Some(id)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Handles the GET /organisations/{id}/edit route: the organisation's form.
pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let org = org_app::managed(&state.store, &caller(&ctx)?, id).await?;
    let form = OrganisationForm::of(&org);
    form_page(&state, &ctx, Some(org), form, None).await
}

/// Handles the POST /organisations/{id}/edit route: saves the organisation's form.
pub async fn edit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<OrganisationForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    match org_app::edit(&state.store, &caller, id, form.input()).await {
        Ok(()) => Ok(see_other(&format!("/organisations/{id}"))),
        Err(hamdeli_app::Error::Invalid(msg) | hamdeli_app::Error::Conflict(msg)) => {
            let org = org_app::managed(&state.store, &caller, id).await?;
            form_page(&state, &ctx, Some(org), form, Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: String,
}

fn active_flag(form: &ActiveForm) -> Result<bool, AppError> {
    match form.active.as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(AppError::BadRequest("form-invalid")),
    }
}

/// Handles the POST /organisations/{id}/active route: deactivates or reactivates it.
pub async fn set_active(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<ActiveForm>,
) -> Result<Response, AppError> {
    let active = active_flag(&form)?;
    org_app::set_active(&state.store, &caller(&ctx)?, id, active).await?;
    Ok(see_other(&format!("/organisations/{id}")))
}

/// A programme form as typed (kept when it is refused).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ProgrammeForm {
    name_fa: String,
    name_en: String,
    kind: String,
}

impl ProgrammeForm {
    fn input(&self) -> ProgrammeInput {
        ProgrammeInput {
            name_fa: self.name_fa.clone(),
            name_en: self.name_en.clone(),
            kind: self.kind.clone(),
        }
    }
}

/// Handles the POST /organisations/{id}/programmes route: adds a support programme.
pub async fn create_programme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<ProgrammeForm>,
) -> Result<Response, AppError> {
    match org_app::create_programme(&state.store, &caller(&ctx)?, id, form.input()).await {
        Ok(_) => Ok(see_other(&format!("/organisations/{id}#programmes"))),
        Err(hamdeli_app::Error::Invalid(msg) | hamdeli_app::Error::Conflict(msg)) => {
            bad(show_page(&state, &ctx, id, form, Some(msg)).await)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "programme_form.html")]
struct ProgrammePage {
    shell: Shell,
    l: Loc,
    organisation: Organisation,
    programme: Programme,
    form: ProgrammeForm,
    need_types: Vec<NeedType>,
    error: Option<String>,
}

async fn programme_page(
    state: &AppState,
    ctx: &Ctx,
    org: i64,
    programme: i64,
    form: Option<ProgrammeForm>,
    error: Option<&'static str>,
) -> Result<Response, AppError> {
    let (organisation, programme) =
        org_app::managed_programme(&state.store, &caller(ctx)?, org, programme).await?;
    let l = Loc(ctx.locale);
    let form = form.unwrap_or_else(|| ProgrammeForm {
        name_fa: programme.name_fa.clone(),
        name_en: programme.name_en.clone(),
        kind: programme.support_kind.clone(),
    });
    let need_types = needs::need_types(&state.store)
        .await?
        .into_iter()
        .filter(|t| t.active || t.code == programme.support_kind)
        .collect();
    let title = l.t1(
        "programme-edit-title",
        "name",
        l.name(&programme.name_fa, &programme.name_en),
    );
    let page = html(ProgrammePage {
        shell: Shell::new(ctx, title),
        l,
        organisation,
        programme,
        form,
        need_types,
        error: error.map(|id| l.t(id)),
    });
    if error.is_some() { bad(page) } else { page }
}

/// Handles the GET /organisations/{id}/programmes/{programme}/edit route: a programme's form.
pub async fn edit_programme_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, programme)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    programme_page(&state, &ctx, id, programme, None, None).await
}

/// Handles the POST /organisations/{id}/programmes/{programme}/edit route: saves a programme.
pub async fn edit_programme(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, programme)): Path<(i64, i64)>,
    FormData(form): FormData<ProgrammeForm>,
) -> Result<Response, AppError> {
    match org_app::edit_programme(&state.store, &caller(&ctx)?, id, programme, form.input()).await {
        Ok(()) => Ok(see_other(&format!("/organisations/{id}#programmes"))),
        Err(hamdeli_app::Error::Invalid(msg) | hamdeli_app::Error::Conflict(msg)) => {
            programme_page(&state, &ctx, id, programme, Some(form), Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Handles the POST /organisations/{id}/programmes/{programme}/active route: deactivates or
/// reactivates a programme.
pub async fn set_programme_active(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, programme)): Path<(i64, i64)>,
    FormData(form): FormData<ActiveForm>,
) -> Result<Response, AppError> {
    let active = active_flag(&form)?;
    org_app::set_programme_active(&state.store, &caller(&ctx)?, id, programme, active).await?;
    Ok(see_other(&format!("/organisations/{id}#programmes")))
}
