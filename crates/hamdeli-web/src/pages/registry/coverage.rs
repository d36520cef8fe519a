//! The coverage report: persons by number of covering organisations, by province, county or
//! zone, and its downloads.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_domain::{Action, Principal};
use hamdeli_store::coverage::{self, CoverageRow, GroupBy};
use hamdeli_store::geo;

use super::{PlaceNames, audit_event};
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::export::{self, Cell};
use crate::pages::html;
use crate::view::{Loc, Shell};

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
#[template(path = "registry/coverage.html")]
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

/// The report's rows inside the principal's scope, each named and linked to the next level.
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

/// Handles the GET /registry/coverage route: the report by province, county or zone (`by`,
/// `province`), or its CSV/XLSX download (`format`).
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
