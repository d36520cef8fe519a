//! Campaigns (پویش) and donors (capability C): public campaign pages with progress, the owner's
//! edit and close, donor sign-up with a mobile number confirmed by a one-time code, pledges and
//! their cancellation, the office's record of receipt (a donation with a receipt code), the
//! allocation dry run and commit under area quotas, the donor's page, the public receipt check
//! and the public statistics with small cells suppressed.
//!
//! Money is stored in rials and entered and shown in tomans (1 toman = 10 rials) on every
//! campaign page and form; goods are whole units.

use axum::Router;
use axum::routing::{get, post};

use hamdeli_store::campaigns::{Campaign, CampaignPool, MONEY};
use hamdeli_store::distribution::Window;

use crate::AppState;
use crate::error::AppError;
use crate::pages::needs::{TypeNames, parse_amount};
use crate::view::Loc;

mod allocate;
mod donors;
mod edit;
mod list;
mod pledges;
mod receipt;
mod show;
mod stats;

/// The campaign, donor, receipt and public statistics routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list::list).post(edit::create))
        .route("/campaigns/new", get(edit::new_form))
        .route("/campaigns/{id}", get(show::show))
        .route("/campaigns/{id}/pledges", post(pledges::pledge))
        .route(
            "/campaigns/{id}/edit",
            get(edit::edit_form).post(edit::edit),
        )
        .route("/campaigns/{id}/close", post(edit::close))
        .route(
            "/campaigns/{id}/pledges/{pledge}/cancel",
            post(pledges::cancel_pledge),
        )
        .route(
            "/donors/signup/verify",
            get(donors::verify_form).post(donors::verify),
        )
        .route(
            "/campaigns/{id}/pledges/{pledge}/receive",
            post(pledges::receive),
        )
        .route(
            "/campaigns/{id}/allocate",
            get(allocate::allocate_page).post(allocate::allocate_commit),
        )
        .route(
            "/donors/signup",
            get(donors::signup_form).post(donors::signup),
        )
        .route("/donor", get(donors::donor_page))
        .route("/receipts", get(receipt::receipt))
        .route("/stats", get(stats::stats))
}

/// A campaign's dates as the window of "already received" (Iran time, whole days).
fn window_of(c: &Campaign) -> Window {
    let from = hamdeli_locale::parse_form_date(&c.starts_on)
        .map(hamdeli_locale::clock::iran_midnight_millis)
        .unwrap_or(0);
    let to = hamdeli_locale::parse_form_date(&c.ends_on)
        .map(|d| {
            let next = hamdeli_locale::clock::civil_from_days(
                hamdeli_locale::clock::days_from_civil(d) + 1,
            );
            hamdeli_locale::clock::iran_midnight_millis(next) - 1
        })
        .unwrap_or(i64::MAX);
    Window { from, to }
}

/// Rials shown as tomans with the locale's digits and grouping (a tenth when rials are not a
/// whole number of tomans) and the unit: `۱٬۲۵۰ تومان`.
pub(crate) fn tomans(l: Loc, rials: i64) -> String {
    let whole = hamdeli_locale::format_tomans(l.0, rials);
    let tenth = (rials % 10).abs();
    let n = if tenth == 0 {
        whole
    } else {
        let sep = match l.0 {
            hamdeli_locale::Locale::Fa => "٫",
            hamdeli_locale::Locale::En => ".",
        };
        format!("{whole}{sep}{}", l.digits(&tenth.to_string()))
    };
    format!("{n} {}", l.t("unit-toman"))
}

/// An amount of a resource or need type as shown: money in tomans, goods in units.
pub(crate) fn show_amount(l: Loc, types: &TypeNames, code: &str, n: i64) -> String {
    if types.is_money(code) {
        tomans(l, n)
    } else {
        types.amount(code, &n)
    }
}

/// An amount typed in a form, in tomans for money (stored ×10 as rials, checked) and in units
/// for goods; more digits than any allowed amount has is "too large", not "not a number".
fn typed_amount(types: &TypeNames, code: &str, typed: &str) -> Result<i64, AppError> {
    let n = pledge_amount(typed)?;
    if types.is_money(code) {
        n.checked_mul(10)
            .ok_or(AppError::BadRequest("pledge-too-large"))
    } else {
        Ok(n)
    }
}

/// A money field of a form in tomans as rials (empty: 0).
fn form_tomans(typed: &str, invalid: &'static str) -> Result<i64, AppError> {
    if typed.trim().is_empty() {
        return Ok(0);
    }
    let tomans = parse_amount(typed).ok_or(AppError::BadRequest(invalid))?;
    Ok(hamdeli_app::campaigns::tomans_to_rials(tomans)?)
}

/// An ISO date as a form shows it: Jalali `۱۴۰۵/۰۱/۰۱` in Persian, ISO in English (the form
/// reads either).
fn form_date_value(l: Loc, iso: &str) -> String {
    match (l.0, hamdeli_locale::parse_form_date(iso)) {
        (hamdeli_locale::Locale::Fa, Some(d)) => match hamdeli_locale::jalali(d) {
            Some((y, m, day)) => l.digits(&format!("{y}/{m:02}/{day:02}")),
            None => iso.to_owned(),
        },
        _ => iso.to_owned(),
    }
}

/// Today in Iran as an ISO date.
fn today_iso() -> String {
    hamdeli_locale::clock::iran_today(hamdeli_store::now_millis()).iso()
}

/// A campaign takes pledges: active and its last day not over.
fn takes_pledges(c: &Campaign) -> bool {
    c.status == "active" && c.ends_on >= today_iso()
}

pub struct PoolView {
    pub pool: CampaignPool,
    pub name: String,
    pub goal: String,
    pub pledged: String,
    pub received: String,
    pub allocated: String,
    pub percent: i64,
}

fn pool_views(l: Loc, types: &TypeNames, c: &Campaign, pools: Vec<CampaignPool>) -> Vec<PoolView> {
    pools
        .into_iter()
        .map(|p| {
            let goal = if p.resource == MONEY {
                c.goal_rials
            } else {
                p.goal
            };
            // In i128: a pool's figures may be as large as an i64 holds.
            let percent = if goal > 0 {
                (i128::from(p.received) * 100 / i128::from(goal)).clamp(0, 100) as i64
            } else {
                0
            };
            PoolView {
                name: types.resource(&p.resource),
                goal: show_amount(l, types, &p.resource, goal),
                pledged: show_amount(l, types, &p.resource, p.pledged),
                received: show_amount(l, types, &p.resource, p.received),
                allocated: show_amount(l, types, &p.resource, p.allocated),
                percent,
                pool: p,
            }
        })
        .collect()
}

/// A pledge's amount as typed: a whole number in any digit script; more digits than any
/// allowed pledge has is "too large", not "not a number".
fn pledge_amount(typed: &str) -> Result<i64, AppError> {
    if let Some(n) = parse_amount(typed) {
        return Ok(n);
    }
    let digits = typed
        .chars()
        .filter(|c| hamdeli_text::digits::fold_digit(*c).is_ascii_digit())
        .count();
    Err(AppError::BadRequest(if digits > 15 {
        "pledge-too-large"
    } else {
        "pledge-amount-positive"
    }))
}
