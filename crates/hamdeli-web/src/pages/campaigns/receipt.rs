//! The public receipt check: a donation's receipt code and where it went (by area and need
//! type, never by person).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_domain::needs::normalize_receipt_code;
use hamdeli_store::campaigns::{self, Pledge};

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

/// Handles GET /receipts: the public check of a receipt code (`?code=`) and where the
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
    let pledge = if code.is_empty() {
        None
    } else {
        campaigns::by_receipt(&state.store, &code).await?
    };
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let mut entry_hash = None;
    let mut destinations = vec![];
    let (mut amount, mut resource) = (String::new(), String::new());
    if let Some(pl) = &pledge {
        amount = show_amount(l, &types, &pl.resource, pl.received_amount.unwrap_or(0));
        resource = types.resource(&pl.resource);
        if let Some(seq) = pl.ledger_seq {
            entry_hash = hamdeli_store::ledger::recent(&state.store, Some(seq + 1), 1)
                .await?
                .into_iter()
                .find(|e| e.seq == seq)
                .map(|e| e.hash);
        }
        destinations = destination_views(
            l,
            &types,
            &places,
            campaigns::destinations(&state.store, pl.campaign_id, Some(&pl.resource)).await?,
        );
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
