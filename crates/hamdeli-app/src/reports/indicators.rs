//! The dashboard's indicators: figures of Hamdeli's own data and the accepted values of the
//! data sets' numeric elements, per province, county and period, inside the principal's scope.

use std::collections::BTreeMap;

use hamdeli_domain::reports::dataset::ElementKind;
use hamdeli_domain::reports::period::PeriodType;
use hamdeli_domain::reports::policy::ReportAction;
use hamdeli_store::Store;
use hamdeli_store::reports::entries;
use hamdeli_store::reports::figures;

use super::{allow, ensure_figures};
use crate::{Caller, Error, Result};

/// The figures of Hamdeli's own data: code, Persian and English names, monthly (else a count
/// as of the last refresh), money.
pub const FIGURES: &[(&str, &str, &str, bool, bool)] = &[
    (
        "persons",
        "افراد در سامانه",
        "People in the registry",
        false,
        false,
    ),
    (
        "persons_new",
        "افراد تازه ثبت‌شده",
        "People added",
        true,
        false,
    ),
    (
        "female_heads",
        "زنان سرپرست خانوار",
        "Female heads of household",
        false,
        false,
    ),
    (
        "female_heads_uncovered",
        "زنان سرپرست خانوار بدون هیچ پوشش",
        "Female heads covered by nobody",
        false,
        false,
    ),
    (
        "needs_open",
        "نیازهای برآورده‌نشده",
        "Needs not yet met",
        false,
        false,
    ),
    (
        "needs_new",
        "نیازهای تازه ثبت‌شده",
        "Needs recorded",
        true,
        false,
    ),
    (
        "aid_deliveries",
        "کمک‌های ثبت‌شده",
        "Pieces of aid delivered",
        true,
        false,
    ),
    (
        "aid_persons",
        "افراد کمک‌گرفته",
        "People helped",
        true,
        false,
    ),
    ("aid_rials", "کمک نقدی", "Money given", true, true),
    (
        "market_orders",
        "سفارش‌های بازارچه",
        "Market orders",
        true,
        false,
    ),
    (
        "market_sales_rials",
        "فروش بازارچه",
        "Market sales",
        true,
        true,
    ),
    (
        "loans_disbursed",
        "وام‌های پرداخت‌شده",
        "Loans disbursed",
        true,
        false,
    ),
    (
        "loans_disbursed_rials",
        "مبلغ وام‌های پرداخت‌شده",
        "Loan amounts disbursed",
        true,
        true,
    ),
    (
        "loans_deferred",
        "استمهال‌های پذیرفته",
        "Loan deferrals approved",
        true,
        false,
    ),
    (
        "volunteer_hours",
        "ساعت مشاورهٔ داوطلبان",
        "Volunteers' counselling hours",
        true,
        false,
    ),
];

/// Which indicator: `fig:persons`, `fig:needs_open.food`, `ds:3:masks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndicatorKey {
    Figure(String),
    Element { dataset: i64, element: String },
}

impl IndicatorKey {
    pub fn parse(s: &str) -> Option<IndicatorKey> {
        if let Some(code) = s.strip_prefix("fig:") {
            let ok = !code.is_empty()
                && code.len() <= 80
                && code
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
            return ok.then(|| IndicatorKey::Figure(code.to_owned()));
        }
        let rest = s.strip_prefix("ds:")?;
        let (id, element) = rest.split_once(':')?;
        Some(IndicatorKey::Element {
            dataset: id.parse().ok()?,
            element: element.to_owned(),
        })
    }
    pub fn code(&self) -> String {
        match self {
            IndicatorKey::Figure(c) => format!("fig:{c}"),
            IndicatorKey::Element { dataset, element } => format!("ds:{dataset}:{element}"),
        }
    }
}

/// One choice of the dashboard's indicator menu.
#[derive(Debug, Clone)]
pub struct IndicatorOption {
    pub key: String,
    pub name_fa: String,
    pub name_en: String,
    /// The group it is listed under (a data set's name, or Hamdeli's own data).
    pub group_fa: String,
    pub group_en: String,
    /// The periods it has: None for a count as of the last refresh.
    pub period_type: Option<PeriodType>,
    pub money: bool,
}

/// Every indicator the dashboard can show.
pub async fn options(store: &Store, caller: &Caller<'_>) -> Result<Vec<IndicatorOption>> {
    allow(caller.principal, ReportAction::View)?;
    ensure_figures(store).await?;
    let own = ("داده‌های همدلی", "Hamdeli's own data");
    let mut out: Vec<IndicatorOption> = FIGURES
        .iter()
        .map(|(c, fa, en, monthly, money)| IndicatorOption {
            key: format!("fig:{c}"),
            name_fa: (*fa).to_owned(),
            name_en: (*en).to_owned(),
            group_fa: own.0.into(),
            group_en: own.1.into(),
            period_type: monthly.then_some(PeriodType::Month),
            money: *money,
        })
        .collect();
    for t in hamdeli_store::needs::need_types(store).await? {
        out.push(IndicatorOption {
            key: format!("fig:needs_open.{}", t.code),
            name_fa: format!("نیاز برآورده‌نشده: {}", t.name_fa),
            name_en: format!("Needs not yet met: {}", t.name_en),
            group_fa: own.0.into(),
            group_en: own.1.into(),
            period_type: None,
            money: false,
        });
    }
    for ds in hamdeli_store::reports::datasets::list(store).await? {
        for e in ds
            .definition
            .elements
            .iter()
            .filter(|e| e.kind.is_numeric())
        {
            out.push(IndicatorOption {
                key: format!("ds:{}:{}", ds.id, e.code),
                name_fa: e.name_fa.clone(),
                name_en: if e.name_en.is_empty() {
                    e.name_fa.clone()
                } else {
                    e.name_en.clone()
                },
                group_fa: ds.name_fa.clone(),
                group_en: ds.name_en.clone(),
                period_type: Some(ds.period_type),
                money: e.kind == ElementKind::Money,
            });
        }
    }
    Ok(out)
}

/// The province the principal's figures are limited to.
fn scope_province<'a>(caller: &'a Caller<'_>) -> Option<&'a str> {
    caller.principal.scope.province()
}

/// An indicator's value per province for a period (`now` for counts as of the refresh); a
/// provincial or county office gets its own province only.
pub async fn province_values(
    store: &Store,
    caller: &Caller<'_>,
    key: &IndicatorKey,
    period: &str,
) -> Result<BTreeMap<String, i64>> {
    allow(caller.principal, ReportAction::View)?;
    let mut v = match key {
        IndicatorKey::Figure(code) => figures::values(store, code, period, None).await?,
        IndicatorKey::Element { dataset, element } => {
            entries::rollup_by_province(store, *dataset, element, period).await?
        }
    };
    if let Some(p) = scope_province(caller) {
        v.retain(|k, _| k == p);
    }
    Ok(v)
}

/// An indicator's value per county of a province for a period; a county office gets its own
/// county only.
pub async fn county_values(
    store: &Store,
    caller: &Caller<'_>,
    key: &IndicatorKey,
    period: &str,
    province: &str,
) -> Result<BTreeMap<String, i64>> {
    allow(caller.principal, ReportAction::View)?;
    if scope_province(caller).is_some_and(|p| p != province) {
        return Err(Error::NotFound);
    }
    let mut v = match key {
        IndicatorKey::Figure(code) => figures::values(store, code, period, Some(province)).await?,
        IndicatorKey::Element { dataset, element } => {
            entries::county_values(store, *dataset, element, period, province).await?
        }
    };
    if let Some(c) = caller.principal.scope.county() {
        v.retain(|k, _| k == c);
    }
    Ok(v)
}

/// An indicator per period: the country, a province or a county of it (inside the scope).
pub async fn series(
    store: &Store,
    caller: &Caller<'_>,
    key: &IndicatorKey,
    periods: &[String],
    province: Option<&str>,
    county: Option<&str>,
) -> Result<BTreeMap<String, i64>> {
    allow(caller.principal, ReportAction::View)?;
    let p = caller.principal;
    let province = match (p.scope.province(), province) {
        (Some(own), Some(asked)) if own != asked => return Err(Error::NotFound),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let county = match (p.scope.county(), county) {
        (Some(own), Some(asked)) if own != asked => return Err(Error::NotFound),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    Ok(match key {
        IndicatorKey::Figure(code) => {
            figures::series(store, code, periods, province, county).await?
        }
        IndicatorKey::Element { dataset, element } => match county {
            // A county's accepted values, period by period.
            Some(c) => {
                let mut out = BTreeMap::new();
                for period in periods {
                    let v = entries::county_values(
                        store,
                        *dataset,
                        element,
                        period,
                        province.unwrap_or(""),
                    )
                    .await?;
                    if let Some(x) = v.get(c) {
                        out.insert(period.clone(), *x);
                    }
                }
                out
            }
            None => entries::rollup_series(store, *dataset, element, periods, province).await?,
        },
    })
}

/// A figure of Hamdeli's own data for a period (`now` for counts as of the refresh): the
/// country's total, a province's or a county's of it, inside the principal's scope (a
/// provincial or county office asking for another place: `NotFound`; asking for none: its own).
pub async fn figure_total(
    store: &Store,
    caller: &Caller<'_>,
    indicator: &str,
    period: &str,
    province: Option<&str>,
    county: Option<&str>,
) -> Result<i64> {
    allow(caller.principal, ReportAction::View)?;
    let p = caller.principal;
    let province = match (p.scope.province(), province) {
        (Some(own), Some(asked)) if own != asked => return Err(Error::NotFound),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let county = match (p.scope.county(), county) {
        (Some(own), Some(asked)) if own != asked => return Err(Error::NotFound),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    Ok(match (province, county) {
        (Some(p), Some(c)) => figures::value(store, indicator, period, p, c).await?,
        (Some(p), None) => figures::value(store, indicator, period, p, "").await?,
        _ => figures::values(store, indicator, period, None)
            .await?
            .values()
            .fold(0i64, |a, b| a.saturating_add(*b)),
    })
}

/// When the figures of Hamdeli's own data were last computed (none before the first refresh).
pub async fn computed_at(store: &Store, caller: &Caller<'_>) -> Result<Option<i64>> {
    allow(caller.principal, ReportAction::View)?;
    Ok(figures::computed_at(store).await?)
}
