//! The office's market pages: certificates waiting for a check (the provincial office of the
//! producer's province decides), producers and their link to the registry (female-head status
//! shown here only, never to buyers), payouts, and sales by province, category, Jalali month
//! and of female heads of household, with SVG charts and an XLSX download.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::market as app;
use hamdeli_store::geo;
use hamdeli_store::market::SalesBy;

use super::{category_name, tomans};
use crate::AppState;
use crate::charts::{self, Bar};
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

struct CertRow {
    id: i64,
    shop: String,
    province: String,
    kind: String,
    number: String,
    issuer: String,
    expires: String,
}

struct ProducerRow {
    id: i64,
    shop: String,
    province: String,
    mobile: String,
    person: String,
    female_head: bool,
    sheba: bool,
}

#[derive(Template)]
#[template(path = "market/office.html")]
struct OfficePage {
    shell: Shell,
    l: Loc,
    certs: Vec<CertRow>,
    producers: Vec<ProducerRow>,
    payables: Vec<(i64, String, String)>,
    admin: bool,
    error: Option<String>,
}

async fn names(state: &AppState, l: Loc) -> Result<Vec<(String, String)>, AppError> {
    Ok(geo::all_provinces(&state.store)
        .await?
        .iter()
        .map(|p| (p.code.clone(), l.name(&p.name_fa, &p.name_en).to_owned()))
        .collect())
}

fn name_of(names: &[(String, String)], code: &str) -> String {
    names
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, n)| n.clone())
        .unwrap_or_else(|| code.to_owned())
}

async fn office_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let c = caller(ctx)?;
    let provinces = names(state, l).await?;
    let certs = app::pending_certificates(&state.store, &c).await?;
    let producers = app::office_producers(&state.store, &c).await?;
    let admin = c.principal.role == hamdeli_domain::Role::NationalAdmin;
    let payables = if admin {
        app::payables(&state.store, &c)
            .await?
            .into_iter()
            .map(|(id, shop, amount)| (id, shop, tomans(l, amount)))
            .collect()
    } else {
        vec![]
    };
    html(OfficePage {
        shell: Shell::new(ctx, l.t("market-office-title")),
        l,
        certs: certs
            .iter()
            .map(|x| CertRow {
                id: x.id,
                shop: x.shop_name.clone(),
                province: name_of(&provinces, &x.province_code),
                kind: l.tv("market-cert-kind", &x.kind),
                number: l.digits(&x.number),
                issuer: x.issuer.clone(),
                expires: l.date(&x.expires_on),
            })
            .collect(),
        producers: producers
            .iter()
            .map(|p| ProducerRow {
                id: p.id,
                shop: p.shop_name.clone(),
                province: name_of(&provinces, &p.province_code),
                mobile: l.digits(&p.mobile),
                person: p.person_id.map(|x| x.to_string()).unwrap_or_default(),
                female_head: p.female_head,
                sheba: p.sheba.is_some(),
            })
            .collect(),
        payables,
        admin,
        error,
    })
}

/// Handles the GET /market/office route: certificates to check, producers, payouts.
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    office_page(&state, &ctx, None).await
}

fn error_text(l: Loc, e: hamdeli_app::Error) -> Result<String, AppError> {
    match e {
        hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id) => Ok(l.t(id)),
        other => Err(other.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecideForm {
    decision: String,
}

/// Handles the POST /market/office/certificates/{id} route: approve or reject.
pub async fn decide_certificate(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<DecideForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    match app::decide_certificate(&state.store, &c, id, f.decision == "approve").await {
        Ok(()) => Ok(see_other("/market/office")),
        Err(e) => {
            let msg = error_text(Loc(ctx.locale), e)?;
            office_page(&state, &ctx, Some(msg)).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    person: String,
}

/// Handles the POST /market/office/producers/{id}/link route: her registry person's id (empty
/// unlinks); her female-head status follows the registry.
pub async fn link(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<LinkForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let person = match hamdeli_text::fold_digits(f.person.trim()).as_str() {
        "" => None,
        s => Some(
            s.parse::<i64>()
                .map_err(|_| AppError::BadRequest("market-person-unknown"))?,
        ),
    };
    match app::link_producer(&state.store, &c, id, person).await {
        Ok(_) => Ok(see_other("/market/office")),
        Err(e) => {
            let msg = error_text(Loc(ctx.locale), e)?;
            office_page(&state, &ctx, Some(msg)).await
        }
    }
}

#[derive(Template)]
#[template(path = "market/office_find.html")]
struct FindPage {
    shell: Shell,
    l: Loc,
    producer: i64,
    typed: String,
    searched: bool,
    /// (person id, name, father's name, birth date, national code, county) of each hit.
    hits: Vec<(i64, String, String, String, String, String)>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FindForm {
    q: String,
}

/// Handles the POST /market/office/producers/{id}/find route: the registry searched (in the
/// office's scope) by the name or national code typed — in the form, never in the address —
/// and a button to link each person found.
pub async fn find(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<FindForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let (shop, hits, error) = match app::find_person_for_producer(&state.store, &c, id, &f.q).await
    {
        Ok((shop, hits)) => (shop.shop_name, hits, None),
        Err(hamdeli_app::Error::Invalid(msg)) => (String::new(), vec![], Some(l.t(msg))),
        Err(e) => return Err(e.into()),
    };
    let opt = |v: &Option<String>| v.as_deref().map(|s| l.digits(s)).unwrap_or_default();
    let hits = hits
        .iter()
        .map(|h| {
            let name = [h.first_name.as_deref(), h.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (
                h.id,
                name,
                h.father_name.clone().unwrap_or_default(),
                opt(&h.birth_date),
                opt(&h.national_code),
                opt(&h.county_code),
            )
        })
        .collect();
    let title = if shop.is_empty() {
        l.t("market-person-find")
    } else {
        format!("{} — {}", l.t("market-person-find"), shop)
    };
    let status = if error.is_some() {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    let mut r = html(FindPage {
        shell: Shell::new(&ctx, title),
        l,
        producer: id,
        typed: f.q,
        searched: error.is_none(),
        hits,
        error,
    })?;
    *r.status_mut() = status;
    Ok(r)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PayoutForm {
    producer: i64,
    amount_tomans: String,
    reference: String,
}

/// Handles the POST /market/office/payouts route: a payout marked paid with the bank's
/// reference.
pub async fn payout(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<PayoutForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let amount = hamdeli_domain::market::money::parse_tomans(&f.amount_tomans)
        .ok_or(AppError::BadRequest("market-amount-invalid"));
    let result = match amount {
        Ok(a) => app::payout(&state.store, &c, f.producer, a, &f.reference).await,
        Err(_) => Err(hamdeli_app::Error::Invalid("market-amount-invalid")),
    };
    match result {
        Ok(()) => Ok(see_other("/market/office")),
        Err(e) => {
            let msg = error_text(Loc(ctx.locale), e)?;
            office_page(&state, &ctx, Some(msg)).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sales

/// One table of the sales page with its chart (SVG; the table has its figures).
struct SalesTable {
    title: String,
    rows: Vec<(String, String, String, String)>,
    chart: String,
}

/// A sales row: its label, orders, pieces, rials.
type SalesLine = (String, i64, i64, i64);

#[derive(Template)]
#[template(path = "market/sales.html")]
struct SalesPage {
    shell: Shell,
    l: Loc,
    tables: Vec<SalesTable>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SalesQuery {
    export: String,
}

/// Handles the GET /market/office/sales route: sales by province, category, Jalali month and
/// of female heads of household, with charts; `?export=xlsx` downloads the tables.
pub async fn sales(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SalesQuery>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let c = caller(&ctx)?;
    let provinces = names(&state, l).await?;
    let mut tables: Vec<(String, Vec<SalesLine>)> = vec![];
    let by_province = app::sales(&state.store, &c, SalesBy::Province).await?;
    tables.push((
        l.t("market-sales-by-province"),
        by_province
            .iter()
            .map(|r| (name_of(&provinces, &r.key), r.orders, r.pieces, r.rials))
            .collect(),
    ));
    let by_category = app::sales(&state.store, &c, SalesBy::Category).await?;
    tables.push((
        l.t("market-sales-by-category"),
        by_category
            .iter()
            .map(|r| (category_name(l, &r.key), r.orders, r.pieces, r.rials))
            .collect(),
    ));
    let month = |(m, n, r): (String, i64, i64)| (l.digits(&m), n, 0, r);
    tables.push((
        l.t("market-sales-by-month"),
        app::sales_by_month(&state.store, &c, false)
            .await?
            .into_iter()
            .map(month)
            .collect(),
    ));
    tables.push((
        l.t("market-sales-female-head-month"),
        app::sales_by_month(&state.store, &c, true)
            .await?
            .into_iter()
            .map(month)
            .collect(),
    ));
    let by_head = app::sales(&state.store, &c, SalesBy::FemaleHead).await?;
    tables.push((
        l.t("market-sales-female-head"),
        by_head
            .iter()
            .map(|r| {
                let label = if r.key == "1" {
                    l.t("market-female-head")
                } else {
                    l.t("market-other-producers")
                };
                (label, r.orders, r.pieces, r.rials)
            })
            .collect(),
    ));
    if q.export == "xlsx" {
        use crate::export::Cell;
        let headers = vec![
            l.t("market-sales-table"),
            l.t("market-sales-key"),
            l.t("market-sales-orders"),
            l.t("market-sales-pieces"),
            l.t("market-sales-rials"),
        ];
        let mut rows: Vec<Vec<Cell>> = vec![];
        for (title, t) in &tables {
            for (k, o, p, r) in t {
                rows.push(vec![
                    Cell::from(title.clone()),
                    Cell::from(k.clone()),
                    Cell::Int(*o),
                    Cell::Int(*p),
                    Cell::Int(*r),
                ]);
            }
        }
        return crate::export::table(
            "xlsx",
            "market-sales",
            &l.t("market-nav-sales"),
            &headers,
            &rows,
            l.0 == hamdeli_locale::Locale::Fa,
        );
    }
    let tables = tables
        .into_iter()
        .map(|(title, t)| SalesTable {
            chart: charts::bars(
                &title,
                &t.iter()
                    .map(|(k, _, _, r)| Bar::new(k, *r, hamdeli_locale::format_tomans(l.0, *r)))
                    .collect::<Vec<_>>(),
                l.dir() == "rtl",
            ),
            rows: t
                .iter()
                .map(|(k, o, p, r)| (k.clone(), l.num(o), l.num(p), tomans(l, *r)))
                .collect(),
            title,
        })
        .collect();
    html(SalesPage {
        shell: Shell::new(&ctx, l.t("market-nav-sales")),
        l,
        tables,
    })
}
