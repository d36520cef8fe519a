//! The capability's home for an office (counts and notices) and its reports: volunteers by
//! specialty and province, hours given, cases by outcome, capable women by field and province,
//! NGOs' training — charts drawn on the server as SVG, each table as XLSX.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::network::reports::{self as app, NetworkReport};
use hamdeli_domain::Role;
use hamdeli_store::network::reports::Cell as ReportCell;
use hamdeli_store::network::volunteers::Notice;

use super::Places;
use crate::AppState;
use crate::charts::{self, Bar};
use crate::context::Ctx;
use crate::error::AppError;
use crate::export::{self, Cell};
use crate::pages::{html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Template)]
#[template(path = "network/home.html")]
struct HomePage {
    shell: Shell,
    l: Loc,
    counts: [i64; 5],
    notices: Vec<Notice>,
}

/// Handles the GET /network route: an office's counts and notices (a volunteer goes to her
/// home).
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    if c.principal.role == Role::Volunteer {
        return Ok(see_other("/network/volunteer"));
    }
    let l = Loc(ctx.locale);
    let counts = app::home_counts(&state.store, &c).await?;
    let notices = hamdeli_app::network::volunteers::notices(&state.store, &c).await?;
    html(HomePage {
        shell: Shell::new(&ctx, l.t("network-home-title")),
        l,
        counts,
        notices,
    })
}

/// Handles the POST /network/notices/{id}/read route: the office marks a notice read.
pub async fn notice_read(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    hamdeli_app::network::volunteers::mark_notice_read(&state.store, &c, id).await?;
    Ok(see_other("/network"))
}

/// A report table: its rows as (first key, second key, figure) in words, and a chart of the
/// totals by the second key (SVG and its figures as a table, HTML).
pub struct Table {
    pub id: &'static str,
    pub title: String,
    pub a: String,
    pub b: String,
    pub n: String,
    pub rows: Vec<(String, String, i64)>,
    pub chart: String,
}

fn table(
    id: &'static str,
    l: Loc,
    places: &Places,
    cells: &[ReportCell],
    b_prefix: &str,
    headers: [&str; 4],
    divide: i64,
) -> Table {
    let rows: Vec<(String, String, i64)> = cells
        .iter()
        .map(|c| (places.province(l, &c.a), l.tv(b_prefix, &c.b), c.n / divide))
        .collect();
    let mut totals: Vec<(String, i64)> = Vec::new();
    for (_, b, n) in &rows {
        match totals.iter_mut().find(|(k, _)| k == b) {
            Some((_, t)) => *t = t.saturating_add(*n),
            None => totals.push((b.clone(), *n)),
        }
    }
    totals.sort_by_key(|t| std::cmp::Reverse(t.1));
    let title = l.t(headers[0]);
    let bars: Vec<Bar> = totals
        .into_iter()
        .map(|(b, n)| Bar::new(b, n, l.num(&n)))
        .collect();
    let b = l.t(headers[2]);
    let n = l.t(headers[3]);
    Table {
        id,
        chart: charts::bars_with_table(
            &title,
            &bars,
            l.dir() == "rtl",
            &l.t("chart-table"),
            [&b, &n],
        ),
        title,
        a: l.t(headers[1]),
        b,
        n,
        rows,
    }
}

fn tables(l: Loc, places: &Places, r: &NetworkReport) -> Vec<Table> {
    let ngo_cells: Vec<ReportCell> = r
        .ngos
        .iter()
        .map(|n| ReportCell {
            a: n.licence
                .as_ref()
                .and_then(|x| x.province_code.clone())
                .or(n.organisation_province.clone())
                .unwrap_or_default(),
            b: n.licence
                .as_ref()
                .map(|x| x.state.clone())
                .unwrap_or_else(|| "none".into()),
            n: n.training_hours,
        })
        .collect();
    vec![
        table(
            "volunteers",
            l,
            places,
            &r.volunteers,
            "network-specialty",
            [
                "network-report-volunteers",
                "field-province",
                "network-specialty",
                "network-count",
            ],
            1,
        ),
        table(
            "hours",
            l,
            places,
            &r.minutes,
            "network-specialty",
            [
                "network-report-hours",
                "field-province",
                "network-specialty",
                "network-hours",
            ],
            60,
        ),
        table(
            "cases",
            l,
            places,
            &r.cases,
            "network-outcome",
            [
                "network-report-cases",
                "field-province",
                "network-outcome",
                "network-count",
            ],
            1,
        ),
        table(
            "women",
            l,
            places,
            &r.women,
            "network-field",
            [
                "network-report-women",
                "field-province",
                "network-field",
                "network-count",
            ],
            1,
        ),
        table(
            "training",
            l,
            places,
            &ngo_cells,
            "network-ngo-state",
            [
                "network-report-training",
                "field-province",
                "network-ngo-state-label",
                "network-training-hours",
            ],
            1,
        ),
    ]
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReportQuery {
    format: Option<String>,
    table: String,
}

#[derive(Template)]
#[template(path = "network/reports.html")]
struct ReportPage {
    shell: Shell,
    l: Loc,
    tables: Vec<Table>,
    ngos: Vec<(String, String, i64, i64)>,
}

/// Handles the GET /network/reports route (and `?format=xlsx&table=…`).
pub async fn report_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ReportQuery>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let r = app::report(&state.store, &c).await?;
    let places = Places::load(&state).await?;
    let tables = tables(l, &places, &r);
    if let Some(fmt) = export::requested(q.format.as_deref()) {
        let t = tables
            .iter()
            .find(|t| t.id == q.table)
            .ok_or(AppError::NotFound)?;
        let headers = vec![t.a.clone(), t.b.clone(), t.n.clone()];
        let rows: Vec<Vec<Cell>> = t
            .rows
            .iter()
            .map(|(a, b, n)| vec![a.clone().into(), b.clone().into(), (*n).into()])
            .collect();
        return export::table(
            fmt,
            &format!("network-{}", t.id),
            &t.title,
            &headers,
            &rows,
            ctx.locale.dir() == "rtl",
        );
    }
    let ngos = r
        .ngos
        .iter()
        .map(|n| {
            (
                l.name(&n.name_fa, &n.name_en).to_owned(),
                l.tv(
                    "network-ngo-state",
                    n.licence
                        .as_ref()
                        .map(|x| x.state.as_str())
                        .unwrap_or("none"),
                ),
                n.trainings,
                n.training_hours,
            )
        })
        .collect();
    html(ReportPage {
        shell: Shell::new(&ctx, l.t("network-reports-title")),
        l,
        tables,
        ngos,
    })
}
