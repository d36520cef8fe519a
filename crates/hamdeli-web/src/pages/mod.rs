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
mod entry;
mod home;
mod imports;
pub(crate) mod loans;
pub(crate) mod market;
pub(crate) mod needs;
pub(crate) mod network;
mod organisations;
mod places;
pub(crate) mod registry;
pub(crate) mod reports;
mod support;
mod transparency;

pub use admin_audit::{AuditQuery, filter_of as audit_filter};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(market::router())
        .merge(registry::router())
        .merge(loans::router())
        .merge(network::router())
        .merge(reports::router())
        .merge(campaigns::router())
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
            "/organisations/{id}/sharing",
            post(organisations::set_sharing),
        )
        .route(
            "/organisations/new",
            get(organisations::new_form).post(organisations::create),
        )
        .route(
            "/organisations/{id}/edit",
            get(organisations::edit_form).post(organisations::edit),
        )
        .route(
            "/organisations/{id}/active",
            post(organisations::set_active),
        )
        .route(
            "/organisations/{id}/programmes",
            post(organisations::create_programme),
        )
        .route(
            "/organisations/{id}/programmes/{programme}/edit",
            get(organisations::edit_programme_form).post(organisations::edit_programme),
        )
        .route(
            "/organisations/{id}/programmes/{programme}/active",
            post(organisations::set_programme_active),
        )
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
            // A list file may be large: the same 64 MB as the API's upload (the router's
            // overall limit), not axum's 2 MB default for extracted bodies.
            get(imports::list)
                .post(imports::upload)
                .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
        .route("/registry/imports/{id}", get(imports::show))
        .route("/registry/imports/{id}/progress", get(imports::progress))
        .route(
            "/registry/new",
            get(entry::new_person_form).post(entry::new_person),
        )
        .route(
            "/registry/households/new",
            get(entry::new_household_form).post(entry::new_household),
        )
        .route(
            "/registry/persons/{id}/edit",
            get(entry::edit_person_form).post(entry::edit_person),
        )
        .route("/registry/persons/{id}/history", get(entry::person_history))
        .route(
            "/registry/households/{id}/edit",
            get(entry::edit_household_form).post(entry::edit_household),
        )
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
        .route("/support", get(support::list).post(support::record))
        .route("/support/new", get(support::new_form))
        .route(
            "/support/double",
            get(needs::double_service).post(needs::refresh_double_service),
        )
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

/// Only same-site paths are followed after login or a language switch; anything else goes to
/// "/". The path is percent-decoded (repeatedly, as far as it decodes) and every form must be a
/// plain path: starting with one `/` (never `//`, which a browser takes for another host),
/// without a control character or whitespace (a browser drops tabs and newlines, so `/\t/evil`
/// would become `//evil`; CR/LF cannot go in a header), without a backslash (which a browser
/// reads as `/`) and without a scheme. What is returned is the given path with every byte
/// outside visible ASCII percent-encoded, so it is always a valid `Location` header.
pub fn safe_next(next: Option<&str>) -> String {
    fn plain_path(s: &str) -> bool {
        let Some(rest) = s.strip_prefix('/') else {
            return false;
        };
        // The part before any path, query or fragment separator holds a scheme if it has ':';
        // after a leading '/' it is empty, but say it outright.
        let head = s.split(['/', '?', '#']).next().unwrap_or("");
        !rest.starts_with('/')
            && !head.contains(':')
            && !s
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    }
    fn percent_decode(s: &str) -> Option<String> {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
                (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                    let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                    out.push(u8::try_from(value).ok()?);
                    i += 3;
                }
                (b, _, _) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).ok()
    }
    let Some(given) = next else {
        return "/".to_owned();
    };
    let mut form = given.to_owned();
    // Eight rounds decode anything a person would write; a path still changing after that is
    // refused rather than trusted.
    for round in 0.. {
        if !plain_path(&form) {
            return "/".to_owned();
        }
        let Some(decoded) = percent_decode(&form) else {
            return "/".to_owned();
        };
        if decoded == form {
            break;
        }
        if round == 8 {
            return "/".to_owned();
        }
        form = decoded;
    }
    let mut out = String::with_capacity(given.len());
    for b in given.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

    #[test]
    fn next_refuses_what_a_browser_turns_into_another_host() {
        for bad in [
            "/\t/evil.example",
            "/%09/evil.example",
            "/%2509/evil.example",
            "/\r\n/evil.example",
            "/%0D%0ALocation:%20https://evil.example",
            "/%0d%0a",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "/ /evil.example",
            "/%20/evil.example",
            "/\u{a0}/evil.example",
            "%2F%2Fevil.example",
            "javascript:alert(1)",
            "https:/evil.example",
            "",
            "/%FF",
            "/%E2%80%A8",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
    }

    #[test]
    fn next_keeps_ordinary_paths_as_a_valid_header() {
        assert_eq!(safe_next(Some("/donor")), "/donor");
        assert_eq!(
            safe_next(Some("/registry?q=%D8%B9&page=2#top")),
            "/registry?q=%D8%B9&page=2#top"
        );
        // Strict: whitespace is refused in every decoded form, even in a query.
        assert_eq!(safe_next(Some("/registry?q=a%20b")), "/");
        assert_eq!(safe_next(Some("/places/%D8%AA")), "/places/%D8%AA");
        assert_eq!(safe_next(Some("/places/ت")), "/places/%D8%AA");
        assert_eq!(safe_next(Some("/a:b")), "/a:b");
        assert_eq!(safe_next(Some("/100%")), "/100%");
    }

    /// What a browser does with a `Location` before it resolves it: drops tabs and newlines.
    fn browser_strip(s: &str) -> String {
        s.chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn no_next_leaves_the_site(input in proptest::prelude::any::<String>()) {
            check(&input)?;
        }

        #[test]
        fn no_slashy_next_leaves_the_site(input in "[/\\\\%0-9a-fA-F\t\n\r :.@?#a-z\u{a0}\u{2028}]{0,12}") {
            check(&input)?;
        }
    }

    fn check(input: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let out = safe_next(Some(input));
        let seen = browser_strip(&out);
        proptest::prop_assert!(out.starts_with('/'), "{out:?}");
        proptest::prop_assert!(
            !seen.starts_with("//") && !seen.starts_with("/\\"),
            "{out:?}"
        );
        proptest::prop_assert!(!out.chars().any(char::is_control), "{out:?}");
        proptest::prop_assert!(axum::http::HeaderValue::from_str(&out).is_ok(), "{out:?}");
        // Nor once a server or browser percent-decodes it.
        let decoded = browser_strip(&percent_decoded(&out));
        proptest::prop_assert!(
            !decoded.starts_with("//") && !decoded.starts_with("/\\"),
            "{out:?}"
        );
        Ok(())
    }

    fn percent_decoded(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let pair = b
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok());
            match pair.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(v) if b[i] == b'%' => {
                    out.push(v);
                    i += 3;
                }
                _ => {
                    out.push(b[i]);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}
