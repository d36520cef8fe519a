//! Signing in and out, the language switch, and the own account (password change).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use hamdeli_locale::Locale;
use hamdeli_store::audit::{self, Actor, Event};
use hamdeli_store::{now_millis, passwords, sessions, users};

use crate::AppState;
use crate::context::Ctx;
use crate::cookies;
use crate::error::AppError;
use crate::pages::{FormData, html, safe_next, see_other};
use crate::ratelimit::{self, LoginGate};
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

/// A hash to verify against when the user does not exist, so both paths take as long.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    passwords::hash_password("not a real password").unwrap_or_default()
});

/// Signing in. The attempt is counted for its address and its username *before* the password
/// is checked (see `ratelimit`): a refused attempt gets no check at all, and an unknown
/// username gets the same counting, the same answers and a dummy argon2 check, so neither the
/// answers nor their timing say whether an account exists.
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
    let now = now_millis();
    let admitted =
        match ratelimit::admit_login(&state.store, &ctx.client_addr, &form.username, now).await? {
            LoginGate::Check(admitted) => admitted,
            LoginGate::AddressFull => {
                audit_failed(&state, &ctx, &form.username, "address_limit").await?;
                return refuse(StatusCode::TOO_MANY_REQUESTS, l.t("error-too-many"));
            }
            LoginGate::AccountWaits { until } => {
                audit_failed(&state, &ctx, &form.username, "account_wait").await?;
                // Whole minutes, rounded up: "1" for a wait of a few seconds.
                let minutes = (until - now + 59_999) / 60_000;
                return refuse(
                    StatusCode::TOO_MANY_REQUESTS,
                    l.t1("login-wait", "minutes", &minutes.max(1)),
                );
            }
        };
    let candidate = users::for_login(&state.store, &form.username).await?;
    state.login_limiter.count_check();
    let Some(candidate) = candidate else {
        passwords::verify_password_blocking(form.password.clone(), DUMMY_HASH.clone()).await;
        audit_failed(&state, &ctx, &form.username, "unknown_user").await?;
        return refuse(StatusCode::UNAUTHORIZED, l.t("login-failed"));
    };
    let user = candidate.user;
    let ok =
        passwords::verify_password_blocking(form.password.clone(), candidate.password_hash).await;
    if !ok || !user.active {
        // The attempt was already counted as a failure when it was admitted.
        audit_failed(
            &state,
            &ctx,
            &user.username,
            if ok { "inactive" } else { "bad_password" },
        )
        .await?;
        return refuse(StatusCode::UNAUTHORIZED, l.t("login-failed"));
    }
    ratelimit::signed_in(&state.store, &admitted).await?;
    let mut tx = state.store.begin().await?;
    let token = sessions::create(&mut tx, user.id, &ctx.client_addr).await?;
    let principal = user.principal();
    audit::record(
        &mut tx,
        &Actor {
            principal: Some(&principal),
            client_addr: &ctx.client_addr,
        },
        Event {
            action: "auth.login",
            target_kind: "user",
            target_id: user.id.to_string(),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
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

async fn audit_failed(
    state: &AppState,
    ctx: &Ctx,
    username: &str,
    reason: &str,
) -> Result<(), AppError> {
    let mut conn = state.store.pool().acquire().await?;
    let username: String = username.chars().take(64).collect();
    audit::record(
        &mut conn,
        &ctx.audit_actor(),
        Event {
            action: "auth.login_failed",
            target_kind: "username",
            target_id: username,
            detail: json!({ "reason": reason }),
        },
    )
    .await?;
    Ok(())
}

pub async fn logout(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    if let Some(token) = &ctx.session_token {
        let mut tx = state.store.begin().await?;
        sessions::delete(&mut tx, token).await?;
        if let Some(p) = &ctx.principal {
            audit::record(
                &mut tx,
                &ctx.audit_actor(),
                Event {
                    action: "auth.logout",
                    target_kind: "user",
                    target_id: p.user_id.unwrap_or_default().to_string(),
                    detail: json!({}),
                },
            )
            .await?;
        }
        tx.commit().await?;
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
        users::set_locale(&state.store, u.id, locale.tag()).await?;
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
    // The current password is guessed under the same limits as a sign-in: a stolen session
    // gets no more password checks here than at the login form.
    let now = now_millis();
    let admitted =
        match ratelimit::admit_login(&state.store, &ctx.client_addr, &user.username, now).await? {
            LoginGate::Check(admitted) => admitted,
            LoginGate::AddressFull => return Err(AppError::TooManyRequests),
            LoginGate::AccountWaits { until } => {
                let minutes = (until - now + 59_999) / 60_000;
                let message = l.t1("login-wait", "minutes", &minutes.max(1));
                let r = account_view(&state, &ctx, Some(message), false).await;
                return r.map(|r| (StatusCode::TOO_MANY_REQUESTS, r).into_response());
            }
        };
    let candidate = users::for_login(&state.store, &user.username)
        .await?
        .ok_or(AppError::NotFound)?;
    state.login_limiter.count_check();
    if !passwords::verify_password_blocking(form.current.clone(), candidate.password_hash).await {
        return bad(account_view(&state, &ctx, Some(l.t("password-current-wrong")), false).await);
    }
    ratelimit::signed_in(&state.store, &admitted).await?;
    if form.new != form.confirm {
        return bad(account_view(&state, &ctx, Some(l.t("password-mismatch")), false).await);
    }
    if let Err(id) = passwords::check_strength(&form.new) {
        return bad(account_view(&state, &ctx, Some(l.t(id)), false).await);
    }
    let mut tx = state.store.begin().await?;
    users::set_password(&mut tx, user.id, form.new).await?;
    let token = sessions::create(&mut tx, user.id, &ctx.client_addr).await?;
    audit::record(
        &mut tx,
        &ctx.audit_actor(),
        Event {
            action: "user.password_change",
            target_kind: "user",
            target_id: user.id.to_string(),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
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
