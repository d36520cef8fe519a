//! The campaigns list (GET /campaigns): every campaign with its pools' progress.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use hamdeli_domain::Action;
use hamdeli_store::campaigns::Campaign;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::html;
use crate::pages::needs::TypeNames;
use crate::pages::registry::PlaceNames;
use crate::view::{Loc, Shell};

use super::{PoolView, pool_views, today_iso};

#[derive(Template)]
#[template(path = "campaigns/campaigns.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    campaigns: Vec<(Campaign, Vec<PoolView>)>,
    places: PlaceNames,
    may_create: bool,
    /// Today in Iran (ISO): an active campaign past its last day is shown as ended.
    today: String,
}

/// Handles the GET /campaigns route: every campaign with its pools' progress.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let mut out = vec![];
    for s in hamdeli_app::campaigns::public_list(&state.store).await? {
        let views = pool_views(l, &types, &s.campaign, s.pools);
        out.push((s.campaign, views));
    }
    html(ListPage {
        shell: Shell::new(&ctx, l.t("campaigns-title")),
        l,
        campaigns: out,
        places: PlaceNames::load(&state, l).await?,
        may_create: ctx
            .principal
            .as_ref()
            .is_some_and(|p| p.allows(&Action::CreateCampaign)),
        today: today_iso(),
    })
}
