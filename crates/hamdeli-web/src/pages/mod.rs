//! Server-rendered pages. Each handler asks the policy before it reads, and writes its audit
//! entry in the transaction of its action.

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::AppError;

mod account;
mod admin_api_keys;
mod admin_audit;
mod admin_users;
mod campaigns;
mod home;
mod imports;
pub(crate) mod needs;
mod organisations;
mod places;
pub(crate) mod registry;
mod transparency;

pub use admin_audit::{AuditQuery, filter_of as audit_filter};
pub(crate) use registry::search_kind;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", post(account::logout))
        .route("/lang", post(account::switch_language))
        .route("/account", get(account::account_page))
        .route("/account/password", post(account::change_password))
        .route("/places", get(places::provinces))
        .route("/places/{province}", get(places::province))
        .route("/places/{province}/{county}", get(places::county))
        .route("/organisations", get(organisations::list))
        .route("/organisations/{id}", get(organisations::show))
        .route(
            "/admin/users",
            get(admin_users::list).post(admin_users::create),
        )
        .route("/admin/users/new", get(admin_users::new_form))
        .route("/admin/users/{id}", get(admin_users::show))
        .route("/admin/users/{id}/role", post(admin_users::change_role))
        .route(
            "/admin/users/{id}/password",
            post(admin_users::reset_password),
        )
        .route("/admin/users/{id}/active", post(admin_users::set_active))
        .route("/admin/audit", get(admin_audit::list))
        .route("/transparency", get(transparency::page))
        .route(
            "/registry/imports",
            get(imports::list).post(imports::upload),
        )
        .route("/registry/imports/{id}", get(imports::show))
        .route("/registry/imports/{id}/progress", get(imports::progress))
        .route("/registry", get(registry::search))
        .route("/registry/persons/{id}", get(registry::person))
        .route("/registry/persons/{id}/split", post(registry::split))
        .route("/registry/reviews", get(registry::reviews))
        .route("/registry/reviews/{id}", get(registry::review))
        .route("/registry/reviews/{id}/merge", post(registry::merge))
        .route("/registry/reviews/{id}/separate", post(registry::separate))
        .route("/registry/coverage", get(registry::coverage_page))
        .route("/registry/coverage/{county}", get(registry::outreach))
        .route("/registry/persons/{id}/card", get(needs::card))
        .route("/registry/persons/{id}/needs", post(needs::add_need))
        .route("/needs", get(needs::table))
        .route("/needs/{id}/status", post(needs::set_status))
        .route("/needs/types", post(needs::save_type))
        .route(
            "/priority",
            get(needs::priority_page).post(needs::save_weights),
        )
        .route("/deliveries", get(needs::deliveries))
        .route("/deliveries/{id}", post(needs::record_delivery))
        .route(
            "/support/double",
            get(needs::double_service).post(needs::refresh_double_service),
        )
        .route("/campaigns", get(campaigns::list).post(campaigns::create))
        .route("/campaigns/new", get(campaigns::new_form))
        .route("/campaigns/{id}", get(campaigns::show))
        .route("/campaigns/{id}/pledges", post(campaigns::pledge))
        .route(
            "/campaigns/{id}/pledges/{pledge}/receive",
            post(campaigns::receive),
        )
        .route(
            "/campaigns/{id}/allocate",
            get(campaigns::allocate_page).post(campaigns::allocate_commit),
        )
        .route(
            "/donors/signup",
            get(campaigns::signup_form).post(campaigns::signup),
        )
        .route("/donor", get(campaigns::donor_page))
        .route("/receipts", get(campaigns::receipt))
        .route("/stats", get(campaigns::stats))
        .route(
            "/admin/api-keys",
            get(admin_api_keys::list).post(admin_api_keys::issue),
        )
        .route("/admin/api-keys/{id}/revoke", post(admin_api_keys::revoke))
}

/// A form body; a malformed one is a localised 400, not axum's plain-text rejection.
pub struct FormData<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormData<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(FormData(v)),
            Err(FormRejection::BytesRejection(_)) => Err(AppError::PayloadTooLarge),
            Err(_) => Err(AppError::BadRequest("form-invalid")),
        }
    }
}

pub fn html(t: impl askama::Template) -> Result<Response, AppError> {
    Ok(Html(t.render()?).into_response())
}

/// After a successful POST: back to a page with a GET (so reload does not resubmit).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Only same-site paths are followed after login or a language switch.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/places/23")), "/places/23");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
