//! Registry search: the search box, its filters inside the scope, a page of hits and the pager.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::registry;
use hamdeli_domain::Action;
use hamdeli_store::geo;
use hamdeli_store::persons::{self, PersonHit};

use super::PlaceNames;
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::html;
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    county: Option<String>,
    #[serde(default)]
    zone: Option<String>,
    #[serde(default)]
    female_head: Option<String>,
    #[serde(default)]
    organisation: Option<String>,
    /// Picking the person to merge with this one.
    #[serde(default)]
    merge_with: Option<i64>,
}

fn some_text(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The filters and page of a search as the page and the API take them (empty values are no
/// filter; a page that is no number is the first).
pub(crate) fn search_filters(
    page: &Option<String>,
    county: &Option<String>,
    zone: &Option<String>,
    female_head: &Option<String>,
    organisation: &Option<String>,
) -> Result<(u32, persons::SearchFilters), AppError> {
    let page = some_text(page)
        .map(|p| hamdeli_text::fold_digits(&p).parse::<u32>())
        .transpose()
        .map_err(|_| AppError::BadRequest("search-page-invalid"))?
        .unwrap_or(1)
        .max(1);
    let organisation = some_text(organisation)
        .map(|o| o.parse::<i64>())
        .transpose()
        .map_err(|_| AppError::BadRequest("search-organisation-invalid"))?;
    let female_head = matches!(
        some_text(female_head).as_deref(),
        Some("1" | "on" | "true" | "yes")
    );
    Ok((
        page,
        persons::SearchFilters {
            county: some_text(county),
            zone: some_text(zone),
            female_head,
            organisation,
        },
    ))
}

/// A choice of a filter's select.
pub struct FilterOption {
    pub value: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "registry/search.html")]
struct SearchPage {
    shell: Shell,
    l: Loc,
    q: String,
    searched: bool,
    hits: Vec<PersonHit>,
    page: u32,
    has_more: bool,
    /// The query string of this search without its page, for the pager links.
    paging: String,
    filters: persons::SearchFilters,
    filtered: bool,
    counties: Vec<FilterOption>,
    organisations: Vec<FilterOption>,
    selected_organisation: String,
    may_household_filters: bool,
    merge_with: Option<i64>,
    places: PlaceNames,
    counts: persons::RegistryCounts,
    may_review: bool,
    may_coverage: bool,
}

fn query_string(pairs: &[(&str, String)]) -> String {
    let kept: Vec<&(&str, String)> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// Handles the GET /registry route: the search box, its filters (each inside the scope), one
/// page of hits best first, and the pager.
pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let p = caller.principal;
    p.authorize(Action::SearchRegistry)?;
    let l = Loc(ctx.locale);
    let filter = p.place_filter();
    let (page, filters) = search_filters(
        &query.page,
        &query.county,
        &query.zone,
        &query.female_head,
        &query.organisation,
    )?;
    let parsed = hamdeli_registry::search::parse_query(&query.q).map(|mut q| {
        q.page = page;
        q.filters = filters.clone();
        q
    });
    let results = match &parsed {
        Some(q) => Some(registry::search(&state.store, &caller, q).await?),
        None => None,
    };
    // Filter choices inside the scope: the counties of the scope, the organisations it sees.
    let counties = geo::all_counties(&state.store)
        .await?
        .into_iter()
        .filter(|c| match &filter {
            hamdeli_domain::PlaceFilter::All => true,
            hamdeli_domain::PlaceFilter::Province(pr) => &c.province_code == pr,
            hamdeli_domain::PlaceFilter::County(co) => &c.code == co,
            _ => false,
        })
        .map(|c| FilterOption {
            value: c.code.clone(),
            label: l.name(&c.name_fa, &c.name_en).to_owned(),
        })
        .collect();
    let organisations =
        hamdeli_store::organisations::list(&state.store, &hamdeli_domain::PlaceFilter::All)
            .await?
            .into_iter()
            .map(|o| FilterOption {
                value: o.id.to_string(),
                label: l.name(&o.name_fa, &o.name_en).to_owned(),
            })
            .collect();
    let paging = query_string(&[
        ("q", query.q.clone()),
        ("county", filters.county.clone().unwrap_or_default()),
        ("zone", filters.zone.clone().unwrap_or_default()),
        (
            "female_head",
            if filters.female_head {
                "1".into()
            } else {
                String::new()
            },
        ),
        (
            "organisation",
            filters
                .organisation
                .map(|o| o.to_string())
                .unwrap_or_default(),
        ),
        (
            "merge_with",
            query.merge_with.map(|o| o.to_string()).unwrap_or_default(),
        ),
    ]);
    let (hits, page, has_more) = match results {
        Some(r) => (r.hits, r.page, r.has_more),
        None => (Vec::new(), 1, false),
    };
    html(SearchPage {
        shell: Shell::new(&ctx, l.t("registry-title")),
        l,
        q: query.q,
        searched: parsed.is_some(),
        hits,
        page,
        has_more,
        paging,
        filtered: !filters.is_empty(),
        selected_organisation: filters
            .organisation
            .map(|o| o.to_string())
            .unwrap_or_default(),
        filters,
        counties,
        organisations,
        may_household_filters: p.scope.organisation().is_none(),
        merge_with: query.merge_with.filter(|_| p.allows(&Action::ReviewLinks)),
        places: PlaceNames::load(&state, l).await?,
        counts: persons::counts(&state.store, &filter).await?,
        may_review: p.allows(&Action::ReviewLinks),
        may_coverage: p.allows(&Action::ViewCoverage),
    })
}
