//! Pledges: a donor's pledge to a campaign, the office's record of its receipt (a donation
//! with a receipt code) and a pledge's cancellation.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_domain::Action;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::needs::TypeNames;
use crate::pages::{FormData, see_other};
use crate::view::Loc;

use super::typed_amount;

#[derive(Deserialize)]
pub struct PledgeForm {
    resource: String,
    amount: String,
}

/// Handles the POST /campaigns/{id}/pledges route.
pub async fn pledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<PledgeForm>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    caller.principal.authorize(Action::Pledge)?;
    let types = TypeNames::load(&state, Loc(ctx.locale)).await?;
    // Money in tomans, stored as rials.
    let amount = typed_amount(&types, &form.resource, &form.amount)?;
    // The store's refusals (over the caps, a closed campaign) are form errors in the user's
    // language (400 with the catalog message), never a 500.
    hamdeli_app::campaigns::pledge(&state.store, &caller, id, &form.resource, amount).await?;
    Ok(see_other("/donor"))
}

#[derive(Deserialize)]
pub struct ReceiveForm {
    amount: String,
    reference: String,
}

/// Handles the POST /campaigns/{id}/pledges/{pledge}/receive route.
pub async fn receive(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, pledge_id)): Path<(i64, i64)>,
    FormData(form): FormData<ReceiveForm>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let pledge =
        hamdeli_app::campaigns::managed_pledge(&state.store, &caller, id, pledge_id).await?;
    let types = TypeNames::load(&state, Loc(ctx.locale)).await?;
    // Money received in tomans, stored as rials.
    let amount = typed_amount(&types, &pledge.resource, &form.amount)?;
    hamdeli_app::campaigns::receive(
        &state.store,
        &caller,
        id,
        pledge_id,
        amount,
        &form.reference,
    )
    .await?;
    Ok(see_other(&format!("/campaigns/{id}#pledges")))
}

/// Handles POST /campaigns/{id}/pledges/{pledge}/cancel: a donor her own pledge (back to her
/// page), the campaign's office any unreceived one (back to the campaign's pledges).
pub async fn cancel_pledge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, pledge_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    hamdeli_app::campaigns::cancel_pledge(&state.store, &caller, id, pledge_id).await?;
    Ok(if caller.principal.allows(&Action::Pledge) {
        see_other("/donor")
    } else {
        see_other(&format!("/campaigns/{id}#pledges"))
    })
}
