//! User administration: national admins manage everyone, provincial officers the county
//! experts of their province. Every write and every read of a user's record is audited.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_domain::{Action, Role, Scope};
use hamdeli_store::geo;
use hamdeli_store::geo::{County, Province};
use hamdeli_store::organisations::Organisation;
use hamdeli_store::users::{NewUser, User};

use hamdeli_app::users as users_app;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::account::bad;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

pub struct UserRow {
    pub user: User,
    pub scope: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    rows: Vec<UserRow>,
}

/// Handles the GET /admin/users route.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let mut rows = vec![];
    for user in users_app::list(&state.store, &caller(&ctx)?).await? {
        let scope = super::home::scope_words(&state, l, &user.scope).await?;
        rows.push(UserRow { user, scope });
    }
    html(ListPage {
        shell: Shell::new(&ctx, l.t("users-title")),
        l,
        rows,
    })
}

/// The choices of the user form, limited to what the principal may assign.
pub struct FormChoices {
    pub roles: Vec<Role>,
    pub provinces: Vec<Province>,
    pub counties: Vec<County>,
    pub organisations: Vec<Organisation>,
}

async fn choices(state: &AppState, ctx: &Ctx) -> Result<FormChoices, AppError> {
    let p = ctx.require()?;
    let filter = p.place_filter();
    let provinces = geo::provinces(&state.store, &filter).await?;
    let mut counties = vec![];
    for pr in &provinces {
        counties.extend(geo::counties_of(&state.store, &pr.code, &filter).await?);
    }
    let roles = match p.role {
        Role::NationalAdmin => Role::ALL.to_vec(),
        _ => vec![Role::CountyExpert],
    };
    let organisations = if p.role == Role::NationalAdmin {
        hamdeli_app::organisations::in_scope(&state.store, &caller(ctx)?).await?
    } else {
        vec![]
    };
    Ok(FormChoices {
        roles,
        provinces,
        counties,
        organisations,
    })
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct UserForm {
    username: String,
    display_name: String,
    password: String,
    role: String,
    province: String,
    county: String,
    organisation: String,
}

#[derive(Template)]
#[template(path = "user_new.html")]
struct NewPage {
    shell: Shell,
    l: Loc,
    choices: FormChoices,
    form: UserForm,
    error: Option<String>,
}

pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::ManageUsers)?;
    let l = Loc(ctx.locale);
    let choices = choices(&state, &ctx).await?;
    let form = UserForm {
        role: choices.roles[0].as_str().to_owned(),
        ..Default::default()
    };
    html(NewPage {
        shell: Shell::new(&ctx, l.t("user-new-title")),
        l,
        choices,
        form,
        error: None,
    })
}

/// Reads role and scope from a form: a county carries its province.
async fn role_and_scope(state: &AppState, form: &UserForm) -> Result<(Role, Scope), &'static str> {
    let role = Role::parse(&form.role).ok_or("role-invalid")?;
    let mut province = form.province.trim().to_owned();
    if role == Role::CountyExpert && !form.county.trim().is_empty() {
        match geo::county(&state.store, form.county.trim()).await {
            Ok(Some(c)) => province = c.province_code,
            _ => return Err("scope-unknown-county"),
        }
    }
    let organisation = match form.organisation.trim() {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| "scope-unknown-organisation")?),
    };
    let scope = Scope::for_role(
        role,
        Some(&province),
        Some(form.county.trim()),
        organisation,
    )
    .map_err(|e| e.code())?;
    Ok((role, scope))
}

/// Handles the POST /admin/users route.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<UserForm>,
) -> Result<Response, AppError> {
    let p = ctx.require()?.clone();
    p.authorize(Action::ManageUsers)?;
    let l = Loc(ctx.locale);
    let refuse = |id: &str, form: UserForm, choices: FormChoices| {
        bad(html(NewPage {
            shell: Shell::new(&ctx, l.t("user-new-title")),
            l,
            choices,
            form,
            error: Some(l.t(id)),
        }))
    };
    let (role, scope) = match role_and_scope(&state, &form).await {
        Ok(x) => x,
        Err(id) => return refuse(id, form, choices(&state, &ctx).await?),
    };
    let new = NewUser {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        password: form.password.clone(),
        role,
        scope,
        locale: ctx.locale.tag().to_owned(),
        is_demo: false,
    };
    match users_app::create(&state.store, &caller(&ctx)?, new).await {
        Ok(id) => Ok(see_other(&format!("/admin/users/{id}?saved=1"))),
        Err(hamdeli_app::Error::Invalid(msg) | hamdeli_app::Error::Conflict(msg)) => {
            refuse(msg, form, choices(&state, &ctx).await?)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "user.html")]
struct ShowPage {
    shell: Shell,
    l: Loc,
    user: User,
    scope: String,
    choices: FormChoices,
    form: UserForm,
    error: Option<String>,
    notice: Option<String>,
    is_self: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    saved: Option<String>,
}

async fn show_page(
    state: &AppState,
    ctx: &Ctx,
    user: User,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    let l = Loc(ctx.locale);
    let form = UserForm {
        role: user.role.as_str().to_owned(),
        province: user.scope.province().unwrap_or_default().to_owned(),
        county: user.scope.county().unwrap_or_default().to_owned(),
        organisation: user
            .scope
            .organisation()
            .map(|o| o.to_string())
            .unwrap_or_default(),
        ..Default::default()
    };
    let scope = super::home::scope_words(state, l, &user.scope).await?;
    html(ShowPage {
        shell: Shell::new(ctx, user.display_name.clone()),
        l,
        is_self: p.user_id == Some(user.id),
        scope,
        choices: choices(state, ctx).await?,
        form,
        user,
        error,
        notice,
    })
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let user = users_app::read_user(&state.store, &caller(&ctx)?, id).await?;
    let notice = q.saved.map(|_| Loc(ctx.locale).t("saved"));
    show_page(&state, &ctx, user, None, notice).await
}

pub async fn change_role(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<UserForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let user = users_app::managed_user(&state.store, &caller, id).await?;
    let l = Loc(ctx.locale);
    let (role, scope) = match role_and_scope(&state, &form).await {
        Ok(x) => x,
        Err(msg) => return bad(show_page(&state, &ctx, user, Some(l.t(msg)), None).await),
    };
    match users_app::change_role(&state.store, &caller, id, role, &scope).await {
        Ok(()) => Ok(see_other(&format!("/admin/users/{id}?saved=1"))),
        Err(hamdeli_app::Error::Invalid(msg)) => {
            bad(show_page(&state, &ctx, user, Some(l.t(msg)), None).await)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetForm {
    password: String,
}

pub async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<ResetForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let user = users_app::managed_user(&state.store, &caller, id).await?;
    let l = Loc(ctx.locale);
    match users_app::reset_password(&state.store, &caller, id, form.password).await {
        Ok(()) => Ok(see_other(&format!("/admin/users/{id}?saved=1"))),
        Err(hamdeli_app::Error::Invalid(msg)) => {
            bad(show_page(&state, &ctx, user, Some(l.t(msg)), None).await)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActiveForm {
    active: String,
}

pub async fn set_active(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<ActiveForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let user = users_app::managed_user(&state.store, &caller, id).await?;
    match users_app::set_active(&state.store, &caller, id, form.active == "1").await {
        Ok(()) => Ok(see_other(&format!("/admin/users/{id}?saved=1"))),
        Err(hamdeli_app::Error::Invalid(msg)) => {
            let l = Loc(ctx.locale);
            bad(show_page(&state, &ctx, user, Some(l.t(msg)), None).await)
        }
        Err(e) => Err(e.into()),
    }
}
