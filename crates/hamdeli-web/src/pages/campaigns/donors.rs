//! Donors: sign-up with a mobile number confirmed by a one-time code, and the donor's page
//! with her pledges and where they went.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::needs::TypeNames;
use crate::pages::registry::PlaceNames;
use crate::pages::{FormData, html, see_other};
use crate::view::{Loc, Shell};

use super::show::{DestinationView, PledgeView, destination_views, pledge_views};

#[derive(Template)]
#[template(path = "campaigns/donor_signup.html")]
struct SignupPage {
    shell: Shell,
    l: Loc,
    error: Option<String>,
    mobile: String,
    name: String,
}

/// Handles GET /donors/signup: the sign-up form (mobile number and name).
pub async fn signup_form(ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    html(SignupPage {
        shell: Shell::new(&ctx, l.t("donor-signup-title")),
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

/// Handles POST /donors/signup, the first step: the number and the name. A code goes to the
/// number by text message and the visitor is sent to the page that asks for it; the password is
/// chosen there, once the number is proven.
pub async fn signup(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<SignupForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let answer = |status: axum::http::StatusCode, message: String| -> Result<Response, AppError> {
        let mut r = html(SignupPage {
            shell: Shell::new(&ctx, l.t("donor-signup-title")),
            l,
            error: Some(message),
            mobile: form.mobile.clone(),
            name: form.name.clone(),
        })?;
        *r.status_mut() = status;
        Ok(r)
    };
    let again = |message: String| answer(axum::http::StatusCode::BAD_REQUEST, message);
    let mobile = match hamdeli_text::phone::parse_mobile(&form.mobile) {
        Ok(m) => m.as_str().to_owned(),
        Err(_) => return again(l.t("donor-mobile-invalid")),
    };
    if form.name.trim().is_empty() {
        return again(l.t("donor-name-required"));
    }
    if hamdeli_app::campaigns::mobile_registered(&state.store, &mobile).await? {
        return again(l.t("donor-mobile-taken"));
    }
    // A form that would send a code (and so create an account) counts against the address:
    // a few sign-ups an hour per address. The number has its own limit in the use case.
    let now = hamdeli_store::now_millis();
    if !crate::ratelimit::admit_signup(&state.store, &ctx.client_addr, now).await? {
        tracing::warn!(client = %ctx.client_addr, "refused a donor sign-up over the address limit");
        return answer(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            l.t("signup-too-many"),
        );
    }
    // The code in ASCII digits whatever the language: phones offer to fill it in from those.
    let message = |code: &str| {
        l.t1("signup-code-sms", "code", "@CODE@")
            .replace("@CODE@", code)
    };
    match hamdeli_app::campaigns::start_signup(
        &state.store,
        state.sms.as_ref(),
        &state.config.secret_key,
        &mobile,
        &form.name,
        &message,
    )
    .await
    {
        Ok(()) => {}
        Err(hamdeli_app::Error::Conflict("signup-code-too-many")) => {
            return answer(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                l.t("signup-code-too-many"),
            );
        }
        Err(hamdeli_app::Error::Conflict("signup-code-not-sent")) => {
            return answer(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                l.t("signup-code-not-sent"),
            );
        }
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            return again(l.t(id));
        }
        Err(e) => return Err(e.into()),
    }
    // The code's page at once: the number stays in the form, never in an address (history,
    // access logs, Referer).
    html(VerifyPage {
        shell: Shell::new(&ctx, l.t("signup-code-title")),
        l,
        error: None,
        mobile,
    })
}

#[derive(Template)]
#[template(path = "campaigns/donor_verify.html")]
struct VerifyPage {
    shell: Shell,
    l: Loc,
    error: Option<String>,
    mobile: String,
}

/// Handles GET /donors/signup/verify: the code's page comes only as the answer to the sign-up
/// form (the number never rides in an address), so a visit here starts the sign-up again; a
/// `?mobile=` is not read.
pub async fn verify_form() -> Response {
    see_other("/donors/signup")
}

#[derive(Deserialize)]
pub struct VerifyForm {
    mobile: String,
    code: String,
    password: String,
}

/// Handles POST /donors/signup/verify: the right code within ten minutes and five tries creates
/// the donor's account.
pub async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<VerifyForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let mobile = hamdeli_text::phone::parse_mobile(&form.mobile)
        .map(|m| m.as_str().to_owned())
        .map_err(|_| AppError::BadRequest("donor-mobile-invalid"))?;
    let done = hamdeli_app::campaigns::finish_signup(
        &state.store,
        &ctx.client_addr,
        &state.config.secret_key,
        &mobile,
        &form.code,
        &form.password,
        ctx.locale.tag(),
    )
    .await;
    match done {
        Ok(_) => Ok(see_other("/login?next=/donor&signed_up=1")),
        Err(hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id)) => {
            let mut r = html(VerifyPage {
                shell: Shell::new(&ctx, l.t("signup-code-title")),
                l,
                error: Some(l.t(id)),
                mobile,
            })?;
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "campaigns/donor.html")]
struct DonorPage {
    shell: Shell,
    l: Loc,
    pledges: Vec<PledgeView>,
    /// Per received pledge's campaign: where its allocations went.
    destinations: Vec<(i64, String, Vec<DestinationView>)>,
    mobile: String,
}

/// Handles GET /donor: the signed-in donor's pledges and where each went.
pub async fn donor_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let donor = hamdeli_app::campaigns::donor_overview(&state.store, &caller).await?;
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let destinations = donor
        .destinations
        .into_iter()
        .map(|(id, title, rows)| (id, title, destination_views(l, &types, &places, rows)))
        .collect();
    html(DonorPage {
        shell: Shell::new(&ctx, l.t("donor-title")),
        l,
        pledges: pledge_views(l, &types, donor.pledges),
        destinations,
        mobile: donor.mobile,
    })
}
