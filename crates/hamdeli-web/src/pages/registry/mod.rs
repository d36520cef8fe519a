//! Capability registry: search first, person pages with every source record and its
//! provenance, the linkage review queue (merge, separate, split), the coverage report and the
//! counties' outreach lists. The use cases are `hamdeli_app::registry`; every read of a person
//! and every decision is audited there.

use std::collections::HashMap;
use std::sync::Arc;

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

/// Every province's and county's names (Persian, English) by code, read once per process.
/// Only `Store::migrate` writes provinces and counties (`geo::load_reference_data`, which adds
/// the reference places and never changes them), and it runs before the server starts, so the
/// first read holds for the life of the process.
pub(crate) type PlaceNamesCache =
    Arc<tokio::sync::OnceCell<Arc<HashMap<String, (String, String)>>>>;

/// Province and county names in the page's language, for codes shown in tables.
pub(crate) struct PlaceNames {
    names: Arc<HashMap<String, (String, String)>>,
    l: Loc,
}

impl PlaceNames {
    /// The names from the application state's cache (read from the store on first use).
    pub(crate) async fn load(state: &AppState, l: Loc) -> Result<PlaceNames, AppError> {
        let names = state
            .place_names
            .get_or_try_init(|| async {
                let mut names = HashMap::new();
                for p in geo::all_provinces(&state.store).await? {
                    names.insert(p.code, (p.name_fa, p.name_en));
                }
                for c in geo::all_counties(&state.store).await? {
                    names.insert(c.code, (c.name_fa, c.name_en));
                }
                Ok::<_, AppError>(Arc::new(names))
            })
            .await?
            .clone();
        Ok(PlaceNames { names, l })
    }

    fn name(&self, code: &str) -> Option<String> {
        self.names
            .get(code)
            .map(|(fa, en)| self.l.name(fa, en).to_owned())
    }

    pub(crate) fn of(&self, code: &Option<String>) -> String {
        code.as_deref()
            .and_then(|c| self.name(c))
            .unwrap_or_else(|| "—".into())
    }

    pub(crate) fn of_str(&self, code: &str) -> String {
        self.name(code).unwrap_or_else(|| "—".into())
    }
}
