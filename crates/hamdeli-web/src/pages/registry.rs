//! The registry: search first, person pages with every source record and its provenance, the
//! linkage review queue (merge, separate, split) and the coverage report. Every read of a
//! person and every decision is audited.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_domain::{Action, Principal};
use hamdeli_store::coverage::{self, CoverageRow, GroupBy, OutreachRow};
use hamdeli_store::persons::{
    self, Household, Member, Person, PersonHit, Review, SourceRecordView,
};
use hamdeli_store::{audit, geo};

use hamdeli_app::registry;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::export::{self, Cell};
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

pub(crate) async fn audit_event(
    state: &AppState,
    ctx: &Ctx,
    action: &'static str,
    target_kind: &'static str,
    target_id: String,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    audit::record_read(
        &state.store,
        &ctx.audit_actor(),
        audit::Event {
            action,
            target_kind,
            target_id,
            detail,
        },
    )
    .await?;
    Ok(())
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

// ---------------------------------------------------------------------------------------------
// Search

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
#[template(path = "registry_search.html")]
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

// ---------------------------------------------------------------------------------------------
// Person page

#[derive(Template)]
#[template(path = "person.html")]
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
    let view = match registry::read_person(&state.store, &caller, id).await? {
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
    // The score reads the household: offices only (a partner does not see the household).
    let (score_total, score) = if view.partial || p.scope.organisation().is_some() {
        (0, Vec::new())
    } else {
        let facts = hamdeli_store::needs::facts_of_person(&state.store, id).await?;
        let weights = hamdeli_store::needs::weights(&state.store).await?;
        let score = hamdeli_domain::needs::score(&facts, &weights);
        (score.total, crate::pages::needs::score_rows(l, &score))
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

// ---------------------------------------------------------------------------------------------
// Review queue

/// One line of evidence in words.
pub struct EvidenceLine {
    pub field: String,
    pub level: String,
    pub strength: String,
    pub strength_code: String,
    pub bits: String,
}

fn evidence_lines(l: Loc, json: &str) -> Vec<EvidenceLine> {
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
#[template(path = "reviews.html")]
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
#[template(path = "review.html")]
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

// ---------------------------------------------------------------------------------------------
// Merging two persons the user picked

#[derive(Deserialize)]
pub struct MergeWith {
    with: i64,
}

#[derive(Template)]
#[template(path = "person_merge.html")]
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

// ---------------------------------------------------------------------------------------------
// Coverage

#[derive(Deserialize, Default)]
pub struct CoverageQuery {
    #[serde(default)]
    by: Option<String>,
    #[serde(default)]
    province: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

pub struct CoverageLine {
    pub key: String,
    pub name: String,
    pub link: Option<String>,
    pub row: CoverageRow,
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    shell: Shell,
    l: Loc,
    by: &'static str,
    province: Option<String>,
    province_name: Option<String>,
    lines: Vec<CoverageLine>,
    total: CoverageRow,
    query: String,
}

fn coverage_group(p: &Principal, query: &CoverageQuery) -> GroupBy {
    let asked = query.by.as_deref().and_then(GroupBy::parse);
    match (asked, p.place_filter()) {
        (Some(g), _) => g,
        (None, hamdeli_domain::PlaceFilter::All) if query.province.is_none() => GroupBy::Province,
        _ => GroupBy::County,
    }
}

fn coverage_headers(l: Loc, by: GroupBy) -> Vec<String> {
    vec![
        l.t(&format!("coverage-by-{}", by.as_str())),
        l.t("coverage-code"),
        l.t("coverage-persons"),
        l.t("coverage-none"),
        l.t("coverage-one"),
        l.t("coverage-two"),
        l.t("coverage-three-plus"),
        l.t("coverage-same-kind"),
        l.t("coverage-female-heads"),
        l.t("coverage-female-heads-uncovered"),
    ]
}

fn coverage_cells(line: &CoverageLine) -> Vec<Cell> {
    let r = &line.row;
    vec![
        line.name.clone().into(),
        line.key.clone().into(),
        r.persons.into(),
        r.covered_by_none.into(),
        r.covered_by_one.into(),
        r.covered_by_two.into(),
        r.covered_by_three_or_more.into(),
        r.same_kind_twice.into(),
        r.female_heads.into(),
        r.female_heads_uncovered.into(),
    ]
}

pub async fn coverage_lines(
    state: &AppState,
    p: &Principal,
    l: Loc,
    by: GroupBy,
    province: Option<&str>,
) -> Result<Vec<CoverageLine>, AppError> {
    let places = PlaceNames::load(state, l).await?;
    let rows = coverage::report(&state.store, &p.place_filter(), by, province).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (name, link) = match by {
                GroupBy::Province if !row.key.is_empty() => (
                    places.of_str(&row.key),
                    Some(format!("/registry/coverage?by=county&province={}", row.key)),
                ),
                GroupBy::County if !row.key.is_empty() => (
                    places.of_str(&row.key),
                    Some(format!("/registry/coverage/{}", row.key)),
                ),
                GroupBy::Zone => (l.tv("zone", &row.key), None),
                _ => (l.t("place-unknown"), None),
            };
            CoverageLine {
                key: row.key.clone(),
                name,
                link,
                row,
            }
        })
        .collect())
}

pub async fn coverage_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<CoverageQuery>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::ViewCoverage)?;
    let l = Loc(ctx.locale);
    let by = coverage_group(p, &query);
    let province = query
        .province
        .clone()
        .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_digit()));
    let lines = coverage_lines(&state, p, l, by, province.as_deref()).await?;
    let mut total = CoverageRow::default();
    for line in &lines {
        total.add(&line.row);
    }
    let mut q = format!("by={}", by.as_str());
    if let Some(pr) = &province {
        q.push_str(&format!("&province={pr}"));
    }
    match query.format.as_deref() {
        Some("csv") | Some("xlsx") => {
            let headers = coverage_headers(l, by);
            let rows: Vec<Vec<Cell>> = lines.iter().map(coverage_cells).collect();
            audit_event(
                &state,
                &ctx,
                "coverage.export",
                "coverage",
                by.as_str().to_owned(),
                serde_json::json!({ "format": query.format, "province": province }),
            )
            .await?;
            return export::table(
                query.format.as_deref().unwrap_or("xlsx"),
                &format!("coverage-{}", by.as_str()),
                &l.t("coverage-title"),
                &headers,
                &rows,
                ctx.locale == hamdeli_locale::Locale::Fa,
            );
        }
        _ => {}
    }
    let province_name = match &province {
        Some(code) => geo::province(&state.store, code)
            .await?
            .map(|pr| l.name(&pr.name_fa, &pr.name_en).to_owned()),
        None => None,
    };
    html(CoveragePage {
        shell: Shell::new(&ctx, l.t("coverage-title")),
        l,
        by: by.as_str(),
        province,
        province_name,
        lines,
        total,
        query: q,
    })
}

#[derive(Deserialize, Default)]
pub struct OutreachQuery {
    #[serde(default)]
    format: Option<String>,
    /// Keyset paging: the page starts after this person (in name order).
    #[serde(default)]
    after: Option<i64>,
}

/// Rows of the outreach page (the downloads hold the whole list, up to
/// [`registry::OUTREACH_MAX_ROWS`]).
const OUTREACH_PAGE_ROWS: i64 = 100;

#[derive(Template)]
#[template(path = "outreach.html")]
struct OutreachPage {
    shell: Shell,
    l: Loc,
    county: String,
    county_name: String,
    province: String,
    rows: Vec<OutreachRow>,
    /// The next page's `after`, when there is one.
    next: Option<i64>,
}

/// Handles the GET /registry/coverage/{county} route: a county's female heads of household
/// that no organisation covers, a page at a time, or the whole list as CSV or XLSX.
pub async fn outreach(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(county): Path<String>,
    Query(query): Query<OutreachQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let download = query
        .format
        .as_deref()
        .filter(|f| *f == "csv" || *f == "xlsx");
    let (via, after, limit) = match download {
        Some(format) => (
            registry::OutreachVia::Download(format),
            None,
            registry::OUTREACH_MAX_ROWS,
        ),
        None => (registry::OutreachVia::Page, query.after, OUTREACH_PAGE_ROWS),
    };
    let page = registry::outreach(&state.store, &caller, &county, after, limit, via).await?;
    let (c, rows) = (page.county, page.rows);
    if let Some(format) = download {
        let headers: Vec<String> = [
            "field-person",
            "field-national-code",
            "field-first-name",
            "field-last-name",
            "field-phone",
            "field-address",
            "field-zone",
            "field-female-head-reason",
            "field-dependants",
        ]
        .iter()
        .map(|id| l.t(id))
        .collect();
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.person_id.into(),
                    r.national_code.clone().into(),
                    r.first_name.clone().into(),
                    r.last_name.clone().into(),
                    r.phone.clone().into(),
                    r.address.clone().into(),
                    l.tv("zone", &r.zone).into(),
                    r.female_head_reason
                        .as_deref()
                        .map(|x| l.tv("female-head-reason", x))
                        .unwrap_or_default()
                        .into(),
                    r.dependants.unwrap_or(0).into(),
                ]
            })
            .collect();
        return export::table(
            format,
            &format!("outreach-{county}"),
            &l.t("outreach-title"),
            &headers,
            &cells,
            ctx.locale == hamdeli_locale::Locale::Fa,
        );
    }
    html(OutreachPage {
        shell: Shell::new(&ctx, l.t("outreach-title")),
        l,
        county_name: l.name(&c.name_fa, &c.name_en).to_owned(),
        province: c.province_code.clone(),
        county: c.code,
        rows,
        next: page.next,
    })
}
