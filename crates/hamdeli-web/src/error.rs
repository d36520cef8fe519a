//! Errors as the user sees them: a page in the user's language (or JSON under `/api/`), never a
//! panic or a stack trace. Handlers return [`AppError`]; the context layer renders it with the
//! request's locale.

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{Html, IntoResponse, Response};

use hamdeli_domain::Denied;
use hamdeli_locale::{Locale, t};
use hamdeli_store::StoreError;

use crate::context::Ctx;
use crate::view::{Loc, Shell};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign-in required")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("CSRF token missing or invalid")]
    Csrf,
    #[error("too many requests")]
    TooManyRequests,
    #[error("payload too large")]
    PayloadTooLarge,
    /// Input the user can fix; the message id names what is wrong.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Carried on an error response until the context layer renders it.
#[derive(Debug, Clone)]
pub enum ErrorKind {
    Unauthenticated,
    Forbidden,
    NotFound,
    Csrf,
    TooManyRequests,
    PayloadTooLarge,
    BadRequest(&'static str),
    Internal,
}

impl AppError {
    fn kind_and_status(&self) -> (ErrorKind, StatusCode) {
        match self {
            AppError::Unauthenticated => (ErrorKind::Unauthenticated, StatusCode::UNAUTHORIZED),
            AppError::Forbidden => (ErrorKind::Forbidden, StatusCode::FORBIDDEN),
            AppError::NotFound => (ErrorKind::NotFound, StatusCode::NOT_FOUND),
            AppError::Csrf => (ErrorKind::Csrf, StatusCode::FORBIDDEN),
            AppError::TooManyRequests => {
                (ErrorKind::TooManyRequests, StatusCode::TOO_MANY_REQUESTS)
            }
            AppError::PayloadTooLarge => {
                (ErrorKind::PayloadTooLarge, StatusCode::PAYLOAD_TOO_LARGE)
            }
            AppError::BadRequest(id) => (ErrorKind::BadRequest(id), StatusCode::BAD_REQUEST),
            AppError::Internal(_) => (ErrorKind::Internal, StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// Renders without a handler's context (errors raised in the context layer itself).
    pub fn render(&self, locale: Locale, is_api: bool, path: &str) -> Response {
        if let AppError::Internal(msg) = self {
            tracing::error!(error = %msg, path, "internal error");
        }
        let (kind, _) = self.kind_and_status();
        let ctx = Ctx {
            locale,
            principal: None,
            user: None,
            session_token: None,
            csrf_token: String::new(),
            client_addr: String::new(),
            path: path.to_owned(),
            demo: false,
            is_api,
        };
        render_kind(&kind, &ctx)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Invalid(id) | StoreError::Conflict(id) => AppError::BadRequest(id),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<hamdeli_app::Error> for AppError {
    fn from(e: hamdeli_app::Error) -> Self {
        match e {
            hamdeli_app::Error::Denied => AppError::Forbidden,
            hamdeli_app::Error::NotFound => AppError::NotFound,
            hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id) => {
                AppError::BadRequest(id)
            }
            hamdeli_app::Error::Store(e) => e.into(),
        }
    }
}

impl From<Denied> for AppError {
    fn from(_: Denied) -> Self {
        AppError::Forbidden
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(msg) = &self {
            tracing::error!(error = %msg, "internal error");
        }
        let (kind, status) = self.kind_and_status();
        let mut r = status.into_response();
        r.extensions_mut().insert(kind);
        r
    }
}

fn status_of(kind: &ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden | ErrorKind::Csrf => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::BadRequest(_) => StatusCode::BAD_REQUEST,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn message_id(kind: &ErrorKind) -> (&'static str, &'static str) {
    match kind {
        ErrorKind::Unauthenticated => ("error-unauthenticated-title", "error-unauthenticated"),
        ErrorKind::Forbidden => ("error-forbidden-title", "error-forbidden"),
        ErrorKind::NotFound => ("error-not-found-title", "error-not-found"),
        ErrorKind::Csrf => ("error-csrf-title", "error-csrf"),
        ErrorKind::TooManyRequests => ("error-too-many-title", "error-too-many"),
        ErrorKind::PayloadTooLarge => ("error-too-large-title", "error-too-large"),
        ErrorKind::BadRequest(id) => ("error-bad-request-title", id),
        ErrorKind::Internal => ("error-internal-title", "error-internal"),
    }
}

#[derive(serde::Serialize)]
struct ApiError {
    error: String,
    message: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    l: Loc,
    title: String,
    message: String,
    show_login: bool,
}

/// The error as a page (or JSON under `/api/`) with its status; an anonymous visitor asking
/// for a page is sent to the login page instead.
pub fn render_kind(kind: &ErrorKind, ctx: &Ctx) -> Response {
    let (title_id, message_id) = message_id(kind);
    let status = status_of(kind);
    if ctx.is_api {
        let body = ApiError {
            error: message_id.to_owned(),
            message: t(ctx.locale, message_id),
        };
        return (status, Json(body)).into_response();
    }
    if matches!(kind, ErrorKind::Unauthenticated) {
        let next = urlencode(&ctx.path);
        return (
            StatusCode::SEE_OTHER,
            [(LOCATION, format!("/login?next={next}"))],
        )
            .into_response();
    }
    let l = Loc(ctx.locale);
    let page = ErrorPage {
        shell: Shell::new(ctx, t(ctx.locale, title_id)),
        l,
        title: t(ctx.locale, title_id),
        message: t(ctx.locale, message_id),
        show_login: ctx.principal.is_none() && matches!(kind, ErrorKind::Forbidden),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            t(ctx.locale, "error-internal"),
        )
            .into_response(),
    }
}

pub fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e[1..].to_owned())
        .unwrap_or_default()
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}
