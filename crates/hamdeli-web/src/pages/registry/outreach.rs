//! A county's outreach list: the female heads of household no organisation covers, a page at
//! a time or as a download (the use case is `hamdeli_app::registry::outreach`).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::registry;
use hamdeli_store::coverage::OutreachRow;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::export::{self, Field};
use crate::pages::html;
use crate::use_case::caller;
use crate::view::{Loc, Shell};

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
#[template(path = "registry/outreach.html")]
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
        // Row by row from the rows read, no copy of the table: the zone and the reason are a
        // handful of values, each translated once.
        let rtl = ctx.locale == hamdeli_locale::Locale::Fa;
        let mut out = export::TableWriter::new(format, &l.t("outreach-title"), &headers, rtl)?;
        let mut names: HashMap<(&str, &str), String> = HashMap::new();
        for r in &rows {
            names
                .entry(("zone", &r.zone))
                .or_insert_with(|| l.tv("zone", &r.zone));
            if let Some(x) = r.female_head_reason.as_deref() {
                names
                    .entry(("female-head-reason", x))
                    .or_insert_with(|| l.tv("female-head-reason", x));
            }
        }
        for r in &rows {
            let zone = &names[&("zone", r.zone.as_str())];
            let reason = match r.female_head_reason.as_deref() {
                Some(x) => names[&("female-head-reason", x)].as_str(),
                None => "",
            };
            out.row(&[
                Field::Int(r.person_id),
                text(&r.national_code),
                text(&r.first_name),
                text(&r.last_name),
                text(&r.phone),
                text(&r.address),
                Field::Text(zone),
                Field::Text(reason),
                Field::Int(r.dependants.unwrap_or(0)),
            ])
            .map_err(|e| AppError::Internal(e.to_string()))?;
        }
        return out.download(&format!("outreach-{county}"));
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

fn text(s: &Option<String>) -> Field<'_> {
    Field::Text(s.as_deref().unwrap_or_default())
}
