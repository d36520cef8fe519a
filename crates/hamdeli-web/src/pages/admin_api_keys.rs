//! API keys for partner organisations: national admins issue them for any organisation, a
//! partner for its own. The secret is shown once.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use hamdeli_domain::Action;
use hamdeli_store::StoreError;
use hamdeli_store::api_keys::{self, ApiKey};
use hamdeli_store::audit::{self, Event};
use hamdeli_store::organisations::{self, Organisation};

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
    let p = ctx.require()?;
    let filter = p.place_filter();
    let organisations = organisations::list(&state.store, &filter).await?;
    let organisations: Vec<Organisation> = organisations
        .into_iter()
        .filter(|o| p.allows(&Action::ManageApiKeys(o.id)))
        .collect();
    if organisations.is_empty() && p.role != hamdeli_domain::Role::NationalAdmin {
        return Err(AppError::Forbidden);
    }
    let l = Loc(ctx.locale);
    let mut rows = vec![];
    for key in api_keys::list(&state.store, &filter).await? {
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

pub async fn issue(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<IssueForm>,
) -> Result<Response, AppError> {
    let p = ctx.require()?.clone();
    let l = Loc(ctx.locale);
    let Ok(org) = form.organisation.trim().parse::<i64>() else {
        return bad(page(&state, &ctx, None, Some(l.t("scope-organisation-required"))).await);
    };
    p.authorize(Action::ManageApiKeys(org))?;
    let mut tx = state.store.begin().await?;
    let (id, secret) = match api_keys::issue(&mut tx, org, &form.name, p.user_id).await {
        Ok(x) => x,
        Err(StoreError::Invalid(msg)) => {
            drop(tx);
            return bad(page(&state, &ctx, None, Some(l.t(msg))).await);
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &mut tx,
        &ctx.audit_actor(),
        Event {
            action: "api_key.issue",
            target_kind: "api_key",
            target_id: id.to_string(),
            detail: json!({ "organisation": org, "name": form.name.trim() }),
        },
    )
    .await?;
    tx.commit().await?;
    page(&state, &ctx, Some(secret), None).await
}

pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = ctx.require()?.clone();
    let key = api_keys::by_id(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let org = key.scope.organisation().ok_or(AppError::Forbidden)?;
    p.authorize(Action::ManageApiKeys(org))?;
    let mut tx = state.store.begin().await?;
    api_keys::revoke(&mut tx, id).await?;
    audit::record(
        &mut tx,
        &ctx.audit_actor(),
        Event {
            action: "api_key.revoke",
            target_kind: "api_key",
            target_id: id.to_string(),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(see_other("/admin/api-keys"))
}
