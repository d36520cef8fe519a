//! Needs (capability B): the needs identity card of a household, recording and verifying
//! needs, need tables by place, zone and type with downloads, the published priority weights
//! and need types, deliveries and the double-service report.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::needs::{self as needs_app, CardRead};
use hamdeli_domain::needs::{Indicator, NeedStatus, Score, Urgency};
use hamdeli_store::distribution::{AllocationRow, DoubleService, Outcome, SupportEntry};
use hamdeli_store::geo;
use hamdeli_store::needs::{self, Need, NeedGroup, NeedQuery, NeedTableRow, NeedType};
use hamdeli_store::persons::{Household, Member, Person};

use crate::AppState;
use crate::charts::{self, Bar};
use crate::context::Ctx;
use crate::error::AppError;
use crate::export::{self, Cell};
use crate::pages::registry::PlaceNames;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

/// Need type names in the page's language, and their units.
pub(crate) struct TypeNames(Vec<NeedType>, Loc);

impl TypeNames {
    pub(crate) async fn load(state: &AppState, l: Loc) -> Result<TypeNames, AppError> {
        Ok(TypeNames(needs::need_types(&state.store).await?, l))
    }
    pub(crate) fn of(&self, code: &str) -> String {
        self.0
            .iter()
            .find(|t| t.code == code)
            .map(|t| self.1.name(&t.name_fa, &t.name_en).to_owned())
            .unwrap_or_else(|| code.to_owned())
    }
    /// A resource of a campaign: money or goods of a type.
    pub(crate) fn resource(&self, code: &str) -> String {
        if code == hamdeli_store::campaigns::MONEY {
            self.1.t("resource-money")
        } else {
            self.of(code)
        }
    }
    pub(crate) fn is_money(&self, code: &str) -> bool {
        code == hamdeli_store::campaigns::MONEY
            || self.0.iter().any(|t| t.code == code && t.is_money())
    }
    /// An amount of a need type or resource with its unit: `۱۲٬۰۰۰ ریال` or `۳ واحد`.
    pub(crate) fn amount(&self, code: &str, n: &i64) -> String {
        let unit = if self.is_money(code) {
            self.1.t("unit-rial")
        } else {
            self.1.t("unit-unit")
        };
        format!("{} {unit}", self.1.num(n))
    }
    pub(crate) fn active(&self) -> Vec<&NeedType> {
        self.0.iter().filter(|t| t.active).collect()
    }
    pub(crate) fn all(&self) -> &[NeedType] {
        &self.0
    }
}

/// One line of the score, ready to show.
pub struct ScoreRow {
    pub indicator: String,
    pub value: i64,
    pub weight: i64,
    pub points: i64,
}

pub fn score_rows(l: Loc, s: &Score) -> Vec<ScoreRow> {
    s.lines
        .iter()
        .map(|line| ScoreRow {
            indicator: l.tv("indicator", line.indicator.code()),
            value: line.value,
            weight: line.weight,
            points: line.points,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The needs identity card

#[derive(Template)]
#[template(path = "needs_card.html")]
struct CardPage {
    shell: Shell,
    l: Loc,
    person: Person,
    household: Option<(Household, Vec<Member>)>,
    score_total: i64,
    score: Vec<ScoreRow>,
    needs: Vec<Need>,
    support: Vec<SupportEntry>,
    allocations: Vec<AllocationRow>,
    types: TypeNames,
    places: PlaceNames,
    urgencies: Vec<&'static str>,
}

pub async fn card(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let card = match needs_app::read_card(&state.store, &caller(&ctx)?, id).await? {
        CardRead::MergedInto(to) => {
            return Ok(see_other(&format!("/registry/persons/{to}/card")));
        }
        CardRead::Card(card) => *card,
    };
    let l = Loc(ctx.locale);
    let title = format!(
        "{} — {} {}",
        l.t("card-title"),
        card.person.first_name.as_deref().unwrap_or(""),
        card.person.last_name.as_deref().unwrap_or("")
    );
    html(CardPage {
        shell: Shell::new(&ctx, title),
        l,
        support: card.support,
        allocations: card.allocations,
        person: card.person,
        household: card.household,
        score_total: card.score.total,
        score: score_rows(l, &card.score),
        needs: card.needs,
        types: TypeNames::load(&state, l).await?,
        places: PlaceNames::load(&state, l).await?,
        urgencies: Urgency::ALL.iter().map(|u| u.code()).collect(),
    })
}

#[derive(Deserialize)]
pub struct NeedForm {
    need_type: String,
    amount: String,
    urgency: String,
    #[serde(default)]
    note: String,
}

/// A whole number typed in any digit script, with grouping separators tolerated.
pub(crate) fn parse_amount(s: &str) -> Option<i64> {
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, ',' | '٬' | '،' | ' ' | '\u{200c}' | '_'))
        .map(hamdeli_text::digits::fold_digit)
        .collect();
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

pub async fn add_need(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<NeedForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let amount = parse_amount(&form.amount).ok_or(AppError::BadRequest("need-amount-positive"))?;
    let urgency = Urgency::parse(&form.urgency).ok_or(AppError::BadRequest("form-invalid"))?;
    let need = needs::NewNeed {
        person_id: id,
        need_type: form.need_type,
        amount,
        urgency,
        note: Some(form.note.trim().to_owned()),
    };
    needs_app::record_need(&state.store, &caller, &need).await?;
    Ok(see_other(&format!("/registry/persons/{id}/card")))
}

#[derive(Deserialize)]
pub struct StatusForm {
    status: String,
}

pub async fn set_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<StatusForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let status = NeedStatus::parse(&form.status).ok_or(AppError::BadRequest("form-invalid"))?;
    let need = needs_app::change_need_status(&state.store, &caller, id, status).await?;
    Ok(see_other(&format!(
        "/registry/persons/{}/card",
        need.person_id
    )))
}

// ---------------------------------------------------------------------------------------------
// Need tables

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TableQuery {
    by: Option<String>,
    province: Option<String>,
    county: Option<String>,
    zone: Option<String>,
    need_type: Option<String>,
    status: Option<String>,
    format: Option<String>,
    /// Keyset paging of the list: the page starts after this need (of this urgency rank).
    after: Option<i64>,
    after_rank: Option<i64>,
}

/// Rows of one page of the need list, the deliveries and the reviews.
const NEEDS_PAGE_ROWS: i64 = 100;
const DELIVERIES_PAGE_ROWS: i64 = 100;

impl TableQuery {
    fn filters(&self) -> NeedQuery {
        let keep = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
        NeedQuery {
            province: keep(&self.province),
            county: keep(&self.county),
            zone: keep(&self.zone),
            need_type: keep(&self.need_type),
            status: keep(&self.status),
        }
    }
}

#[derive(Template)]
#[template(path = "needs.html")]
struct TablePage {
    shell: Shell,
    l: Loc,
    by: &'static str,
    q: TableQuery,
    rows: Vec<NeedTableRow>,
    total_needs: i64,
    /// Needs per group (SVG, and its figures as a table).
    chart: String,
    list: Vec<Need>,
    /// The next page's cursor (urgency rank, need id), when there is one.
    next: Option<(i64, i64)>,
    types: TypeNames,
    places: PlaceNames,
    provinces: Vec<(String, String)>,
    statuses: Vec<&'static str>,
    export_query: String,
    may_configure: bool,
}

/// Handles the GET /needs route: the need table of the caller's places (HTML, or XLSX/CSV with
/// `format`) and the needs list, paged by key.
pub async fn table(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TableQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    // A county expert's table starts at the county (one place: by province it would say the
    // same under the province's name).
    let start = match caller.principal.scope {
        hamdeli_domain::Scope::County { .. } => "county",
        _ => "province",
    };
    let group = NeedGroup::parse(q.by.as_deref().unwrap_or(start));
    let filters = q.filters();
    let format = export::requested(q.format.as_deref());
    let rows = match format {
        Some(fmt) => {
            needs_app::export_need_table(&state.store, &caller, &filters, group, fmt).await?
        }
        None => needs_app::need_table(&state.store, &caller, &filters, group).await?,
    };
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let group_label = |g: &str| match group {
        NeedGroup::Province | NeedGroup::County => places.of_str(g),
        NeedGroup::Zone => l.tv("zone", g),
        NeedGroup::Type => types.of(g),
    };
    if let Some(fmt) = format {
        let headers = vec![
            l.t(&format!("needs-by-{}", group.code())),
            l.t("field-need-type"),
            l.t("needs-count"),
            l.t("needs-persons"),
            l.t("needs-amount"),
            l.t("needs-allocated"),
            l.t("needs-outstanding"),
        ];
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::from(group_label(&r.group)),
                    Cell::from(types.of(&r.need_type)),
                    Cell::from(r.needs),
                    Cell::from(r.persons),
                    Cell::from(r.amount),
                    Cell::from(r.allocated),
                    Cell::from(r.outstanding),
                ]
            })
            .collect();
        return export::table(
            fmt,
            &format!("needs-{}", group.code()),
            &l.t("needs-title"),
            &headers,
            &cells,
            ctx.locale == hamdeli_locale::Locale::Fa,
        );
    }
    // The chart: outstanding need per group (all types together), largest first.
    let mut by_group: Vec<(String, i64)> = vec![];
    for r in &rows {
        match by_group.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, v)) => *v = v.saturating_add(r.needs),
            None => by_group.push((r.group.clone(), r.needs)),
        }
    }
    by_group.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let bars: Vec<Bar> = by_group
        .iter()
        .take(31)
        .map(|(g, v)| Bar::new(group_label(g), *v, l.num(v)))
        .collect();
    let chart = charts::bars_with_table(
        &l.t("needs-chart"),
        &bars,
        l.dir() == "rtl",
        &l.t("chart-table"),
        [&l.tv("needs-by", group.code()), &l.t("needs-count")],
    );
    let after = q
        .after
        .map(|id| (q.after_rank.unwrap_or(0).clamp(0, 3), id));
    let mut list =
        needs_app::need_list(&state.store, &caller, &filters, after, NEEDS_PAGE_ROWS + 1).await?;
    let next = if list.len() as i64 > NEEDS_PAGE_ROWS {
        list.truncate(NEEDS_PAGE_ROWS as usize);
        list.last()
            .map(|n| (hamdeli_store::needs::urgency_rank(&n.urgency), n.id))
    } else {
        None
    };
    let provinces = geo::all_provinces(&state.store)
        .await?
        .into_iter()
        .map(|pr| (pr.code.clone(), l.name(&pr.name_fa, &pr.name_en).to_owned()))
        .collect();
    let mut export_query = format!("by={}", group.code());
    for (k, v) in [
        ("province", &filters.province),
        ("county", &filters.county),
        ("zone", &filters.zone),
        ("need_type", &filters.need_type),
        ("status", &filters.status),
    ] {
        if let Some(v) = v {
            export_query.push_str(&format!("&{k}={}", urlencode(v)));
        }
    }
    html(TablePage {
        shell: Shell::new(&ctx, l.t("needs-title")),
        l,
        by: group.code(),
        total_needs: rows.iter().map(|r| r.needs).sum(),
        rows,
        chart,
        list,
        next,
        types,
        places,
        provinces,
        statuses: NeedStatus::ALL.iter().map(|s| s.code()).collect(),
        export_query,
        may_configure: needs_app::may_configure(Some(caller.principal)),
        q,
    })
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Priority weights and need types (public to read, the national office edits)

#[derive(Template)]
#[template(path = "priority.html")]
struct PriorityPage {
    shell: Shell,
    l: Loc,
    weights: Vec<(String, String, i64)>,
    types: Vec<NeedType>,
    may_configure: bool,
}

pub async fn priority_page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let (w, types) = needs_app::published_priority(&state.store).await?;
    let may_configure = needs_app::may_configure(ctx.principal.as_ref());
    html(PriorityPage {
        shell: Shell::new(&ctx, l.t("priority-title")),
        l,
        weights: w
            .0
            .iter()
            .map(|(i, n)| (i.code().to_owned(), l.tv("indicator", i.code()), *n))
            .collect(),
        types,
        may_configure,
    })
}

pub async fn save_weights(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let mut changes = vec![];
    for (k, v) in &form {
        if let Some(i) = Indicator::parse(k) {
            let w = parse_amount(v).ok_or(AppError::BadRequest("priority-weight-range"))?;
            changes.push((i, w));
        }
    }
    needs_app::set_weights(&state.store, &caller, &changes).await?;
    Ok(see_other("/priority"))
}

#[derive(Deserialize)]
pub struct TypeForm {
    code: String,
    name_fa: String,
    #[serde(default)]
    name_en: String,
    unit: String,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    sort: String,
}

pub async fn save_type(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<TypeForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let t = NeedType {
        code: form.code.trim().to_owned(),
        name_fa: form.name_fa,
        name_en: form.name_en,
        unit: form.unit,
        active: form.active.is_some(),
        sort: parse_amount(&form.sort).unwrap_or(100),
    };
    needs_app::save_need_type(&state.store, &caller, &t).await?;
    Ok(see_other("/priority"))
}

// ---------------------------------------------------------------------------------------------
// Deliveries

#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    shell: Shell,
    l: Loc,
    status: String,
    rows: Vec<AllocationRow>,
    /// The next page's `after`, when there is one.
    next: Option<i64>,
    types: TypeNames,
    places: PlaceNames,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeliveriesQuery {
    status: Option<String>,
    /// Keyset paging: the page starts after this allocation.
    after: Option<i64>,
}

pub async fn deliveries(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DeliveriesQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let status = match q.status.as_deref() {
        Some("delivered") => "delivered",
        Some("failed") => "failed",
        _ => "pending",
    };
    let mut rows = needs_app::deliveries(
        &state.store,
        &caller,
        status,
        q.after,
        DELIVERIES_PAGE_ROWS + 1,
    )
    .await?;
    let next = if rows.len() as i64 > DELIVERIES_PAGE_ROWS {
        rows.truncate(DELIVERIES_PAGE_ROWS as usize);
        rows.last().map(|a| a.id)
    } else {
        None
    };
    html(DeliveriesPage {
        shell: Shell::new(&ctx, l.t("deliveries-title")),
        l,
        status: status.to_owned(),
        rows,
        next,
        types: TypeNames::load(&state, l).await?,
        places: PlaceNames::load(&state, l).await?,
    })
}

#[derive(Deserialize)]
pub struct DeliveryForm {
    outcome: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    note: String,
}

/// The recipient's code as typed: any digit script, spaces and dashes tolerated.
fn delivery_code_typed(s: &str) -> String {
    hamdeli_text::digits::fold_digits(s)
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

pub async fn record_delivery(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<DeliveryForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let outcome = match form.outcome.as_str() {
        "delivered" => Outcome::Delivered {
            code: Some(delivery_code_typed(&form.code)).filter(|c| !c.is_empty()),
            note: Some(form.note.clone()).filter(|n| !n.trim().is_empty()),
        },
        "failed" => Outcome::Failed {
            note: form.note.clone(),
        },
        _ => return Err(AppError::BadRequest("form-invalid")),
    };
    needs_app::record_delivery(
        &state.store,
        &caller,
        id,
        &outcome,
        hamdeli_locale::jalali_year_month,
    )
    .await?;
    Ok(see_other("/deliveries"))
}

// ---------------------------------------------------------------------------------------------
// Double service

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoubleQuery {
    period: Option<String>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "double_service.html")]
struct DoublePage {
    shell: Shell,
    l: Loc,
    period: String,
    rows: Vec<DoubleService>,
    types: TypeNames,
    places: PlaceNames,
}

/// The period of the double-service report: a Jalali year or year-month in any digits, this year
/// by default.
fn double_period(period: Option<&str>) -> String {
    period
        .map(|s| {
            s.chars()
                .map(|c| match hamdeli_text::digits::fold_digit(c) {
                    '/' => '-',
                    c => c,
                })
                .filter(|c| c.is_ascii_digit() || *c == '-')
                .collect()
        })
        .filter(|s: &String| !s.is_empty())
        .unwrap_or_else(|| {
            hamdeli_locale::jalali_year_month(hamdeli_store::now_millis())[..4].to_owned()
        })
}

#[derive(Deserialize)]
pub struct RefreshForm {
    period: Option<String>,
}

/// Brings the organisations' imported support lists into the support ledger (a write, so a POST;
/// the report's GET only reads), then shows the report again.
pub async fn refresh_double_service(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<RefreshForm>,
) -> Result<Response, AppError> {
    needs_app::refresh_support(
        &state.store,
        &caller(&ctx)?,
        hamdeli_locale::jalali_year_month,
    )
    .await?;
    let period = double_period(form.period.as_deref());
    Ok(see_other(&format!("/support/double?period={period}")))
}

pub async fn double_service(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DoubleQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let period = double_period(q.period.as_deref());
    let rows =
        needs_app::double_service(&state.store, &caller, &period, q.format.as_deref()).await?;
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    if let Some(fmt) = export::requested(q.format.as_deref()) {
        let headers = vec![
            l.t("field-person"),
            l.t("field-name"),
            l.t("field-county"),
            l.t("field-need-type"),
            l.t("double-providers"),
        ];
        let cells: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::from(r.person_id),
                    Cell::from(format!(
                        "{} {}",
                        r.first_name.as_deref().unwrap_or(""),
                        r.last_name.as_deref().unwrap_or("")
                    )),
                    Cell::from(places.of(&r.county_code)),
                    Cell::from(types.of(&r.need_type)),
                    Cell::from(
                        r.providers
                            .iter()
                            .map(|o| o.clone().unwrap_or_else(|| l.t("provider-office")))
                            .collect::<Vec<_>>()
                            .join("، "),
                    ),
                ]
            })
            .collect();
        return export::table(
            fmt,
            &format!("double-service-{period}"),
            &l.t("double-title"),
            &headers,
            &cells,
            ctx.locale == hamdeli_locale::Locale::Fa,
        );
    }
    html(DoublePage {
        shell: Shell::new(&ctx, l.t("double-title")),
        l,
        period,
        rows,
        types,
        places,
    })
}

#[cfg(test)]
mod tests {
    use super::{delivery_code_typed, parse_amount};

    #[test]
    fn typed_codes_fold_digits() {
        assert_eq!(delivery_code_typed("۱۲۳ ۴۵۶"), "123456");
        assert_eq!(delivery_code_typed("  "), "");
    }

    #[test]
    fn amounts_in_any_digits_with_grouping() {
        assert_eq!(parse_amount("۱۲٬۰۰۰"), Some(12000));
        assert_eq!(parse_amount("12,000"), Some(12000));
        assert_eq!(parse_amount("٣"), Some(3));
        assert_eq!(parse_amount(""), None);
        assert_eq!(parse_amount("-5"), None);
        assert_eq!(parse_amount("1e5"), None);
        assert_eq!(parse_amount("9999999999999999999"), None);
    }
}
