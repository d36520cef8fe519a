//! API keys for partner organisations: national admins issue them for any organisation, a
//! partner for its own. The secret is shown once.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_store::api_keys::ApiKey;
use hamdeli_store::organisations::Organisation;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::account::bad;
use crate::pages::{FormData, html, see_other};
use crate::view::{Loc, Shell};

pub struct KeyRow {
    pub key: ApiKey,
    pub organisation: String,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct KeysPage {
    shell: Shell,
    l: Loc,
    rows: Vec<KeyRow>,
    organisations: Vec<Organisation>,
    new_secret: Option<String>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    ctx: &Ctx,
    new_secret: Option<String>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(ctx)?;
    let (organisations, keys) = hamdeli_app::api_keys::overview(&state.store, &caller).await?;
    let l = Loc(ctx.locale);
    let mut rows = vec![];
    for key in keys {
        let organisation = match key.scope.organisation() {
            Some(id) => organisations
                .iter()
                .find(|o| o.id == id)
                .map(|o| l.name(&o.name_fa, &o.name_en).to_owned())
                .unwrap_or_default(),
            None => String::new(),
        };
        rows.push(KeyRow { key, organisation });
    }
    html(KeysPage {
        shell: Shell::new(ctx, l.t("api-keys-title")),
        l,
        rows,
        organisations,
        new_secret,
        error,
    })
}

/// Handles the GET /admin/api-keys route.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    if !matches!(
        p.role,
        hamdeli_domain::Role::NationalAdmin | hamdeli_domain::Role::PartnerOrg
    ) {
        return Err(AppError::Forbidden);
    }
    page(&state, &ctx, None, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IssueForm {
    organisation: String,
    name: String,
}

/// Handles the POST /admin/api-keys route.
pub async fn issue(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<IssueForm>,
) -> Result<Response, AppError> {
    ctx.require()?;
    let l = Loc(ctx.locale);
    let Ok(org) = form.organisation.trim().parse::<i64>() else {
        return bad(page(&state, &ctx, None, Some(l.t("scope-organisation-required"))).await);
    };
    let caller = crate::use_case::caller(&ctx)?;
    let secret = match hamdeli_app::api_keys::issue(&state.store, &caller, org, &form.name).await {
        Ok((_, secret)) => secret,
        Err(hamdeli_app::Error::Invalid(msg)) => {
            return bad(page(&state, &ctx, None, Some(l.t(msg))).await);
        }
        Err(e) => return Err(e.into()),
    };
    page(&state, &ctx, Some(secret), None).await
}

/// Handles the POST /admin/api-keys/{id}/revoke route.
pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    hamdeli_app::api_keys::revoke(&state.store, &crate::use_case::caller(&ctx)?, id).await?;
    Ok(see_other("/admin/api-keys"))
}
