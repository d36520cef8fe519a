//! Registry search: the search box, its filters inside the scope, a page of hits and the pager.
//!
//! A national code or a mobile number never travels in a URL (browser history, proxies and
//! server logs keep URLs): the search form and its pager submit by POST, and a GET whose query
//! holds one is refused with 400 without searching or echoing it. A name-only GET still works.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
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

/// The search as the GET query string and the POST form carry it (the form's `_csrf` field is
/// checked by the context layer and ignored here).
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

/// Digits in a row that make a query a national code or a mobile number, not a name.
const CODE_DIGITS: usize = 8;

/// Whether a query holds a national code or a mobile number: a run of 8 or more digits in any
/// digit script (Persian, Arabic-Indic, ASCII), spaces and punctuation between digits joining
/// the run (`0912 345 6789`, `001-234567-9`) and only a letter breaking it.
pub(crate) fn holds_code_or_mobile(q: &str) -> bool {
    let mut run = 0;
    for c in hamdeli_text::fold_digits(q).chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= CODE_DIGITS {
                return true;
            }
        } else if c.is_alphabetic() {
            run = 0;
        }
    }
    false
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
    /// The fields of this search without its page, the pager's hidden fields (its buttons
    /// submit by POST, so the query never reaches a URL).
    paging: Vec<(&'static str, String)>,
    /// A GET whose query held a national code or mobile number was refused (400).
    refused_code: bool,
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

/// Handles the GET /registry route: the search box, its filters (each inside the scope) and,
/// for a name typed in the address (a bookmark), one page of hits. A query holding a national
/// code or a mobile number is refused (400) without searching or echoing it: those are
/// searched through the form, by POST.
pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(mut query): Query<SearchQuery>,
) -> Result<Response, AppError> {
    if holds_code_or_mobile(&query.q) {
        caller(&ctx)?.principal.authorize(Action::SearchRegistry)?;
        query.q.clear();
        query.page = None;
        let mut response = render(&state, &ctx, query, true).await?;
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return Ok(response);
    }
    render(&state, &ctx, query, false).await
}

/// Handles the POST /registry route: the search form and its pager submitted, answered with
/// the page of hits directly (no redirect, which would carry the query in its URL).
pub async fn search_post(
    State(state): State<AppState>,
    ctx: Ctx,
    Form(query): Form<SearchQuery>,
) -> Result<Response, AppError> {
    render(&state, &ctx, query, false).await
}

async fn render(
    state: &AppState,
    ctx: &Ctx,
    query: SearchQuery,
    refused_code: bool,
) -> Result<Response, AppError> {
    let caller = caller(ctx)?;
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
    let facts = registry::search_page_facts(&state.store, &caller).await?;
    let organisations = facts
        .organisations
        .into_iter()
        .map(|o| FilterOption {
            value: o.id.to_string(),
            label: l.name(&o.name_fa, &o.name_en).to_owned(),
        })
        .collect();
    let paging: Vec<(&'static str, String)> = [
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
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let (hits, page, has_more) = match results {
        Some(r) => (r.hits, r.page, r.has_more),
        None => (Vec::new(), 1, false),
    };
    html(SearchPage {
        shell: Shell::new(ctx, l.t("registry-title")),
        l,
        q: query.q,
        searched: parsed.is_some(),
        hits,
        page,
        has_more,
        paging,
        refused_code,
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
        places: PlaceNames::load(state, l).await?,
        counts: facts.counts,
        may_review: p.allows(&Action::ReviewLinks),
        may_coverage: p.allows(&Action::ViewCoverage),
    })
}

#[cfg(test)]
mod tests {
    use super::holds_code_or_mobile;

    #[test]
    fn a_run_of_eight_digits_in_any_script_is_a_code_or_mobile() {
        for q in [
            "0012345679",
            "۰۰۱۲۳۴۵۶۷۹",
            "٠٠١٢٣٤٥٦٧٩",
            "۰۰۱2345٦٧٩",
            "09123456789",
            "0912 345 6789",
            "001-234567-9",
            "+98 912 345 6789",
            "12345678",
            "زهرا ۰۰۱۲۳۴۵۶۷۹",
            "۰۰۱۲۳۴۵۶۷۹ رحیمی",
        ] {
            assert!(holds_code_or_mobile(q), "{q}");
        }
        for q in [
            "",
            "زهرا",
            "زهرا رحیمی",
            "1234567",
            "۱۲۳۴۵۶۷",
            "1234 abc 5678",
            "زهرا ۱۲۳۴ رحیمی ۵۶۷۸",
        ] {
            assert!(!holds_code_or_mobile(q), "{q}");
        }
    }
}
