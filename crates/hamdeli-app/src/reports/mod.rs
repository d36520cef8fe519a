//! Capability reports: its use cases (authorise, transaction, store, audit, commit): data sets,
//! entry and approval of reports, bulk entry, completeness and reminders, the dashboard's
//! indicators, the need index.

use std::collections::{BTreeMap, BTreeSet};

use hamdeli_domain::reports::dataset::{
    self, Definition, DefinitionError, Outlier, Problem, Values,
};
use hamdeli_domain::reports::index::{self, IndicatorSpec, ProvinceScore};
use hamdeli_domain::reports::period::{Period, PeriodType};
use hamdeli_domain::reports::policy::ReportAction;
use hamdeli_domain::reports::state::{self, ReportStatus, Transition};
use hamdeli_domain::{Action, Place, Principal, Role};
use hamdeli_store::reports::entries::{self, NewReport};
use hamdeli_store::reports::figures::{self, MonthBounds};
use hamdeli_store::reports::{self as store_reports, DataSet, Level, NewDataSet, Report};
use hamdeli_store::{Store, geo};

use crate::policy_doc::{UseCase, own_place};
use crate::{Caller, Error, Result, audit_write};

pub mod indicators;

pub use indicators::{IndicatorKey, IndicatorOption};

/// The rows of `docs/access.md` for capability reports.
pub(crate) const DOC_USE_CASES: &[UseCase] = &[
    UseCase {
        name: "reports: dashboard, map, completeness, reports of the own places",
        inside: |p| p.allows(&Action::Report(ReportAction::View)),
        outside: |_| false,
    },
    UseCase {
        name: "reports: define a data set or a new version",
        inside: |p| p.allows(&Action::Report(ReportAction::DefineDataSets)),
        outside: |_| false,
    },
    UseCase {
        name: "reports: fill, save, submit, bulk-enter a place's report",
        inside: |p| p.allows(&Action::Report(ReportAction::Enter(&own_place(p)))),
        outside: |p| {
            p.allows(&Action::Report(ReportAction::Enter(&Place::county(
                "07", "0701",
            ))))
        },
    },
    UseCase {
        name: "reports: approve a submitted report, or return it before approval",
        inside: |p| p.allows(&Action::Report(ReportAction::Approve(&own_place(p)))),
        outside: |p| {
            p.allows(&Action::Report(ReportAction::Approve(&Place::county(
                "07", "0701",
            ))))
        },
    },
    UseCase {
        name: "reports: accept, return after approval, reopen an accepted report",
        inside: |p| p.allows(&Action::Report(ReportAction::Accept)),
        outside: |_| false,
    },
    UseCase {
        name: "reports: remind late reporters",
        inside: |p| p.allows(&Action::Report(ReportAction::Remind)),
        outside: |_| false,
    },
    UseCase {
        name: "need index: weights, imported indicator values, refresh of the figures",
        inside: |p| p.allows(&Action::Report(ReportAction::ConfigureIndex)),
        outside: |_| false,
    },
];

fn allow(p: &Principal, a: ReportAction<'_>) -> Result<()> {
    p.authorize(Action::Report(a))?;
    Ok(())
}

/// Whether the principal sees the reports capability at all.
pub fn may_view(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.allows(&Action::Report(ReportAction::View)))
}

/// The province a principal's reports are limited to (`None`: the whole country).
pub fn home_province(p: &Principal) -> Option<&str> {
    p.scope.province()
}

// ---------------------------------------------------------------------------------------------
// Data sets

pub async fn datasets(store: &Store, caller: &Caller<'_>) -> Result<Vec<DataSet>> {
    allow(caller.principal, ReportAction::View)?;
    Ok(store_reports::datasets::list(store).await?)
}

pub async fn dataset(store: &Store, caller: &Caller<'_>, id: i64) -> Result<DataSet> {
    allow(caller.principal, ReportAction::View)?;
    store_reports::datasets::by_id(store, id)
        .await?
        .ok_or(Error::NotFound)
}

/// What the data set form gives.
#[derive(Debug, Clone, Default)]
pub struct DataSetForm {
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    pub period_type: String,
    pub level: String,
    pub due_day: String,
    pub provinces: Vec<String>,
    pub active: bool,
    pub definition: String,
}

/// Creates a data set (`id` None) or a new version of one. A definition that does not read
/// comes back with its errors by line; other wrong fields are `Error::Invalid`.
pub async fn save_dataset(
    store: &Store,
    caller: &Caller<'_>,
    id: Option<i64>,
    form: &DataSetForm,
) -> Result<std::result::Result<i64, Vec<DefinitionError>>> {
    allow(caller.principal, ReportAction::DefineDataSets)?;
    let code = form.code.trim().to_ascii_lowercase();
    if id.is_none()
        && !(2..=40).contains(&code.len())
            | !code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(Error::Invalid("reports-dataset-code"));
    }
    let name_fa = hamdeli_text::normalize::normalize_text(form.name_fa.trim());
    if name_fa.is_empty() || name_fa.chars().count() > 200 || form.name_en.chars().count() > 200 {
        return Err(Error::Invalid("reports-dataset-name"));
    }
    let period_type =
        PeriodType::parse(&form.period_type).ok_or(Error::Invalid("reports-dataset-period"))?;
    let level = Level::parse(&form.level).ok_or(Error::Invalid("reports-dataset-level"))?;
    let due_day = dataset::parse_number(&form.due_day)
        .filter(|d| (1..=31).contains(d))
        .ok_or(Error::Invalid("reports-dataset-due-day"))?;
    let known: BTreeSet<String> = geo::reference_provinces()?
        .into_iter()
        .map(|p| p.code)
        .collect();
    let mut provinces: Vec<String> = form
        .provinces
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    provinces.sort();
    provinces.dedup();
    if provinces.iter().any(|p| !known.contains(p)) {
        return Err(Error::Invalid("reports-dataset-provinces"));
    }
    if form.definition.len() > 64 * 1024 {
        return Err(Error::Invalid("reports-def-too-many"));
    }
    let definition = match Definition::parse(&form.definition) {
        Ok(d) => d,
        Err(errors) => return Ok(Err(errors)),
    };
    let new = NewDataSet {
        code: code.clone(),
        name_fa,
        name_en: form.name_en.trim().to_owned(),
        period_type,
        level,
        due_day,
        provinces,
        active: form.active,
        definition,
    };
    let by = caller.principal.user_id;
    let mut tx = store.begin().await?;
    let (id, version) = match id {
        None => (store_reports::datasets::create(&mut tx, &new, by).await?, 1),
        Some(id) => (
            id,
            store_reports::datasets::update(&mut tx, id, &new, by).await?,
        ),
    };
    audit_write(
        &mut tx,
        caller,
        "reports.dataset.save",
        "report_dataset",
        id.to_string(),
        serde_json::json!({ "code": new.code, "version": version, "elements": new.definition.elements.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

// ---------------------------------------------------------------------------------------------
// Entry

/// A reporting place: a province (`county` empty) or a county of it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReportPlace {
    pub province: String,
    pub county: String,
}

impl ReportPlace {
    pub fn place(&self) -> Place {
        if self.county.is_empty() {
            Place::province(self.province.clone())
        } else {
            Place::county(self.province.clone(), self.county.clone())
        }
    }
}

/// Checks that the place reports this data set (its level, its provinces, a real county of
/// the province) and the period is of the data set's type.
async fn check_place(
    store: &Store,
    ds: &DataSet,
    place: &ReportPlace,
    period: &str,
) -> Result<Period> {
    let period = Period::parse(period)
        .filter(|p| p.kind() == ds.period_type)
        .ok_or(Error::Invalid("reports-period-invalid"))?;
    if !ds.reports_in(&place.province) {
        return Err(Error::Invalid("reports-place-not-reporting"));
    }
    match ds.level {
        Level::Province if !place.county.is_empty() => {
            Err(Error::Invalid("reports-place-not-reporting"))
        }
        Level::County => {
            let c = geo::county(store, &place.county)
                .await?
                .filter(|c| c.province_code == place.province);
            if c.is_none() {
                return Err(Error::Invalid("reports-place-not-reporting"));
            }
            Ok(period)
        }
        Level::Province => {
            if geo::province(store, &place.province).await?.is_none() {
                return Err(Error::NotFound);
            }
            Ok(period)
        }
    }
}

/// The deadline of a period (end of its due day in Iran), Unix ms.
pub fn deadline_millis(period: &Period, due_day: i64) -> i64 {
    let (y, m, d) = period.due_date(u8::try_from(due_day.clamp(1, 31)).unwrap_or(1));
    match hamdeli_locale_free::from_jalali_midnight(y, m, d) {
        Some(ms) => ms + 86_400_000,
        None => i64::MAX,
    }
}

/// Jalali calendar arithmetic for deadlines and month bounds without the web's locale crate.
mod hamdeli_locale_free {
    /// Midnight in Iran (UTC+03:30) at the start of the Jalali day, as Unix ms.
    pub fn from_jalali_midnight(y: i32, m: u8, d: u8) -> Option<i64> {
        let (gy, gm, gd) = hamdeli_text::date::from_jalali(y, m, d).ok()?;
        let iso = hamdeli_text::date::IsoDate::new(gy, gm, gd).ok()?;
        Some(iso.to_days() * 86_400_000 - (3 * 3600 + 1800) * 1000)
    }

    /// The Jalali (year, month) of an instant in Iran.
    pub fn jalali_month_of(ms: i64) -> Option<(i32, u8)> {
        let local = ms + (3 * 3600 + 1800) * 1000;
        let days = local.div_euclid(86_400_000);
        let iso = hamdeli_text::date::IsoDate::from_days(days)?;
        let j = iso.to_jalali();
        Some((j.year(), j.month()))
    }
}

/// The Jalali month of now in Iran, as a period of the given type.
pub fn current_period(kind: PeriodType, now_ms: i64) -> Period {
    let (y, m) = hamdeli_locale_free::jalali_month_of(now_ms).unwrap_or((1404, 1));
    Period::containing(kind, y, m)
}

/// The last period whose report is already due (or due now): the previous one.
pub fn last_due_period(kind: PeriodType, now_ms: i64) -> Period {
    current_period(kind, now_ms).previous()
}

/// What the entry page shows.
pub struct EntryView {
    pub dataset: DataSet,
    /// The definition the report is (or will be) filled against.
    pub definition: Definition,
    pub place: ReportPlace,
    pub period: Period,
    pub due_on: String,
    pub report: Option<Report>,
    pub values: Values,
    pub outliers: Vec<Outlier>,
    pub events: Vec<entries::ReportEvent>,
    pub may_enter: bool,
    pub may_approve: bool,
    pub may_accept: bool,
}

fn may(p: &Principal, a: ReportAction<'_>) -> bool {
    p.allows(&Action::Report(a))
}

pub async fn entry(
    store: &Store,
    caller: &Caller<'_>,
    dataset_id: i64,
    place: &ReportPlace,
    period: &str,
) -> Result<EntryView> {
    let p = caller.principal;
    allow(p, ReportAction::View)?;
    let pl = place.place();
    if !may(p, ReportAction::Enter(&pl)) && !may(p, ReportAction::Approve(&pl)) {
        return Err(Error::NotFound);
    }
    let ds = store_reports::datasets::by_id(store, dataset_id)
        .await?
        .ok_or(Error::NotFound)?;
    let period = check_place(store, &ds, place, period).await?;
    let mut conn = store.pool().acquire().await?;
    let report = entries::find(
        &mut conn,
        ds.id,
        &place.province,
        &place.county,
        &period.code(),
    )
    .await?;
    drop(conn);
    let (definition, values, events) = match &report {
        Some(r) => (
            store_reports::datasets::definition(store, ds.id, r.version)
                .await?
                .unwrap_or_else(|| ds.definition.clone()),
            entries::values(store, r.id).await?,
            entries::events(store, r.id).await?,
        ),
        None => (ds.definition.clone(), Values::new(), vec![]),
    };
    let history = entries::history(
        store,
        ds.id,
        &place.province,
        &place.county,
        &period.last_n(13)[0].code(),
        &period.code(),
    )
    .await?;
    let outliers = dataset::outliers(&definition, &values, &history);
    let due_on = period
        .due_iso(u8::try_from(ds.due_day).unwrap_or(1))
        .unwrap_or_default();
    let may_enter =
        may(p, ReportAction::Enter(&pl)) && report.as_ref().is_none_or(|r| r.status.editable());
    let may_approve = may(p, ReportAction::Approve(&pl))
        && report
            .as_ref()
            .is_some_and(|r| r.status == ReportStatus::Submitted);
    let may_accept = may(p, ReportAction::Accept)
        && report
            .as_ref()
            .is_some_and(|r| matches!(r.status, ReportStatus::Approved | ReportStatus::Accepted));
    Ok(EntryView {
        dataset: ds,
        definition,
        place: place.clone(),
        period,
        due_on,
        report,
        values,
        outliers,
        events,
        may_enter,
        may_approve,
        may_accept,
    })
}

/// What saving a form did.
#[derive(Debug)]
pub enum SaveOutcome {
    /// Saved (and submitted when asked); the warnings are worth a second look.
    Saved {
        report: i64,
        status: ReportStatus,
        outliers: Vec<Outlier>,
    },
    /// Nothing was saved: these cells are wrong.
    Refused { problems: Vec<Problem> },
}

/// Problems that never let a value be stored (a draft may still miss required values or break
/// a rule; a submission may not).
fn blocks_draft(p: &Problem) -> bool {
    !matches!(p.code, "reports-problem-required" | "reports-problem-rule")
}

/// Saves a place's form for a period (money in tomans, any digits), as a draft or submitted.
pub async fn save_entry(
    store: &Store,
    caller: &Caller<'_>,
    dataset_id: i64,
    place: &ReportPlace,
    period: &str,
    raw: &BTreeMap<String, String>,
    submit: bool,
) -> Result<SaveOutcome> {
    save_entry_at(store, caller, dataset_id, place, period, raw, submit, None).await
}

/// [`save_entry`] for the national office back-filling an earlier period's report with the
/// instant it was really sent (`submitted_at`, Unix ms; only the national office may give one).
#[allow(clippy::too_many_arguments)]
pub async fn save_entry_at(
    store: &Store,
    caller: &Caller<'_>,
    dataset_id: i64,
    place: &ReportPlace,
    period: &str,
    raw: &BTreeMap<String, String>,
    submit: bool,
    submitted_at: Option<i64>,
) -> Result<SaveOutcome> {
    let p = caller.principal;
    allow(p, ReportAction::Enter(&place.place()))?;
    if submitted_at.is_some() {
        allow(p, ReportAction::Accept)?;
    }
    let ds = store_reports::datasets::by_id(store, dataset_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !ds.active {
        return Err(Error::Conflict("reports-dataset-inactive"));
    }
    let period = check_place(store, &ds, place, period).await?;
    let (values, problems) = dataset::read_form(&ds.definition, raw);
    if problems.iter().any(blocks_draft) || (submit && !problems.is_empty()) {
        return Ok(SaveOutcome::Refused { problems });
    }
    let history = entries::history(
        store,
        ds.id,
        &place.province,
        &place.county,
        &period.last_n(13)[0].code(),
        &period.code(),
    )
    .await?;
    let outliers = dataset::outliers(&ds.definition, &values, &history);
    let due_on = period
        .due_iso(u8::try_from(ds.due_day).unwrap_or(1))
        .unwrap_or_default();
    let code = period.code();
    let mut tx = store.begin().await?;
    let report = entries::ensure(
        &mut tx,
        &NewReport {
            dataset: ds.id,
            version: ds.version,
            province: &place.province,
            county: &place.county,
            period: &code,
            due_on: &due_on,
        },
    )
    .await?;
    if !report.status.editable() {
        return Err(Error::Conflict(
            if report.status == ReportStatus::Accepted {
                "reports-state-locked"
            } else {
                "reports-state-not-now"
            },
        ));
    }
    entries::replace_values(&mut tx, report.id, ds.version, &values).await?;
    let mut status = report.status;
    entries::add_event(
        &mut tx,
        report.id,
        "save",
        Some(status),
        status,
        None,
        p.user_id,
        &p.name,
    )
    .await?;
    if submit {
        let to = state::next(Some(status), Transition::Submit).map_err(Error::Conflict)?;
        entries::set_status(
            &mut tx,
            report.id,
            status,
            to,
            p.user_id,
            None,
            submitted_at,
        )
        .await?;
        entries::add_event(
            &mut tx,
            report.id,
            "submit",
            Some(status),
            to,
            None,
            p.user_id,
            &p.name,
        )
        .await?;
        status = to;
    }
    audit_write(
        &mut tx,
        caller,
        if submit {
            "reports.submit"
        } else {
            "reports.save"
        },
        "report",
        report.id.to_string(),
        serde_json::json!({
            "dataset": ds.code, "period": code, "province": place.province,
            "county": place.county, "values": values.len(), "warnings": outliers.len()
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(SaveOutcome::Saved {
        report: report.id,
        status,
        outliers,
    })
}

/// Submit, approve, accept, return or reopen a report (a comment is required to return or
/// reopen). Accepting adds its totals to the dashboard's rollup; reopening takes them back.
pub async fn decide(
    store: &Store,
    caller: &Caller<'_>,
    report_id: i64,
    transition: Transition,
    comment: Option<&str>,
) -> Result<Report> {
    let p = caller.principal;
    allow(p, ReportAction::View)?;
    let report = entries::by_id(store, report_id)
        .await?
        .ok_or(Error::NotFound)?;
    let place = ReportPlace {
        province: report.province_code.clone(),
        county: report.county_code.clone(),
    };
    let pl = place.place();
    if !may(p, ReportAction::Enter(&pl)) && !may(p, ReportAction::Approve(&pl)) {
        return Err(Error::NotFound);
    }
    let needed = match (transition, report.status) {
        (Transition::Save | Transition::Submit, _) => ReportAction::Enter(&pl),
        (Transition::Approve, _) | (Transition::Return, ReportStatus::Submitted) => {
            ReportAction::Approve(&pl)
        }
        (Transition::Accept | Transition::Reopen | Transition::Return, _) => ReportAction::Accept,
    };
    allow(p, needed)?;
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if transition.needs_comment() && comment.is_none() {
        return Err(Error::Invalid("reports-comment-required"));
    }
    if comment.is_some_and(|c| c.chars().count() > 1000) {
        return Err(Error::Invalid("reports-comment-too-long"));
    }
    let to = state::next(Some(report.status), transition).map_err(Error::Conflict)?;
    if transition == Transition::Submit {
        // What was saved as a draft must be complete and keep the rules now.
        let def = store_reports::datasets::definition(store, report.dataset_id, report.version)
            .await?
            .ok_or(Error::NotFound)?;
        let values = entries::values(store, report.id).await?;
        let (_, problems) = dataset::read_form(&def, &dataset::form_text(&def, &values));
        if !problems.is_empty() {
            return Err(Error::Invalid("reports-submit-incomplete"));
        }
    }
    let mut tx = store.begin().await?;
    entries::set_status(
        &mut tx,
        report.id,
        report.status,
        to,
        p.user_id,
        comment,
        None,
    )
    .await?;
    match transition {
        Transition::Accept => entries::rollup(&mut tx, &report, 1).await?,
        Transition::Reopen => entries::rollup(&mut tx, &report, -1).await?,
        _ => {}
    }
    entries::add_event(
        &mut tx,
        report.id,
        transition.as_str(),
        Some(report.status),
        to,
        comment,
        p.user_id,
        &p.name,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        &format!("reports.{}", transition.as_str()),
        "report",
        report.id.to_string(),
        serde_json::json!({
            "from": report.status.as_str(), "to": to.as_str(), "period": report.period,
            "province": report.province_code, "county": report.county_code,
            "comment": comment,
        }),
    )
    .await?;
    tx.commit().await?;
    entries::by_id(store, report.id)
        .await?
        .ok_or(Error::NotFound)
}

/// The reports the principal may see, newest first.
pub async fn list_reports(
    store: &Store,
    caller: &Caller<'_>,
    mut filter: entries::ReportFilter,
    limit: i64,
) -> Result<Vec<Report>> {
    let p = caller.principal;
    allow(p, ReportAction::View)?;
    if let Some(prov) = p.scope.province() {
        filter.province = Some(prov.to_owned());
    }
    if let Some(c) = p.scope.county() {
        filter.county = Some(c.to_owned());
    }
    Ok(entries::list(store, &filter, limit.clamp(1, 1000)).await?)
}

/// Reports a page at a time by key (newest first, `REPORTS_PAGE` a page) in the caller's scope:
/// the page, and the key of the next page when there is one.
pub async fn list_reports_page(
    store: &Store,
    caller: &Caller<'_>,
    mut filter: entries::ReportFilter,
    before: Option<i64>,
) -> Result<(Vec<Report>, Option<i64>)> {
    let p = caller.principal;
    allow(p, ReportAction::View)?;
    if let Some(prov) = p.scope.province() {
        filter.province = Some(prov.to_owned());
    }
    if let Some(c) = p.scope.county() {
        filter.county = Some(c.to_owned());
    }
    let mut rows = entries::page(store, &filter, before, REPORTS_PAGE + 1).await?;
    let next = if rows.len() as i64 > REPORTS_PAGE {
        rows.truncate(REPORTS_PAGE as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok((rows, next))
}

/// Reports a page of the reports list shows.
pub const REPORTS_PAGE: i64 = 100;

// ---------------------------------------------------------------------------------------------
// Bulk entry

/// One row of a bulk file: its row number, place, period and cells by field name.
#[derive(Debug, Clone)]
pub struct BulkRow {
    pub row: u64,
    pub province: String,
    pub county: String,
    pub period: String,
    pub cells: BTreeMap<String, String>,
}

/// What became of one row.
#[derive(Debug, Clone)]
pub struct BulkOutcome {
    pub row: u64,
    pub place: String,
    pub period: String,
    /// None: accepted; else the message id of why the row was refused.
    pub refused: Option<&'static str>,
    pub problems: Vec<Problem>,
    pub warnings: usize,
}

/// Saves each row as its place's report (a draft, or submitted), each in its own transaction
/// and authorised for its own place; returns a per-row report.
pub async fn bulk_entry(
    store: &Store,
    caller: &Caller<'_>,
    dataset_id: i64,
    rows: &[BulkRow],
    submit: bool,
) -> Result<Vec<BulkOutcome>> {
    allow(caller.principal, ReportAction::View)?;
    if rows.len() > 2000 {
        return Err(Error::Invalid("reports-bulk-too-many"));
    }
    let mut out = vec![];
    for r in rows {
        let place = ReportPlace {
            province: r.province.trim().to_owned(),
            county: r.county.trim().to_owned(),
        };
        let mut o = BulkOutcome {
            row: r.row,
            place: if place.county.is_empty() {
                place.province.clone()
            } else {
                place.county.clone()
            },
            period: r.period.clone(),
            refused: None,
            problems: vec![],
            warnings: 0,
        };
        match save_entry(
            store, caller, dataset_id, &place, &r.period, &r.cells, submit,
        )
        .await
        {
            Ok(SaveOutcome::Saved { outliers, .. }) => o.warnings = outliers.len(),
            Ok(SaveOutcome::Refused { problems }) => {
                o.refused = Some("reports-bulk-row-problems");
                o.problems = problems;
            }
            Err(Error::Denied) => o.refused = Some("reports-bulk-row-denied"),
            Err(Error::Invalid(c) | Error::Conflict(c)) => o.refused = Some(c),
            Err(Error::NotFound) => o.refused = Some("reports-place-not-reporting"),
            Err(e) => return Err(e),
        }
        out.push(o);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Completeness, timeliness, reminders

/// One province's reporting of a data set for a period, with the places still missing.
#[derive(Debug, Clone)]
pub struct CompletenessRow {
    pub counts: entries::Completeness,
    /// Places (county codes, or the province code) with no sent report.
    pub missing: Vec<String>,
}

/// The expected reporting places of a data set inside the principal's scope.
async fn expected_places(
    store: &Store,
    p: &Principal,
    ds: &DataSet,
) -> Result<BTreeMap<String, Vec<String>>> {
    let filter = p.place_filter();
    let counties = match ds.level {
        Level::County => geo::all_counties(store).await?,
        Level::Province => vec![],
    };
    let mut out = BTreeMap::new();
    for prov in geo::provinces(store, &filter).await? {
        if !ds.reports_in(&prov.code) {
            continue;
        }
        let places = match ds.level {
            Level::Province => vec![String::new()],
            Level::County => counties
                .iter()
                .filter(|c| c.province_code == prov.code)
                .filter(|c| p.scope.county().is_none_or(|own| own == c.code))
                .map(|c| c.code.clone())
                .collect(),
        };
        out.insert(prov.code, places);
    }
    Ok(out)
}

pub async fn completeness(
    store: &Store,
    caller: &Caller<'_>,
    dataset_id: i64,
    period: &str,
) -> Result<(DataSet, Period, Vec<CompletenessRow>)> {
    let p = caller.principal;
    allow(p, ReportAction::View)?;
    let ds = store_reports::datasets::by_id(store, dataset_id)
        .await?
        .ok_or(Error::NotFound)?;
    let period = Period::parse(period)
        .filter(|x| x.kind() == ds.period_type)
        .ok_or(Error::Invalid("reports-period-invalid"))?;
    let expected = expected_places(store, p, &ds).await?;
    let due: BTreeMap<String, i64> = [(period.code(), deadline_millis(&period, ds.due_day))].into();
    let counts =
        entries::completeness(store, ds.id, &[period.code()], &due, p.scope.province()).await?;
    let sent = entries::sent_places(store, ds.id, &period.code()).await?;
    let mut rows = vec![];
    for (prov, places) in expected {
        let mut c = counts
            .iter()
            .find(|c| c.province_code == prov)
            .cloned()
            .unwrap_or_else(|| entries::Completeness {
                province_code: prov.clone(),
                period: period.code(),
                ..Default::default()
            });
        c.expected = places.len() as i64;
        let missing = places
            .iter()
            .filter(|c| !sent.contains(&(prov.clone(), (*c).clone())))
            .map(|c| {
                if c.is_empty() {
                    prov.clone()
                } else {
                    c.clone()
                }
            })
            .collect();
        rows.push(CompletenessRow { counts: c, missing });
    }
    Ok((ds, period, rows))
}

/// Timeliness over the last periods: per period, expected, sent and on time (the country or
/// the principal's province).
pub async fn timeliness(
    store: &Store,
    caller: &Caller<'_>,
    ds: &DataSet,
    periods: &[Period],
) -> Result<Vec<entries::Completeness>> {
    let p = caller.principal;
    allow(p, ReportAction::View)?;
    let expected: i64 = expected_places(store, p, ds)
        .await?
        .values()
        .map(|v| v.len() as i64)
        .sum();
    let codes: Vec<String> = periods.iter().map(Period::code).collect();
    let due: BTreeMap<String, i64> = periods
        .iter()
        .map(|x| (x.code(), deadline_millis(x, ds.due_day)))
        .collect();
    let rows = entries::completeness(store, ds.id, &codes, &due, p.scope.province()).await?;
    Ok(codes
        .iter()
        .map(|c| {
            let mut t = entries::Completeness {
                period: c.clone(),
                expected,
                ..Default::default()
            };
            for r in rows.iter().filter(|r| &r.period == c) {
                t.sent += r.sent;
                t.on_time += r.on_time;
                t.accepted += r.accepted;
                t.returned += r.returned;
                t.draft += r.draft;
            }
            t
        })
        .collect())
}

/// Every active data set with its last due period's completeness (the principal's places:
/// sent, accepted, returned; not the on-time count), read in one grouped statement.
pub async fn statuses(
    store: &Store,
    caller: &Caller<'_>,
) -> Result<Vec<(DataSet, Period, entries::Completeness)>> {
    let p = caller.principal;
    allow(p, ReportAction::View)?;
    let now = hamdeli_store::now_millis();
    let datasets: Vec<DataSet> = store_reports::datasets::list(store)
        .await?
        .into_iter()
        .filter(|d| d.active)
        .collect();
    let filter = p.place_filter();
    let provinces = geo::provinces(store, &filter).await?;
    let counties = geo::all_counties(store).await?;
    let items: Vec<(i64, String)> = datasets
        .iter()
        .map(|d| (d.id, last_due_period(d.period_type, now).code()))
        .collect();
    let mut counts = entries::status_summary(store, &items, p.scope.province()).await?;
    Ok(datasets
        .into_iter()
        .map(|d| {
            let period = last_due_period(d.period_type, now);
            let expected = provinces
                .iter()
                .filter(|pr| d.reports_in(&pr.code))
                .map(|pr| match d.level {
                    Level::Province => 1,
                    Level::County => counties
                        .iter()
                        .filter(|c| c.province_code == pr.code)
                        .filter(|c| p.scope.county().is_none_or(|own| own == c.code))
                        .count() as i64,
                })
                .sum();
            let mut c = counts.remove(&d.id).unwrap_or_default();
            c.period = period.code();
            c.expected = expected;
            (d, period, c)
        })
        .collect())
}

/// Sends an in-app reminder to every place whose report of a past-due period is not sent.
pub async fn remind_late(
    store: &Store,
    caller: &Caller<'_>,
    dataset_id: i64,
    period: &str,
) -> Result<usize> {
    let p = caller.principal;
    allow(p, ReportAction::Remind)?;
    let (ds, period, rows) = completeness(store, caller, dataset_id, period).await?;
    if deadline_millis(&period, ds.due_day) > hamdeli_store::now_millis() {
        return Err(Error::Conflict("reports-remind-not-due"));
    }
    let mut tx = store.begin().await?;
    let mut n = 0;
    for r in &rows {
        for m in &r.missing {
            let county = if *m == r.counts.province_code {
                ""
            } else {
                m.as_str()
            };
            entries::add_reminder(
                &mut tx,
                ds.id,
                &period.code(),
                &r.counts.province_code,
                county,
                p.user_id,
            )
            .await?;
            n += 1;
        }
    }
    audit_write(
        &mut tx,
        caller,
        "reports.remind",
        "report_dataset",
        ds.id.to_string(),
        serde_json::json!({ "period": period.code(), "reminders": n }),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// The open reminders addressed to the principal's office (a province's or a county's).
pub async fn my_reminders(store: &Store, caller: &Caller<'_>) -> Result<Vec<entries::Reminder>> {
    let p = caller.principal;
    if !may(p, ReportAction::View) || p.role == Role::NationalAdmin {
        return Ok(vec![]);
    }
    Ok(entries::open_reminders(store, p.scope.province(), p.scope.county(), 20).await?)
}

// ---------------------------------------------------------------------------------------------
// Figures of Hamdeli's own data

/// Bounds of the last `n` Jalali months up to this one.
pub fn month_bounds(now_ms: i64, n: usize) -> Vec<MonthBounds> {
    let current = current_period(PeriodType::Month, now_ms);
    current
        .last_n(n)
        .into_iter()
        .filter_map(|p| {
            let (y, m) = match p {
                Period::Month(y, m) => (y, m),
                _ => return None,
            };
            let start = hamdeli_locale_free::from_jalali_midnight(y, m, 1)?;
            let Period::Month(ny, nm) = p.next() else {
                return None;
            };
            let end = hamdeli_locale_free::from_jalali_midnight(ny, nm, 1)?;
            Some(MonthBounds {
                code: p.code(),
                start,
                end,
            })
        })
        .collect()
}

/// Recomputes the figures of Hamdeli's own data (24 months back). The national office does it
/// from the dashboard; the demo and the command line too.
pub async fn refresh_figures(store: &Store, caller: &Caller<'_>) -> Result<usize> {
    allow(caller.principal, ReportAction::ConfigureIndex)?;
    let n = figures::refresh(store, &month_bounds(hamdeli_store::now_millis(), 24)).await?;
    let mut tx = store.begin().await?;
    audit_write(
        &mut tx,
        caller,
        "reports.figures.refresh",
        "report_figures",
        String::new(),
        serde_json::json!({ "rows": n }),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Computes the figures once when they never were (a new installation's first dashboard).
pub async fn ensure_figures(store: &Store) -> Result<()> {
    if figures::computed_at(store).await?.is_none() {
        figures::refresh(store, &month_bounds(hamdeli_store::now_millis(), 24)).await?;
    }
    Ok(())
}

/// The values of a data set for the data-exchange file, of one period (a valid code, else
/// `reports-period-invalid`) or all, inside the principal's scope (a provincial office: its
/// province's, a county office: its county's), accepted reports only unless `accepted_only`
/// is false; at most 200,000 rows.
pub async fn exchange_rows(
    store: &Store,
    caller: &Caller<'_>,
    dataset: i64,
    period: Option<&str>,
    accepted_only: bool,
) -> Result<Vec<entries::ExchangeRow>> {
    allow(caller.principal, ReportAction::View)?;
    let period = period.filter(|p| !p.is_empty());
    if let Some(p) = period
        && Period::parse(p).is_none()
    {
        return Err(Error::Invalid("reports-period-invalid"));
    }
    let mut rows = entries::exchange(
        store,
        dataset,
        period,
        caller.principal.scope.province(),
        accepted_only,
        200_000,
    )
    .await?;
    if let Some(c) = caller.principal.scope.county() {
        rows.retain(|r| r.org_unit == c);
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// The need index

/// The indicators' values per province: own ones from the figures (a share or rate only where
/// its base counts at least 5 people), imported ones as imported.
pub async fn index_data(store: &Store) -> Result<BTreeMap<String, BTreeMap<String, f64>>> {
    ensure_figures(store).await?;
    let mut data = store_reports::index::imported(store).await?;
    let heads = figures::values(store, "female_heads", figures::NOW, None).await?;
    let uncovered = figures::values(store, "female_heads_uncovered", figures::NOW, None).await?;
    let persons = figures::values(store, "persons", figures::NOW, None).await?;
    let open = figures::values(store, "needs_open", figures::NOW, None).await?;
    let small = hamdeli_domain::needs::SMALL_CELL;
    data.insert(
        "female_heads_uncovered_share".into(),
        heads
            .iter()
            .filter(|(_, h)| **h >= small)
            .map(|(p, h)| {
                let u = uncovered.get(p).copied().unwrap_or(0);
                (p.clone(), 100.0 * u as f64 / *h as f64)
            })
            .collect(),
    );
    data.insert(
        "unmet_needs_per_1000".into(),
        persons
            .iter()
            .filter(|(_, n)| **n >= small)
            .map(|(p, n)| {
                let o = open.get(p).copied().unwrap_or(0);
                (p.clone(), 1000.0 * o as f64 / *n as f64)
            })
            .collect(),
    );
    Ok(data)
}

/// The index's configuration page's history: the last 20 changes of the weights and, per
/// imported indicator, its values by province; for a principal who sees the reports.
pub async fn index_history(
    store: &Store,
    caller: &Caller<'_>,
) -> Result<(
    Vec<store_reports::index::WeightChange>,
    BTreeMap<String, BTreeMap<String, f64>>,
)> {
    allow(caller.principal, ReportAction::View)?;
    Ok((
        store_reports::index::history(store, 20).await?,
        store_reports::index::imported(store).await?,
    ))
}

/// The index's indicators and the ranking with given weights (the saved ones when `weights` is
/// None). Public: it holds aggregates only.
pub async fn need_index(
    store: &Store,
    weights: Option<&BTreeMap<String, i64>>,
) -> Result<(Vec<store_reports::index::Indicator>, Vec<ProvinceScore>)> {
    let indicators = store_reports::index::indicators(store).await?;
    let data = index_data(store).await?;
    let specs: Vec<IndicatorSpec> = indicators
        .iter()
        .map(|i| IndicatorSpec {
            code: i.code.clone(),
            direction: i.direction,
            weight: weights
                .and_then(|w| w.get(&i.code).copied())
                .unwrap_or(i.weight),
        })
        .collect();
    let provinces: Vec<String> = geo::all_provinces(store)
        .await?
        .into_iter()
        .map(|p| p.code)
        .collect();
    Ok((indicators, index::rank(&specs, &data, &provinces)))
}

/// Checks weights (each 0..=100 points, known indicators, not all zero).
pub async fn check_weights(store: &Store, weights: &BTreeMap<String, i64>) -> Result<()> {
    let known: BTreeSet<String> = store_reports::index::indicators(store)
        .await?
        .into_iter()
        .map(|i| i.code)
        .collect();
    if weights.keys().any(|k| !known.contains(k)) {
        return Err(Error::Invalid("reports-index-unknown-indicator"));
    }
    if weights
        .values()
        .any(|w| !(0..=index::MAX_WEIGHT).contains(w))
    {
        return Err(Error::Invalid("reports-index-weight-range"));
    }
    if weights.values().all(|w| *w == 0) {
        return Err(Error::Invalid("reports-index-weights-zero"));
    }
    Ok(())
}

pub async fn save_weights(
    store: &Store,
    caller: &Caller<'_>,
    weights: &BTreeMap<String, i64>,
    note: Option<&str>,
) -> Result<()> {
    let p = caller.principal;
    allow(p, ReportAction::ConfigureIndex)?;
    check_weights(store, weights).await?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(Error::Invalid("reports-comment-too-long"));
    }
    let mut tx = store.begin().await?;
    store_reports::index::set_weights(&mut tx, weights, note, p.user_id, &p.name).await?;
    audit_write(
        &mut tx,
        caller,
        "reports.index.weights",
        "index_indicators",
        String::new(),
        serde_json::json!({ "weights": weights, "note": note }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One row of an imported indicator file, as read.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub row: u64,
    pub province: String,
    pub value: String,
}

/// What an indicator import did, row by row.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    /// (row, province code, value × 1000)
    pub accepted: Vec<(u64, String, i64)>,
    /// (row, the province as written, message id)
    pub rejected: Vec<(u64, String, &'static str)>,
}

/// Reads a decimal (any digits, `.` `/` `٫` as the decimal point) as thousandths.
pub fn parse_milli(s: &str) -> Option<i64> {
    let t: String = hamdeli_text::digits::fold_digits(s.trim())
        .chars()
        .map(|c| if matches!(c, '/' | '٫') { '.' } else { c })
        .filter(|c| !matches!(c, ',' | '٬' | ' ' | '%'))
        .collect();
    if t.is_empty() || t.len() > 24 {
        return None;
    }
    let v: f64 = t.parse().ok()?;
    (v.is_finite() && v.abs() < 1e12).then(|| (v * 1000.0).round() as i64)
}

/// Imports an external indicator's values per province (a province named by code, ISO code or
/// name in either language); bad rows are reported and the good ones stored.
pub async fn import_indicator(
    store: &Store,
    caller: &Caller<'_>,
    indicator: &str,
    period: &str,
    rows: &[ImportRow],
) -> Result<ImportReport> {
    let p = caller.principal;
    allow(p, ReportAction::ConfigureIndex)?;
    let ind = store_reports::index::indicators(store)
        .await?
        .into_iter()
        .find(|i| i.code == indicator && i.source == "imported")
        .ok_or(Error::Invalid("reports-index-unknown-indicator"))?;
    if rows.len() > 1000 {
        return Err(Error::Invalid("reports-bulk-too-many"));
    }
    let period: String = period.trim().chars().take(20).collect();
    let provinces = geo::reference_provinces()?;
    let key = |s: &str| hamdeli_text::normalize::name_key(s);
    let mut report = ImportReport::default();
    let mut values = BTreeMap::new();
    for r in rows {
        let written = r.province.trim();
        let folded = hamdeli_text::digits::fold_digits(written);
        let found = provinces.iter().find(|pr| {
            pr.code == folded
                || pr.iso_3166_2.eq_ignore_ascii_case(&folded)
                || pr.name_en.eq_ignore_ascii_case(written)
                || key(&pr.name_fa) == key(written)
        });
        let Some(pr) = found else {
            report
                .rejected
                .push((r.row, written.to_owned(), "reports-import-province-unknown"));
            continue;
        };
        let Some(v) = parse_milli(&r.value) else {
            report
                .rejected
                .push((r.row, written.to_owned(), "reports-import-value-invalid"));
            continue;
        };
        if values.insert(pr.code.clone(), v).is_some() {
            report
                .rejected
                .push((r.row, written.to_owned(), "reports-import-province-twice"));
            continue;
        }
        report.accepted.push((r.row, pr.code.clone(), v));
    }
    let mut tx = store.begin().await?;
    store_reports::index::import_values(&mut tx, &ind.code, &period, &values, p.user_id).await?;
    audit_write(
        &mut tx,
        caller,
        "reports.index.import",
        "index_indicator",
        ind.code.clone(),
        serde_json::json!({ "period": period, "accepted": report.accepted.len(), "rejected": report.rejected.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_in_any_digits() {
        assert_eq!(parse_milli("12.5"), Some(12_500));
        assert_eq!(parse_milli("۱۲/۵"), Some(12_500));
        assert_eq!(parse_milli("٣٫٢٥%"), Some(3_250));
        assert_eq!(parse_milli("abc"), None);
        assert_eq!(parse_milli(""), None);
    }

    #[test]
    fn deadlines_and_month_bounds_are_in_iran_time() {
        // 1 Farvardin 1404 = 2025-03-21; midnight in Iran is 20:30 UTC the day before.
        let start = hamdeli_locale_free::from_jalali_midnight(1404, 1, 1).unwrap();
        assert_eq!(start, 1_742_502_600_000);
        assert_eq!(hamdeli_locale_free::jalali_month_of(start), Some((1404, 1)));
        assert_eq!(
            hamdeli_locale_free::jalali_month_of(start - 1),
            Some((1403, 12))
        );
        // The report of Esfand 1403 due on the 10th of Farvardin 1404: until its end.
        let d = deadline_millis(&Period::Month(1403, 12), 10);
        assert_eq!(d, start + 10 * 86_400_000);
        let b = month_bounds(start + 5 * 86_400_000, 2);
        assert_eq!(b.len(), 2);
        assert_eq!(b[1].code, "1404-01");
        assert_eq!(b[1].start, start);
        assert_eq!(b[0].end, start);
    }
}
