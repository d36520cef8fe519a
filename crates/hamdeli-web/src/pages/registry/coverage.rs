//! The coverage report: persons by number of covering organisations, by province, county or
//! zone, and its downloads (the use case is `hamdeli_app::registry::coverage`).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::registry::{self, CoverageVia};
use hamdeli_store::coverage::{CoverageRow, GroupBy};
use hamdeli_store::geo;

use super::PlaceNames;
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::export::{self, Cell};
use crate::pages::html;
use crate::use_case::caller;
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

/// The grouping asked for; a province asked for (even one the page ignores as malformed) means
/// counties; otherwise the use case picks the level of the principal's scope.
fn coverage_group(query: &CoverageQuery) -> Option<GroupBy> {
    query
        .by
        .as_deref()
        .and_then(GroupBy::parse)
        .or(query.province.is_some().then_some(GroupBy::County))
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

/// The report's rows, each named and linked to the next level.
fn coverage_lines(
    places: &PlaceNames,
    l: Loc,
    by: GroupBy,
    rows: Vec<CoverageRow>,
) -> Vec<CoverageLine> {
    rows.into_iter()
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
        .collect()
}

/// Handles the GET /registry/coverage route: the report by province, county or zone (`by`,
/// `province`), or its CSV/XLSX download (`format`).
pub async fn coverage_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<CoverageQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let province = query
        .province
        .clone()
        .filter(|c| c.len() == 2 && c.chars().all(|ch| ch.is_ascii_digit()));
    let download = query
        .format
        .as_deref()
        .filter(|f| *f == "csv" || *f == "xlsx");
    let via = match download {
        Some(format) => CoverageVia::Download(format),
        None => CoverageVia::Page,
    };
    let report = registry::coverage(
        &state.store,
        &caller,
        coverage_group(&query).map(GroupBy::as_str),
        province.as_deref(),
        via,
    )
    .await?;
    let by = report.by;
    let places = PlaceNames::load(&state, l).await?;
    let lines = coverage_lines(&places, l, by, report.rows);
    let mut total = CoverageRow::default();
    for line in &lines {
        total.add(&line.row);
    }
    let mut q = format!("by={}", by.as_str());
    if let Some(pr) = &province {
        q.push_str(&format!("&province={pr}"));
    }
    if let Some(format) = download {
        let headers = coverage_headers(l, by);
        let rows: Vec<Vec<Cell>> = lines.iter().map(coverage_cells).collect();
        return export::table(
            format,
            &format!("coverage-{}", by.as_str()),
            &l.t("coverage-title"),
            &headers,
            &rows,
            ctx.locale == hamdeli_locale::Locale::Fa,
        );
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
