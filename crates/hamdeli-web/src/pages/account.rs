//! Signing in and out, the language switch, and the own account (password change).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use hamdeli_app::accounts::{self, PasswordChange, SignIn};
use hamdeli_locale::Locale;
use hamdeli_store::{now_millis, sessions};

use crate::AppState;
use crate::context::Ctx;
use crate::cookies;
use crate::error::AppError;
use crate::pages::{FormData, html, safe_next, see_other};
use crate::view::{Loc, Shell};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    l: Loc,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(ctx: Ctx, Query(q): Query<NextQuery>) -> Result<Response, AppError> {
    if ctx.principal.is_some() {
        return Ok(see_other(&safe_next(q.next.as_deref())));
    }
    let l = Loc(ctx.locale);
    html(LoginPage {
        shell: Shell::new(&ctx, l.t("login-title")),
        l,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
        error: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    next: String,
}

/// Handles the POST /login route: the sign-in use case decides, counts and audits; this only
/// renders its answer and sets the cookies.
pub async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<LoginForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let next = safe_next(Some(&form.next));
    let refuse = |status: StatusCode, message: String| -> Result<Response, AppError> {
        let page = LoginPage {
            shell: Shell::new(&ctx, l.t("login-title")),
            l,
            next: next.clone(),
            username: form.username.clone(),
            error: Some(message),
        };
        let mut r = html(page)?;
        *r.status_mut() = status;
        Ok(r)
    };
    let outcome = accounts::sign_in(
        &state.store,
        &state.login_limiter,
        &ctx.client_addr,
        &form.username,
        &form.password,
        now_millis(),
    )
    .await?;
    let (token, user) = match outcome {
        SignIn::Session { token, user } => (token, user),
        SignIn::AddressFull => {
            return refuse(StatusCode::TOO_MANY_REQUESTS, l.t("error-too-many"));
        }
        SignIn::AccountWaits { minutes } => {
            return refuse(
                StatusCode::TOO_MANY_REQUESTS,
                l.t1("login-wait", "minutes", &minutes),
            );
        }
        SignIn::Refused => return refuse(StatusCode::UNAUTHORIZED, l.t("login-failed")),
    };
    let secure = state.config.secure_cookies;
    let max_age = sessions::MAX_AGE_MILLIS / 1000;
    let mut r = see_other(&next);
    let headers = r.headers_mut();
    for cookie in [
        cookies::set(cookies::SESSION, &token, Some(max_age), secure),
        // A fresh CSRF seed for the signed-in session.
        cookies::set(
            cookies::CSRF,
            &hamdeli_store::tokens::random_token(),
            None,
            secure,
        ),
        cookies::set(cookies::LANG, &user.locale, Some(365 * 86_400), secure),
    ] {
        if let Ok(v) = cookie.parse() {
            headers.append(SET_COOKIE, v);
        }
    }
    Ok(r)
}

/// Handles the POST /logout route.
pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    if let Some(token) = &ctx.session_token {
        accounts::sign_out(
            &state.store,
            token,
            ctx.principal.as_ref(),
            &ctx.client_addr,
        )
        .await?;
    }
    let mut r = see_other("/");
    if let Ok(v) = cookies::clear(cookies::SESSION, state.config.secure_cookies).parse() {
        r.headers_mut().append(SET_COOKIE, v);
    }
    Ok(r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LangForm {
    locale: String,
    back: String,
}

pub async fn switch_language(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<LangForm>,
) -> Result<Response, AppError> {
    let locale = Locale::parse(&form.locale).ok_or(AppError::BadRequest("form-invalid"))?;
    if let Some(u) = &ctx.user {
        accounts::set_own_locale(&state.store, u, locale.tag()).await?;
    }
    let mut r = see_other(&safe_next(Some(&form.back)));
    let cookie = cookies::set(
        cookies::LANG,
        locale.tag(),
        Some(365 * 86_400),
        state.config.secure_cookies,
    );
    if let Ok(v) = cookie.parse() {
        r.headers_mut().append(SET_COOKIE, v);
    }
    Ok(r)
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    shell: Shell,
    l: Loc,
    username: String,
    display_name: String,
    role: String,
    scope: String,
    error: Option<String>,
    saved: bool,
}

async fn account_view(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
    saved: bool,
) -> Result<Response, AppError> {
    let user = ctx.user.as_ref().ok_or(AppError::Unauthenticated)?;
    let l = Loc(ctx.locale);
    html(AccountPage {
        shell: Shell::new(ctx, l.t("account-title")),
        l,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: l.role(&user.role),
        scope: super::home::scope_words(state, l, &user.scope).await?,
        error,
        saved,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn account_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SavedQuery>,
) -> Result<Response, AppError> {
    account_view(&state, &ctx, None, q.saved.is_some()).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<PasswordForm>,
) -> Result<Response, AppError> {
    let user = ctx.user.clone().ok_or(AppError::Unauthenticated)?;
    let l = Loc(ctx.locale);
    let outcome = accounts::change_own_password(
        &state.store,
        &state.login_limiter,
        &user,
        &ctx.client_addr,
        &accounts::PasswordForm {
            current: &form.current,
            new: &form.new,
            confirm: &form.confirm,
        },
        now_millis(),
    )
    .await?;
    let token = match outcome {
        PasswordChange::Changed { token } => token,
        PasswordChange::AddressFull => return Err(AppError::TooManyRequests),
        PasswordChange::AccountWaits { minutes } => {
            let message = l.t1("login-wait", "minutes", &minutes);
            let r = account_view(&state, &ctx, Some(message), false).await;
            return r.map(|r| (StatusCode::TOO_MANY_REQUESTS, r).into_response());
        }
        PasswordChange::Refused(id) => {
            return bad(account_view(&state, &ctx, Some(l.t(id)), false).await);
        }
    };
    let mut r = see_other("/account?saved=1");
    let cookie = cookies::set(
        cookies::SESSION,
        &token,
        Some(sessions::MAX_AGE_MILLIS / 1000),
        state.config.secure_cookies,
    );
    if let Ok(v) = cookie.parse() {
        r.headers_mut().append(SET_COOKIE, v);
    }
    Ok(r)
}

/// A re-rendered form with a 400 status.
pub fn bad(r: Result<Response, AppError>) -> Result<Response, AppError> {
    r.map(|r| (StatusCode::BAD_REQUEST, r).into_response())
}
