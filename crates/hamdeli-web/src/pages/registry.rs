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

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::export::{self, Cell};
use crate::pages::{FormData, html, see_other};
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
}

#[derive(Template)]
#[template(path = "registry_search.html")]
struct SearchPage {
    shell: Shell,
    l: Loc,
    q: String,
    searched: bool,
    hits: Vec<PersonHit>,
    places: PlaceNames,
    counts: persons::RegistryCounts,
    may_review: bool,
    may_coverage: bool,
}

pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::SearchRegistry)?;
    let l = Loc(ctx.locale);
    let filter = p.place_filter();
    let key = hamdeli_registry::search::parse_query(&query.q);
    let hits = match &key {
        Some(key) => persons::search(&state.store, &filter, key, 50).await?,
        None => Vec::new(),
    };
    if let Some(key) = &key {
        audit_event(
            &state,
            &ctx,
            "registry.search",
            "search",
            String::new(),
            serde_json::json!({ "kind": search_kind(key), "results": hits.len() }),
        )
        .await?;
    }
    html(SearchPage {
        shell: Shell::new(&ctx, l.t("registry-title")),
        l,
        q: query.q,
        searched: key.is_some(),
        hits,
        places: PlaceNames::load(&state, l).await?,
        counts: persons::counts(&state.store, &filter).await?,
        may_review: p.allows(&Action::ReviewLinks),
        may_coverage: p.allows(&Action::ViewCoverage),
    })
}

pub(crate) fn search_kind(key: &persons::SearchKey) -> &'static str {
    match key {
        persons::SearchKey::NationalCode(_) => "national_code",
        persons::SearchKey::Phone(_) => "phone",
        persons::SearchKey::Name { .. } => "name",
    }
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
    places: PlaceNames,
    may_review: bool,
    may_needs: bool,
    score: Vec<crate::pages::needs::ScoreRow>,
    score_total: i64,
}

/// The person if the principal may read it; a person merged away leads to the survivor.
async fn readable_person(state: &AppState, p: &Principal, id: i64) -> Result<Person, AppError> {
    p.authorize(Action::SearchRegistry)?;
    let person = persons::person(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !persons::in_scope(&state.store, &p.place_filter(), person.id).await? {
        // Outside the scope looks the same as absent.
        return Err(AppError::NotFound);
    }
    Ok(person)
}

pub async fn person(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    let person = readable_person(&state, p, id).await?;
    if let Some(to) = person.merged_into {
        return Ok(see_other(&format!("/registry/persons/{to}")));
    }
    let l = Loc(ctx.locale);
    let records = persons::records_of(&state.store, id).await?;
    let coverage = records
        .iter()
        .filter(|r| r.list_kind == "support")
        .cloned()
        .collect();
    let household = persons::household_of(&state.store, id).await?;
    let facts = hamdeli_store::needs::facts_of_person(&state.store, id).await?;
    let weights = hamdeli_store::needs::weights(&state.store).await?;
    let score = hamdeli_domain::needs::score(&facts, &weights);
    audit_event(
        &state,
        &ctx,
        "person.read",
        "person",
        id.to_string(),
        serde_json::json!({ "records": records.len() }),
    )
    .await?;
    let title = format!(
        "{} {}",
        person.first_name.as_deref().unwrap_or(""),
        person.last_name.as_deref().unwrap_or("")
    );
    html(PersonPage {
        shell: Shell::new(&ctx, title),
        l,
        person,
        records,
        household,
        coverage,
        places: PlaceNames::load(&state, l).await?,
        may_review: p.allows(&Action::ReviewLinks),
        may_needs: p.allows(&Action::ManageNeeds),
        score_total: score.total,
        score: crate::pages::needs::score_rows(l, &score),
    })
}

#[derive(Deserialize)]
pub struct SplitForm {
    record: i64,
}

/// Takes one record out of the person into a person of its own.
pub async fn split(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<SplitForm>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::ReviewLinks)?;
    readable_person(&state, p, id).await?;
    let record = persons::record(&state.store, form.record)
        .await?
        .ok_or(AppError::NotFound)?;
    if record.person_id != Some(id) {
        return Err(AppError::BadRequest("split-record-not-of-person"));
    }
    let mut tx = state.store.begin().await?;
    let new_person = persons::split_record(&mut tx, form.record, p.user_id).await?;
    let Some(new_person) = new_person else {
        return Err(AppError::BadRequest("split-only-record"));
    };
    audit::record(
        &mut tx,
        &ctx.audit_actor(),
        audit::Event {
            action: "person.split",
            target_kind: "person",
            target_id: id.to_string(),
            detail: serde_json::json!({ "record": form.record, "new_person": new_person }),
        },
    )
    .await?;
    tx.commit().await?;
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

async fn review_row(state: &AppState, l: Loc, review: Review) -> Result<ReviewRow, AppError> {
    let a = persons::record(&state.store, review.record_a).await?;
    let b = persons::record(&state.store, review.record_b).await?;
    let percent = l.digits(&format!("{:.0}", review.probability_bp as f64 / 100.0));
    Ok(ReviewRow {
        review,
        a,
        b,
        percent,
    })
}

#[derive(Deserialize, Default)]
pub struct ReviewsQuery {
    #[serde(default)]
    status: Option<String>,
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    shell: Shell,
    l: Loc,
    status: String,
    rows: Vec<ReviewRow>,
    open: i64,
}

pub async fn reviews(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<ReviewsQuery>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::ReviewLinks)?;
    let l = Loc(ctx.locale);
    let status = match query.status.as_deref() {
        Some("merged") => "merged",
        Some("separated") => "separated",
        _ => "open",
    };
    let filter = p.place_filter();
    let mut rows = Vec::new();
    for r in persons::reviews(&state.store, &filter, status, 100).await? {
        rows.push(review_row(&state, l, r).await?);
    }
    html(ReviewsPage {
        shell: Shell::new(&ctx, l.t("reviews-title")),
        l,
        status: status.to_owned(),
        rows,
        open: persons::review_count(&state.store, &filter, "open").await?,
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

async fn readable_review(state: &AppState, p: &Principal, id: i64) -> Result<Review, AppError> {
    p.authorize(Action::ReviewLinks)?;
    let review = persons::review_by_id(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let a = persons::record(&state.store, review.record_a)
        .await?
        .ok_or(AppError::NotFound)?;
    let in_scope = match a.person_id {
        Some(person) => persons::in_scope(&state.store, &p.place_filter(), person).await?,
        None => false,
    };
    if !in_scope {
        return Err(AppError::NotFound);
    }
    Ok(review)
}

async fn review_page(
    state: &AppState,
    ctx: &Ctx,
    review: Review,
    error: Option<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let evidence = evidence_lines(l, &review.evidence);
    let row = review_row(state, l, review).await?;
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

pub async fn review(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    let review = readable_review(&state, p, id).await?;
    audit_event(
        &state,
        &ctx,
        "review.read",
        "link_review",
        id.to_string(),
        serde_json::json!({ "records": [review.record_a, review.record_b] }),
    )
    .await?;
    review_page(&state, &ctx, review, None).await
}

pub async fn merge(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    let review = readable_review(&state, p, id).await?;
    let l = Loc(ctx.locale);
    let mut tx = state.store.begin().await?;
    match persons::merge_review(&mut tx, &review, p.user_id).await? {
        Ok(person) => {
            audit::record(
                &mut tx,
                &ctx.audit_actor(),
                audit::Event {
                    action: "review.merge",
                    target_kind: "link_review",
                    target_id: id.to_string(),
                    detail: serde_json::json!({
                        "records": [review.record_a, review.record_b], "person": person
                    }),
                },
            )
            .await?;
            tx.commit().await?;
            Ok(see_other(&format!("/registry/persons/{person}")))
        }
        Err(refusal) => {
            drop(tx);
            let review = persons::review_by_id(&state.store, id)
                .await?
                .ok_or(AppError::NotFound)?;
            review_page(&state, &ctx, review, Some(l.t(refusal.code()))).await
        }
    }
}

pub async fn separate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    let review = readable_review(&state, p, id).await?;
    let l = Loc(ctx.locale);
    let mut tx = state.store.begin().await?;
    if !persons::separate_review(&mut tx, &review, p.user_id).await? {
        drop(tx);
        return review_page(
            &state,
            &ctx,
            review,
            Some(l.t(persons::MergeRefusal::Decided.code())),
        )
        .await;
    }
    audit::record(
        &mut tx,
        &ctx.audit_actor(),
        audit::Event {
            action: "review.separate",
            target_kind: "link_review",
            target_id: id.to_string(),
            detail: serde_json::json!({ "records": [review.record_a, review.record_b] }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(see_other("/registry/reviews"))
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
}

#[derive(Template)]
#[template(path = "outreach.html")]
struct OutreachPage {
    shell: Shell,
    l: Loc,
    county: String,
    county_name: String,
    province: String,
    rows: Vec<OutreachRow>,
}

/// A county's female heads of household that no organisation covers.
pub async fn outreach(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(county): Path<String>,
    Query(query): Query<OutreachQuery>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::ViewCoverage)?;
    let l = Loc(ctx.locale);
    let c = geo::county(&state.store, &county)
        .await?
        .ok_or(AppError::NotFound)?;
    p.authorize(Action::ViewPlace(&hamdeli_domain::Place::county(
        &c.province_code,
        &c.code,
    )))?;
    let rows = coverage::outreach(&state.store, &p.place_filter(), &county, 5000).await?;
    audit_event(
        &state,
        &ctx,
        "coverage.outreach",
        "county",
        county.clone(),
        serde_json::json!({ "persons": rows.len(), "format": query.format }),
    )
    .await?;
    if let Some(format) = query
        .format
        .as_deref()
        .filter(|f| *f == "csv" || *f == "xlsx")
    {
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
        county,
        rows,
    })
}
