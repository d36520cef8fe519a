//! Entry and approval of one report: the form with validation and outlier warnings, the
//! decisions (submit, approve, accept, return, reopen) with their history, and the list of
//! reports the principal sees.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::reports::{self as app, EntryView, ReportPlace, SaveOutcome};
use hamdeli_domain::reports::dataset::{ElementKind, Outlier, Problem, field_name, form_text};
use hamdeli_domain::reports::state::Transition;
use hamdeli_store::geo;
use hamdeli_store::reports::entries::ReportFilter;

use super::{Names, period_label, show_value, status_label};
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EntryQuery {
    place: String,
    period: String,
    saved: Option<String>,
}

/// A province code (2 digits) or a county code (4 digits) as a reporting place.
async fn place_of(state: &AppState, code: &str) -> Result<ReportPlace, AppError> {
    let code = hamdeli_text::digits::fold_digits(code.trim());
    if let Some(c) = geo::county(&state.store, &code).await? {
        return Ok(ReportPlace {
            province: c.province_code,
            county: c.code,
        });
    }
    if geo::province(&state.store, &code).await?.is_some() {
        return Ok(ReportPlace {
            province: code,
            county: String::new(),
        });
    }
    Err(AppError::NotFound)
}

/// One input of the form.
pub(crate) struct Field {
    pub name: String,
    pub label: String,
    pub value: String,
    pub kind: &'static str,
    pub required: bool,
    pub hint: String,
    pub problem: Option<String>,
    pub warning: Option<String>,
}

/// One element with its inputs (one, or urban and rural).
pub(crate) struct ElementRow {
    pub label: String,
    pub fields: Vec<Field>,
    pub total: Option<String>,
}

#[derive(Template)]
#[template(path = "reports/entry.html")]
struct EntryPage {
    shell: Shell,
    l: Loc,
    view_title: String,
    dataset_id: i64,
    place_code: String,
    place_name: String,
    period: String,
    period_label: String,
    due_on: String,
    status: Option<String>,
    status_code: String,
    comment: Option<String>,
    report_id: Option<i64>,
    rows: Vec<ElementRow>,
    problems: Vec<String>,
    warnings: Vec<String>,
    notice: Option<String>,
    events: Vec<(String, String, String, String)>,
    may_enter: bool,
    may_approve: bool,
    may_accept: bool,
    accepted: bool,
}

fn outlier_text(l: Loc, o: &Outlier, money: bool) -> String {
    l.t1(
        "reports-outlier",
        "range",
        &format!(
            "{} – {}",
            show_value(l, o.low.max(0), money),
            show_value(l, o.high, money)
        ),
    )
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    ctx: &Ctx,
    view: EntryView,
    typed: Option<&BTreeMap<String, String>>,
    problems: &[Problem],
    outliers: Option<&[Outlier]>,
    notice: Option<String>,
    status: axum::http::StatusCode,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let def = &view.definition;
    let shown = match typed {
        Some(t) => t.clone(),
        None => form_text(def, &view.values),
    };
    let outliers = outliers.unwrap_or(&view.outliers);
    let rows: Vec<ElementRow> = def
        .elements
        .iter()
        .map(|e| {
            let money = e.kind == ElementKind::Money;
            let fields = e
                .disaggregation
                .parts()
                .iter()
                .map(|part| {
                    let name = field_name(&e.code, part);
                    let problem = problems
                        .iter()
                        .find(|p| p.element == e.code && (p.part == *part || p.part.is_empty()))
                        .map(|p| l.t(p.code));
                    let warning = if part.is_empty() || *part == "urban" {
                        outliers
                            .iter()
                            .find(|o| o.element == e.code)
                            .map(|o| outlier_text(l, o, money))
                    } else {
                        None
                    };
                    let mut hint = vec![];
                    if money {
                        hint.push(l.t("reports-hint-tomans"));
                    }
                    if let Some(min) = e.min {
                        hint.push(l.t1("reports-hint-min", "n", &l.num(&min)));
                    }
                    if let Some(max) = e.max {
                        hint.push(l.t1("reports-hint-max", "n", &l.num(&max)));
                    }
                    Field {
                        label: if part.is_empty() {
                            l.name(&e.name_fa, &e.name_en).to_owned()
                        } else {
                            l.t(&format!("reports-part-{part}"))
                        },
                        value: shown.get(&name).cloned().unwrap_or_default(),
                        name,
                        kind: e.kind.as_str(),
                        required: e.required,
                        hint: hint.join(" · "),
                        problem,
                        warning,
                    }
                })
                .collect();
            let total = (e.disaggregation.parts().len() > 1)
                .then(|| {
                    view.values
                        .get(&(e.code.clone(), String::new()))
                        .and_then(|v| v.number())
                        .map(|n| show_value(l, n, money))
                })
                .flatten();
            ElementRow {
                label: l.name(&e.name_fa, &e.name_en).to_owned(),
                fields,
                total,
            }
        })
        .collect();
    let problems_text: Vec<String> = problems
        .iter()
        .map(|p| {
            let name = def
                .element(&p.element)
                .map(|e| l.name(&e.name_fa, &e.name_en).to_owned())
                .unwrap_or_else(|| p.element.clone());
            format!("{name}: {}", l.t(p.code))
        })
        .collect();
    let warnings: Vec<String> = outliers
        .iter()
        .map(|o| {
            let e = def.element(&o.element);
            let name = e
                .map(|e| l.name(&e.name_fa, &e.name_en).to_owned())
                .unwrap_or_default();
            let money = e.is_some_and(|e| e.kind == ElementKind::Money);
            format!("{name}: {}", outlier_text(l, o, money))
        })
        .collect();
    let names = Names::load(state, l).await?;
    let place_code = if view.place.county.is_empty() {
        view.place.province.clone()
    } else {
        view.place.county.clone()
    };
    let events = view
        .events
        .iter()
        .map(|e| {
            (
                l.instant(&e.at),
                l.t(&format!("reports-action-{}", e.action)),
                e.actor_name.clone(),
                e.comment.clone().unwrap_or_default(),
            )
        })
        .collect();
    let ds_name = l
        .name(&view.dataset.name_fa, &view.dataset.name_en)
        .to_owned();
    let page = html(EntryPage {
        shell: Shell::new(ctx, ds_name.clone()),
        view_title: ds_name,
        dataset_id: view.dataset.id,
        place_name: names.of(&place_code),
        place_code,
        period: view.period.code(),
        period_label: period_label(l, &view.period.code()),
        due_on: l.date(&view.due_on),
        status: view
            .report
            .as_ref()
            .map(|r| status_label(l, r.status.as_str())),
        status_code: view
            .report
            .as_ref()
            .map(|r| r.status.as_str().to_owned())
            .unwrap_or_default(),
        comment: view.report.as_ref().and_then(|r| r.comment.clone()),
        report_id: view.report.as_ref().map(|r| r.id),
        rows,
        problems: problems_text,
        warnings,
        notice,
        events,
        may_enter: view.may_enter,
        may_approve: view.may_approve,
        may_accept: view.may_accept,
        accepted: view
            .report
            .as_ref()
            .is_some_and(|r| r.status == hamdeli_domain::reports::state::ReportStatus::Accepted),
        l,
    })?;
    let mut page = page;
    *page.status_mut() = status;
    Ok(page)
}

/// Handles the GET /reports/datasets/{id}/entry route
pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<EntryQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let place = place_of(&state, &q.place).await?;
    let view = app::entry(&state.store, &caller, id, &place, &q.period).await?;
    let notice = q
        .saved
        .as_deref()
        .map(|s| l.t(&format!("reports-notice-{s}")));
    render(
        &state,
        &ctx,
        view,
        None,
        &[],
        None,
        notice,
        axum::http::StatusCode::OK,
    )
    .await
}

/// Handles the POST /reports/datasets/{id}/entry route
pub async fn save(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<EntryQuery>,
    FormData(form): FormData<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let place = place_of(&state, &q.place).await?;
    let submit = form.get("action").map(String::as_str) == Some("submit");
    let raw: BTreeMap<String, String> = form
        .iter()
        .filter(|(k, _)| !k.starts_with('_') && *k != "action")
        .take(1000)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let outcome =
        app::save_entry(&state.store, &caller, id, &place, &q.period, &raw, submit).await?;
    match outcome {
        SaveOutcome::Saved { outliers, .. } => {
            let what = if submit { "submitted" } else { "saved" };
            if outliers.is_empty() {
                Ok(see_other(&format!(
                    "/reports/datasets/{id}/entry?place={}&period={}&saved={what}",
                    q.place, q.period
                )))
            } else {
                let l = Loc(ctx.locale);
                let view = app::entry(&state.store, &caller, id, &place, &q.period).await?;
                render(
                    &state,
                    &ctx,
                    view,
                    None,
                    &[],
                    Some(&outliers),
                    Some(l.t(&format!("reports-notice-{what}-warnings"))),
                    axum::http::StatusCode::OK,
                )
                .await
            }
        }
        SaveOutcome::Refused { problems } => {
            let view = app::entry(&state.store, &caller, id, &place, &q.period).await?;
            render(
                &state,
                &ctx,
                view,
                Some(&raw),
                &problems,
                None,
                None,
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecideForm {
    transition: String,
    comment: String,
}

/// Handles the POST /reports/{id}/decide route
pub async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<DecideForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let t = Transition::parse(&form.transition).ok_or(AppError::BadRequest("form-invalid"))?;
    let r = app::decide(&state.store, &caller, id, t, Some(&form.comment)).await?;
    let place = if r.county_code.is_empty() {
        r.province_code
    } else {
        r.county_code
    };
    Ok(see_other(&format!(
        "/reports/datasets/{}/entry?place={place}&period={}&saved={}",
        r.dataset_id,
        r.period,
        t.as_str()
    )))
}

pub(crate) struct ListLine {
    pub dataset: String,
    pub place: String,
    pub period: String,
    pub status: String,
    pub status_code: String,
    pub href: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "reports/list.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    status: String,
    lines: Vec<ListLine>,
    statuses: Vec<(String, String)>,
    /// The next page's address, when there is one.
    next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    /// The key of the page: reports older than this id (the previous page's last).
    before: Option<i64>,
}

/// Handles the GET /reports/list route
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    // By default the reports waiting for this office: approved ones for the national office
    // to accept, submitted ones for a province to approve, returned ones for a county.
    let status = match q.status.as_str() {
        "all" => None,
        "" => Some(
            match caller.principal.role {
                hamdeli_domain::Role::NationalAdmin => "approved",
                hamdeli_domain::Role::ProvincialOfficer => "submitted",
                _ => "returned",
            }
            .to_owned(),
        ),
        s => hamdeli_domain::reports::state::ReportStatus::parse(s).map(|s| s.as_str().to_owned()),
    };
    // A page by key (newest first): never every report sorted on a request.
    let (reports, next) = app::list_reports_page(
        &state.store,
        &caller,
        ReportFilter {
            status: status.clone(),
            ..Default::default()
        },
        q.before,
    )
    .await?;
    let datasets = app::datasets(&state.store, &caller).await?;
    let names = Names::load(&state, l).await?;
    let lines = reports
        .iter()
        .map(|r| {
            let code = if r.county_code.is_empty() {
                r.province_code.clone()
            } else {
                r.county_code.clone()
            };
            ListLine {
                dataset: datasets
                    .iter()
                    .find(|d| d.id == r.dataset_id)
                    .map(|d| l.name(&d.name_fa, &d.name_en).to_owned())
                    .unwrap_or_default(),
                place: names.of(&code),
                period: period_label(l, &r.period),
                status: status_label(l, r.status.as_str()),
                status_code: r.status.as_str().to_owned(),
                href: format!(
                    "/reports/datasets/{}/entry?place={code}&period={}",
                    r.dataset_id, r.period
                ),
                updated: l.instant(&r.updated_at),
            }
        })
        .collect();
    let status = status.unwrap_or_else(|| "all".to_owned());
    html(ListPage {
        shell: Shell::new(&ctx, l.t("reports-list-title")),
        next: next.map(|id| format!("/reports/list?status={status}&before={id}")),
        status,
        lines,
        statuses: hamdeli_domain::reports::state::ReportStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), status_label(l, s.as_str())))
            .collect(),
        l,
    })
}
