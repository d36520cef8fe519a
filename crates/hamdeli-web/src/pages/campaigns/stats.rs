//! The public statistics: persons in need and served per province and need type (small counts
//! suppressed), campaigns, donations and organisations.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use hamdeli_domain::needs::{PublicCount, public_count};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::html;
use crate::pages::needs::TypeNames;
use crate::pages::registry::PlaceNames;
use crate::view::{Loc, Shell};

use super::show_amount;

pub struct StatRow {
    pub province: String,
    pub need_type: String,
    pub in_need: PublicCount,
    pub served: PublicCount,
    pub delivered: String,
}

#[derive(Template)]
#[template(path = "campaigns/stats.html")]
struct StatsPage {
    shell: Shell,
    l: Loc,
    rows: Vec<StatRow>,
    campaigns: i64,
    donations: PublicCount,
    organisations: i64,
}

/// Handles the GET /stats route: the public statistics.
pub async fn stats(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let stats = hamdeli_app::campaigns::public_stats(&state.store).await?;
    let rows = stats
        .cells
        .into_iter()
        .map(|c| StatRow {
            province: places.of_str(&c.province_code),
            need_type: types.of(&c.need_type),
            in_need: public_count(c.persons_in_need),
            served: public_count(c.persons_served),
            delivered: show_amount(l, &types, &c.need_type, c.units_delivered),
        })
        .collect();
    html(StatsPage {
        shell: Shell::new(&ctx, l.t("stats-title")),
        l,
        rows,
        campaigns: stats.campaigns,
        donations: public_count(stats.donations),
        organisations: stats.organisations,
    })
}
