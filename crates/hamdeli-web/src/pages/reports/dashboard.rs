//! The dashboard: cards, the province map shaded by any indicator with its legend and table,
//! bars per province, the trend over periods, reporting completeness; a province's page with
//! its counties; the figures the home dashboard and the county page show.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::reports::{self as app, IndicatorKey, IndicatorOption};
use hamdeli_domain::reports::period::{Period, PeriodType};
use hamdeli_store::geo;
use hamdeli_store::reports::figures::NOW;

use super::map::{self, LegendStep};
use super::{Names, period_label, show_value};
use crate::AppState;
use crate::charts::{self, Bar, Point};
use crate::context::Ctx;
use crate::error::AppError;
use crate::export::{self, Cell};
use crate::pages::{html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DashQuery {
    ind: Option<String>,
    period: Option<String>,
    per: Option<String>,
    format: Option<String>,
}

pub(crate) struct Card {
    pub label: String,
    pub value: String,
    pub testid: &'static str,
}

pub(crate) struct OptGroup {
    pub label: String,
    pub options: Vec<(String, String, bool)>,
}

pub(crate) struct PlaceRow {
    pub code: String,
    pub name: String,
    pub value: String,
    pub per_capita: String,
    pub href: String,
}

pub(crate) struct DataSetStatus {
    pub id: i64,
    pub name: String,
    pub period: String,
    pub period_label: String,
    pub expected: i64,
    pub sent: i64,
    pub accepted: i64,
}

/// The indicator chosen, its periods, and the period shown.
struct Choice {
    key: IndicatorKey,
    option: IndicatorOption,
    periods: Vec<Period>,
    period: String,
}

fn default_period(kind: PeriodType, figure: bool) -> Period {
    let now = hamdeli_store::now_millis();
    if figure {
        app::current_period(kind, now)
    } else {
        app::last_due_period(kind, now)
    }
}

fn choose(options: &[IndicatorOption], ind: Option<&str>, period: Option<&str>) -> Choice {
    let wanted = ind.unwrap_or("fig:female_heads_uncovered");
    let option = options
        .iter()
        .find(|o| o.key == wanted)
        .or_else(|| options.first())
        .cloned()
        .unwrap_or(IndicatorOption {
            key: "fig:persons".into(),
            name_fa: String::new(),
            name_en: String::new(),
            group_fa: String::new(),
            group_en: String::new(),
            period_type: None,
            money: false,
        });
    let key = IndicatorKey::parse(&option.key).unwrap_or(IndicatorKey::Figure("persons".into()));
    let figure = matches!(key, IndicatorKey::Figure(_));
    match option.period_type {
        None => Choice {
            key,
            option,
            periods: vec![],
            period: NOW.into(),
        },
        Some(kind) => {
            let last = default_period(kind, figure);
            let n = match kind {
                PeriodType::Month => 24,
                PeriodType::Season => 8,
                PeriodType::Year => 3,
            };
            let periods = last.last_n(n);
            let period = period
                .and_then(Period::parse)
                .filter(|p| periods.contains(p))
                .unwrap_or(last)
                .code();
            Choice {
                key,
                option,
                periods,
                period,
            }
        }
    }
}

/// The indicator menu: Hamdeli's own figures, the elements of the chosen data set, and one
/// entry per other data set (its first element), so the page stays small with many data sets.
fn option_groups(l: Loc, options: &[IndicatorOption], chosen: &str) -> Vec<OptGroup> {
    let dataset_of = |key: &str| match IndicatorKey::parse(key) {
        Some(IndicatorKey::Element { dataset, .. }) => Some(dataset),
        _ => None,
    };
    let chosen_ds = dataset_of(chosen);
    let mut groups: Vec<OptGroup> = vec![];
    let mut others = OptGroup {
        label: l.t("reports-other-datasets"),
        options: vec![],
    };
    let mut seen = std::collections::BTreeSet::new();
    for o in options {
        let ds = dataset_of(&o.key);
        if ds.is_some() && ds != chosen_ds {
            if let Some(d) = ds
                && seen.insert(d)
            {
                others.options.push((
                    o.key.clone(),
                    l.name(&o.group_fa, &o.group_en).to_owned(),
                    false,
                ));
            }
            continue;
        }
        let g = l.name(&o.group_fa, &o.group_en).to_owned();
        let item = (
            o.key.clone(),
            l.name(&o.name_fa, &o.name_en).to_owned(),
            o.key == chosen,
        );
        match groups.iter_mut().find(|x| x.label == g) {
            Some(x) => x.options.push(item),
            None => groups.push(OptGroup {
                label: g,
                options: vec![item],
            }),
        }
    }
    if !others.options.is_empty() {
        groups.push(others);
    }
    groups
}

fn per_100k(v: i64, population: i64) -> Option<f64> {
    (population > 0).then(|| v as f64 * 100_000.0 / population as f64)
}

fn decimal(l: Loc, v: f64) -> String {
    l.digits(&format!("{v:.1}"))
}

#[derive(Template)]
#[template(path = "reports/dashboard.html")]
struct DashboardPage {
    shell: Shell,
    l: Loc,
    heading: String,
    cards: Vec<Card>,
    groups: Vec<OptGroup>,
    periods: Vec<(String, String, bool)>,
    indicator_name: String,
    period_label: String,
    per_capita: bool,
    map: String,
    legend: Vec<LegendStep>,
    rows: Vec<PlaceRow>,
    bars: String,
    trend: String,
    statuses: Vec<DataSetStatus>,
    may_refresh: bool,
    computed_at: Option<i64>,
    query: String,
}

async fn cards(
    state: &AppState,
    caller: &hamdeli_app::Caller<'_>,
    l: Loc,
    province: Option<&str>,
    county: Option<&str>,
) -> Result<Vec<Card>, AppError> {
    let now = hamdeli_store::now_millis();
    let month = app::current_period(PeriodType::Month, now).code();
    let mut out = vec![];
    for (ind, period, id, testid) in [
        ("persons", NOW, "reports-card-persons", "card-persons"),
        (
            "female_heads",
            NOW,
            "reports-card-female-heads",
            "card-female-heads",
        ),
        (
            "female_heads_uncovered",
            NOW,
            "reports-card-uncovered",
            "card-uncovered",
        ),
        (
            "needs_open",
            NOW,
            "reports-card-needs-open",
            "card-needs-open",
        ),
        (
            "aid_deliveries",
            month.as_str(),
            "reports-card-aid-month",
            "card-aid",
        ),
    ] {
        let v = app::indicators::figure_total(&state.store, caller, ind, period, province, county)
            .await?;
        out.push(Card {
            label: l.t(id),
            value: l.num(&v),
            testid,
        });
    }
    Ok(out)
}

async fn statuses(state: &AppState, ctx: &Ctx, l: Loc) -> Result<Vec<DataSetStatus>, AppError> {
    let caller = caller(ctx)?;
    Ok(app::statuses(&state.store, &caller)
        .await?
        .into_iter()
        .map(|(ds, period, t)| DataSetStatus {
            id: ds.id,
            name: l.name(&ds.name_fa, &ds.name_en).to_owned(),
            period: period.code(),
            period_label: period_label(l, &period.code()),
            expected: t.expected,
            sent: t.sent,
            accepted: t.accepted,
        })
        .collect())
}

async fn reminders(state: &AppState, ctx: &Ctx, l: Loc) -> Result<Vec<String>, AppError> {
    let caller = caller(ctx)?;
    let list = app::my_reminders(&state.store, &caller).await?;
    if list.is_empty() {
        return Ok(vec![]);
    }
    let datasets = app::datasets(&state.store, &caller).await?;
    let names = Names::load(state, l).await?;
    Ok(list
        .iter()
        .map(|r| {
            let ds = datasets
                .iter()
                .find(|d| d.id == r.dataset_id)
                .map(|d| l.name(&d.name_fa, &d.name_en).to_owned())
                .unwrap_or_default();
            let place = if r.county_code.is_empty() {
                names.of(&r.province_code)
            } else {
                names.of(&r.county_code)
            };
            format!("{} — {} — {}", ds, period_label(l, &r.period), place)
        })
        .collect())
}

async fn trend(
    state: &AppState,
    ctx: &Ctx,
    l: Loc,
    choice: &Choice,
    province: Option<&str>,
    county: Option<&str>,
    title: &str,
) -> Result<String, AppError> {
    if choice.periods.is_empty() {
        return Ok(String::new());
    }
    let caller = caller(ctx)?;
    let last: Vec<Period> = choice
        .periods
        .iter()
        .rev()
        .take(12)
        .rev()
        .copied()
        .collect();
    let codes: Vec<String> = last.iter().map(Period::code).collect();
    let series =
        app::indicators::series(&state.store, &caller, &choice.key, &codes, province, county)
            .await?;
    let money = choice.option.money;
    let points: Vec<Point> = codes
        .iter()
        .map(|c| {
            let value = series.get(c).copied();
            Point {
                label: period_label(l, c),
                value,
                shown: value.map_or_else(|| "—".to_owned(), |v| show_value(l, v, money)),
            }
        })
        .collect();
    Ok(charts::columns_with_table(
        title,
        &points,
        l.dir() == "rtl",
        &l.t("chart-table"),
        [&l.t("reports-period"), title],
    ))
}

/// Handles the GET /reports route
pub async fn national(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DashQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    if !app::may_view(Some(caller.principal)) {
        return Err(AppError::Forbidden);
    }
    // A provincial or county office's dashboard is its province's.
    if let Some(p) = caller.principal.scope.province() {
        let mut to = format!("/reports/province/{p}");
        if let Some(ind) = &q.ind {
            to.push_str(&format!("?ind={}", crate::error::urlencode(ind)));
        }
        return Ok(see_other(&to));
    }
    let l = Loc(ctx.locale);
    let options = app::indicators::options(&state.store, &caller).await?;
    let choice = choose(&options, q.ind.as_deref(), q.period.as_deref());
    let per_capita = q.per.as_deref() == Some("100k");
    let values =
        app::indicators::province_values(&state.store, &caller, &choice.key, &choice.period)
            .await?;
    let provinces = geo::all_provinces(&state.store).await?;
    let money = choice.option.money;
    let indicator_name = l
        .name(&choice.option.name_fa, &choice.option.name_en)
        .to_owned();
    let shown: BTreeMap<String, f64> = provinces
        .iter()
        .filter_map(|p| {
            let v = *values.get(&p.code)?;
            Some((
                p.code.clone(),
                if per_capita {
                    per_100k(v, p.population_1395)?
                } else {
                    v as f64
                },
            ))
        })
        .collect();
    let query = format!(
        "ind={}&period={}{}",
        crate::error::urlencode(&choice.option.key),
        crate::error::urlencode(&choice.period),
        if per_capita { "&per=100k" } else { "" }
    );
    let mut rows: Vec<PlaceRow> = provinces
        .iter()
        .map(|p| {
            let v = values.get(&p.code).copied();
            PlaceRow {
                code: p.code.clone(),
                name: l.name(&p.name_fa, &p.name_en).to_owned(),
                value: v
                    .map(|v| show_value(l, v, money))
                    .unwrap_or_else(|| "—".into()),
                per_capita: v
                    .and_then(|v| per_100k(v, p.population_1395))
                    .map(|x| decimal(l, x))
                    .unwrap_or_else(|| "—".into()),
                href: format!("/reports/province/{}?{query}", p.code),
            }
        })
        .collect();
    if let Some(fmt) = export::requested(q.format.as_deref()) {
        let headers = vec![
            l.t("field-code"),
            l.t("field-province"),
            indicator_name.clone(),
            l.t("reports-per-100k"),
        ];
        let table: Vec<Vec<Cell>> = provinces
            .iter()
            .map(|p| {
                let v = values.get(&p.code).copied();
                vec![
                    Cell::from(p.code.as_str()),
                    Cell::from(l.name(&p.name_fa, &p.name_en)),
                    v.map(Cell::Int).unwrap_or_else(|| Cell::from("")),
                    Cell::from(
                        v.and_then(|v| per_100k(v, p.population_1395))
                            .map(|x| format!("{x:.1}"))
                            .unwrap_or_default(),
                    ),
                ]
            })
            .collect();
        return export::table(
            fmt,
            &format!("provinces-{}", choice.period),
            &indicator_name,
            &headers,
            &table,
            l.dir() == "rtl",
        );
    }
    let fmt_bound = |x: f64| {
        if per_capita {
            decimal(l, x)
        } else {
            show_value(l, x.round() as i64, money)
        }
    };
    let (min, max) = shown
        .values()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let legend = if shown.is_empty() {
        vec![]
    } else {
        map::legend(min, max, &fmt_bound)
    };
    let title = format!("{} — {}", indicator_name, period_label(l, &choice.period));
    let label = |code: &str| {
        rows.iter()
            .find(|r| r.code == code)
            .map(|r| {
                format!(
                    "{}: {}",
                    r.name,
                    if per_capita { &r.per_capita } else { &r.value }
                )
            })
            .unwrap_or_default()
    };
    let map = map::province_map(&shown, &title, &label, &|code| {
        Some(format!("/reports/province/{code}?{query}"))
    });
    let mut ranked: Vec<Bar> = provinces
        .iter()
        .filter_map(|p| {
            let v = *values.get(&p.code)?;
            Some(Bar::new(
                l.name(&p.name_fa, &p.name_en),
                v,
                show_value(l, v, money),
            ))
        })
        .collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.value));
    let bars = charts::bars(&title, &ranked, l.dir() == "rtl");
    let trend = trend(&state, &ctx, l, &choice, None, None, &indicator_name).await?;
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let periods = choice
        .periods
        .iter()
        .rev()
        .map(|p| {
            (
                p.code(),
                period_label(l, &p.code()),
                p.code() == choice.period,
            )
        })
        .collect();
    html(DashboardPage {
        shell: Shell::new(&ctx, l.t("reports-dashboard-title")),
        heading: l.t("reports-dashboard-title"),
        cards: cards(&state, &caller, l, None, None).await?,
        groups: option_groups(l, &options, &choice.option.key),
        periods,
        indicator_name,
        period_label: period_label(l, &choice.period),
        per_capita,
        map,
        legend,
        rows,
        bars,
        trend,
        statuses: statuses(&state, &ctx, l).await?,
        may_refresh: caller.principal.allows(&hamdeli_domain::Action::Report(
            hamdeli_domain::reports::policy::ReportAction::ConfigureIndex,
        )),
        computed_at: app::indicators::computed_at(&state.store, &caller).await?,
        query,
        l,
    })
}

#[derive(Template)]
#[template(path = "reports/province.html")]
struct ProvincePage {
    shell: Shell,
    l: Loc,
    name: String,
    national: bool,
    reminders: Vec<String>,
    cards: Vec<Card>,
    groups: Vec<OptGroup>,
    periods: Vec<(String, String, bool)>,
    indicator_name: String,
    period_label: String,
    rows: Vec<PlaceRow>,
    bars: String,
    trend: String,
    statuses: Vec<DataSetStatus>,
    query: String,
}

/// Handles the GET /reports/province/{code} route
pub async fn province(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<DashQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    if !app::may_view(Some(caller.principal)) {
        return Err(AppError::Forbidden);
    }
    if !caller.principal.allows(&hamdeli_domain::Action::ViewPlace(
        &hamdeli_domain::Place::province(code.clone()),
    )) && caller.principal.scope.county().is_none()
    {
        return Err(AppError::NotFound);
    }
    if caller.principal.scope.province().is_some_and(|p| p != code) {
        return Err(AppError::NotFound);
    }
    let prov = geo::province(&state.store, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let l = Loc(ctx.locale);
    let options = app::indicators::options(&state.store, &caller).await?;
    let choice = choose(&options, q.ind.as_deref(), q.period.as_deref());
    let values =
        app::indicators::county_values(&state.store, &caller, &choice.key, &choice.period, &code)
            .await?;
    let counties = geo::counties_of(&state.store, &code, &caller.principal.place_filter()).await?;
    let money = choice.option.money;
    let indicator_name = l
        .name(&choice.option.name_fa, &choice.option.name_en)
        .to_owned();
    let query = format!(
        "ind={}&period={}",
        crate::error::urlencode(&choice.option.key),
        crate::error::urlencode(&choice.period)
    );
    let rows: Vec<PlaceRow> = counties
        .iter()
        .map(|c| PlaceRow {
            code: c.code.clone(),
            name: l.name(&c.name_fa, &c.name_en).to_owned(),
            value: values
                .get(&c.code)
                .map(|v| show_value(l, *v, money))
                .unwrap_or_else(|| "—".into()),
            per_capita: String::new(),
            href: format!("/places/{}/{}", code, c.code),
        })
        .collect();
    if let Some(fmt) = export::requested(q.format.as_deref()) {
        let headers = vec![
            l.t("field-code"),
            l.t("reports-county"),
            indicator_name.clone(),
        ];
        let table: Vec<Vec<Cell>> = counties
            .iter()
            .map(|c| {
                vec![
                    Cell::from(c.code.as_str()),
                    Cell::from(l.name(&c.name_fa, &c.name_en)),
                    values
                        .get(&c.code)
                        .map(|v| Cell::Int(*v))
                        .unwrap_or_else(|| Cell::from("")),
                ]
            })
            .collect();
        return export::table(
            fmt,
            &format!("counties-{code}-{}", choice.period),
            &indicator_name,
            &headers,
            &table,
            l.dir() == "rtl",
        );
    }
    let mut ranked: Vec<Bar> = counties
        .iter()
        .filter_map(|c| {
            let v = *values.get(&c.code)?;
            Some(Bar::new(
                l.name(&c.name_fa, &c.name_en),
                v,
                show_value(l, v, money),
            ))
        })
        .collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.value));
    let title = format!("{} — {}", indicator_name, period_label(l, &choice.period));
    let bars = charts::bars(&title, &ranked, l.dir() == "rtl");
    let trend = trend(&state, &ctx, l, &choice, Some(&code), None, &indicator_name).await?;
    let periods = choice
        .periods
        .iter()
        .rev()
        .map(|p| {
            (
                p.code(),
                period_label(l, &p.code()),
                p.code() == choice.period,
            )
        })
        .collect();
    let name = l.name(&prov.name_fa, &prov.name_en).to_owned();
    html(ProvincePage {
        shell: Shell::new(&ctx, l.t1("reports-province-title", "name", &name)),
        name,
        national: caller.principal.scope.province().is_none(),
        reminders: reminders(&state, &ctx, l).await?,
        cards: cards(
            &state,
            &caller,
            l,
            Some(&code),
            caller.principal.scope.county(),
        )
        .await?,
        groups: option_groups(l, &options, &choice.option.key),
        periods,
        indicator_name,
        period_label: period_label(l, &choice.period),
        rows,
        bars,
        trend,
        statuses: statuses(&state, &ctx, l).await?,
        query,
        l,
    })
}

/// Handles the POST /reports/refresh route
pub async fn refresh(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    app::refresh_figures(&state.store, &caller).await?;
    Ok(see_other("/reports"))
}

/// The reports' figures on the staff home dashboard.
pub(crate) struct HomeFigures {
    pub cards: Vec<Card>,
    pub statuses: Vec<DataSetStatus>,
    pub reminders: Vec<String>,
}

/// The home dashboard's figures for an office (None for others: partners see no reports).
pub(crate) async fn home_figures(
    state: &AppState,
    ctx: &Ctx,
) -> Result<Option<HomeFigures>, AppError> {
    let Some(p) = ctx.principal.as_ref() else {
        return Ok(None);
    };
    if !app::may_view(Some(p)) {
        return Ok(None);
    }
    app::ensure_figures(&state.store).await?;
    let l = Loc(ctx.locale);
    let caller = hamdeli_app::Caller::new(p, &ctx.client_addr);
    Ok(Some(HomeFigures {
        cards: cards(state, &caller, l, p.scope.province(), p.scope.county()).await?,
        statuses: statuses(state, ctx, l).await?,
        reminders: reminders(state, ctx, l).await?,
    }))
}

/// A county's own figures for its page.
pub(crate) struct CountyFigures {
    pub cards: Vec<Card>,
    pub trend: String,
    pub table: Vec<(String, String)>,
}

pub(crate) async fn county_figures(
    state: &AppState,
    ctx: &Ctx,
    province: &str,
    county: &str,
) -> Result<Option<CountyFigures>, AppError> {
    let Some(p) = ctx.principal.as_ref() else {
        return Ok(None);
    };
    if !app::may_view(Some(p)) {
        return Ok(None);
    }
    app::ensure_figures(&state.store).await?;
    let l = Loc(ctx.locale);
    let caller = hamdeli_app::Caller::new(p, &ctx.client_addr);
    let cards = cards(state, &caller, l, Some(province), Some(county)).await?;
    let now = hamdeli_store::now_millis();
    let months = app::current_period(PeriodType::Month, now).last_n(12);
    let codes: Vec<String> = months.iter().map(Period::code).collect();
    let series = app::indicators::series(
        &state.store,
        &caller,
        &IndicatorKey::Figure("aid_deliveries".into()),
        &codes,
        Some(province),
        Some(county),
    )
    .await?;
    let points: Vec<Point> = codes
        .iter()
        .map(|c| {
            let v = series.get(c).copied().unwrap_or(0);
            Point {
                label: period_label(l, c),
                value: Some(v),
                shown: l.num(&v),
            }
        })
        .collect();
    let title = l.t("reports-card-aid-month");
    let table = codes
        .iter()
        .map(|c| {
            (
                period_label(l, c),
                l.num(&series.get(c).copied().unwrap_or(0)),
            )
        })
        .collect();
    Ok(Some(CountyFigures {
        cards,
        trend: charts::columns(&title, &points, l.dir() == "rtl"),
        table,
    }))
}
