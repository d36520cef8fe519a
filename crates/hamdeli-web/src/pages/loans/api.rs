//! The loans' JSON API for other organisations' systems and offices: the loans in the caller's
//! scope, one loan with its schedule, and recording a repayment once per `Idempotency-Key`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use hamdeli_app::loans::{self as app, Keyed, LoanFilter};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::use_case::caller;

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_loans))
        .routes(routes!(get_loan))
        .routes(routes!(record_repayment))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
pub struct LoansQuery {
    /// `applied`, `approved`, `rejected`, `disbursed`, `repaid`, `late` or `deferred`.
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The loans the caller reads (an office its place, a partner those it originated), newest
/// first; amounts in rials.
#[utoipa::path(get, path = "/api/v1/loans", tag = "loans", params(LoansQuery),
    responses((status = 200, description = "the loans"), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn list_loans(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<LoansQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let rows = app::list(
        &state.store,
        &caller,
        &LoanFilter {
            status: q.status,
            county: None,
            limit: q.limit.unwrap_or(100).clamp(1, 1000),
            offset: q.offset.unwrap_or(0).max(0),
        },
    )
    .await?;
    Ok(Json(serde_json::json!({ "loans": rows })).into_response())
}

/// One loan with its schedule (due dates as days since 1970-01-01 and Jalali text), payments,
/// comments and deferrals. The read is audited.
#[utoipa::path(get, path = "/api/v1/loans/{id}", tag = "loans",
    params(("id" = i64, Path, description = "the loan")),
    responses((status = 200, description = "the loan"), (status = 401), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn get_loan(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let v = app::view(&state.store, &caller, id).await?;
    let schedule: Vec<serde_json::Value> = v
        .instalments
        .iter()
        .map(|i| {
            let due = hamdeli_text::IsoDate::from_days(i.due_on);
            serde_json::json!({
                "n": i.n,
                "due_jalali": due.map(|d| hamdeli_domain::loans::schedule::jalali_text(d.to_jalali())),
                "due_gregorian": due.map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())),
                "principal_rials": i.principal,
                "fee_rials": i.fee,
                "total_rials": i.total,
                "paid_rials": i.paid,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "loan": v.loan,
        "schedule": schedule,
        "payments": v.payments,
        "deferrals": v.deferrals,
    }))
    .into_response())
}

/// A repayment as reported.
#[derive(Deserialize, ToSchema)]
pub struct Repayment {
    /// Rials, above zero; at most what the loan still owes.
    pub amount_rials: i64,
    /// The day paid: ISO `2026-12-01` or Jalali `1405/09/10`.
    pub paid_on: String,
}

/// Records a repayment of a loan in the caller's place. `Idempotency-Key` is required: the same
/// key and body answer the first receipt (`Idempotent-Replayed: true`) and pay once; another
/// body under the key is 409.
#[utoipa::path(post, path = "/api/v1/loans/{id}/repayments", tag = "loans",
    request_body = Repayment,
    params(("id" = i64, Path, description = "the loan"),
        ("Idempotency-Key" = String, Header, description = "8–200 visible ASCII characters")),
    responses((status = 201, description = "the receipt"), (status = 400), (status = 401),
        (status = 403), (status = 404), (status = 409, description = "the key was used for another request, or more than is owed")),
    security(("api_key" = []), ("session" = [])))]
async fn record_repayment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Repayment>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let date = hamdeli_locale::parse_form_date(&body.paid_on)
        .ok_or(AppError::BadRequest("loans-date-invalid"))?
        .iso();
    match app::repay(&state.store, &caller, id, body.amount_rials, &date, &key).await {
        Ok(Keyed::Done(p)) => Ok((StatusCode::CREATED, Json(p)).into_response()),
        Ok(Keyed::Replayed(p)) => Ok((
            StatusCode::CREATED,
            [("idempotent-replayed", "true")],
            Json(p),
        )
            .into_response()),
        Err(hamdeli_app::Error::Conflict(code)) => Ok((
            StatusCode::CONFLICT,
            Json(serde_json::json!({ "error": code })),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
