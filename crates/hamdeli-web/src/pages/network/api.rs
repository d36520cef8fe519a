//! The capability's JSON API: the public directory of capable women's cards (no sign-in), and
//! the proposals for an open case (the centre's staff).

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::use_case::caller;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(directory))
        .routes(routes!(proposals))
}

/// A public card: what she chose to show everyone (never her contact).
#[derive(Serialize, ToSchema)]
pub struct ApiCard {
    pub name: String,
    pub field: String,
    pub skills: String,
    pub achievements: String,
    /// The province's code.
    pub province: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiDirectory {
    pub total: i64,
    pub cards: Vec<ApiCard>,
}

#[derive(Deserialize, Default, IntoParams)]
#[serde(default)]
pub struct DirectoryParams {
    /// A field code (`handicrafts`, `agriculture`, …).
    field: String,
    /// A province code.
    province: String,
    /// Page (50 a page), from 0.
    page: i64,
}

/// The public directory of capable women who chose a public card.
#[utoipa::path(get, path = "/api/v1/network/directory", tag = "network",
    params(DirectoryParams),
    responses((status = 200, body = ApiDirectory), (status = 400)))]
async fn directory(
    State(state): State<AppState>,
    Query(q): Query<DirectoryParams>,
) -> Result<Json<ApiDirectory>, AppError> {
    let (cards, total) =
        hamdeli_app::network::women::directory(&state.store, &q.field, &q.province, q.page).await?;
    Ok(Json(ApiDirectory {
        total,
        cards: cards
            .into_iter()
            .map(|c| ApiCard {
                name: c.name,
                field: c.field,
                skills: c.skills,
                achievements: c.achievements,
                province: c.province_code,
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ApiReason {
    /// `specialty`, `licence`, `county`, `remote`, `language`, `language-missing`, `gender`,
    /// `gender-mismatch`, `availability`, `load`.
    pub code: String,
    pub points: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ApiProposal {
    pub volunteer_id: i64,
    pub name: String,
    pub score: i64,
    pub reasons: Vec<ApiReason>,
}

/// Volunteers proposed for an open case, best first, each with the reasons of her score (the
/// county experts of the case's centre).
#[utoipa::path(get, path = "/api/v1/network/cases/{id}/proposals", tag = "network",
    params(("id" = i64, Path, description = "the case")),
    responses((status = 200, body = Vec<ApiProposal>), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn proposals(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ApiProposal>>, AppError> {
    let c = caller(&ctx)?;
    let list = hamdeli_app::network::cases::proposals(&state.store, &c, id).await?;
    Ok(Json(
        list.into_iter()
            .map(|p| ApiProposal {
                volunteer_id: p.volunteer_id,
                name: p.name,
                score: p.score,
                reasons: p
                    .reasons
                    .into_iter()
                    .map(|(code, points)| ApiReason { code, points })
                    .collect(),
            })
            .collect(),
    ))
}
