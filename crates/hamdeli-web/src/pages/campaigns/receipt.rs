//! The public receipt check: a donation's receipt code and where it went (by area and need
//! type, never by person).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_domain::needs::normalize_receipt_code;
use hamdeli_store::campaigns::Pledge;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::html;
use crate::pages::needs::TypeNames;
use crate::pages::registry::PlaceNames;
use crate::view::{Loc, Shell};

use super::show::{DestinationView, destination_views};
use super::show_amount;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReceiptQuery {
    code: Option<String>,
}

#[derive(Template)]
#[template(path = "campaigns/receipt.html")]
struct ReceiptPage {
    shell: Shell,
    l: Loc,
    code: String,
    searched: bool,
    pledge: Option<Pledge>,
    amount: String,
    resource: String,
    entry_hash: Option<String>,
    destinations: Vec<DestinationView>,
}

/// Handles the GET /receipts route: the public check of a receipt code (`?code=`) and where the
/// donation went.
pub async fn receipt(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReceiptQuery>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let code = q
        .code
        .as_deref()
        .map(normalize_receipt_code)
        .unwrap_or_default();
    let found = if code.is_empty() {
        None
    } else {
        hamdeli_app::campaigns::receipt(&state.store, &code).await?
    };
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let mut entry_hash = None;
    let mut destinations = vec![];
    let (mut amount, mut resource) = (String::new(), String::new());
    let mut pledge = None;
    if let Some(r) = found {
        amount = show_amount(
            l,
            &types,
            &r.pledge.resource,
            r.pledge.received_amount.unwrap_or(0),
        );
        resource = types.resource(&r.pledge.resource);
        entry_hash = r.entry_hash;
        destinations = destination_views(l, &types, &places, r.destinations);
        pledge = Some(r.pledge);
    }
    html(ReceiptPage {
        shell: Shell::new(&ctx, l.t("receipt-title")),
        l,
        searched: !code.is_empty(),
        code,
        pledge,
        amount,
        resource,
        entry_hash,
        destinations,
    })
}
