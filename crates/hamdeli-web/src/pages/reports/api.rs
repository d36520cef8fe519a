//! The reports' JSON API under `/api/v1/reports/`: data sets, an indicator's values per
//! province or county, completeness, the data-exchange rows and the public need index.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use hamdeli_app::reports::{self as app, IndicatorKey};
use hamdeli_store::reports::entries::ExchangeRow;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::use_case::caller;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(datasets))
        .routes(routes!(indicator_values))
        .routes(routes!(completeness))
        .routes(routes!(exchange))
        .routes(routes!(need_index))
}

#[derive(Serialize, ToSchema)]
pub struct ApiElement {
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    /// number, money (rials), yes_no, text
    pub kind: String,
    /// none, urban_rural
    pub disaggregation: String,
    pub required: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ApiDataSet {
    pub id: i64,
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    /// month, season, year
    pub period_type: String,
    /// province, county
    pub level: String,
    pub due_day: i64,
    pub version: i64,
    pub active: bool,
    pub elements: Vec<ApiElement>,
}

/// The data sets the national office defined, with their current definitions.
#[utoipa::path(get, path = "/api/v1/reports/datasets", tag = "reports",
    responses((status = 200, body = Vec<ApiDataSet>), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn datasets(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<ApiDataSet>>, AppError> {
    let caller = caller(&ctx)?;
    Ok(Json(
        app::datasets(&state.store, &caller)
            .await?
            .into_iter()
            .map(|d| ApiDataSet {
                id: d.id,
                code: d.code,
                name_fa: d.name_fa,
                name_en: d.name_en,
                period_type: d.period_type.as_str().into(),
                level: d.level.as_str().into(),
                due_day: d.due_day,
                version: d.version,
                active: d.active,
                elements: d
                    .definition
                    .elements
                    .into_iter()
                    .map(|e| ApiElement {
                        code: e.code,
                        name_fa: e.name_fa,
                        name_en: e.name_en,
                        kind: e.kind.as_str().into(),
                        disaggregation: e.disaggregation.as_str().into(),
                        required: e.required,
                    })
                    .collect(),
            })
            .collect(),
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct IndicatorParams {
    /// `fig:persons`, `fig:female_heads_uncovered`, `fig:needs_open.food`, `ds:{id}:{element}`
    ind: String,
    /// `now`, a month `1404-07`, a season `1404-S2` or a year `1404`
    period: String,
    /// A province code: its counties' values instead of the provinces'.
    province: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorValues {
    pub indicator: String,
    pub period: String,
    /// Province (or county) code → value (rials for money).
    pub values: BTreeMap<String, i64>,
}

/// An indicator's values per province, or per county of a province, inside the caller's scope.
#[utoipa::path(get, path = "/api/v1/reports/indicators", tag = "reports",
    params(IndicatorParams),
    responses((status = 200, body = IndicatorValues), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn indicator_values(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<IndicatorParams>,
) -> Result<Json<IndicatorValues>, AppError> {
    let caller = caller(&ctx)?;
    let key =
        IndicatorKey::parse(&q.ind).ok_or(AppError::BadRequest("reports-indicator-invalid"))?;
    let values = match q.province.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => {
            app::indicators::county_values(&state.store, &caller, &key, &q.period, p).await?
        }
        None => app::indicators::province_values(&state.store, &caller, &key, &q.period).await?,
    };
    Ok(Json(IndicatorValues {
        indicator: key.code(),
        period: q.period,
        values,
    }))
}

#[derive(Deserialize, IntoParams)]
pub struct PeriodParams {
    /// The period: `1404-07`, `1404-S2`, `1404`
    period: Option<String>,
    /// `all` for every report's values, not only the accepted ones (exchange)
    status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiCompleteness {
    pub province_code: String,
    pub expected: i64,
    pub sent: i64,
    pub on_time: i64,
    pub accepted: i64,
    pub returned: i64,
    /// Places without a sent report (county codes, or the province code).
    pub missing: Vec<String>,
}

/// Completeness and timeliness of a data set's period per province.
#[utoipa::path(get, path = "/api/v1/reports/datasets/{id}/completeness", tag = "reports",
    params(("id" = i64, Path), PeriodParams),
    responses((status = 200, body = Vec<ApiCompleteness>), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn completeness(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PeriodParams>,
) -> Result<Json<Vec<ApiCompleteness>>, AppError> {
    let caller = caller(&ctx)?;
    let ds = app::dataset(&state.store, &caller, id).await?;
    let period = q.period.unwrap_or_else(|| {
        app::last_due_period(ds.period_type, hamdeli_store::now_millis()).code()
    });
    let (_, _, rows) = app::completeness(&state.store, &caller, id, &period).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ApiCompleteness {
                province_code: r.counts.province_code,
                expected: r.counts.expected,
                sent: r.counts.sent,
                on_time: r.counts.on_time,
                accepted: r.counts.accepted,
                returned: r.counts.returned,
                missing: r.missing,
            })
            .collect(),
    ))
}

/// The data-exchange rows of a data set: data element, category, period, org unit, value
/// (accepted reports unless `status=all`).
#[utoipa::path(get, path = "/api/v1/reports/datasets/{id}/exchange", tag = "reports",
    params(("id" = i64, Path), PeriodParams),
    responses((status = 200, body = Vec<ExchangeRow>), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn exchange(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PeriodParams>,
) -> Result<Json<Vec<ExchangeRow>>, AppError> {
    let caller = caller(&ctx)?;
    let ds = app::dataset(&state.store, &caller, id).await?;
    Ok(Json(
        super::datasets::api_exchange_rows(
            &state,
            &caller,
            &ds,
            q.period.as_deref(),
            q.status.as_deref(),
        )
        .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ApiIndexPart {
    pub indicator: String,
    pub weight: i64,
    /// 0..1, 1 the most severe
    pub normalised: Option<f64>,
    pub points: f64,
}

#[derive(Serialize, ToSchema)]
pub struct ApiIndexRow {
    pub province_code: String,
    pub rank: usize,
    pub score: Option<f64>,
    pub parts: Vec<ApiIndexPart>,
}

/// The province need index: ranking and each province's points per indicator (public).
#[utoipa::path(get, path = "/api/v1/reports/need-index", tag = "reports",
    responses((status = 200, body = Vec<ApiIndexRow>)))]
async fn need_index(State(state): State<AppState>) -> Result<Json<Vec<ApiIndexRow>>, AppError> {
    let (_, scores) = app::need_index(&state.store, None).await?;
    Ok(Json(
        scores
            .into_iter()
            .map(|s| ApiIndexRow {
                province_code: s.province,
                rank: s.rank,
                score: s.score,
                parts: s
                    .parts
                    .into_iter()
                    .map(|p| ApiIndexPart {
                        indicator: p.indicator,
                        weight: p.weight,
                        normalised: p.normalised,
                        points: p.points,
                    })
                    .collect(),
            })
            .collect(),
    ))
}
