//! The linkage review queue: the list, one review with its evidence, merge and separate.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::registry;
use hamdeli_store::persons::{self, Review, SourceRecordView};

use super::PlaceNames;
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

pub struct EvidenceLine {
    pub field: String,
    pub level: String,
    pub strength: String,
    pub strength_code: String,
    pub bits: String,
}

pub(super) fn evidence_lines(l: Loc, json: &str) -> Vec<EvidenceLine> {
    let items: Vec<(String, String, String, i64)> = serde_json::from_str(json).unwrap_or_default();
    items
        .into_iter()
        .map(|(field, level, strength, bits)| EvidenceLine {
            field: l.tv("link-field", &field),
            level: {
                let id = format!("link-level-{}", level.replace(['.', '_'], "-"));
                if hamdeli_locale::has_message(l.0, &id) {
                    l.t(&id)
                } else {
                    level
                }
            },
            strength: l.tv("link-strength", &strength),
            strength_code: strength,
            bits: l.digits(&format!("{:+.1}", bits as f64 / 100.0)),
        })
        .collect()
}

pub struct ReviewRow {
    pub review: Review,
    pub a: Option<SourceRecordView>,
    pub b: Option<SourceRecordView>,
    pub percent: String,
}

fn review_row(l: Loc, view: registry::ReviewView) -> ReviewRow {
    let percent = l.digits(&format!("{:.0}", view.review.probability_bp as f64 / 100.0));
    ReviewRow {
        review: view.review,
        a: Some(view.a),
        b: Some(view.b),
        percent,
    }
}

#[derive(Deserialize, Default)]
pub struct ReviewsQuery {
    #[serde(default)]
    status: Option<String>,
    /// Keyset paging: the page starts after this review.
    #[serde(default)]
    after: Option<i64>,
}

const REVIEWS_PAGE_ROWS: i64 = 100;

#[derive(Template)]
#[template(path = "registry/reviews.html")]
struct ReviewsPage {
    shell: Shell,
    l: Loc,
    status: String,
    rows: Vec<ReviewRow>,
    open: i64,
    /// The next page's `after`, when there is one.
    next: Option<i64>,
}

/// Handles the GET /registry/reviews route.
pub async fn reviews(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<ReviewsQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let status = match query.status.as_deref() {
        Some("merged") => "merged",
        Some("separated") => "separated",
        _ => "open",
    };
    let (mut views, open) = registry::reviews(
        &state.store,
        &caller,
        status,
        query.after,
        REVIEWS_PAGE_ROWS + 1,
    )
    .await?;
    let next = if views.len() as i64 > REVIEWS_PAGE_ROWS {
        views.truncate(REVIEWS_PAGE_ROWS as usize);
        views.last().map(|v| v.review.id)
    } else {
        None
    };
    html(ReviewsPage {
        shell: Shell::new(&ctx, l.t("reviews-title")),
        l,
        status: status.to_owned(),
        rows: views.into_iter().map(|v| review_row(l, v)).collect(),
        open,
        next,
    })
}

#[derive(Template)]
#[template(path = "registry/review.html")]
struct ReviewPage {
    shell: Shell,
    l: Loc,
    row: ReviewRow,
    evidence: Vec<EvidenceLine>,
    places: PlaceNames,
    error: Option<String>,
}

async fn review_page(
    state: &AppState,
    ctx: &Ctx,
    view: registry::ReviewView,
    error: Option<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let evidence = evidence_lines(l, &view.review.evidence);
    let row = review_row(l, view);
    let response = html(ReviewPage {
        shell: Shell::new(ctx, l.t("review-title")),
        l,
        row,
        evidence,
        places: PlaceNames::load(state, l).await?,
        error: error.clone(),
    });
    if error.is_some() {
        crate::pages::account::bad(response)
    } else {
        response
    }
}

/// Handles the GET /registry/reviews/{id} route.
pub async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let view = registry::read_review(&state.store, &caller(&ctx)?, id).await?;
    review_page(&state, &ctx, view, None).await
}

/// Handles the POST /registry/reviews/{id}/merge route.
pub async fn merge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    match registry::merge(&state.store, &caller, id).await? {
        Ok(person) => Ok(see_other(&format!("/registry/persons/{person}"))),
        Err(refusal) => {
            let l = Loc(ctx.locale);
            let view = registry::read_review(&state.store, &caller, id).await?;
            review_page(&state, &ctx, view, Some(l.t(refusal.code()))).await
        }
    }
}

/// Handles the POST /registry/reviews/{id}/separate route.
pub async fn separate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    if registry::separate(&state.store, &caller, id).await? {
        return Ok(see_other("/registry/reviews"));
    }
    let l = Loc(ctx.locale);
    let view = registry::read_review(&state.store, &caller, id).await?;
    review_page(
        &state,
        &ctx,
        view,
        Some(l.t(persons::MergeRefusal::Decided.code())),
    )
    .await
}
