//! Capability registry: search first, person pages with every source record and its
//! provenance, the linkage review queue (merge, separate, split), the coverage report and the
//! counties' outreach lists. The use cases are `hamdeli_app::registry`; every read of a person
//! and every decision is audited there.

use axum::Router;
use axum::routing::{get, post};

use hamdeli_store::geo;

use crate::AppState;
use crate::error::AppError;
use crate::view::Loc;

mod coverage;
mod merge;
mod outreach;
mod person;
mod reviews;
mod search;

pub(crate) use search::{holds_code_or_mobile, search_filters};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/registry", get(search::search).post(search::search_post))
        .route("/registry/persons/{id}", get(person::person))
        .route("/registry/persons/{id}/split", post(person::split))
        .route(
            "/registry/persons/{id}/merge",
            get(merge::merge_confirm).post(merge::merge_persons),
        )
        .route("/registry/merges/{id}/undo", post(merge::undo_merge))
        .route("/registry/reviews", get(reviews::reviews))
        .route("/registry/reviews/{id}", get(reviews::review))
        .route("/registry/reviews/{id}/merge", post(reviews::merge))
        .route("/registry/reviews/{id}/separate", post(reviews::separate))
        .route("/registry/coverage", get(coverage::coverage_page))
        .route("/registry/coverage/{county}", get(outreach::outreach))
}

/// Province and county names in the page's language, for codes shown in tables.
pub(crate) struct PlaceNames(std::collections::HashMap<String, String>);

impl PlaceNames {
    pub(crate) async fn load(state: &AppState, l: Loc) -> Result<PlaceNames, AppError> {
        let mut names = std::collections::HashMap::new();
        for p in geo::all_provinces(&state.store).await? {
            names.insert(p.code.clone(), l.name(&p.name_fa, &p.name_en).to_owned());
        }
        for c in geo::all_counties(&state.store).await? {
            names.insert(c.code.clone(), l.name(&c.name_fa, &c.name_en).to_owned());
        }
        Ok(PlaceNames(names))
    }

    pub(crate) fn of(&self, code: &Option<String>) -> String {
        code.as_ref()
            .and_then(|c| self.0.get(c).cloned())
            .unwrap_or_else(|| "—".into())
    }

    pub(crate) fn of_str(&self, code: &str) -> String {
        self.0.get(code).cloned().unwrap_or_else(|| "—".into())
    }
}
