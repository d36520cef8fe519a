//! A campaign's page: its pools' progress, where its gifts went (by area and need type, small
//! counts suppressed) and, to its office, the pledges to receive.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use hamdeli_domain::Action;
use hamdeli_domain::needs::{PublicCount, public_count};
use hamdeli_store::campaigns::{Campaign, Destination, Pledge};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::html;
use crate::pages::needs::TypeNames;
use crate::pages::registry::PlaceNames;
use crate::view::{Loc, Shell};

use super::{PoolView, pool_views, show_amount, takes_pledges};

pub struct DestinationView {
    pub province: String,
    pub zone: String,
    pub need_type: String,
    pub allocations: PublicCount,
    pub units: String,
    pub delivered: PublicCount,
}

pub(super) fn destination_views(
    l: Loc,
    types: &TypeNames,
    places: &PlaceNames,
    rows: Vec<Destination>,
) -> Vec<DestinationView> {
    rows.into_iter()
        .map(|d| DestinationView {
            province: places.of(&d.province_code),
            zone: l.opt_tv("zone", &d.zone),
            need_type: types.of(&d.need_type),
            allocations: public_count(d.allocations),
            units: show_amount(l, types, &d.need_type, d.units),
            delivered: public_count(d.delivered),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "campaigns/campaign.html")]
struct CampaignPage {
    shell: Shell,
    l: Loc,
    c: Campaign,
    pools: Vec<PoolView>,
    destinations: Vec<DestinationView>,
    places: PlaceNames,
    type_names: Vec<String>,
    /// The donor may pledge (signed in as a donor).
    may_pledge: bool,
    /// Anonymous visitors are invited to sign up.
    anonymous: bool,
    may_manage: bool,
    /// Active, and its last day is over: shown as ended, takes no pledges.
    ended: bool,
    /// The campaign's pledges for its office, with their amounts shown.
    pledges: Vec<PledgeView>,
}

/// A pledge with its amount as shown (tomans or units) and, for a pledged one, the amount the
/// office's receipt form starts from (tomans or units, as typed).
pub struct PledgeView {
    pub p: Pledge,
    pub resource: String,
    pub amount: String,
    pub typed_amount: String,
    pub is_money: bool,
}

pub(super) fn pledge_views(l: Loc, types: &TypeNames, pledges: Vec<Pledge>) -> Vec<PledgeView> {
    pledges
        .into_iter()
        .map(|p| {
            let is_money = types.is_money(&p.resource);
            PledgeView {
                resource: types.resource(&p.resource),
                amount: show_amount(l, types, &p.resource, p.amount),
                typed_amount: if is_money {
                    (p.amount / 10).to_string()
                } else {
                    p.amount.to_string()
                },
                is_money,
                p,
            }
        })
        .collect()
}

/// Handles the GET /campaigns/{id} route: the campaign's page.
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let page = hamdeli_app::campaigns::page(&state.store, ctx.principal.as_ref(), id).await?;
    let c = page.summary.campaign;
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let pools = page.summary.pools;
    let may_manage = page.pledges.is_some();
    let pledges = pledge_views(l, &types, page.pledges.unwrap_or_default());
    let destinations = destination_views(l, &types, &places, page.destinations);
    let type_names = page
        .summary
        .need_types
        .iter()
        .map(|t| types.of(t))
        .collect();
    html(CampaignPage {
        shell: Shell::new(&ctx, c.title.clone()),
        l,
        pools: pool_views(l, &types, &c, pools),
        destinations,
        places,
        type_names,
        may_pledge: ctx
            .principal
            .as_ref()
            .is_some_and(|p| p.allows(&Action::Pledge))
            && takes_pledges(&c),
        anonymous: ctx.principal.is_none(),
        may_manage,
        ended: c.status == "active" && !takes_pledges(&c),
        pledges,
        c,
    })
}
