//! A person's page (every source record and its provenance) and splitting a record out of it.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::registry;
use hamdeli_domain::Action;
use hamdeli_store::persons::{self, Household, Member, Person, SourceRecordView};

use super::PlaceNames;
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Template)]
#[template(path = "registry/person.html")]
struct PersonPage {
    shell: Shell,
    l: Loc,
    person: Person,
    records: Vec<SourceRecordView>,
    household: Option<(Household, Vec<Member>)>,
    coverage: Vec<SourceRecordView>,
    merges: Vec<persons::PersonMerge>,
    places: PlaceNames,
    may_review: bool,
    may_needs: bool,
    score: Vec<crate::pages::needs::ScoreRow>,
    score_total: i64,
}

/// Handles the GET /registry/persons/{id} route.
pub async fn person(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let p = caller.principal;
    let view = match registry::person_card(&state.store, &caller, id).await? {
        registry::PersonRead::MergedInto(to) => {
            return Ok(see_other(&format!("/registry/persons/{to}")));
        }
        registry::PersonRead::Person(view) => *view,
    };
    let l = Loc(ctx.locale);
    let coverage = view
        .records
        .iter()
        .filter(|r| r.list_kind == "support")
        .cloned()
        .collect();
    let (score_total, score) = match &view.score {
        Some(score) => (score.total, crate::pages::needs::score_rows(l, score)),
        None => (0, Vec::new()),
    };
    let person = view.person;
    let title = format!(
        "{} {}",
        person.first_name.as_deref().unwrap_or(""),
        person.last_name.as_deref().unwrap_or("")
    );
    html(PersonPage {
        shell: Shell::new(&ctx, title),
        l,
        person,
        records: view.records,
        household: view.household,
        coverage,
        merges: view.merges,
        places: PlaceNames::load(&state, l).await?,
        may_review: p.allows(&Action::ReviewLinks),
        may_needs: p.allows(&Action::ManageNeeds),
        score_total,
        score,
    })
}

#[derive(Deserialize)]
pub struct SplitForm {
    record: i64,
}

/// Handles the POST /registry/persons/{id}/split route: takes one record out of the person
/// into a person of its own.
pub async fn split(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<SplitForm>,
) -> Result<Response, AppError> {
    let new_person = registry::split(&state.store, &caller(&ctx)?, id, form.record).await?;
    Ok(see_other(&format!("/registry/persons/{new_person}")))
}
