//! Merging two persons the user picked, and undoing a merge.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::registry;

use super::PlaceNames;
use super::reviews::{EvidenceLine, evidence_lines};
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Deserialize)]
pub struct MergeWith {
    with: i64,
}

#[derive(Template)]
#[template(path = "registry/person_merge.html")]
struct MergePage {
    shell: Shell,
    l: Loc,
    preview: registry::MergePreview,
    evidence: Vec<EvidenceLine>,
    compared: bool,
    places: PlaceNames,
    error: Option<String>,
}

async fn merge_page(
    state: &AppState,
    ctx: &Ctx,
    a: i64,
    b: i64,
    error: Option<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let preview = registry::merge_preview(&state.store, &caller(ctx)?, a, b).await?;
    let evidence = hamdeli_registry::search::merge_evidence(
        &state.store,
        &preview.a_records,
        &preview.b_records,
    )
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let error = error.or_else(|| preview.refusal.map(|r| l.t(r.code())));
    let response = html(MergePage {
        shell: Shell::new(ctx, l.name("ادغام دو فرد", "Merge two persons").to_owned()),
        l,
        compared: evidence.is_some(),
        evidence: evidence.map(|e| evidence_lines(l, &e)).unwrap_or_default(),
        preview,
        places: PlaceNames::load(state, l).await?,
        error: error.clone(),
    });
    if error.is_some() {
        crate::pages::account::bad(response)
    } else {
        response
    }
}

/// Handles the GET /registry/persons/{id}/merge?with=… route: the two persons side by side
/// with the linkage evidence, and the button that merges them.
pub async fn merge_confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<MergeWith>,
) -> Result<Response, AppError> {
    merge_page(&state, &ctx, id, q.with, None).await
}

/// Handles the POST /registry/persons/{id}/merge route (form field `with`).
pub async fn merge_persons(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<MergeWith>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    match registry::merge_persons(&state.store, &caller, id, form.with).await? {
        Ok(merge) => Ok(see_other(&format!(
            "/registry/persons/{}",
            merge.keep_person
        ))),
        Err(refusal) => {
            let l = Loc(ctx.locale);
            merge_page(&state, &ctx, id, form.with, Some(l.t(refusal.code()))).await
        }
    }
}

/// Handles the POST /registry/merges/{id}/undo route: the merge split back into the two
/// persons it was.
pub async fn undo_merge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let undone = registry::undo_merge(&state.store, &caller(&ctx)?, id).await?;
    Ok(see_other(&format!(
        "/registry/persons/{}",
        undone.gone_person
    )))
}
