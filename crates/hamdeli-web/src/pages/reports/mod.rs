//! Capability reports: its pages (each handler's doc line names its route): the national and
//! provincial dashboard with the province map, data sets, report entry and approval, bulk
//! entry, completeness and reminders, the need index and its public page, exports and the API.

use std::collections::BTreeMap;

use axum::Router;
use axum::routing::{get, post};

use hamdeli_domain::Action;
use hamdeli_domain::reports::policy::ReportAction;
use hamdeli_store::geo;

use crate::AppState;
use crate::error::AppError;
use crate::view::Loc;

pub(crate) mod api;
mod dashboard;
mod datasets;
mod entry;
mod index;
mod map;
mod shapes;
mod sheet;

pub(crate) use dashboard::{CountyFigures, HomeFigures, county_figures, home_figures};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(dashboard::national))
        .route("/reports/province/{code}", get(dashboard::province))
        .route("/reports/refresh", post(dashboard::refresh))
        .route("/reports/list", get(entry::list))
        .route(
            "/reports/datasets",
            get(datasets::list).post(datasets::create),
        )
        .route("/reports/datasets/new", get(datasets::new_form))
        .route(
            "/reports/datasets/{id}",
            get(datasets::show).post(datasets::update),
        )
        .route("/reports/datasets/{id}/edit", get(datasets::edit_form))
        .route(
            "/reports/datasets/{id}/template.xlsx",
            get(datasets::template),
        )
        .route(
            "/reports/datasets/{id}/upload",
            post(datasets::upload).layer(axum::extract::DefaultBodyLimit::max(8 * 1024 * 1024)),
        )
        .route("/reports/datasets/{id}/remind", post(datasets::remind))
        .route("/reports/datasets/{id}/exchange", get(datasets::exchange))
        .route(
            "/reports/datasets/{id}/entry",
            get(entry::form).post(entry::save),
        )
        .route("/reports/{id}/decide", post(entry::decide))
        .route("/reports/index", get(index::page).post(index::post))
        .route(
            "/reports/index/import",
            post(index::import).layer(axum::extract::DefaultBodyLimit::max(4 * 1024 * 1024)),
        )
        .route("/need-index", get(index::public))
}

/// The menu items of this capability for a signed-in principal: (href, message id). An empty
/// list hides the group.
pub(crate) fn nav_items(
    principal: &hamdeli_domain::Principal,
) -> Vec<(&'static str, &'static str)> {
    let mut items = vec![];
    if principal.allows(&Action::Report(ReportAction::View)) {
        items.push(("/reports", "reports-nav-dashboard"));
        items.push(("/reports/list", "reports-nav-list"));
        items.push(("/reports/datasets", "reports-nav-datasets"));
        items.push(("/reports/index", "reports-nav-index"));
    }
    items
}

/// Province and county names in the page's language.
pub(crate) struct Names(BTreeMap<String, String>);

impl Names {
    pub(crate) async fn load(state: &AppState, l: Loc) -> Result<Names, AppError> {
        let mut m = BTreeMap::new();
        for p in geo::all_provinces(&state.store).await? {
            m.insert(p.code.clone(), l.name(&p.name_fa, &p.name_en).to_owned());
        }
        for c in geo::all_counties(&state.store).await? {
            m.insert(c.code.clone(), l.name(&c.name_fa, &c.name_en).to_owned());
        }
        Ok(Names(m))
    }
    pub(crate) fn of(&self, code: &str) -> String {
        self.0.get(code).cloned().unwrap_or_else(|| code.to_owned())
    }
}

/// A period code in words: «مهر ۱۴۰۴», «تابستان ۱۴۰۴», «سال ۱۴۰۴»; `now` as «اکنون».
pub(crate) fn period_label(l: Loc, code: &str) -> String {
    use hamdeli_domain::reports::period::Period;
    if code == hamdeli_store::reports::figures::NOW {
        return l.t("reports-period-now");
    }
    match Period::parse(code) {
        Some(Period::Month(y, m)) => format!(
            "{} {}",
            l.t(&format!("reports-month-{m}")),
            l.digits(&y.to_string())
        ),
        Some(Period::Season(y, s)) => format!(
            "{} {}",
            l.t(&format!("reports-season-{s}")),
            l.digits(&y.to_string())
        ),
        Some(Period::Year(y)) => l.t1("reports-year", "year", &l.digits(&y.to_string())),
        None => code.to_owned(),
    }
}

/// A value as shown: tomans for money, grouped digits.
pub(crate) fn show_value(l: Loc, v: i64, money: bool) -> String {
    if money {
        hamdeli_locale::format_tomans(l.0, v)
    } else {
        l.num(&v)
    }
}

/// Message ids of the report states.
pub(crate) fn status_label(l: Loc, s: &str) -> String {
    l.t(&format!("reports-status-{s}"))
}
