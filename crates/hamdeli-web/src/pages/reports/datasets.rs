//! Data sets: the list, the definition form (new and new version), a data set's page with the
//! completeness and timeliness of a period, the XLSX template and bulk upload, reminders, and
//! the data-exchange file.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::reports::{self as app, BulkOutcome, BulkRow, DataSetForm};
use hamdeli_domain::Action;
use hamdeli_domain::reports::dataset::{DefinitionError, field_name};
use hamdeli_domain::reports::period::{Period, PeriodType};
use hamdeli_domain::reports::policy::ReportAction;
use hamdeli_store::geo;
use hamdeli_store::reports::entries::ReportFilter;
use hamdeli_store::reports::{DataSet, Level};

use super::{Names, period_label, sheet, status_label};
use crate::AppState;
use crate::charts::{self, Point};
use crate::context::Ctx;
use crate::error::AppError;
use crate::export::{self, Cell};
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Template)]
#[template(path = "reports/datasets.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    datasets: Vec<DataSet>,
    may_define: bool,
}

/// Handles the GET /reports/datasets route
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let datasets = app::datasets(&state.store, &caller).await?;
    let l = Loc(ctx.locale);
    html(ListPage {
        shell: Shell::new(&ctx, l.t("reports-datasets-title")),
        l,
        datasets,
        may_define: caller
            .principal
            .allows(&Action::Report(ReportAction::DefineDataSets)),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DataSetFormData {
    code: String,
    name_fa: String,
    name_en: String,
    period_type: String,
    level: String,
    due_day: String,
    provinces: String,
    active: Option<String>,
    definition: String,
}

impl DataSetFormData {
    fn to_form(&self) -> DataSetForm {
        DataSetForm {
            code: self.code.clone(),
            name_fa: self.name_fa.clone(),
            name_en: self.name_en.clone(),
            period_type: self.period_type.clone(),
            level: self.level.clone(),
            due_day: self.due_day.clone(),
            provinces: hamdeli_text::digits::fold_digits(&self.provinces)
                .split([',', '،', ' '])
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            active: self.active.is_some(),
            definition: self.definition.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "reports/dataset_form.html")]
struct FormPage {
    shell: Shell,
    l: Loc,
    id: Option<i64>,
    form: DataSetFormData,
    errors: Vec<String>,
}

const EXAMPLE: &str = "women_trained | زنان آموزش‌دیده | Women trained | number | urban_rural | required | 0 | 1000000\n\
women_employed | زنان شاغل‌شده | Women employed | number | none | required | 0\n\
rule: women_employed <= women_trained\n";

fn form_page(
    ctx: &Ctx,
    id: Option<i64>,
    form: DataSetFormData,
    errors: Vec<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let page = html(FormPage {
        shell: Shell::new(
            ctx,
            l.t(if id.is_some() {
                "reports-dataset-edit"
            } else {
                "reports-dataset-new"
            }),
        ),
        l,
        id,
        form,
        errors: errors.clone(),
    })?;
    Ok(if errors.is_empty() {
        page
    } else {
        (axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response_ext()
    })
}

trait IntoResponseExt {
    fn into_response_ext(self) -> Response;
}

impl IntoResponseExt for (axum::http::StatusCode, Response) {
    fn into_response_ext(self) -> Response {
        let (status, mut r) = self;
        *r.status_mut() = status;
        r
    }
}

/// Handles the GET /reports/datasets/new route
pub async fn new_form(ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    p.authorize(Action::Report(ReportAction::DefineDataSets))?;
    form_page(
        &ctx,
        None,
        DataSetFormData {
            period_type: "month".into(),
            level: "province".into(),
            due_day: "10".into(),
            active: Some("1".into()),
            definition: EXAMPLE.into(),
            ..Default::default()
        },
        vec![],
    )
}

fn definition_errors(l: Loc, errors: &[DefinitionError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            if e.line > 0 {
                format!(
                    "{}: {}",
                    l.t1("reports-def-line", "line", &l.num(&(e.line as i64))),
                    l.t(e.code)
                )
            } else {
                l.t(e.code)
            }
        })
        .collect()
}

async fn save(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    form: DataSetFormData,
) -> Result<Response, AppError> {
    let caller = caller(ctx)?;
    let l = Loc(ctx.locale);
    match app::save_dataset(&state.store, &caller, id, &form.to_form()).await {
        Ok(Ok(id)) => Ok(see_other(&format!("/reports/datasets/{id}"))),
        Ok(Err(errors)) => {
            let errors = definition_errors(l, &errors);
            form_page(ctx, id, form, errors)
        }
        Err(hamdeli_app::Error::Invalid(code) | hamdeli_app::Error::Conflict(code)) => {
            form_page(ctx, id, form, vec![l.t(code)])
        }
        Err(e) => Err(e.into()),
    }
}

/// Handles the POST /reports/datasets route
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<DataSetFormData>,
) -> Result<Response, AppError> {
    save(&state, &ctx, None, form).await
}

/// Handles the GET /reports/datasets/{id}/edit route
pub async fn edit_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    caller
        .principal
        .authorize(Action::Report(ReportAction::DefineDataSets))?;
    let ds = app::dataset(&state.store, &caller, id).await?;
    form_page(
        &ctx,
        Some(id),
        DataSetFormData {
            code: ds.code.clone(),
            name_fa: ds.name_fa.clone(),
            name_en: ds.name_en.clone(),
            period_type: ds.period_type.as_str().into(),
            level: ds.level.as_str().into(),
            due_day: ds.due_day.to_string(),
            provinces: ds.provinces.join(", "),
            active: ds.active.then(|| "1".into()),
            definition: ds.definition.to_text(),
        },
        vec![],
    )
}

/// Handles the POST /reports/datasets/{id} route
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<DataSetFormData>,
) -> Result<Response, AppError> {
    save(&state, &ctx, Some(id), form).await
}

pub(crate) struct CompletenessLine {
    pub name: String,
    pub expected: i64,
    pub sent: i64,
    pub on_time: i64,
    pub accepted: i64,
    pub returned: i64,
    /// (name, entry link)
    pub missing: Vec<(String, String)>,
}

pub(crate) struct ReportLine {
    pub place: String,
    pub status: String,
    pub status_code: String,
    pub href: String,
    pub submitted: String,
}

#[derive(Template)]
#[template(path = "reports/dataset.html")]
struct ShowPage {
    shell: Shell,
    l: Loc,
    ds: DataSet,
    period: String,
    period_label: String,
    periods: Vec<(String, String, bool)>,
    due_on: String,
    lines: Vec<CompletenessLine>,
    totals: (i64, i64, i64, i64),
    reports: Vec<ReportLine>,
    timeliness: String,
    timeliness_rows: Vec<(String, i64, i64, i64)>,
    may_define: bool,
    may_remind: bool,
    is_past_due: bool,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PeriodQuery {
    period: Option<String>,
    reminded: Option<i64>,
    format: Option<String>,
    status: Option<String>,
}

fn recent_periods(kind: PeriodType) -> Vec<Period> {
    let n = match kind {
        PeriodType::Month => 24,
        PeriodType::Season => 8,
        PeriodType::Year => 4,
    };
    app::current_period(kind, hamdeli_store::now_millis()).last_n(n)
}

/// Handles the GET /reports/datasets/{id} route
pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let ds = app::dataset(&state.store, &caller, id).await?;
    let last_due = app::last_due_period(ds.period_type, hamdeli_store::now_millis());
    let period = q
        .period
        .as_deref()
        .and_then(Period::parse)
        .filter(|p| p.kind() == ds.period_type)
        .unwrap_or(last_due);
    let (_, _, rows) = app::completeness(&state.store, &caller, id, &period.code()).await?;
    let names = Names::load(&state, l).await?;
    let entry_href = |code: &str| {
        format!(
            "/reports/datasets/{id}/entry?place={code}&period={}",
            period.code()
        )
    };
    let mut totals = (0, 0, 0, 0);
    let lines: Vec<CompletenessLine> = rows
        .iter()
        .map(|r| {
            totals.0 += r.counts.expected;
            totals.1 += r.counts.sent;
            totals.2 += r.counts.on_time;
            totals.3 += r.counts.accepted;
            CompletenessLine {
                name: names.of(&r.counts.province_code),
                expected: r.counts.expected,
                sent: r.counts.sent,
                on_time: r.counts.on_time,
                accepted: r.counts.accepted,
                returned: r.counts.returned,
                missing: r
                    .missing
                    .iter()
                    .map(|m| (names.of(m), entry_href(m)))
                    .collect(),
            }
        })
        .collect();
    let reports = app::list_reports(
        &state.store,
        &caller,
        ReportFilter {
            dataset: Some(id),
            period: Some(period.code()),
            status: q.status.clone().filter(|s| !s.is_empty()),
            ..Default::default()
        },
        500,
    )
    .await?;
    let reports: Vec<ReportLine> = reports
        .iter()
        .map(|r| {
            let code = if r.county_code.is_empty() {
                r.province_code.clone()
            } else {
                r.county_code.clone()
            };
            ReportLine {
                place: names.of(&code),
                status: status_label(l, r.status.as_str()),
                status_code: r.status.as_str().to_owned(),
                href: format!(
                    "/reports/datasets/{id}/entry?place={code}&period={}",
                    r.period
                ),
                submitted: l.opt_instant(&r.submitted_at),
            }
        })
        .collect();
    let recent = recent_periods(ds.period_type);
    let last12: Vec<Period> = last_due.last_n(12);
    let t = app::timeliness(&state.store, &caller, &ds, &last12).await?;
    let timeliness_rows: Vec<(String, i64, i64, i64)> = t
        .iter()
        .map(|c| (period_label(l, &c.period), c.expected, c.sent, c.on_time))
        .collect();
    let points: Vec<Point> = t
        .iter()
        .map(|c| {
            let pct = if c.expected > 0 {
                c.on_time * 100 / c.expected
            } else {
                0
            };
            Point {
                label: period_label(l, &c.period),
                value: Some(pct),
                shown: format!("{}{}", l.num(&pct), l.name("٪", "%")),
            }
        })
        .collect();
    let timeliness = charts::columns(&l.t("reports-timeliness-title"), &points, l.dir() == "rtl");
    let due_on = period
        .due_iso(u8::try_from(ds.due_day).unwrap_or(1))
        .unwrap_or_default();
    let is_past_due = app::deadline_millis(&period, ds.due_day) <= hamdeli_store::now_millis();
    let p = caller.principal;
    html(ShowPage {
        shell: Shell::new(&ctx, l.name(&ds.name_fa, &ds.name_en).to_owned()),
        period: period.code(),
        period_label: period_label(l, &period.code()),
        periods: recent
            .iter()
            .rev()
            .map(|x| (x.code(), period_label(l, &x.code()), *x == period))
            .collect(),
        due_on,
        lines,
        totals,
        reports,
        timeliness,
        timeliness_rows,
        may_define: p.allows(&Action::Report(ReportAction::DefineDataSets)),
        may_remind: p.allows(&Action::Report(ReportAction::Remind)),
        is_past_due,
        notice: q
            .reminded
            .map(|n| l.t1("reports-reminded", "n", &l.num(&n))),
        ds,
        l,
    })
}

/// Handles the POST /reports/datasets/{id}/remind route
pub async fn remind(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let period = form.get("period").cloned().unwrap_or_default();
    let n = app::remind_late(&state.store, &caller, id, &period).await?;
    Ok(see_other(&format!(
        "/reports/datasets/{id}?period={}&reminded={n}",
        crate::error::urlencode(&period)
    )))
}

/// The template's field columns: (field name, header in words).
fn template_fields(l: Loc, ds: &DataSet) -> Vec<(String, String)> {
    let mut out = vec![];
    for e in &ds.definition.elements {
        let name = l.name(&e.name_fa, &e.name_en).to_owned();
        for part in e.disaggregation.parts() {
            let header = if part.is_empty() {
                name.clone()
            } else {
                format!("{name} ({})", l.t(&format!("reports-part-{part}")))
            };
            out.push((field_name(&e.code, part), header));
        }
    }
    out
}

/// Handles the GET /reports/datasets/{id}/template.xlsx route
pub async fn template(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let ds = app::dataset(&state.store, &caller, id).await?;
    let period = q
        .period
        .as_deref()
        .and_then(Period::parse)
        .filter(|p| p.kind() == ds.period_type)
        .unwrap_or_else(|| app::last_due_period(ds.period_type, hamdeli_store::now_millis()));
    let p = caller.principal;
    let filter = p.place_filter();
    let mut places: Vec<(String, String, String)> = vec![];
    for prov in geo::provinces(&state.store, &filter).await? {
        if !ds.reports_in(&prov.code) {
            continue;
        }
        match ds.level {
            Level::Province => {
                if p.allows(&Action::Report(ReportAction::Enter(
                    &hamdeli_domain::Place::province(prov.code.clone()),
                ))) {
                    places.push((
                        prov.code.clone(),
                        String::new(),
                        l.name(&prov.name_fa, &prov.name_en).to_owned(),
                    ));
                }
            }
            Level::County => {
                for c in geo::counties_of(&state.store, &prov.code, &filter).await? {
                    places.push((
                        prov.code.clone(),
                        c.code.clone(),
                        l.name(&c.name_fa, &c.name_en).to_owned(),
                    ));
                }
            }
        }
    }
    let fields = template_fields(l, &ds);
    let build = || -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.set_right_to_left(l.dir() == "rtl");
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let head: Vec<String> = [
            l.t("field-province"),
            l.t("reports-county"),
            l.t("reports-place"),
            l.t("reports-period"),
        ]
        .into_iter()
        .chain(fields.iter().map(|f| f.1.clone()))
        .collect();
        let codes: Vec<String> = ["province", "county", "place", "period"]
            .into_iter()
            .map(String::from)
            .chain(fields.iter().map(|f| f.0.clone()))
            .collect();
        for (c, (h, code)) in head.iter().zip(&codes).enumerate() {
            let c = c as u16;
            ws.write_string_with_format(0, c, h, &bold)?;
            ws.write_string(1, c, code)?;
            ws.set_column_width(c, 18)?;
        }
        for (r, (prov, county, name)) in places.iter().enumerate() {
            let r = r as u32 + 2;
            ws.write_string(r, 0, prov)?;
            ws.write_string(r, 1, county)?;
            ws.write_string(r, 2, name)?;
            ws.write_string(r, 3, period.code())?;
        }
        ws.set_freeze_panes(2, 3)?;
        book.save_to_buffer()
    };
    let bytes = build().map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(export::download(
        bytes,
        export::XLSX,
        &format!("{}-{}.xlsx", ds.code, period.code()),
    ))
}

#[derive(Template)]
#[template(path = "reports/bulk_result.html")]
struct BulkPage {
    shell: Shell,
    l: Loc,
    ds: DataSet,
    outcomes: Vec<BulkOutcome>,
    accepted: usize,
    refused: usize,
    names: Names,
}

/// Reads the template's rows: the row of field codes (its first cell `province`) names the
/// columns; every later row with a value is a report.
fn bulk_rows(rows: &[(u64, Vec<String>)]) -> Result<Vec<BulkRow>, &'static str> {
    let Some(pos) = rows
        .iter()
        .position(|(_, cells)| cells.first().map(String::as_str) == Some("province"))
    else {
        return Err("reports-upload-no-header");
    };
    let header = &rows[pos].1;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(pc), Some(per)) = (col("province"), col("period")) else {
        return Err("reports-upload-no-header");
    };
    let cc = col("county");
    let skip = ["province", "county", "place", "period"];
    let mut out = vec![];
    for (n, cells) in &rows[pos + 1..] {
        let get = |i: usize| cells.get(i).cloned().unwrap_or_default();
        let values: BTreeMap<String, String> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty() && !skip.contains(&h.as_str()))
            .map(|(i, h)| (h.clone(), get(i)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if values.is_empty() {
            continue;
        }
        out.push(BulkRow {
            row: *n,
            province: hamdeli_text::digits::fold_digits(&get(pc)),
            county: cc
                .map(|i| hamdeli_text::digits::fold_digits(&get(i)))
                .unwrap_or_default(),
            period: get(per),
            cells: values,
        });
    }
    Ok(out)
}

/// Handles the POST /reports/datasets/{id}/upload route
pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let ds = app::dataset(&state.store, &caller, id).await?;
    let mut bytes = vec![];
    let mut submit = false;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("form-invalid"))?
    {
        match field.name().unwrap_or_default() {
            "file" => {
                bytes = field
                    .bytes()
                    .await
                    .map_err(|_| AppError::PayloadTooLarge)?
                    .to_vec()
            }
            "submit" => submit = true,
            _ => {}
        }
    }
    if bytes.is_empty() {
        return Err(AppError::BadRequest("reports-upload-empty"));
    }
    let rows = sheet::read_rows(&bytes).map_err(AppError::BadRequest)?;
    let rows = bulk_rows(&rows).map_err(AppError::BadRequest)?;
    let outcomes = app::bulk_entry(&state.store, &caller, id, &rows, submit).await?;
    let accepted = outcomes.iter().filter(|o| o.refused.is_none()).count();
    html(BulkPage {
        shell: Shell::new(&ctx, l.t("reports-bulk-title")),
        refused: outcomes.len() - accepted,
        accepted,
        outcomes,
        names: Names::load(&state, l).await?,
        ds,
        l,
    })
}

/// Handles the GET /reports/datasets/{id}/exchange route
///
/// The data-exchange file: one row per value with data element, period, org unit (province or
/// county code) and value, accepted reports only unless `status=all`; CSV by default, XLSX on
/// `format=xlsx`.
pub async fn exchange(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let ds = app::dataset(&state.store, &caller, id).await?;
    let rows = api_exchange_rows(
        &state,
        &caller,
        &ds,
        q.period.as_deref(),
        q.status.as_deref(),
    )
    .await?;
    let headers: Vec<String> = [
        "data_element",
        "category",
        "period",
        "org_unit",
        "value",
        "status",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let table: Vec<Vec<Cell>> = rows
        .into_iter()
        .map(|r| {
            vec![
                Cell::from(format!("{}.{}", ds.code, r.data_element)),
                Cell::from(r.part),
                Cell::from(r.period),
                Cell::from(r.org_unit),
                Cell::from(r.value),
                Cell::from(r.status),
            ]
        })
        .collect();
    let format = export::requested(q.format.as_deref()).unwrap_or("csv");
    export::table(
        format,
        &format!("{}-exchange", ds.code),
        &ds.code,
        &headers,
        &table,
        l.dir() == "rtl",
    )
}

/// The exchange rows inside the caller's scope.
pub(crate) async fn api_exchange_rows(
    state: &AppState,
    caller: &hamdeli_app::Caller<'_>,
    ds: &DataSet,
    period: Option<&str>,
    status: Option<&str>,
) -> Result<Vec<hamdeli_store::reports::entries::ExchangeRow>, AppError> {
    Ok(app::exchange_rows(&state.store, caller, ds.id, period, status != Some("all")).await?)
}
